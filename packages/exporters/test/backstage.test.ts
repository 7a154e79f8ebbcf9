// --format backstage: golden files for the mapping, and every entity of the goldens and of a generated 200-API catalog
// validates against Backstage's own schemas (catalog-model 1.10.1, scaffolder-common 2.3.0, in test/schemas), with
// each API's `$text` definition resolved the way Backstage's catalog processor does before it validates.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseResource, type AnyResource } from '@apigov/model';
import { exportBackstage } from '../src/index.js';
import { goldenCases, readResources, TESTDATA } from './golden.js';
import { backstageProblems } from './backstage-schemas.js';

const BASE = 'https://apigov.example.com';

/** Validates an exported entity as Backstage would: `$text` placeholders replaced by what the URL serves. */
function validate(entity: Record<string, any>, resources: AnyResource[]): string[] {
  const text = entity.spec?.definition?.$text as string | undefined;
  if (text === undefined) return backstageProblems(entity);
  const m = /\/v1\/apis\/([^/]+)\/versions\/(v\d+)\/openapi$/.exec(text);
  const api = resources.find((r) => r.kind === 'Api' && r.metadata.name === m?.[1]);
  const version = api?.kind === 'Api' ? api.spec.versions.find((v) => v.name === m?.[2]) : undefined;
  if (version === undefined) return [`definition ${text} names no stored version`];
  return backstageProblems(entity, JSON.stringify(version.openapi));
}

function generatedCatalog(apis: number): AnyResource[] {
  const r = (kind: string, name: string, spec: unknown, labels?: Record<string, string>) => parseResource({ apiVersion: 'apigov.dev/v1', kind, metadata: { name, ...(labels && { labels }) }, spec }) as AnyResource;
  const out: AnyResource[] = [];
  for (let t = 0; t < 10; t++) {
    out.push(r('Team', `team-${t}`, { displayName: `Team ${t}` }));
    out.push(r('User', `user-${t}`, { team: `team-${t}`, role: t % 2 ? 'owner' : 'member', email: `user-${t}@example.com` }));
  }
  const states = ['draft', 'published', 'deprecated', 'retired'] as const;
  for (let i = 0; i < apis; i++) {
    const versions = [1, 2].map((m) => ({
      name: `v${m}`,
      openapi: { openapi: '3.0.3', info: { title: `API ${i}`, version: `${m}.0.0` }, paths: { [`/things-${i}`]: { get: { responses: { '200': { description: 'ok' } } } } } },
      environments: { dev: { state: states[(i + m) % 4], upstream: 'http://127.0.0.1:9' } },
    }));
    out.push(r('Api', `api-${i}`, { owner: `team-${i % 10}`, title: `API ${i}`, tags: [`tag-${i % 7}`, 'x.y'], versions }, i % 3 === 0 ? { 'apigov.dev/system': `system-${i % 5}` } : undefined));
  }
  for (let a = 0; a < 50; a++) {
    out.push(r('Application', `app-${a}`, { owner: `team-${a % 10}` }));
    out.push(r('Subscription', `app-${a}-api-${a}-v1-dev`, { application: `app-${a}`, api: `api-${a}`, version: 'v1', plan: 'free', environment: 'dev', state: 'approved' }));
  }
  return out;
}

describe('backstage export', () => {
  const cases = goldenCases('backstage', (resources) => exportBackstage(resources, { baseUrl: BASE }));

  it('has golden cases', () => expect(cases.length).toBeGreaterThan(0));

  it('every entity of every golden case validates against the Backstage schemas', () => {
    for (const name of cases) {
      const resources = readResources(join(TESTDATA, 'backstage', `${name}.in.yaml`));
      const { documents } = exportBackstage(resources, { baseUrl: BASE });
      for (const d of documents) expect(validate(d, resources), `${name}: ${String(d.kind)} ${JSON.stringify(d.metadata)}`).toEqual([]);
    }
  });

  it('a generated 200-API catalog exports entities that all validate, with every API, team and application', () => {
    const resources = generatedCatalog(200);
    const t0 = performance.now();
    const { documents, warnings } = exportBackstage(resources, { baseUrl: BASE });
    const ms = performance.now() - t0;
    const count = (k: string) => documents.filter((d) => d.kind === k).length;
    expect([count('API'), count('Group'), count('User'), count('Component'), count('Template')]).toEqual([200, 10, 10, 50, 1]);
    expect(count('System')).toBe(15);
    for (const d of documents) expect(validate(d, resources)).toEqual([]);
    // `x.y` is rewritten for Backstage, and said so
    expect(warnings.filter((w) => w.what === 'tags')).toHaveLength(200);
    expect(ms).toBeLessThan(2000);
  });

  it('names the lifecycle from the newest version, and its definition from the newest served one', () => {
    const resources = readResources(join(TESTDATA, 'backstage', 'catalog.in.yaml'));
    const api = exportBackstage(resources, { baseUrl: BASE }).documents.find((d) => d.kind === 'API' && (d.metadata as { name: string }).name === 'payments') as Record<string, any>;
    expect(api.spec.lifecycle).toBe('experimental'); // v2 is only a draft so far
    expect(api.spec.definition).toEqual({ $text: `${BASE}/v1/apis/payments/versions/v1/openapi` });
    expect(JSON.parse(api.metadata.annotations['apigov.dev/versions'])).toEqual({ v1: { dev: 'deprecated', prod: 'published' }, v2: { dev: 'draft' } });
  });
});

describe('the Backstage schemas catch what they should', () => {
  it('refuses an API entity without an owner and a Group without children', () => {
    const resources = readResources(join(TESTDATA, 'backstage', 'catalog.in.yaml'));
    const { documents } = exportBackstage(resources, { baseUrl: BASE });
    const api = structuredClone(documents.find((d) => d.kind === 'API')!) as Record<string, any>;
    delete api.spec.owner;
    expect(validate(api, resources)).not.toEqual([]);
    const group = structuredClone(documents.find((d) => d.kind === 'Group')!) as Record<string, any>;
    delete group.spec.children;
    expect(validate(group, resources)).not.toEqual([]);
    expect(validate({ ...api, kind: 'Domainish' }, resources)).toEqual(['no Backstage schema for kind Domainish']);
  });
});
