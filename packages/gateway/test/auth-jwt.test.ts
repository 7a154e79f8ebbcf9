// JWT authentication with real crypto against a real JWKS endpoint on 127.0.0.1: tokens signed with jose,
// forged ones built by hand, key rotation, refetch on unknown kid (counted on the server), provider outages.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { base64url, exportSPKI, SignJWT, type JWTPayload } from 'jose';
import type { PolicyConfigs } from '@apigov/model';
import { jwtAuthPolicy } from '../src/policies/jwt-auth.js';
import { apiKeyAuthPolicy } from '../src/policies/api-key-auth.js';
import { JWKS_TIMINGS, remoteJwksStatus } from '../src/auth/jwks.js';
import { TOKEN_CACHE_MAX_AGE_MS, tokenCacheSize } from '../src/auth/token-cache.js';
import { compile, JwksServer, keys, route, run, signingKey, snapshot, TestContext, until, type SigningKey } from './auth-fixtures.js';

const ISSUER = 'https://idp.test/';
const AUDIENCE = 'payments-api';
const server = new JwksServer();
let rsa: SigningKey;
let ec: SigningKey;

const snap = snapshot({
  consumers: { 'bob-app': { application: 'bob-app', team: 'bobs', subscriptions: {} }, 'batch-app': { application: 'batch-app', team: 'ops', subscriptions: {} } },
  jwtBindings: [
    { issuer: ISSUER, subject: 'bob', application: 'bob-app' },
    { issuer: ISSUER, clientId: 'batch-client', application: 'batch-app' },
    { issuer: 'https://other.test', subject: 'carol', application: 'bob-app' },
  ],
  apiKeys: keys({ ['ak_' + 'k'.repeat(43)]: { credential: 'bob-key', application: 'bob-app' } }),
});

function jwtRoute(jwksUri: string, extra: Partial<NonNullable<PolicyConfigs['jwtAuth']>> = {}, issuerExtra: Record<string, unknown> = {}): ReturnType<typeof route> {
  return route({
    jwtAuth: {
      issuers: [{ issuer: ISSUER, jwksUri, audiences: [AUDIENCE, 'other-aud'], algorithms: ['RS256', 'ES256'], clockSkewSeconds: 5, ...issuerExtra }],
      claimsToHeaders: [],
      ...extra,
    },
  });
}

async function token(key: SigningKey, claims: JWTPayload = {}, opts: { iss?: string; aud?: string; exp?: number | string; nbf?: number | string; kid?: string | null } = {}): Promise<string> {
  // a unique jti: each test token is new, so the verified-token cache never hides a verification
  const jwt = new SignJWT({ sub: 'bob', jti: randomUUID(), ...claims }).setProtectedHeader(opts.kid === null ? { alg: key.alg } : { alg: key.alg, kid: opts.kid ?? key.kid }).setIssuer(opts.iss ?? ISSUER).setAudience(opts.aud ?? AUDIENCE).setIssuedAt();
  jwt.setExpirationTime(opts.exp ?? '10m');
  if (opts.nbf !== undefined) jwt.setNotBefore(opts.nbf);
  return jwt.sign(key.privateKey);
}

async function call(policyRoute: ReturnType<typeof route>, compiled: ReturnType<typeof compile>, bearer: string | undefined, headers: Record<string, string> = {}): Promise<TestContext> {
  const ctx = new TestContext(policyRoute, bearer === undefined ? headers : { ...headers, authorization: `Bearer ${bearer}` });
  await run(ctx, compiled);
  return ctx;
}

beforeAll(async () => {
  await server.start();
  rsa = await signingKey('RS256', 'rsa-1');
  ec = await signingKey('ES256', 'ec-1');
});
afterAll(() => server.stop());
afterEach(() => vi.useRealTimers());

describe('jwtAuth: accepted tokens', () => {
  it('accepts RS256 and ES256 tokens and maps them to the bound application', async () => {
    const { url, doc } = server.serve('basic', [rsa.jwk, ec.jwk]);
    const r = jwtRoute(url);
    const jwt = compile(jwtAuthPolicy, r, snap);
    for (const key of [rsa, ec]) {
      const ctx = await call(r, jwt, await token(key));
      expect(ctx.rejection).toBeUndefined();
      expect(ctx.consumer).toEqual({ application: 'bob-app', team: 'bobs', subject: 'bob' });
      expect(ctx.removeRequestHeaders.has('authorization')).toBe(true);
    }
    expect(doc.fetches).toBe(1); // prefetched at compile, then cached
  });

  it('maps a client-credentials token by client_id (or azp) when the subject is not bound', async () => {
    const { url } = server.serve('client', [rsa.jwk]);
    const r = jwtRoute(url);
    const jwt = compile(jwtAuthPolicy, r, snap);
    for (const claims of [{ sub: 'svc-123', client_id: 'batch-client' }, { sub: 'svc-123', azp: 'batch-client' }]) {
      const ctx = await call(r, jwt, await token(rsa, claims));
      expect(ctx.consumer).toEqual({ application: 'batch-app', team: 'ops', subject: 'svc-123' });
    }
  });

  it('accepts any of the configured audiences, and tolerates the configured clock skew', async () => {
    const { url } = server.serve('aud', [rsa.jwk]);
    const r = jwtRoute(url);
    const jwt = compile(jwtAuthPolicy, r, snap);
    expect((await call(r, jwt, await token(rsa, {}, { aud: 'other-aud' }))).consumer?.application).toBe('bob-app');
    const now = Math.floor(Date.now() / 1000);
    expect((await call(r, jwt, await token(rsa, {}, { exp: now - 2 }))).rejection).toBeUndefined(); // within 5 s
  });

  it('works with inline keys', async () => {
    const r = route({ jwtAuth: { issuers: [{ issuer: ISSUER, keys: [ec.jwk as Record<string, unknown>], audiences: [AUDIENCE], algorithms: ['ES256'], clockSkewSeconds: 0 }], claimsToHeaders: [] } });
    const jwt = compile(jwtAuthPolicy, r, snap);
    expect((await call(r, jwt, await token(ec))).consumer?.application).toBe('bob-app');
    expect((await call(r, jwt, await token(rsa))).rejection?.detail).toBe('token algorithm not allowed');
  });

  it('copies claims into request headers, and removes caller-sent ones whose claim is absent', async () => {
    const { url } = server.serve('claims', [rsa.jwk]);
    const r = jwtRoute(url, {
      claimsToHeaders: [
        { claim: 'sub', header: 'X-User' },
        { claim: 'scope', header: 'x-scope' },
        { claim: 'roles', header: 'x-roles' },
        { claim: 'org.id', header: 'x-org' },
        { claim: 'tenant', header: 'x-tenant' },
        { claim: 'bad', header: 'x-bad' },
        { claim: 'sub', header: 'Host' },
      ],
    });
    const warnings: string[] = [];
    const jwt = compile(jwtAuthPolicy, r, snap, warnings);
    expect(warnings).toEqual([expect.stringContaining('cannot set header host')]);
    const ctx = await call(r, jwt, await token(rsa, { scope: 'read write', roles: ['a', 'b'], org: { id: 42 }, bad: 'x\r\ny: z' }), { 'x-tenant': 'forged' });
    expect(ctx.setRequestHeaders).toEqual({ 'x-user': 'bob', 'x-scope': 'read write', 'x-roles': 'a,b', 'x-org': '42' });
    expect(ctx.removeRequestHeaders.has('x-tenant')).toBe(true);
    expect(ctx.removeRequestHeaders.has('x-bad')).toBe(true);
  });
});

describe('jwtAuth: refused tokens', () => {
  let url: string;
  let r: ReturnType<typeof route>;
  let jwt: ReturnType<typeof compile>;
  beforeAll(() => {
    url = server.serve('refusals', [rsa.jwk, ec.jwk]).url;
    r = jwtRoute(url);
    jwt = compile(jwtAuthPolicy, r, snap);
  });

  async function refused(t: string, detail: string): Promise<void> {
    const ctx = await call(r, jwt, t);
    expect(ctx.rejection?.code).toBe('APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL');
    expect(ctx.rejection?.detail).toBe(detail);
    const payload = t.split('.')[1] ?? '';
    if (payload.length >= 20) expect(JSON.stringify(ctx.rejection)).not.toContain(payload.slice(0, 20)); // the token is never echoed
    expect(ctx.consumer).toBeUndefined();
  }

  it('expired', async () => refused(await token(rsa, {}, { exp: Math.floor(Date.now() / 1000) - 60 }), 'token expired'));
  it('not yet valid (nbf in the future)', async () => refused(await token(ec, {}, { nbf: Math.floor(Date.now() / 1000) + 600 }), 'token not yet valid'));
  it('wrong audience', async () => refused(await token(rsa, {}, { aud: 'someone-else' }), 'audience mismatch'));
  it('wrong issuer', async () => refused(await token(rsa, {}, { iss: 'https://evil.test/' }), 'issuer mismatch'));
  it('without exp', async () => refused(await new SignJWT({ sub: 'bob' }).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).setIssuer(ISSUER).setAudience(AUDIENCE).sign(rsa.privateKey), 'token has no exp claim'));

  it('alg none (hand-crafted, empty signature)', async () => {
    const enc = (o: object): string => base64url.encode(JSON.stringify(o));
    const now = Math.floor(Date.now() / 1000);
    const body = enc({ iss: ISSUER, aud: AUDIENCE, sub: 'bob', iat: now, exp: now + 600 });
    await refused(`${enc({ alg: 'none', typ: 'JWT' })}.${body}.`, 'token algorithm not allowed');
    await refused(`${enc({ alg: 'none', kid: 'rsa-1' })}.${body}.`, 'token algorithm not allowed');
  });

  it('HS256 signed with the RSA public key as the secret (algorithm confusion)', async () => {
    const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const forged = await new SignJWT({ sub: 'bob' }).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('10m').sign(pem);
    await refused(forged, 'token algorithm not allowed');
    // even where HS256 is listed, an RSA key from the JWKS is never used as an HMAC secret
    const lax = jwtRoute(server.serve('lax', [rsa.jwk]).url, {}, { algorithms: ['RS256', 'HS256'] });
    const warnings: string[] = [];
    const ctx = await call(lax, compile(jwtAuthPolicy, lax, snap, warnings), forged);
    expect(warnings).toEqual([expect.stringContaining('lists HMAC algorithms')]);
    expect(ctx.rejection?.code).toBe('APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL');
    expect(ctx.rejection?.detail).toBe('token algorithm not allowed');
  });

  it('bad signature (payload swapped)', async () => {
    const good = await token(rsa);
    const other = await token(rsa, { sub: 'mallory' });
    const [h, , s] = good.split('.');
    await refused(`${h}.${other.split('.')[1]}.${s}`, 'signature verification failed');
  });

  it('malformed', async () => refused('not.a.jwt', 'malformed token'));

  it('valid but bound to no application', async () => refused(await token(rsa, { sub: 'stranger' }), 'token is valid but not bound to an application'));

  it('says so in WWW-Authenticate (RFC 6750)', async () => {
    const ctx = await call(r, jwt, await token(rsa, {}, { aud: 'x' }));
    expect(ctx.rejection?.options?.headers?.['www-authenticate']).toBe('Bearer error="invalid_token", error_description="audience mismatch"');
  });

  it('no bearer token → 401 MISSING', async () => {
    for (const headers of [{}, { authorization: 'Basic Ym9iOnB3' }, { authorization: 'Bearer   ' }] as Array<Record<string, string>>) {
      const ctx = await call(r, jwt, undefined, headers);
      expect(ctx.rejection?.code).toBe('APIGOV_ERR_GATEWAY_MISSING_CREDENTIAL');
      expect(ctx.rejection?.detail).toBe('send a bearer token in the Authorization header');
    }
  });
});

describe('jwtAuth: several issuers', () => {
  it('picks the issuer by iss; an unknown iss is refused', async () => {
    const a = server.serve('iss-a', [rsa.jwk]).url;
    const b = server.serve('iss-b', [ec.jwk]).url;
    const r = route({
      jwtAuth: {
        issuers: [
          { issuer: ISSUER, jwksUri: a, audiences: [AUDIENCE], algorithms: ['RS256'], clockSkewSeconds: 0 },
          { issuer: 'https://other.test', jwksUri: b, audiences: [AUDIENCE], algorithms: ['ES256'], clockSkewSeconds: 0 },
        ],
        claimsToHeaders: [],
      },
    });
    const jwt = compile(jwtAuthPolicy, r, snap);
    expect((await call(r, jwt, await token(rsa))).consumer?.application).toBe('bob-app');
    expect((await call(r, jwt, await token(ec, { sub: 'carol' }, { iss: 'https://other.test' }))).consumer?.application).toBe('bob-app');
    // the other issuer's key and algorithm do not help a token claiming the first issuer
    expect((await call(r, jwt, await token(ec))).rejection?.detail).toBe('token algorithm not allowed');
    expect((await call(r, jwt, await token(rsa, {}, { iss: 'https://evil.test' }))).rejection?.detail).toBe('token issuer is not accepted here');
  });
});

describe('jwtAuth: the JWKS cache', () => {
  it('refetches once on an unknown kid, then refuses; no second fetch within the cooldown', async () => {
    const { url, doc } = server.serve('unknown-kid', [rsa.jwk]);
    const r = jwtRoute(url);
    const jwt = compile(jwtAuthPolicy, r, snap);
    expect((await call(r, jwt, await token(rsa))).rejection).toBeUndefined();
    expect(doc.fetches).toBe(1);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + JWKS_TIMINGS.cooldownMs + 1);
    const stranger = await token(rsa, {}, { kid: 'who-knows' });
    expect((await call(r, jwt, stranger)).rejection?.detail).toBe("no key of the issuer matches the token's kid");
    expect(doc.fetches).toBe(2);
    expect((await call(r, jwt, stranger)).rejection?.detail).toBe("no key of the issuer matches the token's kid");
    expect(doc.fetches).toBe(2);
  });

  it('picks up a rotated key: a token with the new kid is accepted after one refetch', async () => {
    const { url, doc } = server.serve('rotation', [rsa.jwk]);
    const r = jwtRoute(url);
    const jwt = compile(jwtAuthPolicy, r, snap);
    await until(() => doc.fetches === 1);
    const next = await signingKey('RS256', 'rsa-2');
    doc.keys = [rsa.jwk, next.jwk];
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + JWKS_TIMINGS.cooldownMs + 1);
    const ctx = await call(r, jwt, await token(next));
    expect(ctx.rejection).toBeUndefined();
    expect(ctx.consumer?.application).toBe('bob-app');
    expect(doc.fetches).toBe(2);
    expect((await call(r, jwt, await token(rsa))).rejection).toBeUndefined(); // the old key overlaps
    expect(doc.fetches).toBe(2);
  });

  it('shares one key set per JWKS URL across routes and snapshots (a snapshot swap does not refetch)', async () => {
    const { url, doc } = server.serve('shared', [rsa.jwk]);
    const r1 = jwtRoute(url);
    const first = compile(jwtAuthPolicy, r1, snap);
    expect((await call(r1, first, await token(rsa))).rejection).toBeUndefined();
    const snap2 = snapshot({ ...snap, version: 2 });
    const r2 = route(r1.policies, 'orders/v1');
    const second = compile(jwtAuthPolicy, r2, snap2);
    expect((await call(r2, second, await token(rsa))).consumer?.application).toBe('bob-app');
    expect(doc.fetches).toBe(1);
  });

  it('keeps serving with cached keys while the JWKS endpoint is down, and refreshes in the background', async () => {
    const { url, doc } = server.serve('outage', [rsa.jwk]);
    const r = jwtRoute(url);
    const jwt = compile(jwtAuthPolicy, r, snap);
    expect((await call(r, jwt, await token(rsa))).rejection).toBeUndefined();
    doc.failing = true;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + JWKS_TIMINGS.refreshMs + 1); // keys are stale: a background refresh is due
    expect((await call(r, jwt, await token(rsa))).consumer?.application).toBe('bob-app');
    await until(() => doc.fetches === 2);
    await until(() => remoteJwksStatus().find((s) => s.uri === url)?.failures === 1);
    expect((await call(r, jwt, await token(rsa))).consumer?.application).toBe('bob-app');
    expect(doc.fetches).toBe(2); // the failed refresh is not retried on every request
    // the endpoint comes back: the next refresh (after the cooldown) picks up new keys
    const next = await signingKey('ES256', 'ec-2');
    doc.failing = false;
    doc.keys = [rsa.jwk, next.jwk];
    vi.setSystemTime(Date.now() + JWKS_TIMINGS.cooldownMs + 1);
    expect((await call(r, jwt, await token(next))).consumer?.application).toBe('bob-app');
  });

  it('keeps serving with cached keys when the JWKS server is gone entirely', async () => {
    const own = new JwksServer();
    await own.start();
    const { url } = own.serve('gone', [ec.jwk]);
    const r = jwtRoute(url);
    const jwt = compile(jwtAuthPolicy, r, snap);
    expect((await call(r, jwt, await token(ec))).rejection).toBeUndefined();
    await own.stop();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + JWKS_TIMINGS.refreshMs + 1);
    expect((await call(r, jwt, await token(ec))).consumer?.application).toBe('bob-app');
    await until(() => (remoteJwksStatus().find((s) => s.uri === url)?.failures ?? 0) >= 1);
    expect((await call(r, jwt, await token(ec))).consumer?.application).toBe('bob-app');
  });

  it('answers 503 when an issuer has never had keys (its JWKS unreachable), without a fetch per request', async () => {
    const { url, doc } = server.serve('never', [rsa.jwk]);
    doc.failing = true;
    const r = jwtRoute(url);
    const jwt = compile(jwtAuthPolicy, r, snap);
    await until(() => doc.fetches === 1);
    await until(() => remoteJwksStatus().find((s) => s.uri === url)?.failures === 1);
    const ctx = await call(r, jwt, await token(rsa));
    expect(ctx.rejection?.code).toBe('APIGOV_ERR_UNAVAILABLE');
    await call(r, jwt, await token(rsa));
    expect(doc.fetches).toBe(1);
    doc.failing = false;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + JWKS_TIMINGS.emptyRetryMs + 1);
    expect((await call(r, jwt, await token(rsa))).consumer?.application).toBe('bob-app');
    expect(doc.fetches).toBe(2);
  });
});

describe('jwtAuth with apiKeyAuth on the same route', () => {
  const KEY = 'ak_' + 'k'.repeat(43);
  it('either credential satisfies the route; Authorization is not forwarded either way', async () => {
    const { url } = server.serve('dual', [rsa.jwk]);
    const r = route({ apiKeyAuth: { header: 'x-api-key' }, ...jwtRoute(url, { claimsToHeaders: [{ claim: 'sub', header: 'x-user' }] }).policies });
    const ak = compile(apiKeyAuthPolicy, r, snap);
    const jwt = compile(jwtAuthPolicy, r, snap);

    const byKey = new TestContext(r, { 'x-api-key': KEY, authorization: 'Bearer whatever', 'x-user': 'forged' });
    await run(byKey, ak, jwt);
    expect(byKey.rejection).toBeUndefined();
    expect(byKey.consumer).toEqual({ application: 'bob-app', team: 'bobs', credential: 'bob-key' });
    expect([...byKey.removeRequestHeaders].sort()).toEqual(['authorization', 'x-api-key', 'x-user']);

    const byToken = new TestContext(r, { authorization: `Bearer ${await token(rsa)}` });
    await run(byToken, ak, jwt);
    expect(byToken.rejection).toBeUndefined();
    expect(byToken.consumer).toEqual({ application: 'bob-app', team: 'bobs', subject: 'bob' });
    expect(byToken.setRequestHeaders).toEqual({ 'x-user': 'bob' });

    const neither = new TestContext(r, {});
    await run(neither, ak, jwt);
    expect(neither.rejection?.code).toBe('APIGOV_ERR_GATEWAY_MISSING_CREDENTIAL');

    const badToken = new TestContext(r, { authorization: `Bearer ${await token(rsa, {}, { aud: 'nope' })}` });
    await run(badToken, ak, jwt);
    expect(badToken.rejection?.detail).toBe('audience mismatch');
  });
});

describe('jwtAuth: verified tokens are remembered', () => {
  it('answers a reused token from the cache, synchronously, with the same consumer and headers', async () => {
    const { url } = server.serve('cache', [rsa.jwk]);
    const r = jwtRoute(url, { claimsToHeaders: [{ claim: 'sub', header: 'x-user' }] });
    const jwt = compile(jwtAuthPolicy, r, snap);
    const t = await token(rsa);
    const first = await call(r, jwt, t);
    const again = new TestContext(r, { authorization: `Bearer ${t}`, 'x-user': 'forged' });
    expect(jwt.handle(again)).toBeUndefined(); // no promise: no verification
    expect(again.consumer).toBe(first.consumer);
    expect(again.setRequestHeaders).toEqual({ 'x-user': 'bob' });
    expect(again.removeRequestHeaders.has('authorization')).toBe(true);
    expect(tokenCacheSize()).toBeGreaterThan(0);
  });

  it('never lets a token cached for one config through another (different audience)', async () => {
    const { url } = server.serve('cache-aud', [rsa.jwk]);
    const a = jwtRoute(url);
    const b = jwtRoute(url, {}, { audiences: ['someone-else'] });
    const t = await token(rsa);
    expect((await call(a, compile(jwtAuthPolicy, a, snap), t)).rejection).toBeUndefined();
    const other = compile(jwtAuthPolicy, b, snap);
    expect((await call(b, other, t)).rejection?.detail).toBe('audience mismatch');
    // and a route with the same config shares the verified token
    const a2 = route(a.policies, 'orders/v1');
    const shared = new TestContext(a2, { authorization: `Bearer ${t}` });
    expect(compile(jwtAuthPolicy, a2, snap).handle(shared)).toBeUndefined();
    expect(shared.consumer?.application).toBe('bob-app');
  });

  it('forgets a token when it expires, and after a new snapshot rebinds it', async () => {
    const { url } = server.serve('cache-exp', [rsa.jwk]);
    const r = jwtRoute(url);
    const jwt = compile(jwtAuthPolicy, r, snap);
    const t = await token(rsa, {}, { exp: Math.floor(Date.now() / 1000) + 20 });
    expect((await call(r, jwt, t)).rejection).toBeUndefined();
    const rebound = snapshot({ ...snap, version: 2, jwtBindings: [{ issuer: ISSUER, subject: 'bob', application: 'batch-app' }] });
    expect((await call(r, compile(jwtAuthPolicy, r, rebound), t)).consumer?.application).toBe('batch-app');
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 26_000); // past exp + 5 s tolerance
    const ctx = new TestContext(r, { authorization: `Bearer ${t}` });
    await run(ctx, jwt);
    expect(ctx.rejection?.detail).toBe('token expired');
  });

  it('re-verifies after at most a minute, so a key withdrawn from the JWKS stops working', async () => {
    const { url, doc } = server.serve('cache-withdrawn', [rsa.jwk, ec.jwk]);
    const r = jwtRoute(url);
    const jwt = compile(jwtAuthPolicy, r, snap);
    const t = await token(ec, {}, { exp: '2h' });
    expect((await call(r, jwt, t)).rejection).toBeUndefined();
    doc.keys = [rsa.jwk];
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + Math.max(TOKEN_CACHE_MAX_AGE_MS, JWKS_TIMINGS.cooldownMs) + 1);
    await jwt.handle(new TestContext(r, { authorization: `Bearer ${await token(rsa)}` })); // nothing forces a refresh yet: keys are < 10 min old
    vi.setSystemTime(Date.now() + JWKS_TIMINGS.refreshMs);
    await run(new TestContext(r, { authorization: `Bearer ${await token(rsa)}` }), jwt); // triggers the background refresh
    await until(() => doc.fetches === 2);
    await until(() => remoteJwksStatus().find((s) => s.uri === url)?.keys === 1);
    const ctx = new TestContext(r, { authorization: `Bearer ${t}` });
    await run(ctx, jwt);
    expect(ctx.rejection?.detail).toBe("no key of the issuer matches the token's kid");
  });
});
