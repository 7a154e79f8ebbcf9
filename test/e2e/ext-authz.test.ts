// `apigov gateway --mode ext-authz` against the proxy gateway on the same 40 requests: a real control plane compiles
// one dev snapshot from resources (keys, revoked and expired keys, pending, expired and other-environment
// subscriptions, plans, deprecated and retired versions, an IP filter), both gateways load it, and each request is
// sent to the proxy and, the way Envoy's HTTP ext_authz filter does (the method, path and headers, no body), to the
// ext-authz gateway. Decision, status, problem body and headers must agree; for an allow, the headers the upstream
// gets after Envoy applies the answer (x-apigov-application set, x-envoy-auth-headers-to-remove removed) must be
// the ones the proxy sent. Then: limits are shared through Redis between a proxy and an ext-authz gateway.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startGateway, RedisCounterStore, type Gateway } from '@apigov/gateway';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
let upstream: Server;
let upstreamUrl = '';
/** what the upstream received, by the x-test-id header each request carries */
const received = new Map<string, IncomingHttpHeaders>();
let proxy: Gateway;
let authz: Gateway;

const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });
const sha = (key: string) => createHash('sha256').update(key).digest('hex');
const KEYS = Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].map((app) => [app, `agk_test_${app}_${randomBytes(12).toString('hex')}`]));

function doc(title: string) {
  return {
    openapi: '3.0.3',
    info: { title, version: '1.0.0', contact: { name: 'payments', email: 'payments@example.com' } },
    components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } } },
    security: [{ apiKey: [] }],
    paths: {
      '/payments': { get: { operationId: 'listPayments', responses: { '200': { description: 'ok' } } }, post: { operationId: 'createPayment', responses: { '201': { description: 'created' } } } },
      '/payments/{id}': { parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], get: { operationId: 'getPayment', responses: { '200': { description: 'ok' } } }, delete: { operationId: 'deletePayment', responses: { '204': { description: 'gone' } } } },
    },
  };
}

async function apply(documents: unknown[]): Promise<void> {
  const r = await fetch(`${h.cp.url}/v1/apply`, { method: 'POST', headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ documents }) });
  if (r.status !== 200) throw new Error(`apply: ${r.status} ${await r.text()}`);
}

const past = '2026-01-01T00:00:00Z';
const sunset = '2027-06-30T00:00:00Z';

beforeAll(async () => {
  h = await startHarness('pglite');
  upstream = createServer((req, r) => {
    received.set(String(req.headers['x-test-id']), req.headers);
    req.resume();
    req.on('end', () => r.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const env = (state: string, extra: Record<string, unknown> = {}) => ({ state, upstream: upstreamUrl, ...extra });
  const apps = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];
  const sub = (app: string, version: string, plan: string, extra: Record<string, unknown> = {}) =>
    res('Subscription', `app-${app}-payments-${version}-${extra.environment ?? 'dev'}`, { application: `app-${app}`, api: 'payments', version, plan, environment: 'dev', state: 'approved', ...extra });
  await apply([
    res('Team', 'payments', {}),
    res('Team', 'orders', {}),
    res('Environment', 'dev', { order: 0 }),
    res('Environment', 'prod', { order: 1, production: true }),
    res('Plan', 'free', { rateLimit: { perMinute: 1000 }, approval: 'auto' }),
    res('Plan', 'tiny', { rateLimit: { perMinute: 3 }, approval: 'auto' }),
    res('Plan', 'daily', { quota: { perDay: 2 }, approval: 'auto' }),
    res('Plan', 'gold', { approval: 'manual' }),
    res('Api', 'payments', {
      owner: 'payments',
      title: 'Payments',
      versions: [
        { name: 'v1', openapi: doc('Payments v1'), environments: { dev: env('deprecated', { deprecatedAt: '2026-11-01T00:00:00Z', sunset, successor: 'v2' }) } },
        { name: 'v2', openapi: doc('Payments v2'), environments: { dev: env('published'), prod: env('published') } },
        { name: 'v3', openapi: doc('Payments v3'), environments: { dev: env('retired') } },
      ],
    }),
    res('Api', 'ledger', { owner: 'payments', title: 'Ledger', versions: [{ name: 'v1', openapi: doc('Ledger'), environments: { prod: env('published') } }] }),
    res('Api', 'open', { owner: 'payments', title: 'Open data', visibility: 'public', versions: [{ name: 'v1', openapi: doc('Open'), environments: { dev: env('published') } }] }),
    res('Policy', 'payments-auth', { targetRef: { kind: 'Api', name: 'payments' }, apiKeyAuth: { header: 'x-api-key', query: 'api_key' }, subscription: {} }),
    res('Policy', 'payments-v2-ip', { targetRef: { kind: 'Api', name: 'payments', version: 'v2' }, ipFilter: { deny: ['10.9.0.0/16'] } }),
    ...apps.map((a) => res('Application', `app-${a}`, { owner: 'orders' })),
    ...apps.map((a) => res('Credential', `app-${a}-key`, { application: `app-${a}`, type: 'api-key', keyHash: sha(KEYS[a]!), ...(a === 'f' && { expiresAt: past }) })),
    sub('a', 'v1', 'free'),
    sub('a', 'v2', 'free'),
    sub('b', 'v2', 'gold', { state: 'pending' }),
    sub('d', 'v2', 'free'),
    sub('e', 'v2', 'free', { expiresAt: past }),
    sub('f', 'v2', 'free'),
    sub('g', 'v2', 'free', { environment: 'prod' }),
    sub('h', 'v2', 'tiny'),
    sub('i', 'v2', 'daily'),
    sub('a', 'v3', 'free'),
  ]);
  // app-d's key is revoked: its credential is deleted
  const del = await fetch(`${h.cp.url}/v1/credentials/app-d-key`, { method: 'DELETE', headers: { authorization: `Bearer ${h.adminToken}` } });
  expect(del.status).toBe(204);
  const common = { controlPlaneUrl: h.cp.url, token: h.gatewayToken, port: 0, adminPort: null, accessLog: 'off', reportIntervalMs: 60_000, environment: 'dev', bodyLimitBytes: 1_000_000 } as const;
  proxy = await startGateway({ ...common, trustedProxies: ['127.0.0.1'], cacheDir: join(h.dir, 'gw-proxy') });
  authz = await startGateway({ ...common, trustedProxies: ['127.0.0.1'], mode: 'ext-authz', cacheDir: join(h.dir, 'gw-authz') });
  // both gateways hold the control plane's latest dev snapshot, and no newer one follows
  const latest = async () => ((await (await fetch(`${h.cp.url}/v1/gateway/snapshot?environment=dev`, { headers: { authorization: `Bearer ${h.gatewayToken}` } })).json()) as { version: number }).version;
  for (let i = 0; ; i++) {
    const want = await latest();
    if (proxy.status().version === want && authz.status().version === want) {
      await new Promise((r) => setTimeout(r, 300));
      if ((await latest()) === want) break;
    }
    if (i > 200) throw new Error('the gateways did not get the latest snapshot');
    await new Promise((r) => setTimeout(r, 25));
  }
  expect(proxy.status().routes).toBe(4);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await authz?.close();
  upstream?.close();
  await h?.close();
});

interface Case {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** what the proxy must answer (the cases say what they test) */
  expect: number;
}

const key = (app: string) => ({ 'x-api-key': KEYS[app]! });
const CASES: Case[] = [
  { name: 'good key', path: '/payments/v2/payments', headers: key('a'), expect: 200 },
  { name: 'good key, POST with a body', method: 'POST', path: '/payments/v2/payments', headers: { ...key('a'), 'content-type': 'application/json' }, body: '{"amount":1}', expect: 200 },
  { name: 'good key in the query', path: `/payments/v2/payments?api_key=${KEYS.a}&page=2`, expect: 200 },
  { name: 'good key, header name in capitals', path: '/payments/v2/payments/p1', headers: { 'X-API-KEY': KEYS.a! }, expect: 200 },
  { name: 'good key, HEAD', method: 'HEAD', path: '/payments/v2/payments', headers: key('a'), expect: 200 },
  { name: 'good key, DELETE', method: 'DELETE', path: '/payments/v2/payments/p1', headers: key('a'), expect: 200 },
  { name: 'good key, trailing slash', path: '/payments/v2/payments/', headers: key('a'), expect: 200 },
  { name: 'good key, spoofed consumer header', path: '/payments/v2/payments', headers: { ...key('a'), 'x-apigov-application': 'app-evil' }, expect: 200 },
  { name: 'no key', path: '/payments/v2/payments', expect: 401 },
  { name: 'no key, OPTIONS', method: 'OPTIONS', path: '/payments/v2/payments', expect: 401 },
  { name: 'no key, a bearer token instead', path: '/payments/v2/payments', headers: { authorization: 'Bearer abc.def.ghi' }, expect: 401 },
  { name: 'unknown key', path: '/payments/v2/payments', headers: { 'x-api-key': 'agk_not_a_key' }, expect: 401 },
  { name: 'empty key', path: '/payments/v2/payments', headers: { 'x-api-key': '' }, expect: 401 },
  { name: 'bad header key, good query key', path: `/payments/v2/payments?api_key=${KEYS.a}`, headers: { 'x-api-key': 'agk_wrong' }, expect: 401 },
  { name: 'revoked key', path: '/payments/v2/payments', headers: key('d'), expect: 401 },
  { name: 'expired key', path: '/payments/v2/payments', headers: key('f'), expect: 401 },
  { name: 'no subscription', path: '/payments/v2/payments', headers: key('c'), expect: 403 },
  { name: 'pending subscription', path: '/payments/v2/payments', headers: key('b'), expect: 403 },
  { name: 'expired subscription', path: '/payments/v2/payments', headers: key('e'), expect: 403 },
  { name: 'subscribed in another environment', path: '/payments/v2/payments', headers: key('g'), expect: 403 },
  { name: 'subscribed to v2, calling deprecated v1', path: '/payments/v1/payments', headers: key('i'), expect: 403 },
  { name: 'deprecated version', path: '/payments/v1/payments', headers: key('a'), expect: 200 },
  { name: 'deprecated version, no key', path: '/payments/v1/payments', expect: 401 },
  { name: 'retired version', path: '/payments/v3/payments', headers: key('a'), expect: 410 },
  { name: 'retired version, no key', path: '/payments/v3/payments', expect: 410 },
  { name: 'wrong environment: ledger is only in prod', path: '/ledger/v1/payments', headers: key('a'), expect: 404 },
  { name: 'no API at the path', path: '/nothing/here', headers: key('a'), expect: 404 },
  { name: 'dot segments', path: '/payments/v2/../v1/payments', headers: key('a'), expect: 404 },
  { name: 'open API, no key', path: '/open/v1/payments', expect: 200 },
  { name: 'open API, with a key and a spoofed consumer', path: '/open/v1/payments', headers: { ...key('a'), 'x-apigov-application': 'app-evil' }, expect: 200 },
  { name: 'client in a denied range', path: '/payments/v2/payments', headers: { ...key('a'), 'x-forwarded-for': '10.9.4.2' }, expect: 403 },
  { name: 'client outside the denied range', path: '/payments/v2/payments', headers: { ...key('a'), 'x-forwarded-for': '192.0.2.7' }, expect: 200 },
  { name: 'body over the limit', method: 'POST', path: '/payments/v2/payments', headers: { ...key('a'), 'content-type': 'application/json', 'content-length': '2000000' }, expect: 413 },
  { name: 'plan limit 1 of 3', path: '/payments/v2/payments', headers: key('h'), expect: 200 },
  { name: 'plan limit 2 of 3', path: '/payments/v2/payments', headers: key('h'), expect: 200 },
  { name: 'plan limit 3 of 3', path: '/payments/v2/payments', headers: key('h'), expect: 200 },
  { name: 'over the plan limit', path: '/payments/v2/payments', headers: key('h'), expect: 429 },
  { name: 'daily quota 1 of 2', path: '/payments/v2/payments/p9', headers: key('i'), expect: 200 },
  { name: 'daily quota 2 of 2', path: '/payments/v2/payments/p9', headers: key('i'), expect: 200 },
  { name: 'over the daily quota', path: '/payments/v2/payments/p9', headers: key('i'), expect: 429 },
];

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** a raw request (fetch would refuse a content-length without a body, and would normalise the path) */
async function send(base: string, c: Case, id: string, withBody: boolean): Promise<Answer> {
  const { request } = await import('node:http');
  const url = new URL(base);
  return new Promise((ok, fail) => {
    const headers: Record<string, string> = { ...c.headers, 'x-test-id': id };
    const body = withBody ? c.body : undefined;
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const r = request({ host: url.hostname, port: url.port, method: c.method ?? 'GET', path: c.path, headers, agent: false }, (resp) => {
      const chunks: Buffer[] = [];
      resp.on('data', (d: Buffer) => chunks.push(d));
      resp.on('end', () => ok({ status: resp.statusCode ?? 0, headers: Object.fromEntries(Object.entries(resp.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)])), body: Buffer.concat(chunks).toString('utf8') }));
    });
    r.on('error', fail);
    // a declared length over the limit is answered before any body is sent; the answer may close the socket early
    if (body !== undefined) r.write(body);
    r.end();
  });
}

/** headers that differ per request or per hop */
const PER_REQUEST = new Set(['date', 'x-request-id', 'content-length', 'connection', 'keep-alive', 'transfer-encoding']);

function comparable(headers: Record<string, string>, upstreamOwn: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (PER_REQUEST.has(k)) continue;
    if (upstreamOwn && k === 'content-type') continue; // the upstream's own answer
    out[k] = k === 'ratelimit' ? v.replace(/;\s*t=\d+/, ';t=T') : v;
  }
  return out;
}

function problem(body: string): unknown {
  const p = JSON.parse(body) as Record<string, unknown>;
  delete p.instance;
  delete p.requestId;
  return p;
}

/** Envoy's handling of an allow: x-envoy-auth-headers-to-remove names headers it drops; the others it sets. */
function envoyUpstreamHeaders(c: Case, allow: Record<string, string>): Record<string, string | undefined> {
  const sent: Record<string, string | undefined> = Object.fromEntries(Object.entries(c.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  for (const name of (allow['x-envoy-auth-headers-to-remove'] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) delete sent[name];
  if (allow['x-apigov-application'] !== undefined) sent['x-apigov-application'] = allow['x-apigov-application'];
  return { 'x-apigov-application': sent['x-apigov-application'], 'x-api-key': sent['x-api-key'] };
}

describe('ext-authz mode answers as the gateway does', () => {
  it('has 40 cases', () => expect(CASES).toHaveLength(40));

  it('every request gets the same decision, status, problem and headers from --mode ext-authz as from the proxy', async () => {
    // the plan-limit cases count in one fixed minute: do not start within 3 s of a minute's end
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 57_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    const rows: string[] = [];
    for (const [i, c] of CASES.entries()) {
      const id = `case-${i}`;
      const viaProxy = await send(proxy.url, c, id, true);
      const check = await send(authz.url, c, `${id}-authz`, false);
      expect(viaProxy.status, `${c.name}: the proxy's status`).toBe(c.expect);
      const forwarded = received.get(id);
      const allowedByProxy = forwarded !== undefined;
      const allowedByAuthz = check.status === 200;
      expect(allowedByAuthz, `${c.name}: ext-authz decision (${check.status} ${check.body})`).toBe(allowedByProxy);
      expect(received.has(`${id}-authz`), 'ext-authz never forwards').toBe(false);
      if (allowedByProxy) {
        expect(check.body).toBe('');
        expect(envoyUpstreamHeaders(c, check.headers), `${c.name}: what the upstream gets`).toEqual({ 'x-apigov-application': forwarded['x-apigov-application'], 'x-api-key': forwarded['x-api-key'] });
        // the answer headers the proxy adds (lifecycle, RateLimit) are the ones ext-authz gives for the route to add
        const added = comparable(viaProxy.headers, true);
        const given = comparable(check.headers, false);
        delete given['x-apigov-application'];
        delete given['x-envoy-auth-headers-to-remove'];
        expect(given, `${c.name}: answer headers`).toEqual(added);
      } else {
        expect(check.status, `${c.name}: status`).toBe(viaProxy.status);
        expect(comparable(check.headers, false), `${c.name}: headers`).toEqual(comparable(viaProxy.headers, false));
        expect(problem(check.body), `${c.name}: problem`).toEqual(problem(viaProxy.body));
      }
      rows.push(`${c.name}: ${viaProxy.status} / ${check.status}`);
    }
    expect(rows).toHaveLength(40);
  });

  it('an allow for a deprecated version carries Deprecation, Sunset and the successor Link', async () => {
    const check = await send(authz.url, { name: 'deprecated', path: '/payments/v1/payments/p2', headers: key('a'), expect: 200 }, 'lifecycle', false);
    expect(check.status).toBe(200);
    expect(check.headers['x-apigov-application']).toBe('app-a');
    expect(check.headers.deprecation).toBe(`@${Date.parse('2026-11-01T00:00:00Z') / 1000}`);
    expect(check.headers.sunset).toBe(new Date(sunset).toUTCString());
    expect(check.headers.link).toBe('</payments/v2>; rel="successor-version"');
    expect(check.headers['x-envoy-auth-headers-to-remove']).toBe('x-api-key');
  });
});

describe('limits counted by Envoy', () => {
  it('with --limits envoy the authorization service checks keys and subscriptions but counts nothing', async () => {
    const gw = await startGateway({ controlPlaneUrl: h.cp.url, token: h.gatewayToken, port: 0, adminPort: null, accessLog: 'off', reportIntervalMs: 60_000, environment: 'dev', mode: 'ext-authz', limits: 'envoy', cacheDir: join(h.dir, 'gw-envoy-limits') });
    try {
      for (let i = 0; i < 200 && gw.status().version === undefined; i++) await new Promise((r) => setTimeout(r, 25));
      const c: Case = { name: 'tiny plan', path: '/payments/v2/payments', headers: key('h'), expect: 200 };
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await send(gw.url, c, `envoy-limits-${i}`, false)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
      expect((await send(gw.url, { ...c, headers: key('c') }, 'envoy-limits-nosub', false)).status).toBe(403);
    } finally {
      await gw.close();
    }
  });
});

describe('limits shared with the gateways through Redis', () => {
  it('a quota spent through the proxy is spent for ext-authz too', async () => {
    const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
    } catch (e) {
      throw new Error(`Redis is required at 127.0.0.1:6379: ${(e as Error).message}`);
    } finally {
      redis.disconnect();
    }
    const prefix = `apigov-test-${randomBytes(6).toString('hex')}:`;
    const common = { controlPlaneUrl: h.cp.url, token: h.gatewayToken, port: 0, adminPort: null, accessLog: 'off', reportIntervalMs: 60_000, environment: 'dev' } as const;
    const counters = () => new RedisCounterStore({ url: 'redis://127.0.0.1:6379', keyPrefix: prefix, timeoutMs: 500 });
    const sharedProxy = await startGateway({ ...common, counters: counters(), cacheDir: join(h.dir, 'gw-shared-proxy') });
    const sharedAuthz = await startGateway({ ...common, mode: 'ext-authz', counters: counters(), cacheDir: join(h.dir, 'gw-shared-authz') });
    try {
      for (let i = 0; i < 200 && (sharedProxy.status().version === undefined || sharedAuthz.status().version === undefined); i++) await new Promise((r) => setTimeout(r, 25));
      const c: Case = { name: 'quota', path: '/payments/v2/payments/q', headers: key('i'), expect: 200 };
      expect((await send(sharedProxy.url, c, 'shared-1', true)).status).toBe(200);
      expect((await send(sharedAuthz.url, c, 'shared-2', false)).status).toBe(200);
      const third = await send(sharedAuthz.url, c, 'shared-3', false);
      expect(third.status).toBe(429);
      expect(third.headers['content-type']).toBe('application/problem+json');
      expect((await send(sharedProxy.url, c, 'shared-4', true)).status).toBe(429);
    } finally {
      await sharedProxy.close();
      await sharedAuthz.close();
    }
  });
});

describe('apigov gateway --mode ext-authz', () => {
  it('runs as a process, says it answers for Envoy, and denies a request without a key', async () => {
    const { spawn } = await import('node:child_process');
    const { CLI } = await import('./harness.js');
    const child = spawn(process.execPath, [CLI, 'gateway', '--env', 'dev', '--mode', 'ext-authz', '--control-plane', h.cp.url, '--port', '0', '--admin-port', '0', '--access-log', 'off', '--cache-dir', join(h.dir, 'gw-cli')], {
      env: { ...process.env, APIGOV_GATEWAY_TOKEN: h.gatewayToken },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const line = await new Promise<string>((ok, fail) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) ok(out.split('\n')[0]!);
        });
        child.once('exit', (code) => fail(new Error(`exited ${code}`)));
      });
      expect(line).toMatch(/^apigov gateway \(env dev, ext-authz for Envoy\) listening on http:\/\/127\.0\.0\.1:\d+, admin on .*, snapshot v\d+$/);
      const url = /listening on (\S+),/.exec(line)![1]!;
      const denied = await send(url, { name: 'no key', path: '/payments/v2/payments', expect: 401 }, 'cli-1', false);
      expect(denied.status).toBe(401);
      expect(JSON.parse(denied.body).code).toBe('APIGOV_ERR_GATEWAY_MISSING_CREDENTIAL');
      const allowed = await send(url, { name: 'good key', path: '/payments/v2/payments', headers: key('a'), expect: 200 }, 'cli-2', false);
      expect(allowed.status).toBe(200);
      expect(allowed.headers['x-apigov-application']).toBe('app-a');
      expect(received.has('cli-2')).toBe(false);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('refuses an unknown mode with a one-line message and exit code 2', async () => {
    const { cli } = await import('./harness.js');
    const r = await cli(h, undefined, ['gateway', '--env', 'dev', '--mode', 'sidecar', '--control-plane', h.cp.url]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--mode.*sidecar.*proxy, ext-authz/);
  });
});
