// Stages 2–4 end to end over real HTTP: alex publishes payments, bob subscribes and calls it through a real
// gateway with a key he made himself (CLI), the platform's policies are enforced (keys, subscriptions, plan
// limits, JWT, validation, lifecycle headers), pooja approves prod access, and bob sees his usage.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { startGateway, type Gateway } from '@apigov/gateway';
import { startPaymentsService } from '../../examples/payments/src/index.js';
import { cli, ROOT, startHarness, type Harness } from './harness.js';

const PAYMENTS_SPEC = readFileSync(join(ROOT, 'examples', 'payments', 'openapi.yaml'), 'utf8');

let h: Harness;
let payments: Awaited<ReturnType<typeof startPaymentsService>>;
let dev: Gateway;
let prod: Gateway;
let jwks: Server;
let jwksUrl: string;
const tokens: Record<string, string> = {};
let signingKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let publicJwk: JWK;
const ISSUER = 'https://idp.test.example';

async function api(token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(h.cp.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text === '' ? {} : JSON.parse(text);
}

async function upstreamCount(): Promise<number> {
  return ((await (await fetch(`${payments.url}/__requests`)).json()) as { count: number }).count;
}

/** Retries `probe` until it returns true (the gateway applies snapshots asynchronously); returns the ms it took. */
async function until(probe: () => Promise<boolean>, limitMs = 5000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - t0;
    if (Date.now() - t0 > limitMs) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });

beforeAll(async () => {
  h = await startHarness('pglite');
  payments = await startPaymentsService({ port: 0 });
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  signingKey = privateKey;
  publicJwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  jwks = createServer((_req, r) => r.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] })));
  await new Promise<void>((ok) => jwks.listen(0, '127.0.0.1', ok));
  jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;

  const admin = h.adminToken;
  await api(admin, 'POST', '/v1/apply', {
    documents: [
      res('Team', 'payments', {}),
      res('Team', 'orders', {}),
      res('Team', 'platform', {}),
      res('Environment', 'dev', { order: 0 }),
      res('Environment', 'prod', { order: 1, production: true }),
      res('Plan', 'free', { rateLimit: { perMinute: 60 }, quota: { perDay: 1000 }, approval: 'auto', environments: ['dev'] }),
      res('Plan', 'tiny', { rateLimit: { perMinute: 5 }, approval: 'auto', environments: ['dev'] }),
      res('Plan', 'gold', { rateLimit: { perMinute: 6000 }, approval: 'manual' }),
      ...['dev', 'prod'].map((env) => res('Policy', `platform-${env}`, { targetRef: { kind: 'Environment', name: env }, apiKeyAuth: {}, subscription: {}, requestValidation: {} })),
    ],
  });
  for (const [name, team, role] of [
    ['alex', 'payments', 'owner'],
    ['bob', 'orders', 'member'],
    ['pooja', 'platform', 'platform-admin'],
  ]) {
    tokens[name] = (await api(admin, 'POST', '/v1/users', res('User', name, { team, role }))).token;
  }
  const common = { controlPlaneUrl: h.cp.url, token: h.gatewayToken, port: 0, adminPort: 0, accessLog: 'off', reportIntervalMs: 500 };
  dev = await startGateway({ ...common, environment: 'dev', cacheDir: join(h.dir, 'gw-dev') });
  prod = await startGateway({ ...common, environment: 'prod', cacheDir: join(h.dir, 'gw-prod') });
  for (const [env, gw] of [
    ['dev', dev],
    ['prod', prod],
  ] as const) {
    await api(admin, 'PUT', `/v1/environments/${env}`, res('Environment', env, { order: env === 'dev' ? 0 : 1, production: env === 'prod', gatewayUrl: gw.url }));
  }
}, 120_000);

afterAll(async () => {
  await dev?.close();
  await prod?.close();
  await payments?.close();
  jwks?.close();
  await h?.close();
});

const bob = (...args: string[]) => cli(h, tokens.bob, args);
let bobKey = '';

describe('publish, subscribe, call', () => {
  it('alex publishes payments to dev and prod; the dev gateway serves it within a second', async () => {
    await api(tokens.alex, 'POST', '/v1/apis/register', { name: 'payments', team: 'payments', spec: PAYMENTS_SPEC, upstreams: { dev: payments.url, prod: payments.url } });
    const t0 = Date.now();
    await api(tokens.alex, 'POST', '/v1/apis/payments/versions/v1/publish', { environment: 'dev' });
    // no key yet: a 401 from the route proves the route exists (before publishing it was a 404)
    const ms = await until(async () => (await fetch(`${dev.url}/payments/v1/payments`)).status === 401);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(ms).toBeLessThan(1000);
    await api(tokens.alex, 'POST', '/v1/apis/payments/versions/v1/publish', { environment: 'prod' });
  });

  it('bob creates an app, subscribes on the free plan, makes a key and gets 200 through the gateway', async () => {
    expect((await bob('apps', 'create', 'bob-app')).code).toBe(0);
    const sub = await bob('subscribe', 'payments', '--app', 'bob-app', '--plan', 'free', '--env', 'dev', '-o', 'json');
    expect(sub.code, sub.stderr).toBe(0);
    expect(JSON.parse(sub.stdout).spec.state).toBe('approved');
    const key = await bob('keys', 'create', '--app', 'bob-app', '-o', 'json');
    expect(key.code, key.stderr).toBe(0);
    bobKey = JSON.parse(key.stdout).key;
    expect(bobKey).toMatch(/^agk_/);
    await until(async () => (await fetch(`${dev.url}/payments/v1/payments`, { headers: { 'x-api-key': bobKey } })).status === 200);
    const call = await bob('call', 'payments', '/payments', '--app', 'bob-app', '--env', 'dev');
    expect(call.code, call.stderr).toBe(0);
    expect(call.stdout).toMatch(/"items"/);
  });

  it('no key → 401, a key of an app without a subscription → 403, both problem+json', async () => {
    const none = await fetch(`${dev.url}/payments/v1/payments`);
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(((await none.json()) as { code: string }).code).toBe('APIGOV_ERR_GATEWAY_MISSING_CREDENTIAL');
    expect((await bob('apps', 'create', 'bob-spare')).code).toBe(0);
    const spare = JSON.parse((await bob('keys', 'create', '--app', 'bob-spare', '-o', 'json')).stdout).key as string;
    await until(async () => (await fetch(`${dev.url}/payments/v1/payments`, { headers: { 'x-api-key': spare } })).status !== 401);
    const r = await fetch(`${dev.url}/payments/v1/payments`, { headers: { 'x-api-key': spare } });
    expect(r.status).toBe(403);
    expect(((await r.json()) as { code: string }).code).toBe('APIGOV_ERR_GATEWAY_NO_SUBSCRIPTION');
  });

  it('a prod subscription stays pending until pooja approves it, then works', async () => {
    const sub = JSON.parse((await bob('subscribe', 'payments', '--app', 'bob-app', '--plan', 'gold', '--env', 'prod', '-o', 'json')).stdout);
    expect(sub.spec.state).toBe('pending');
    await new Promise((r) => setTimeout(r, 300));
    expect((await fetch(`${prod.url}/payments/v1/payments`, { headers: { 'x-api-key': bobKey } })).status).toBe(403);
    const pending = await cli(h, tokens.pooja, ['list-subscriptions', '--state', 'pending']);
    expect(pending.stdout).toMatch(/bob-app-payments-v1-prod/);
    const ok = await cli(h, tokens.pooja, ['approve', 'bob-app-payments-v1-prod']);
    expect(ok.code, ok.stderr).toBe(0);
    const ms = await until(async () => (await fetch(`${prod.url}/payments/v1/payments`, { headers: { 'x-api-key': bobKey } })).status === 200);
    expect(ms).toBeLessThan(1000);
  });

  it('exceeding the plan → 429 with RateLimit headers and Retry-After', async () => {
    expect((await bob('apps', 'create', 'bob-batch')).code).toBe(0);
    expect((await bob('subscribe', 'payments', '--app', 'bob-batch', '--plan', 'tiny', '--env', 'dev')).code).toBe(0);
    const key = JSON.parse((await bob('keys', 'create', '--app', 'bob-batch', '-o', 'json')).stdout).key as string;
    await until(async () => (await fetch(`${dev.url}/payments/v1/health`, { headers: { 'x-api-key': key } })).status !== 401);
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 8; i++) {
      const r = await fetch(`${dev.url}/payments/v1/invoices`, { headers: { 'x-api-key': key } });
      statuses.push(r.status);
      if (r.status === 429) limited ??= r;
      else {
        expect(r.headers.get('ratelimit-limit')).toBe('5');
        await r.arrayBuffer();
      }
    }
    // the probe above used one of the 5
    expect(statuses.filter((s) => s === 200).length).toBe(4);
    expect(limited).toBeDefined();
    expect(limited!.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(limited!.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    expect(((await limited!.json()) as { code: string }).code).toBe('APIGOV_ERR_GATEWAY_RATE_LIMITED');
  });

  it('an invalid request body → 400 naming the field, and the upstream never sees it', async () => {
    const before = await upstreamCount();
    const r = await fetch(`${dev.url}/payments/v1/payments`, { method: 'POST', headers: { 'x-api-key': bobKey, 'content-type': 'application/json' }, body: JSON.stringify({ amount: -5, currency: 'EUR' }) });
    expect(r.status).toBe(400);
    const p = (await r.json()) as { code: string; errors: Array<{ path: string }> };
    expect(p.code).toBe('APIGOV_ERR_GATEWAY_VALIDATION');
    expect(p.errors.map((e) => e.path).join(' ')).toMatch(/amount/);
    expect(await upstreamCount()).toBe(before);
    const good = await fetch(`${dev.url}/payments/v1/payments`, { method: 'POST', headers: { 'x-api-key': bobKey, 'content-type': 'application/json' }, body: JSON.stringify({ amount: 500, currency: 'EUR' }) });
    expect(good.status).toBe(201);
    expect(await upstreamCount()).toBe(before + 1);
  });
});

describe('JWT', () => {
  const sign = (claims: Record<string, unknown>, opts: { kid?: string; exp?: string | number; aud?: string } = {}) =>
    new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? 'k1' })
      .setIssuer(ISSUER)
      .setSubject('bob-service')
      .setAudience(opts.aud ?? 'payments')
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? '5m')
      .sign(signingKey);

  it('a token of the test issuer is accepted; expired, alg none, unknown kid and wrong audience are refused', async () => {
    await api(tokens.alex, 'POST', '/v1/policies', res('Policy', 'payments-jwt', { targetRef: { kind: 'Api', name: 'payments' }, jwtAuth: { issuers: [{ issuer: ISSUER, jwksUri: jwksUrl, audiences: ['payments'], algorithms: ['RS256'] }] } }));
    await api(tokens.bob, 'POST', '/v1/credentials', res('Credential', 'bob-app-jwt', { application: 'bob-app', type: 'jwt', issuer: ISSUER, subject: 'bob-service' }));
    const good = await sign({});
    await until(async () => (await fetch(`${dev.url}/payments/v1/payments`, { headers: { authorization: `Bearer ${good}` } })).status === 200);
    const expired = await sign({}, { exp: Math.floor(Date.now() / 1000) - 120 });
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: ISSUER, sub: 'bob-service', aud: 'payments', exp: Math.floor(Date.now() / 1000) + 300 })).toString('base64url')}.`;
    const unknownKid = await sign({}, { kid: 'not-a-key' });
    const wrongAud = await sign({}, { aud: 'someone-else' });
    for (const [what, token] of Object.entries({ expired, none, unknownKid, wrongAud })) {
      const r = await fetch(`${dev.url}/payments/v1/payments`, { headers: { authorization: `Bearer ${token}` } });
      expect(r.status, what).toBe(401);
      expect(((await r.json()) as { code: string }).code, what).toBe('APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL');
    }
  });
});

describe('lifecycle at the gateway', () => {
  it('a deprecated version carries Deprecation, Sunset and Link; a retired one answers 410', async () => {
    await api(tokens.alex, 'POST', '/v1/apis/register', { name: 'payments', version: '2', spec: PAYMENTS_SPEC, upstreams: { dev: payments.url } });
    await api(tokens.alex, 'POST', '/v1/apis/payments/versions/v2/publish', { environment: 'dev' });
    await api(tokens.alex, 'POST', '/v1/apis/payments/versions/v1/deprecate', { environment: 'dev', sunset: '2027-06-30', successor: 'v2' });
    await until(async () => (await fetch(`${dev.url}/payments/v1/payments`, { headers: { 'x-api-key': bobKey } })).headers.has('deprecation'));
    const r = await fetch(`${dev.url}/payments/v1/payments`, { headers: { 'x-api-key': bobKey } });
    expect(r.status).toBe(200);
    // RFC 9745: the moment it was deprecated, as @<unix seconds>: just now
    const deprecatedAt = Number(r.headers.get('deprecation')?.slice(1)) * 1000;
    expect(Math.abs(Date.now() - deprecatedAt)).toBeLessThan(120_000);
    expect(r.headers.get('sunset')).toMatch(/30 Jun 2027/);
    expect(r.headers.get('link')).toMatch(/<[^>]*\/payments\/v2>; rel="successor-version"/);
    await api(tokens.alex, 'POST', '/v1/apis/payments/versions/v1/retire', { environment: 'prod' });
    await until(async () => (await fetch(`${prod.url}/payments/v1/payments`, { headers: { 'x-api-key': bobKey } })).status === 410);
    const gone = await fetch(`${prod.url}/payments/v1/payments`, { headers: { 'x-api-key': bobKey } });
    expect(((await gone.json()) as { code: string }).code).toBe('APIGOV_ERR_GATEWAY_RETIRED');
  });

  it('apigov stats payments shows bob’s calls within 10 s', async () => {
    const t0 = Date.now();
    let out = '';
    await until(async () => {
      const s = await bob('stats', 'payments', '--env', 'dev', '-o', 'json');
      if (s.code !== 0) return false;
      const stats = JSON.parse(s.stdout) as { totals: { requests: number }; byApplication: Array<{ application: string; requests: number }> };
      out = s.stdout;
      return stats.byApplication.some((a) => a.application === 'bob-app' && a.requests >= 3);
    }, 10_000);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(out).toMatch(/bob-app/);
    const table = await bob('stats', 'payments', '--env', 'dev');
    expect(table.stdout).toMatch(/bob-app/);
  });
});
