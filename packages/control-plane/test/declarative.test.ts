// Declarative resources over REST: apply plans and applies atomically, export | apply is a no-op, prune deletes,
// ETag/If-Match, Idempotency-Key, cursor pagination, and the self-description at /v1/openapi.json.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openStore } from '@apigov/store';
import { loadSpec } from '@apigov/openapi';
import { startControlPlane, operationsTable, routesOf, type RunningControlPlane } from '../src/index.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const PAYMENTS = readFileSync(join(ROOT, 'examples', 'payments', 'openapi.yaml'), 'utf8');
const ADMIN = 'test-admin-token-abcdefghijkl';
let cp: RunningControlPlane;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const h: Record<string, string> = { authorization: `Bearer ${ADMIN}`, ...headers };
  let payload: string | undefined;
  if (typeof body === 'string') {
    h['content-type'] ??= 'application/yaml';
    payload = body;
  } else if (body !== undefined) {
    h['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(cp.url + path, { method, headers: h, body: payload });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    /* yaml or empty */
  }
  return { status: res.status, headers: res.headers, json, text };
}

const bundle = `
apiVersion: apigov.dev/v1
kind: Team
metadata: {name: payments}
spec: {displayName: Payments}
---
apiVersion: apigov.dev/v1
kind: Environment
metadata: {name: dev}
spec: {gatewayUrl: 'http://127.0.0.1:8080'}
---
apiVersion: apigov.dev/v1
kind: User
metadata: {name: alex}
spec: {team: payments, role: owner}
---
apiVersion: apigov.dev/v1
kind: GovernanceRuleset
metadata: {name: default}
spec:
  gates: [{environment: dev, blockOn: never}, {environment: '*', blockOn: error}]
`;

beforeAll(async () => {
  const store = await openStore({ dataDir: 'memory://' });
  cp = await startControlPlane({ store, adminToken: ADMIN });
});
afterAll(async () => cp?.close());

describe('apply and export', () => {
  it('dry-run returns the plan and writes nothing', async () => {
    const r = await call('POST', '/v1/apply?dryRun=true', bundle);
    expect(r.status, r.text).toBe(200);
    expect(r.json.applied).toBe(false);
    expect(r.json.plan).toEqual([
      { action: 'create', kind: 'Team', name: 'payments' },
      { action: 'create', kind: 'Environment', name: 'dev' },
      { action: 'create', kind: 'User', name: 'alex' },
      { action: 'create', kind: 'GovernanceRuleset', name: 'default' },
    ]);
    expect((await call('GET', '/v1/teams')).json.items).toEqual([]);
  });

  it('apply creates in dependency order, then the same bundle is unchanged', async () => {
    const r = await call('POST', '/v1/apply', bundle);
    expect(r.status, r.text).toBe(200);
    expect(r.json.applied).toBe(true);
    const again = await call('POST', '/v1/apply', bundle);
    expect((again.json.plan as Array<{ action: string }>).every((p) => p.action === 'unchanged')).toBe(true);
  });

  it('export | apply is a no-op, including an Api with its document', async () => {
    const reg = await call('POST', '/v1/apis/register', { name: 'payments', team: 'payments', spec: PAYMENTS, upstreams: { dev: 'http://127.0.0.1:4100' } });
    expect(reg.status, reg.text).toBe(201);
    expect(reg.json.findings).toBeInstanceOf(Array);
    const pub = await call('POST', '/v1/apis/payments/versions/1/publish', { environment: 'dev' });
    expect(pub.status, pub.text).toBe(200);
    expect((pub.json.status as { gatewayUrls: unknown }).gatewayUrls).toEqual({ v1: { dev: 'http://127.0.0.1:8080/payments/v1' } });
    const exported = await call('GET', '/v1/export');
    expect(exported.headers.get('content-type')).toMatch(/yaml/);
    expect(exported.text).toMatch(/kind: Api/);
    expect(exported.text).not.toMatch(/resourceVersion/);
    const auditBefore = (await call('GET', '/v1/audit?limit=500')).json.items as unknown[];
    const r = await call('POST', '/v1/apply', exported.text);
    expect(r.status, r.text).toBe(200);
    expect((r.json.plan as Array<{ action: string }>).map((p) => p.action)).toEqual(Array(5).fill('unchanged'));
    expect(((await call('GET', '/v1/audit?limit=500')).json.items as unknown[]).length).toBe(auditBefore.length);
    // and the document came back intact
    const doc = await call('GET', '/v1/apis/payments/versions/v1/openapi');
    expect(doc.json).toEqual((await loadSpec(PAYMENTS)).document);
  });

  it('an export restores into an empty control plane, deprecated and retired versions included', async () => {
    await call('POST', '/v1/apis/payments/versions/v1/deprecate', { environment: 'dev', sunset: '2027-06-30' });
    const exported = (await call('GET', '/v1/export')).text;
    expect(exported).toMatch(/state: deprecated/);
    const other = await startControlPlane({ store: await openStore({ dataDir: 'memory://' }), adminToken: ADMIN });
    try {
      const r = await fetch(`${other.url}/v1/apply`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/yaml' }, body: exported });
      const plan = (await r.json()) as { plan: Array<{ action: string }> };
      expect(r.status, JSON.stringify(plan)).toBe(200);
      expect(plan.plan.every((p) => p.action === 'create')).toBe(true);
      const again = await fetch(`${other.url}/v1/export`, { headers: { authorization: `Bearer ${ADMIN}` } });
      expect(await again.text()).toBe(exported);
    } finally {
      await other.close();
    }
  });

  it('prune deletes what the bundle no longer names', async () => {
    await call('POST', '/v1/teams', { apiVersion: 'apigov.dev/v1', kind: 'Team', metadata: { name: 'scratch' }, spec: {} });
    const teamsOnly = `apiVersion: apigov.dev/v1\nkind: Team\nmetadata: {name: payments}\nspec: {displayName: Payments}\n`;
    const plan = await call('POST', '/v1/apply?prune=true&dryRun=true', teamsOnly);
    expect(plan.json.plan).toEqual([
      { action: 'unchanged', kind: 'Team', name: 'payments' },
      { action: 'delete', kind: 'Team', name: 'scratch' },
    ]);
    const done = await call('POST', '/v1/apply?prune=true', teamsOnly);
    expect(done.status, done.text).toBe(200);
    expect((await call('GET', '/v1/teams/scratch')).status).toBe(404);
  });
});

describe('REST conventions', () => {
  it('ETag and If-Match guard updates', async () => {
    const got = await call('GET', '/v1/teams/payments');
    const etag = got.headers.get('etag')!;
    expect(etag).toMatch(/^"\d+"$/);
    const body = { apiVersion: 'apigov.dev/v1', kind: 'Team', metadata: { name: 'payments' }, spec: { displayName: 'Payments team' } };
    const ok = await call('PUT', '/v1/teams/payments', body, { 'if-match': etag });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.headers.get('etag')).not.toBe(etag);
    const stale = await call('PUT', '/v1/teams/payments', { ...body, spec: { displayName: 'x' } }, { 'if-match': etag });
    expect(stale.status).toBe(412);
    expect((await call('GET', '/v1/teams/payments')).json.spec).toEqual({ displayName: 'Payments team' });
  });

  it('Idempotency-Key replays a create and refuses a different body', async () => {
    const team = (name: string) => ({ apiVersion: 'apigov.dev/v1', kind: 'Team', metadata: { name }, spec: {} });
    const first = await call('POST', '/v1/teams', team('ops'), { 'idempotency-key': 'k-1' });
    expect(first.status).toBe(201);
    const again = await call('POST', '/v1/teams', team('ops'), { 'idempotency-key': 'k-1' });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(first.json);
    const other = await call('POST', '/v1/teams', team('ops2'), { 'idempotency-key': 'k-1' });
    expect(other.status).toBe(422);
    expect(other.json.code).toBe('APIGOV_ERR_IDEMPOTENCY_MISMATCH');
    expect((await call('GET', '/v1/teams/ops2')).status).toBe(404);
  });

  it('cursor pagination walks every item once', async () => {
    const docs = Array.from({ length: 23 }, (_, i) => ({ apiVersion: 'apigov.dev/v1', kind: 'Team', metadata: { name: `page-${String(i).padStart(2, '0')}` }, spec: {} }));
    expect((await call('POST', '/v1/apply', { documents: docs })).status).toBe(200);
    const seen: string[] = [];
    let cursor = '';
    for (let i = 0; i < 20; i++) {
      const page = await call('GET', `/v1/teams?limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...(page.json.items as Array<{ metadata: { name: string } }>).map((t) => t.metadata.name));
      if (!page.json.nextCursor) break;
      cursor = String(page.json.nextCursor);
    }
    const all = (await call('GET', '/v1/teams?limit=500')).json.items as unknown[];
    expect(seen.length).toBe(all.length);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('serves its own OpenAPI document, describing every route it serves', async () => {
    const r = await call('GET', '/v1/openapi.json', undefined, { authorization: '' });
    expect(r.status).toBe(200);
    expect(r.json.openapi).toBe('3.1.0');
    const loaded = await loadSpec(r.text);
    expect(loaded.format).toBe('3.1');
    const documented = new Set(Object.keys(operationsTable()));
    // the REST API (the portal's pages at / are not part of it)
    const served = routesOf(cp.app).filter((r) => / \/(v1|healthz|scim\/v2)/.test(r));
    expect(served.length).toBeGreaterThan(30);
    for (const s of served) expect(documented, `${s} is served but not documented`).toContain(s);
    for (const d of documented) expect(served, `${d} is documented but not served`).toContain(d);
  });
});
