// The deprecation loop: deprecating a version tells each subscribed application's team (sunset, successor, the
// changelog between them, its own recent calls); the sunset clock reminds the owners and the subscribers 30, 7 and
// 1 days before (each once); at the sunset an API with retireAtSunset retires the version by itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type Store } from '@apigov/store';
import { startControlPlane, type RunningControlPlane } from '../src/index.js';

let store: Store;
let cp: RunningControlPlane;
const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
const GATEWAY = `gateway-${randomBytes(16).toString('hex')}`;
const tokens: Record<string, string> = {};
const V1 = readFileSync(join(import.meta.dirname, '..', '..', '..', 'examples', 'payments', 'openapi.yaml'), 'utf8');
// v2 drops /invoices: one breaking change at least
const V2 = V1.replace('  version: 1.0.0', '  version: 2.0.0').replace(/\n {2}\/invoices:\n[\s\S]*?(?=\n {2}\/health:)/, '');
const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });

async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(cp.url + path, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text === '' ? null : JSON.parse(text) };
}

const events = async (who: string, type: string) => (await call(tokens[who] ?? ADMIN, 'GET', `/v1/events?type=${type}&limit=500`)).body.items as Array<{ subject: any; data: any }>;
const days = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();

async function setSunset(env: string, sunset: string): Promise<void> {
  const api = (await call(ADMIN, 'GET', '/v1/apis/payments')).body;
  api.spec.versions.find((v: any) => v.name === 'v1').environments[env].sunset = sunset;
  expect((await call(ADMIN, 'PUT', '/v1/apis/payments', api)).status).toBe(200);
}

beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://' });
  cp = await startControlPlane({ store, adminToken: ADMIN, gatewayToken: GATEWAY, subscriptionClockMs: 150 });
  const setup = await call(ADMIN, 'POST', '/v1/apply', {
    documents: [
      res('Team', 'payments', {}),
      res('Team', 'orders', {}),
      res('Team', 'ledger', {}),
      res('Environment', 'dev', {}),
      res('Environment', 'staging', {}),
      res('Plan', 'free', { approval: 'auto' }),
      res('GovernanceRuleset', 'open', { gates: [{ environment: '*', blockOn: 'never' }] }),
    ],
  });
  expect(setup.status).toBe(200);
  for (const [name, team, role] of [
    ['alex', 'payments', 'owner'],
    ['bob', 'orders', 'member'],
    ['lee', 'ledger', 'member'],
  ]) tokens[name] = (await call(ADMIN, 'POST', '/v1/users', res('User', name, { team, role }))).body.token;
  expect((await call(tokens.alex!, 'POST', '/v1/apis/register', { name: 'payments', team: 'payments', spec: V1, upstreams: { dev: 'http://127.0.0.1:9', staging: 'http://127.0.0.1:9' } })).status).toBe(201);
  expect((await call(tokens.alex!, 'POST', '/v1/apis/register', { name: 'payments', version: 'v2', spec: V2, upstreams: { dev: 'http://127.0.0.1:9', staging: 'http://127.0.0.1:9' } })).status).toBeLessThan(300);
  for (const env of ['dev', 'staging']) {
    expect((await call(tokens.alex!, 'POST', '/v1/apis/payments/versions/v1/publish', { environment: env })).status).toBe(200);
    expect((await call(tokens.alex!, 'POST', '/v1/apis/payments/versions/v2/publish', { environment: env })).status).toBe(200);
  }
  expect((await call(tokens.bob!, 'POST', '/v1/applications', res('Application', 'checkout', { owner: 'orders' }))).status).toBe(201);
  for (const env of ['dev', 'staging']) expect((await call(tokens.bob!, 'POST', '/v1/applications/checkout/subscriptions', { api: 'payments', version: 'v1', environment: env, plan: 'free' })).status).toBe(201);
});

afterAll(async () => {
  await cp?.close();
  await store?.close();
});

describe('the deprecation loop', () => {
  it("deprecating v1 tells bob's team: sunset, successor, the changelog to v2, its own calls", async () => {
    expect((await call(tokens.alex!, 'POST', '/v1/apis/payments/versions/v1/deprecate', { environment: 'dev', sunset: days(20).slice(0, 10), successor: 'v2' })).status).toBe(200);
    const notices = await events('bob', 'api.version.deprecation-notice');
    expect(notices).toHaveLength(1);
    expect(notices[0]!.data).toMatchObject({ api: 'payments', version: 'v1', environment: 'dev', application: 'checkout', subscription: 'checkout-payments-v1-dev', successor: 'v2', requestsLast7Days: 0 });
    expect(notices[0]!.data.changelog.breaking).toBeGreaterThan(0);
    // lee's team subscribes to nothing: no notice
    expect(await events('lee', 'api.version.deprecation-notice')).toHaveLength(0);
  });

  it('reminders at 30, 7 and 1 days before the sunset, each once, to the owners and the subscribers', async () => {
    // 20 days left: the 30-day reminder
    await new Promise((r) => setTimeout(r, 600));
    let reminders = await events('bob', 'api.version.sunset-approaching');
    expect(reminders.map((e) => [e.subject.environment, e.data.threshold])).toEqual([['dev', 30]]);
    await setSunset('dev', days(5));
    await new Promise((r) => setTimeout(r, 600));
    await setSunset('dev', days(0.5));
    await new Promise((r) => setTimeout(r, 600));
    reminders = await events('bob', 'api.version.sunset-approaching');
    expect(reminders.map((e) => e.data.threshold)).toEqual([30, 7, 1]);
    expect((await events('alex', 'api.version.sunset-approaching')).map((e) => e.data.threshold)).toEqual([30, 7, 1]);
    expect(reminders[2]!.data).toMatchObject({ api: 'payments', version: 'v1', environment: 'dev', daysLeft: 1, successor: 'v2' });
  });

  it("consumers --version: who still calls v1, with each application's calls in the last 7 days and its last call", async () => {
    const minute = new Date(Math.floor((Date.now() - 120_000) / 60_000) * 60_000).toISOString();
    const report = {
      gateway: 'dev-1',
      environment: 'dev',
      appliedVersion: 1,
      startedAt: new Date().toISOString(),
      usage: [{ minute, api: 'payments', version: 'v1', route: 'payments/v1', operation: 'GET /payments', application: 'checkout', statusClass: '2xx', count: 42, latencySumMs: 420, latencyBuckets: { '10': 42 } }],
    };
    const sent = await fetch(`${cp.url}/v1/gateway/reports`, { method: 'POST', headers: { authorization: `Bearer ${GATEWAY}`, 'content-type': 'application/json' }, body: JSON.stringify(report) });
    expect(sent.status, await sent.text()).toBeLessThan(300);
    const consumers = (await call(tokens.alex!, 'GET', '/v1/apis/payments/consumers?version=v1')).body.items;
    expect(consumers.map((c: any) => [c.environment, c.application, c.callsLast7Days, c.lastCallAt ?? null])).toEqual([
      ['dev', 'checkout', 42, minute],
      ['staging', 'checkout', 0, null],
    ]);
    expect((await call(tokens.alex!, 'GET', '/v1/apis/payments/consumers?version=v2')).body.items).toEqual([]);
    expect((await call(tokens.alex!, 'GET', '/v1/apis/payments/consumers?version=banana')).status).toBe(422);
  });

  it('at the sunset, retireAtSunset retires the version by itself; without it the version stays deprecated', async () => {
    const deprecated = await call(tokens.alex!, 'POST', '/v1/apis/payments/versions/v1/deprecate', { environment: 'staging', successor: 'v2', sunset: new Date(Date.now() + 400).toISOString() });
    expect(deprecated.status, JSON.stringify(deprecated.body)).toBe(200);
    await new Promise((r) => setTimeout(r, 900));
    expect((await call(ADMIN, 'GET', '/v1/apis/payments')).body.spec.versions[0].environments.staging.state).toBe('deprecated');
    const api = (await call(ADMIN, 'GET', '/v1/apis/payments')).body;
    expect((await call(ADMIN, 'PUT', '/v1/apis/payments', { ...api, spec: { ...api.spec, retireAtSunset: true } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 900));
    expect((await call(ADMIN, 'GET', '/v1/apis/payments')).body.spec.versions[0].environments.staging.state).toBe('retired');
    const retired = await events('alex', 'api.version.retired');
    expect(retired.map((e) => [e.subject.environment, e.data.api])).toEqual([['staging', 'payments']]);
  });
});
