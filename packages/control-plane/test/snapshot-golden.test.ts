// Golden files for the snapshot compiler: testdata/snapshot/<case>.in.yaml (an {environment, now} header
// document, then resources) beside <case>.out.yaml. UPDATE_GOLDEN=1 rewrites the outputs.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { parseResource, sortKeys, type AnyResource } from '@apigov/model';
import { createHash } from 'node:crypto';
import { canonicalJson } from '@apigov/model';
import { compileSnapshot, RouteCache, snapshotHash, type CompileInput, type Named } from '../src/snapshot/compile.js';

const DIR = join(import.meta.dirname, 'testdata', 'snapshot');

function named<K extends AnyResource['kind']>(rs: AnyResource[], kind: K, version?: number) {
  return rs.filter((r) => r.kind === kind).map((r) => ({ name: r.metadata.name, spec: r.spec, ...(version !== undefined && { version }) })) as Named<Extract<AnyResource, { kind: K }>['spec']>[];
}

/** a golden case's compile input; `version`: every resource at that stored version (so routes can be cached) */
function inputOf(file: string, version?: number): CompileInput {
  const docs = parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJS());
  const header = docs[0] as { environment: string; now: string };
  const resources = docs.slice(1).map((d, i) => parseResource(d, `documents[${i + 1}]`));
  return {
    environment: header.environment,
    now: new Date(header.now),
    apis: named(resources, 'Api', version),
    policies: named(resources, 'Policy', version),
    plans: named(resources, 'Plan', version),
    applications: named(resources, 'Application', version),
    subscriptions: named(resources, 'Subscription', version),
    credentials: named(resources, 'Credential', version),
  };
}

describe('snapshot compiler golden files', () => {
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.in.yaml'))) {
    it(file.replace('.in.yaml', ''), () => {
      const content = compileSnapshot(inputOf(file));
      const out = `# hash ${snapshotHash(content)}\n` + stringify(sortKeys(content), { lineWidth: 0 });
      const golden = join(DIR, file.replace('.in.yaml', '.out.yaml'));
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, out);
      // a missing golden fails: it is written only on purpose, with UPDATE_GOLDEN=1, and then reviewed
      expect(existsSync(golden), `${golden} is missing: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
      expect(out).toBe(readFileSync(golden, 'utf8'));
    });
  }
});

describe('reusing compiled routes between compiles', () => {
  const cases = readdirSync(DIR).filter((f) => f.endsWith('.in.yaml'));

  it('gives the same snapshot and hash as a compile from scratch, and the hash is sha256 of canonicalJson', () => {
    for (const file of cases) {
      const fresh = compileSnapshot(inputOf(file));
      expect(snapshotHash(fresh)).toBe(createHash('sha256').update(canonicalJson(fresh)).digest('hex'));
      const cache = new RouteCache();
      const first = compileSnapshot({ ...inputOf(file, 1), cache });
      const again = compileSnapshot({ ...inputOf(file, 1), cache });
      expect(first).toEqual(fresh);
      expect(again).toEqual(fresh);
      expect(snapshotHash(again)).toBe(snapshotHash(fresh));
      expect(cache.hits).toBe(fresh.routes.length);
      expect(cache.misses).toBe(fresh.routes.length);
    }
  });

  it('compiles again what a changed Api or policy touches, and only that', () => {
    const file = 'precedence.in.yaml';
    const cache = new RouteCache();
    const base = inputOf(file, 1);
    const fresh = compileSnapshot(base);
    expect(fresh.routes.length).toBeGreaterThanOrEqual(2);
    compileSnapshot({ ...base, cache });
    cache.sweep();
    // one Api at a new version: its routes only
    const changedApi = base.apis[0]!;
    const routesOfApi = fresh.routes.filter((r) => r.api === changedApi.name).length;
    const bumped = { ...base, apis: base.apis.map((a) => (a === changedApi ? { ...a, version: 2 } : a)), cache };
    let misses = cache.misses;
    expect(compileSnapshot(bumped)).toEqual(fresh);
    expect(cache.misses - misses).toBe(routesOfApi);
    // a platform policy of this environment at a new version: every route
    misses = cache.misses;
    const platformChanged = { ...bumped, policies: bumped.policies.map((p) => (p.spec.targetRef.kind === 'Environment' && p.spec.targetRef.name === base.environment ? { ...p, version: 7 } : p)) };
    expect(compileSnapshot(platformChanged)).toEqual(fresh);
    expect(cache.misses - misses).toBe(fresh.routes.length);
    // without stored versions nothing is cached
    misses = cache.misses;
    compileSnapshot({ ...inputOf(file), cache });
    expect(cache.misses).toBe(misses);
  });
});
