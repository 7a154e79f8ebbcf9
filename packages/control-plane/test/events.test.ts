// Events out of the control plane: written by the same transaction as the change (a refused change has none),
// numbered in commit order, each valid against its type's JSON Schema in GET /v1/events/types, visible to whoever
// may see its subject, long-polled for `apigov events --follow`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020Module from 'ajv/dist/2020.js';
import { openStore, type Store } from '@apigov/store';
import { startControlPlane, type RunningControlPlane } from '../src/index.js';
import { runEventClock } from '../src/events/clock-events.js';

type Validator = ((d: unknown) => boolean) & { errors?: unknown };
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as new (o: Record<string, unknown>) => { compile(s: unknown): Validator };

let store: Store;
let cp: RunningControlPlane;
const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
const GATEWAY = `gateway-${randomBytes(16).toString('hex')}`;
const tokens: Record<string, string> = {};
const SPEC = readFileSync(join(import.meta.dirname, '..', '..', '..', 'examples', 'payments', 'openapi.yaml'), 'utf8');
const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });

async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(cp.url + path, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text === '' ? null : JSON.parse(text) };
}

const types = (items: Array<{ type: string }>) => items.map((e) => e.type);

beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://' });
  cp = await startControlPlane({ store, adminToken: ADMIN, gatewayToken: GATEWAY, subscriptionClockMs: 3_600_000 });
  const setup = await call(ADMIN, 'POST', '/v1/apply', {
    documents: [
      res('Team', 'payments', {}),
      res('Team', 'orders', {}),
      res('Team', 'ledger', {}),
      res('Environment', 'dev', {}),
      res('Environment', 'prod', { production: true }),
      res('Plan', 'free', { rateLimit: { perMinute: 60 }, approval: 'auto' }),
      res('Plan', 'gold', { rateLimit: { perMinute: 600 }, approval: 'manual' }),
      res('GovernanceRuleset', 'open', { gates: [{ environment: '*', blockOn: 'never' }] }),
    ],
  });
  expect(setup.status).toBe(200);
  for (const [name, team, role] of [
    ['alex', 'payments', 'owner'],
    ['bob', 'orders', 'member'],
    ['lee', 'ledger', 'member'],
  ]) tokens[name] = (await call(ADMIN, 'POST', '/v1/users', res('User', name, { team, role }))).body.token;
});

afterAll(async () => {
  await cp?.close();
  await store?.close();
});

describe('events', () => {
  it('a change and its events commit together, in order, each valid against its schema', async () => {
    const before = (await call(ADMIN, 'GET', '/v1/events')).body.next ?? 0;
    expect((await call(tokens.alex!, 'POST', '/v1/apis/register', { name: 'payments', team: 'payments', spec: SPEC, upstreams: { dev: 'http://127.0.0.1:9', prod: 'http://127.0.0.1:9' } })).status).toBe(201);
    expect((await call(tokens.alex!, 'POST', '/v1/apis/payments/versions/v1/publish', { environment: 'dev' })).status).toBe(200);
    // a refused change (members do not publish to production) writes no event
    expect((await call(ADMIN, 'PUT', '/v1/users/lee', res('User', 'lee', { team: 'payments', role: 'member' }))).status).toBe(200);
    expect((await call(tokens.lee!, 'POST', '/v1/apis/payments/versions/v1/publish', { environment: 'prod' })).status).toBe(403);
    expect((await call(tokens.bob!, 'POST', '/v1/applications', res('Application', 'checkout', { owner: 'orders' }))).status).toBe(201);
    expect((await call(tokens.bob!, 'POST', '/v1/applications/checkout/subscriptions', { api: 'payments', version: 'v1', environment: 'dev', plan: 'free' })).status).toBe(201);
    expect((await call(tokens.bob!, 'POST', '/v1/applications/checkout/keys', {})).status).toBe(201);
    const gold = await call(tokens.bob!, 'POST', '/v1/applications/checkout/subscriptions', { api: 'payments', version: 'v1', environment: 'prod', plan: 'gold' });
    expect(gold.status).toBe(201);
    expect((await call(tokens.alex!, 'POST', `/v1/subscriptions/${gold.body.metadata.name}/approve`, {})).status).toBe(200);
    expect((await call(tokens.alex!, 'POST', '/v1/apis/payments/versions/v1/deprecate', { environment: 'dev', sunset: '2027-06-30', successor: 'v1' })).status).toBeLessThan(500);

    const page = (await call(ADMIN, 'GET', `/v1/events?after=${before}`)).body;
    const seen = types(page.items);
    expect(seen.slice(0, 7)).toEqual(['api.registered', 'api.version.published', 'subscription.requested', 'subscription.approved', 'key.created', 'subscription.requested', 'subscription.approved']);
    expect(seen).not.toContain('api.version.published:prod');
    expect(page.items.filter((e: any) => e.type === 'api.version.published').map((e: any) => e.subject.environment)).toEqual(['dev']);
    expect(page.items.map((e: any) => e.seq)).toEqual([...page.items.map((e: any) => e.seq)].sort((a: number, b: number) => a - b));
    expect(page.items[1]).toMatchObject({ type: 'api.version.published', actor: 'alex', subject: { kind: 'Api', name: 'payments', version: 'v1', environment: 'dev' }, data: { api: 'payments', version: 'v1', environment: 'dev', owner: 'payments' } });
    expect(page.items[1].id).toMatch(/^evt_[0-9a-f-]{36}$/);
    expect(JSON.stringify(page.items)).not.toMatch(/agv_|apk_|keyHash/);

    const catalog = (await call(ADMIN, 'GET', '/v1/events/types')).body.items as Array<{ type: string; schema: unknown }>;
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const validators = new Map(catalog.map((t) => [t.type, ajv.compile(t.schema)]));
    for (const e of page.items) {
      const validate = validators.get(e.type);
      expect(validate, e.type).toBeDefined();
      const { seq: _seq, ...event } = e;
      expect(validate!(event), `${e.type}: ${JSON.stringify(validate!.errors)}`).toBe(true);
    }
  });

  it('each sees the events of what they may see', async () => {
    expect((await call(tokens.lee!, 'PUT', '/v1/users/lee', res('User', 'lee', { team: 'ledger', role: 'member' }))).status).toBe(403);
    expect((await call(ADMIN, 'PUT', '/v1/users/lee', res('User', 'lee', { team: 'ledger', role: 'member' }))).status).toBe(200);
    expect((await call(tokens.alex!, 'POST', '/v1/apis/register', { name: 'secret-ledger', team: 'payments', spec: SPEC, visibility: 'team-only', upstreams: { dev: 'http://127.0.0.1:9' } })).status).toBe(201);
    const of = async (who: string) => (await call(tokens[who]!, 'GET', '/v1/events?limit=500')).body.items as Array<{ type: string; subject: { name: string } }>;
    const alex = await of('alex');
    const bob = await of('bob');
    const lee = await of('lee');
    expect(alex.some((e) => e.subject.name === 'secret-ledger')).toBe(true);
    expect(bob.some((e) => e.subject.name === 'secret-ledger')).toBe(false);
    // bob sees the internal API's events and his own subscriptions and keys; lee sees no one's subscriptions or keys
    expect(bob.some((e) => e.type === 'key.created')).toBe(true);
    expect(lee.some((e) => e.type.startsWith('subscription.') || e.type.startsWith('key.'))).toBe(false);
    expect(lee.some((e) => e.type === 'api.registered')).toBe(true);
    expect((await call(tokens.bob!, 'GET', '/v1/events?type=planet.exploded')).status).toBe(422);
    const anonymous = await fetch(`${cp.url}/v1/events`);
    expect(anonymous.status).toBe(401);
  });

  it('a long-poll returns as soon as an event is committed', async () => {
    const next = (await call(tokens.alex!, 'GET', '/v1/events?limit=500')).body.next as number;
    const started = Date.now();
    const waiting = call(tokens.alex!, 'GET', `/v1/events?after=${next}&wait=10&type=api.version.published`);
    await new Promise((r) => setTimeout(r, 300));
    expect((await call(tokens.alex!, 'POST', '/v1/apis/secret-ledger/versions/v1/publish', { environment: 'dev' })).status).toBe(200);
    const got = await waiting;
    expect(Date.now() - started).toBeLessThan(3000);
    expect(got.body.items.map((e: any) => [e.type, e.subject.name])).toEqual([['api.version.published', 'secret-ledger']]);
  });

  it('time raises key.expiring, gateway.out-of-sync and the daily audit.anchor, each once', async () => {
    const key = await call(tokens.bob!, 'POST', '/v1/applications/checkout/keys', { expiresInDays: 3 });
    expect(key.status).toBe(201);
    // a dev gateway that still runs snapshot 0 and reported just now
    const report = { gateway: 'dev-7', environment: 'dev', appliedVersion: 0, startedAt: new Date().toISOString(), usage: [] };
    expect((await fetch(`${cp.url}/v1/gateway/reports`, { method: 'POST', headers: { authorization: `Bearer ${GATEWAY}`, 'content-type': 'application/json' }, body: JSON.stringify(report) })).status).toBeLessThan(300);
    const later = Date.now() + 120_000;
    expect(await runEventClock(store, later)).toBe(3);
    expect(await runEventClock(store, later)).toBe(0);
    const expiring = (await call(tokens.bob!, 'GET', '/v1/events?type=key.expiring')).body.items;
    expect(expiring.map((e: any) => e.subject.name)).toEqual([key.body.credential.metadata.name]);
    const outOfSync = (await call(ADMIN, 'GET', '/v1/events?type=gateway.out-of-sync')).body.items;
    expect(outOfSync[0]).toMatchObject({ subject: { kind: 'Gateway', name: 'dev-7', environment: 'dev' }, data: { gateway: 'dev-7', appliedVersion: 0 } });
    expect((await call(tokens.bob!, 'GET', '/v1/events?type=gateway.out-of-sync')).body.items).toEqual([]);
    const anchor = (await call(ADMIN, 'GET', '/v1/events?type=audit.anchor')).body.items[0].data.anchor as string;
    expect(anchor).toMatch(/^\d+:[0-9a-f]{64}$/);
    expect((await call(ADMIN, 'GET', `/v1/audit/verify?anchor=${anchor}`)).body.ok).toBe(true);
  });
});
