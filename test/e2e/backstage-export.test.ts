// The Backstage export over REST and the CLI against a real control plane: each caller sees only what they may see,
// /v1/exports/backstage.yaml serves YAML a Backstage Location can read, the `$text` URL of each API serves its
// document with the same token, and what comes back validates against Backstage's schemas once that URL is read.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { cli, ROOT, startHarness, type Harness } from './harness.js';

const PAYMENTS_SPEC = readFileSync(join(ROOT, 'examples', 'payments', 'openapi.yaml'), 'utf8');
const SCHEMAS = join(ROOT, 'packages', 'exporters', 'test', 'schemas');
type AjvClass = new (o: Record<string, unknown>) => { addSchema(s: unknown): unknown; getSchema(id: string): ((d: unknown) => boolean) & { errors?: unknown } | undefined };
const Ajv = ((AjvModule as unknown as { default?: AjvClass }).default ?? AjvModule) as unknown as AjvClass;
const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });

let h: Harness;
const tokens: Record<string, string> = {};

async function call(token: string, method: string, path: string, body?: unknown, accept = 'application/json') {
  const r = await fetch(h.cp.url + path, { method, headers: { authorization: `Bearer ${token}`, accept, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
}

beforeAll(async () => {
  h = await startHarness('pglite');
  const setup = await call(h.adminToken, 'POST', '/v1/apply', { documents: [res('Team', 'payments', { displayName: 'Payments' }), res('Team', 'orders', {}), res('Environment', 'dev', {})] });
  expect(setup.status).toBe(200);
  for (const [name, team, role] of [['alex', 'payments', 'owner'], ['bob', 'orders', 'member']]) tokens[name] = JSON.parse((await call(h.adminToken, 'POST', '/v1/users', res('User', name, { team, role }))).text).token;
  expect((await call(tokens.alex, 'POST', '/v1/apis/register', { name: 'payments', team: 'payments', spec: PAYMENTS_SPEC, upstreams: { dev: 'http://127.0.0.1:9' } })).status).toBe(201);
  expect((await call(tokens.alex, 'POST', '/v1/apis/payments/versions/v1/publish', { environment: 'dev' })).status).toBe(200);
  expect((await call(tokens.alex, 'POST', '/v1/apis/register', { name: 'ledger', team: 'payments', visibility: 'team-only', spec: PAYMENTS_SPEC.replace('title: Payments API', 'title: Ledger') })).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('GET /v1/exports/backstage', () => {
  it('serves YAML for a Backstage Location, and each caller sees only what they may see', async () => {
    const yaml = await call(tokens.alex, 'GET', '/v1/exports/backstage.yaml', undefined, '*/*');
    expect(yaml.status).toBe(200);
    expect(yaml.type).toMatch(/application\/yaml/);
    const alexSees = parseAllDocuments(yaml.text).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
    expect(alexSees.filter((e) => e.kind === 'API').map((e) => e.metadata.name)).toEqual(['ledger', 'payments']);
    const bobJson = JSON.parse((await call(tokens.bob, 'GET', '/v1/exports/backstage')).text) as { documents: Array<{ kind: string; metadata: { name: string } }> };
    expect(bobJson.documents.filter((e) => e.kind === 'API').map((e) => e.metadata.name)).toEqual(['payments']);
  });

  it('every entity validates against the Backstage schemas once its $text definition is read with the same token', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : f.endsWith('.json') ? [join(dir, f)] : []));
    for (const f of files(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(f, 'utf8')));
    const ids: Record<string, string> = { API: 'ApiV1alpha1', Group: 'GroupV1alpha1', User: 'UserV1alpha1', System: 'SystemV1alpha1', Component: 'ComponentV1alpha1', Template: 'TemplateV1beta3' };
    const { documents } = JSON.parse((await call(tokens.alex, 'GET', '/v1/exports/backstage')).text) as { documents: Array<Record<string, any>> };
    expect(documents.length).toBeGreaterThan(5);
    for (const d of documents) {
      const text = d.spec?.definition?.$text as string | undefined;
      if (text !== undefined) {
        expect(text.startsWith(h.cp.url)).toBe(true);
        const doc = await call(tokens.alex, 'GET', text.slice(h.cp.url.length));
        expect(doc.status).toBe(200);
        expect(JSON.parse(doc.text).info.title).toBeDefined();
        d.spec.definition = doc.text;
      }
      const check = ajv.getSchema(ids[d.kind as string])!;
      expect(check, `a schema for ${d.kind}`).toBeDefined();
      expect(check(d), `${d.kind} ${d.metadata.name}: ${JSON.stringify(check.errors)}`).toBe(true);
    }
  });

  it('apigov export --format backstage prints the same, and an unknown format is a clear error', async () => {
    const r = await cli(h, tokens.alex, ['export', '--format', 'backstage']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^kind: API$/m);
    const json = await cli(h, tokens.alex, ['export', '--format', 'backstage', '-o', 'json']);
    expect((JSON.parse(json.stdout) as { documents: unknown[] }).documents.length).toBeGreaterThan(5);
    const unknown = await call(tokens.alex, 'GET', '/v1/exports/kubernetes-of-the-future');
    expect(unknown.status).toBe(422);
    expect(JSON.parse(unknown.text).errors[0].path).toBe('format');
    expect((await cli(h, tokens.alex, ['export', '--format', 'nope'])).code).toBe(2);
  });
});
