// Webhooks with real receivers on 127.0.0.1 that verify every signature with the `standardwebhooks` library:
// alex's team webhook gets api.version.published within a second of the publish, bob's team gets
// subscription.approved; a receiver answering 500 three times then 200 gets the event once more after the retries;
// one that never succeeds ends in the dead letters and a replay delivers it; 410 disables the endpoint; private,
// link-local and metadata destinations are refused, at write time and again at connect time.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { openStore, type Store } from '@apigov/store';
import { startControlPlane, type RunningControlPlane } from '../src/index.js';

let store: Store;
let cp: RunningControlPlane;
const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
const tokens: Record<string, string> = {};
const SPEC = readFileSync(join(import.meta.dirname, '..', '..', '..', 'examples', 'payments', 'openapi.yaml'), 'utf8');
const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });

async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(cp.url + path, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text === '' ? null : JSON.parse(text) };
}

interface Received {
  id: string;
  at: number;
  event: { type: string; subject: { name: string; environment?: string }; data: Record<string, unknown> };
}

/** A receiver that answers with `answer(n)` (n = how many requests it has had) and verifies each signature. */
class Receiver {
  server: Server;
  secret = '';
  requests = 0;
  verified: Received[] = [];
  bad = 0;
  constructor(public answer: (n: number) => number | 'never') {
    this.server = createServer((req, rsp) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        this.requests++;
        try {
          const event = new Webhook(this.secret).verify(body, req.headers as Record<string, string>) as Received['event'];
          this.verified.push({ id: String(req.headers['webhook-id']), at: Date.now(), event });
        } catch {
          this.bad++;
        }
        const status = this.answer(this.requests);
        // 'never': the request is read and then left unanswered (the worker's time limit ends it)
        if (status !== 'never') rsp.writeHead(status).end();
      });
    });
  }
  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }
  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

async function until<T>(what: () => T | Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

const receivers: Receiver[] = [];

async function hook(token: string, name: string, receiver: Receiver, spec: Record<string, unknown>): Promise<void> {
  const created = await call(token, 'POST', '/v1/webhooks', res('Webhook', name, { url: await receiver.listen(), ...spec }));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
  receiver.secret = created.body.secret;
  receivers.push(receiver);
}

beforeAll(async () => {
  process.env.APIGOV_WEBHOOK_ALLOW_CIDRS = '127.0.0.0/8';
  store = await openStore({ dataDir: 'memory://' });
  cp = await startControlPlane({ store, adminToken: ADMIN, webhooks: { retryDelaysMs: [0, 100, 100, 100], intervalMs: 50, timeoutMs: 300, disableAfterFailingMs: 4000 } });
  const setup = await call(ADMIN, 'POST', '/v1/apply', {
    documents: [
      res('Team', 'payments', {}),
      res('Team', 'orders', {}),
      res('Environment', 'dev', {}),
      res('Plan', 'gold', { approval: 'manual' }),
      res('GovernanceRuleset', 'open', { gates: [{ environment: '*', blockOn: 'never' }] }),
    ],
  });
  expect(setup.status).toBe(200);
  for (const [name, team, role] of [
    ['alex', 'payments', 'owner'],
    ['bob', 'orders', 'member'],
  ]) tokens[name] = (await call(ADMIN, 'POST', '/v1/users', res('User', name, { team, role }))).body.token;
  expect((await call(tokens.alex!, 'POST', '/v1/apis/register', { name: 'payments', team: 'payments', spec: SPEC, upstreams: { dev: 'http://127.0.0.1:9' } })).status).toBe(201);
});

afterAll(async () => {
  await cp?.close();
  await store?.close();
  for (const r of receivers) await r.close();
  delete process.env.APIGOV_WEBHOOK_ALLOW_CIDRS;
});

describe('webhooks', () => {
  it("alex's team gets api.version.published within a second, signed; bob's team gets subscription.approved", async () => {
    const alexHook = new Receiver(() => 204);
    const bobHook = new Receiver(() => 200);
    await hook(tokens.alex!, 'payments-events', alexHook, { team: 'payments', events: ['api.version.published', 'subscription.requested'] });
    await hook(tokens.bob!, 'orders-events', bobHook, { team: 'orders', events: ['subscription.approved', 'api.version.published'] });
    // the secret is never listed or exported
    expect(JSON.stringify((await call(tokens.alex!, 'GET', '/v1/webhooks/payments-events')).body)).not.toContain(alexHook.secret);
    const exported = await (await fetch(`${cp.url}/v1/export`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    expect(exported).toContain('kind: Webhook');
    expect(exported).not.toContain(alexHook.secret);

    const published = Date.now();
    expect((await call(tokens.alex!, 'POST', '/v1/apis/payments/versions/v1/publish', { environment: 'dev' })).status).toBe(200);
    const got = await until(() => alexHook.verified, (v) => v.length >= 1);
    expect(got.map((r) => r.event.type)).toEqual(['api.version.published']);
    expect(got[0]!.at - published).toBeLessThan(1000);
    expect(got[0]!.event).toMatchObject({ subject: { name: 'payments', environment: 'dev' }, data: { api: 'payments', version: 'v1', environment: 'dev' } });
    expect(got[0]!.id).toMatch(/^msg_/);
    // bob's team webhook: the API is internal, so its publish concerns the payments team only
    expect(bobHook.verified.map((r) => r.event.type)).toEqual([]);

    expect((await call(tokens.bob!, 'POST', '/v1/applications', res('Application', 'checkout', { owner: 'orders' }))).status).toBe(201);
    const sub = await call(tokens.bob!, 'POST', '/v1/applications/checkout/subscriptions', { api: 'payments', version: 'v1', environment: 'dev', plan: 'gold' });
    expect(sub.status).toBe(201);
    expect((await call(tokens.alex!, 'POST', `/v1/subscriptions/${sub.body.metadata.name}/approve`, {})).status).toBe(200);
    const bobs = await until(() => bobHook.verified, (v) => v.length >= 1);
    expect(bobs.map((r) => r.event.type)).toEqual(['subscription.approved']);
    expect((await until(() => alexHook.verified, (v) => v.length >= 2)).map((r) => r.event.type)).toEqual(['api.version.published', 'subscription.requested']);
    expect(alexHook.bad + bobHook.bad).toBe(0);
    const deliveries = (await call(tokens.alex!, 'GET', '/v1/webhooks/payments-events/deliveries')).body.items;
    expect(deliveries.map((d: any) => [d.eventType, d.state, d.attempts])).toEqual([
      ['subscription.requested', 'delivered', 1],
      ['api.version.published', 'delivered', 1],
    ]);
    // bob may not see or manage alex's team's webhook
    expect((await call(tokens.bob!, 'GET', '/v1/webhooks/payments-events')).status).toBe(404);
    expect((await call(tokens.bob!, 'POST', '/v1/webhooks', res('Webhook', 'everything', { url: 'http://127.0.0.1:9/', events: ['*'] }))).status).toBe(403);
  });

  it('500 three times then 200: delivered once more after the retries, with the same webhook-id', async () => {
    const flaky = new Receiver((n) => (n <= 3 ? 500 : 200));
    await hook(tokens.alex!, 'flaky', flaky, { team: 'payments', events: ['api.version.deprecated'] });
    expect((await call(tokens.alex!, 'POST', '/v1/apis/payments/versions/v1/deprecate', { environment: 'dev', sunset: '2027-06-30' })).status).toBe(200);
    const d = await until(async () => (await call(tokens.alex!, 'GET', '/v1/webhooks/flaky/deliveries')).body.items, (items: any[]) => items[0]?.state === 'delivered');
    expect(d[0]).toMatchObject({ state: 'delivered', attempts: 4, lastStatus: 200 });
    expect(flaky.requests).toBe(4);
    expect(new Set(flaky.verified.map((r) => r.id)).size).toBe(1);
  });

  it('Retry-After is honoured: the next attempt waits as long as the receiver asked, not the shorter schedule', async () => {
    const times: number[] = [];
    const slow = new Receiver((n) => {
      times.push(Date.now());
      return n === 1 ? 503 : 200;
    });
    slow.server.prependListener('request', (_req, rsp) => {
      if (slow.requests === 0) rsp.setHeader('retry-after', '1');
    });
    await hook(tokens.alex!, 'slow', slow, { team: 'payments', events: ['key.revoked'] });
    expect((await call(tokens.alex!, 'POST', '/v1/applications', res('Application', 'throwaway', { owner: 'payments' }))).status).toBe(201);
    const key = await call(tokens.alex!, 'POST', '/v1/applications/throwaway/keys', {});
    expect((await call(tokens.alex!, 'DELETE', `/v1/credentials/${key.body.credential.metadata.name}`)).status).toBeLessThan(300);
    await until(() => times, (t) => t.length === 2, 6000);
    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(900);
  });

  it('one that never answers ends in the dead letters; a replay delivers it', async () => {
    let up = false;
    const down = new Receiver(() => (up ? 200 : 'never'));
    await hook(tokens.alex!, 'down', down, { team: 'payments', events: ['api.version.retired'] });
    expect((await call(tokens.alex!, 'POST', '/v1/apis/payments/versions/v1/retire', { environment: 'dev' })).status).toBe(200);
    const failed = await until(async () => (await call(tokens.alex!, 'GET', '/v1/webhooks/down/deliveries?state=failed')).body.items, (items: any[]) => items.length === 1, 10_000);
    expect(failed[0]).toMatchObject({ eventType: 'api.version.retired', state: 'failed', attempts: 4, lastError: 'no answer within 300 ms' });
    up = true;
    expect((await call(tokens.alex!, 'POST', `/v1/deliveries/${failed[0].id}/replay`)).status).toBe(202);
    const after = await until(async () => (await call(tokens.alex!, 'GET', '/v1/webhooks/down/deliveries')).body.items, (items: any[]) => items[0]?.state === 'delivered');
    expect(after[0]).toMatchObject({ state: 'delivered', lastStatus: 200 });
    expect(down.verified.filter((r) => r.event.type === 'api.version.retired').length).toBe(5);
  });

  it('an endpoint failing without a success for longer than the limit (here 4 s) is turned off, and its team told', async () => {
    const broken = new Receiver(() => 500);
    await hook(tokens.alex!, 'broken', broken, { team: 'payments', events: ['key.created'] });
    expect((await call(tokens.bob!, 'POST', '/v1/applications', res('Application', 'probe', { owner: 'payments' }))).status).toBe(403);
    expect((await call(tokens.alex!, 'POST', '/v1/applications', res('Application', 'probe', { owner: 'payments' }))).status).toBe(201);
    expect((await call(tokens.alex!, 'POST', '/v1/applications/probe/keys', {})).status).toBe(201);
    await until(async () => (await call(tokens.alex!, 'GET', '/v1/webhooks/broken/deliveries?state=failed')).body.items, (items: any[]) => items.length === 1);
    expect((await call(tokens.alex!, 'GET', '/v1/webhooks/broken')).body.spec.enabled).toBe(true);
    await new Promise((r) => setTimeout(r, 4200));
    expect((await call(tokens.alex!, 'POST', '/v1/applications/probe/keys', {})).status).toBe(201);
    const off = await until(async () => (await call(tokens.alex!, 'GET', '/v1/webhooks/broken')).body, (b: any) => b.spec.enabled === false, 8000);
    expect(off.spec.disabledReason).toMatch(/^failing since \S+ without a success \(last: HTTP 500\)$/);
    const told = (await call(tokens.alex!, 'GET', '/v1/events?type=webhook.disabled')).body.items;
    expect(told.map((e: any) => e.data.webhook)).toEqual(['broken']);
  });

  it('410 Gone disables the endpoint, with the reason', async () => {
    const gone = new Receiver(() => 410);
    await hook(tokens.alex!, 'gone', gone, { team: 'payments', events: ['*'] });
    expect((await call(tokens.alex!, 'POST', '/v1/apis/register', { name: 'refunds', team: 'payments', spec: SPEC, upstreams: { dev: 'http://127.0.0.1:9' } })).status).toBe(201);
    const w = await until(async () => (await call(tokens.alex!, 'GET', '/v1/webhooks/gone')).body, (b: any) => b.spec.enabled === false);
    expect(w.spec).toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/^the receiver answered 410 Gone at /) });
    expect(gone.requests).toBe(1);
  });

  it('private, link-local and metadata destinations are refused; the connect-time check holds after a write', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data', 'http://10.0.0.1/hook', 'http://192.168.1.10/', 'http://[::1]:8080/', 'http://metadata.google.internal/']) {
      const r = await call(tokens.alex!, 'POST', '/v1/webhooks', res('Webhook', 'ssrf', { url, team: 'payments', events: ['*'] }));
      expect(r.status, url).toBe(422);
      expect(r.body.errors[0].path).toBe('spec.url');
    }
    // allowed when written (127.0.0.0/8 is allow-listed here), then the allow-list goes: the delivery is refused at connect time
    const late = new Receiver(() => 200);
    await hook(tokens.alex!, 'late', late, { team: 'payments', events: ['api.version.published'] });
    process.env.APIGOV_WEBHOOK_ALLOW_CIDRS = '';
    try {
      expect((await call(tokens.alex!, 'POST', '/v1/apis/refunds/versions/v1/publish', { environment: 'dev' })).status).toBe(200);
      const d = await until(async () => (await call(tokens.alex!, 'GET', '/v1/webhooks/late/deliveries')).body.items, (items: any[]) => items[0]?.state === 'failed');
      expect(d[0].lastError).toMatch(/refused destination: 127\.0\.0\.1 is a loopback address/);
      expect(late.requests).toBe(0);
      // a platform admin allows the internal receiver in an AccessPolicy instead: written and delivered again
      const internal = new Receiver(() => 200);
      const internalUrl = await internal.listen();
      receivers.push(internal);
      const spec = { url: internalUrl, team: 'payments', events: ['api.version.deprecated'] };
      expect((await call(tokens.alex!, 'POST', '/v1/webhooks', res('Webhook', 'internal', spec))).status).toBe(422);
      expect((await call(tokens.alex!, 'PUT', '/v1/access-policies/webhooks', res('AccessPolicy', 'webhooks', { webhookAllowCidrs: ['127.0.0.1'] }))).status).toBe(403);
      expect((await call(ADMIN, 'PUT', '/v1/access-policies/webhooks', res('AccessPolicy', 'webhooks', { webhookAllowCidrs: ['127.0.0.1'] }))).status).toBe(201);
      const created = await call(tokens.alex!, 'POST', '/v1/webhooks', res('Webhook', 'internal', spec));
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      internal.secret = created.body.secret;
      const dep = await call(tokens.alex!, 'POST', '/v1/apis/refunds/versions/v1/deprecate', { environment: 'dev', sunset: '2027-06-30' });
      expect(dep.status, JSON.stringify(dep.body)).toBe(200);
      expect((await until(() => internal.verified, (v) => v.length === 1)).map((r) => r.event.type)).toEqual(['api.version.deprecated']);
    } finally {
      process.env.APIGOV_WEBHOOK_ALLOW_CIDRS = '127.0.0.0/8';
    }
  });
});
