// The breaking-change check as the platform configures it: GovernanceRuleset.breakingChanges rule levels ('off' too),
// gates per environment (dev lowered, warnings blocking), waivers by fingerprint (and their expiry), unknown rule ids
// refused; a new major version is never blocked; the lint gate lists every blocking finding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { openStore } from '@apigov/store';
import { startControlPlane, type RunningControlPlane } from '../src/index.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const PAYMENTS = readFileSync(join(ROOT, 'examples', 'payments', 'openapi.yaml'), 'utf8');
const ADMIN = 'test-admin-token-0123456789';
let cp: RunningControlPlane;
let alex = '';

const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });

async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const r = await fetch(cp.url + path, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, json: text === '' ? {} : JSON.parse(text) };
}

function edited(edit: (doc: Record<string, any>) => void): string {
  const doc = YAML.parse(PAYMENTS);
  edit(doc);
  return YAML.stringify(doc);
}

/** GET /payments gets another operationId (a warning: generated SDKs rename a method). */
const operationIdChanged = edited((d) => (d.paths['/payments'].get.operationId = 'listAllPayments'));
/** GET /payments' status parameter becomes required (breaking). */
const parameterRequired = edited((d) => (d.paths['/payments'].get.parameters as Array<Record<string, unknown>>).find((p) => p.name === 'status')!.required = true);

async function ruleset(spec: unknown) {
  const r = await call('PUT', '/v1/governance-rulesets/breaking', ADMIN, res('GovernanceRuleset', 'breaking', spec));
  expect(r.status, JSON.stringify(r.json)).toBeLessThan(300);
}

async function register(name: string, spec: string, version = '1') {
  return call('POST', '/v1/apis/register', alex, { name, version, spec });
}

beforeAll(async () => {
  cp = await startControlPlane({ store: await openStore({ dataDir: 'memory://' }), adminToken: ADMIN });
  const setup = await call('POST', '/v1/apply', ADMIN, {
    documents: [res('Team', 'payments', {}), res('Environment', 'dev', {}), res('Environment', 'prod', { production: true })],
  });
  expect(setup.status).toBe(200);
  alex = (await call('POST', '/v1/users', ADMIN, res('User', 'alex', { team: 'payments', role: 'owner' }))).json.token;
  for (const [api, envs] of [
    ['pay-dev', ['dev']],
    ['pay-both', ['dev', 'prod']],
  ] as const) {
    const r = await call('POST', '/v1/apis/register', alex, { name: api, team: 'payments', spec: PAYMENTS, upstreams: { dev: 'http://127.0.0.1:9', prod: 'http://127.0.0.1:9' } });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    for (const env of envs) expect((await call('POST', `/v1/apis/${api}/versions/v1/publish`, alex, { environment: env })).status).toBe(200);
  }
}, 60_000);

afterAll(async () => {
  await cp?.close();
});

describe('breaking-change rules in a GovernanceRuleset', () => {
  it('by default a breaking change is refused in every environment, a warning is reported and let through', async () => {
    const refused = await register('pay-dev', parameterRequired);
    expect(refused.status).toBe(409);
    expect(refused.json.environments).toEqual(['dev']);
    const warned = await register('pay-dev', operationIdChanged);
    expect(warned.status).toBe(200);
    expect(warned.json.changes.changes.map((c: { id: string; level: string }) => `${c.id} ${c.level}`)).toEqual(['operation-id-changed warning']);
    expect(warned.json.changes.from).toBe('v1 (revision 1.0.0)');
    // put v1 back as it was (the reverse rename is a warning too)
    expect((await register('pay-dev', PAYMENTS)).status).toBe(200);
  });

  it('a rule raised to breaking refuses, and one turned off is not reported', async () => {
    await ruleset({ breakingChanges: { rules: { 'operation-id-changed': 'breaking' } } });
    const refused = await register('pay-dev', operationIdChanged);
    expect(refused.status).toBe(409);
    expect(refused.json.breakingChanges[0]).toMatchObject({ id: 'operation-id-changed', level: 'breaking', defaultLevel: 'warning' });
    await ruleset({ breakingChanges: { rules: { 'request-parameter-became-required': 'off' } } });
    const quiet = await register('pay-dev', parameterRequired);
    expect(quiet.status).toBe(200);
    expect(quiet.json.changes.changes).toEqual([]);
    expect((await register('pay-dev', PAYMENTS)).status).toBe(200);
  });

  it('a gate lowered for dev lets a breaking revision through there, but not where prod serves the version', async () => {
    await ruleset({ breakingChanges: { gates: [{ environment: 'dev', blockOn: 'never' }] } });
    const devOnly = await register('pay-dev', parameterRequired);
    expect(devOnly.status, JSON.stringify(devOnly.json)).toBe(200);
    expect(devOnly.json.changes.summary.breaking).toBe(1);
    const both = await register('pay-both', parameterRequired);
    expect(both.status).toBe(409);
    expect(both.json.environments).toEqual(['prod']);
    expect(both.json.detail).toMatch(/^pay-both v1 is published in prod; this revision breaks it in 1 place: 1\) GET \/payments: query parameter 'status' became required\. Register it as a new major version \(v2\) instead/);
    expect((await register('pay-dev', PAYMENTS)).status).toBe(200);
  });

  it('a gate at warning refuses warnings too', async () => {
    await ruleset({ breakingChanges: { gates: [{ environment: '*', blockOn: 'warning' }] } });
    const r = await register('pay-dev', operationIdChanged);
    expect(r.status).toBe(409);
    expect(r.json.breakingChanges.map((c: { id: string }) => c.id)).toEqual(['operation-id-changed']);
  });

  it('a waiver by fingerprint lets one change through until it expires', async () => {
    await ruleset({});
    const refused = await register('pay-both', parameterRequired);
    const fingerprint = refused.json.breakingChanges[0].fingerprint as string;
    expect(fingerprint).toMatch(/^[0-9a-f]{20}$/);
    await ruleset({ breakingChanges: { exceptions: [{ fingerprint, api: 'pay-both', reason: 'clients were told in TICKET-1', expires: '2020-01-01' }] } });
    expect((await register('pay-both', parameterRequired)).status).toBe(409);
    await ruleset({ breakingChanges: { exceptions: [{ fingerprint, api: 'pay-both', version: 'v1', reason: 'clients were told in TICKET-1', expires: '2099-01-01' }] } });
    const waived = await register('pay-both', parameterRequired);
    expect(waived.status, JSON.stringify(waived.json)).toBe(200);
    // the waiver is in the audit trail, as the ruleset's change
    const audit = await call('GET', '/v1/audit?kind=GovernanceRuleset&name=breaking&limit=1', ADMIN);
    expect(JSON.stringify(audit.json.items[0].after)).toContain(fingerprint);
    expect((await register('pay-both', PAYMENTS)).status).toBe(200);
  });

  it('an unknown rule id or a malformed fingerprint is refused and changes nothing', async () => {
    const before = await call('GET', '/v1/governance-rulesets/breaking', ADMIN);
    const unknown = await call('PUT', '/v1/governance-rulesets/breaking', ADMIN, res('GovernanceRuleset', 'breaking', { breakingChanges: { rules: { 'response-thing-vanished': 'off' } } }));
    expect(unknown.status).toBe(422);
    expect(unknown.json.errors[0]).toEqual({ path: 'spec.breakingChanges.rules.response-thing-vanished', message: "unknown diff rule 'response-thing-vanished'" });
    const bad = await call('PUT', '/v1/governance-rulesets/breaking', ADMIN, res('GovernanceRuleset', 'breaking', { breakingChanges: { exceptions: [{ fingerprint: 'xyz', api: 'pay-both', reason: 'r', expires: '2099-01-01' }] } }));
    expect(bad.status).toBe(422);
    expect((await call('GET', '/v1/governance-rulesets/breaking', ADMIN)).json).toEqual(before.json);
  });

  it('a new major version is never blocked, and its changes against the previous major come back', async () => {
    await ruleset({ breakingChanges: { gates: [{ environment: '*', blockOn: 'warning' }] } });
    const v2 = await register('pay-both', edited((d) => {
      d.info.version = '2.0.0';
      delete d.paths['/invoices'];
    }), '2');
    expect(v2.status, JSON.stringify(v2.json)).toBe(200);
    expect(v2.json.changes.from).toBe('v1');
    expect(v2.json.changes.changes.map((c: { id: string; operation: string }) => `${c.id} ${c.operation}`)).toEqual(['operation-removed GET /invoices']);
    await ruleset({});
  });

  it("names the callers of a changed operation even when the revision renames its path parameter", async () => {
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
    await cp.store.recordGatewayReport({ gateway: 'gw-test', environment: 'dev', appliedVersion: 1, startedAt: minute, lastSeenAt: minute }, [
      { minute, environment: 'dev', api: 'pay-dev', version: 'v1', operation: 'GET /payments/{id}', application: 'bob-app', statusClass: '2xx', count: 7, latencySumMs: 7, latencyBuckets: [7] },
    ], []);
    const revision = edited((d) => {
      const item = d.paths['/payments/{id}'];
      delete d.paths['/payments/{id}'];
      for (const p of item.get.parameters ?? []) if (p.name === 'id') p.name = 'paymentId';
      d.paths['/payments/{paymentId}'] = item;
      delete d.components.schemas.Payment.properties.description;
      d.components.schemas.Payment.required = d.components.schemas.Payment.required.filter((r: string) => r !== 'description');
    });
    const r = await call('POST', '/v1/apis/pay-dev/diff', alex, { spec: revision });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.refused).toBe(true);
    const change = (r.json.changes as Array<Record<string, any>>).find((c) => c.operation === 'GET /payments/{paymentId}' && c.id === 'response-property-removed');
    expect(change?.affectedConsumers).toEqual([{ application: 'bob-app', environments: ['dev'], subscribed: false, requests: 7 }]);
  });

  it('the lint gate lists every blocking finding with its location (a ruleset that sets no lint gates keeps the default ones)', async () => {
    const bad = readFileSync(join(ROOT, 'packages', 'openapi', 'test', 'fixtures', 'bad-house.openapi.yaml'), 'utf8');
    expect((await call('POST', '/v1/apis/register', alex, { name: 'ledger', team: 'payments', spec: bad, upstreams: { prod: 'http://127.0.0.1:9' } })).status).toBe(201);
    const r = await call('POST', '/v1/apis/ledger/versions/v1/publish', alex, { environment: 'prod' });
    expect(r.status).toBe(422);
    expect(r.json.code).toBe('APIGOV_ERR_GOVERNANCE_BLOCKED');
    const n = (r.json.findings as unknown[]).length;
    expect(n).toBeGreaterThanOrEqual(2);
    for (let i = 1; i <= n; i++) expect(r.json.detail).toContain(`${i}) `);
    for (const rule of ['apigov-operation-id', 'apigov-owner-contact']) expect(r.json.detail).toMatch(new RegExp(`${rule} at \\S+`));
    expect(r.json.errors).toHaveLength(n);
  });

  it('each refusal is an event, written after the refused change rolled back: api.breaking-change.refused, governance.violation', async () => {
    const of = async (type: string) => ((await call('GET', `/v1/events?type=${type}&limit=500`, ADMIN)).json.items as Array<{ actor: string; subject: { name: string }; data: Record<string, unknown> }>);
    const breaking = await of('api.breaking-change.refused');
    expect(breaking.length).toBeGreaterThanOrEqual(2);
    expect(breaking[0]).toMatchObject({ actor: 'alex', subject: { name: 'pay-dev' }, data: { api: 'pay-dev', version: 'v1', environments: ['dev'], changes: 1 } });
    expect((breaking[0]!.data.fingerprints as string[])[0]).toMatch(/^[0-9a-f]{20}$/);
    const blocked = await of('governance.violation');
    expect(blocked).toHaveLength(1);
    expect(blocked[0]).toMatchObject({ actor: 'alex', subject: { name: 'ledger' }, data: { api: 'ledger', version: 'v1', environment: 'prod' } });
    expect(blocked[0]!.data.findings as number).toBeGreaterThan(0);
    expect(blocked[0]!.data.rules).toEqual(expect.arrayContaining(['apigov-operation-id', 'apigov-owner-contact']));
  });
});
