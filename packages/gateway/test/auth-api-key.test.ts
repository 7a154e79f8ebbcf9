// API-key authentication and the subscription check, against RequestContexts that implement the interface.
import { describe, expect, it } from 'vitest';
import { apiKeyAuthPolicy, takeQueryParam } from '../src/policies/api-key-auth.js';
import { subscriptionPolicy } from '../src/policies/subscription.js';
import { authTables } from '../src/auth/consumers.js';
import { compile, keys, route, run, snapshot, TestContext } from './auth-fixtures.js';

const KEY = 'ak_live_' + 'x'.repeat(43);
const OLD_KEY = 'ak_live_' + 'o'.repeat(43);
const ROTATING_KEY = 'ak_live_' + 'r'.repeat(43);
const NOSUB_KEY = 'ak_live_' + 'n'.repeat(43);
const hour = 3600_000;

const snap = snapshot({
  consumers: {
    'bob-app': { application: 'bob-app', team: 'bobs', subscriptions: { 'payments/v1': { plan: 'free' }, 'payments/v2': { plan: 'gold', expiresAt: new Date(Date.now() - hour).toISOString() } } },
    'lonely-app': { application: 'lonely-app', team: 'solo', subscriptions: {} },
  },
  apiKeys: keys({
    [KEY]: { credential: 'bob-key-2', application: 'bob-app' },
    [OLD_KEY]: { credential: 'bob-key-1', application: 'bob-app', expiresAt: new Date(Date.now() - 1000).toISOString() },
    [ROTATING_KEY]: { credential: 'bob-key-0', application: 'bob-app', expiresAt: new Date(Date.now() + hour).toISOString() },
    [NOSUB_KEY]: { credential: 'lonely-key', application: 'lonely-app' },
  }),
});

const headerRoute = route({ apiKeyAuth: { header: 'x-api-key' }, subscription: { required: true } });
const queryRoute = route({ apiKeyAuth: { header: 'X-Api-Key', query: 'api_key' } });
const dualRoute = route({ apiKeyAuth: { header: 'x-api-key' }, jwtAuth: { issuers: [{ issuer: 'https://idp.test', keys: [], audiences: ['payments'], algorithms: ['RS256'], clockSkewSeconds: 30 }], claimsToHeaders: [] } });

describe('apiKeyAuth', () => {
  const auth = compile(apiKeyAuthPolicy, headerRoute, snap);

  it('accepts a valid key from the header, names the consumer and does not forward the key', async () => {
    const ctx = new TestContext(headerRoute, { 'x-api-key': KEY });
    await run(ctx, auth);
    expect(ctx.rejection).toBeUndefined();
    expect(ctx.consumer).toEqual({ application: 'bob-app', team: 'bobs', credential: 'bob-key-2' });
    expect([...ctx.removeRequestHeaders]).toEqual(['x-api-key']);
  });

  it('refuses an unknown key and an expired one alike (401, same words)', async () => {
    const unknown = new TestContext(headerRoute, { 'x-api-key': 'ak_live_nope' });
    const expired = new TestContext(headerRoute, { 'x-api-key': OLD_KEY });
    await run(unknown, auth);
    await run(expired, auth);
    expect(unknown.rejection?.code).toBe('APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL');
    expect(expired.rejection?.code).toBe('APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL');
    expect(expired.rejection?.detail).toBe(unknown.rejection?.detail);
    expect(unknown.rejection?.detail).not.toContain('ak_live');
    expect(unknown.consumer).toBeUndefined();
  });

  it('still accepts the old key while its rotation overlap lasts', async () => {
    const ctx = new TestContext(headerRoute, { 'x-api-key': ROTATING_KEY });
    await run(ctx, auth);
    expect(ctx.consumer?.credential).toBe('bob-key-0');
  });

  it('refuses a very long value without hashing it', async () => {
    const ctx = new TestContext(headerRoute, { 'x-api-key': 'k'.repeat(10_000) });
    await run(ctx, auth);
    expect(ctx.rejection?.code).toBe('APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL');
  });

  it('answers 401 MISSING with a hint when there is no key', async () => {
    for (const headers of [{}, { 'x-api-key': '' }, { authorization: 'Bearer abc' }] as Array<Record<string, string>>) {
      const ctx = new TestContext(headerRoute, headers);
      await run(ctx, auth);
      expect(ctx.rejection?.code).toBe('APIGOV_ERR_GATEWAY_MISSING_CREDENTIAL');
      expect(ctx.rejection?.detail).toBe('send an API key in the x-api-key header');
      expect(ctx.rejection?.options?.headers?.['www-authenticate']).toMatch(/^ApiKey header="x-api-key"/);
    }
  });

  it('takes the key from the query parameter and cuts it from the upstream path, other parameters untouched', async () => {
    const q = compile(apiKeyAuthPolicy, queryRoute, snap);
    const ctx = new TestContext(queryRoute, {}, `/payments?limit=5&api_key=${KEY}&note=a%20b+c`);
    await run(ctx, q);
    expect(ctx.rejection).toBeUndefined();
    expect(ctx.consumer?.application).toBe('bob-app');
    expect(ctx.upstreamPath).toBe('/payments?limit=5&note=a%20b+c');

    const only = new TestContext(queryRoute, {}, `/payments/p1?api_key=${KEY}`);
    await run(only, q);
    expect(only.upstreamPath).toBe('/payments/p1');
    expect(only.consumer?.credential).toBe('bob-key-2');
  });

  it('cuts the query parameter even when the header carried the key, and the header wins', async () => {
    const q = compile(apiKeyAuthPolicy, queryRoute, snap);
    const ctx = new TestContext(queryRoute, { 'x-api-key': KEY }, `/payments?api_key=wrong&x=1`);
    await run(ctx, q);
    expect(ctx.rejection).toBeUndefined();
    expect(ctx.upstreamPath).toBe('/payments?x=1');
    expect(ctx.removeRequestHeaders.has('x-api-key')).toBe(true);
  });

  it('names both places in the hint when the route takes a query parameter', async () => {
    const q = compile(apiKeyAuthPolicy, queryRoute, snap);
    const ctx = new TestContext(queryRoute, {}, '/payments?api_key=');
    await run(ctx, q);
    expect(ctx.rejection?.code).toBe('APIGOV_ERR_GATEWAY_MISSING_CREDENTIAL');
    expect(ctx.rejection?.detail).toBe('send an API key in the x-api-key header or the api_key query parameter');
    expect(ctx.upstreamPath).toBe('/payments');
  });

  it('on a route that also configures jwtAuth, leaves a bearer-only request to the JWT policy, but refuses a bad key', async () => {
    const dual = compile(apiKeyAuthPolicy, dualRoute, snap);
    const bearerOnly = new TestContext(dualRoute, { authorization: 'Bearer eyJ.x.y' });
    await run(bearerOnly, dual);
    expect(bearerOnly.rejection).toBeUndefined();
    expect(bearerOnly.consumer).toBeUndefined();

    const badKey = new TestContext(dualRoute, { authorization: 'Bearer eyJ.x.y', 'x-api-key': 'wrong' });
    await run(badKey, dual);
    expect(badKey.rejection?.code).toBe('APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL');

    const nothing = new TestContext(dualRoute, { authorization: 'Basic dTpw' });
    await run(nothing, dual);
    expect(nothing.rejection?.code).toBe('APIGOV_ERR_GATEWAY_MISSING_CREDENTIAL');
    expect(nothing.rejection?.detail).toContain('or a bearer token in the Authorization header');
  });

  it('builds the key table once per snapshot, shared by every route', () => {
    const before = authTables(snap);
    compile(apiKeyAuthPolicy, route({ apiKeyAuth: { header: 'x-api-key' } }, 'orders/v1'), snap);
    expect(authTables(snap)).toBe(before);
    expect(authTables(snapshot({ apiKeys: snap.apiKeys }))).not.toBe(before);
  });
});

describe('takeQueryParam', () => {
  it('handles encoded names, repeats, bare names and absence', () => {
    expect(takeQueryParam('/p?api%5Fkey=k1&a=1', 'api_key')).toEqual({ value: 'k1', path: '/p?a=1' });
    expect(takeQueryParam('/p?api_key=k1&api_key=k2&a=1', 'api_key')).toEqual({ value: 'k1', path: '/p?a=1' });
    expect(takeQueryParam('/p?a=1&api_key', 'api_key')).toEqual({ value: '', path: '/p?a=1' });
    expect(takeQueryParam('/p?a=1&my_api_key=z', 'api_key')).toBeUndefined();
    expect(takeQueryParam('/p', 'api_key')).toBeUndefined();
    expect(takeQueryParam('/p?api_key=a%2Bb%3D', 'api_key')).toEqual({ value: 'a+b=', path: '/p' });
  });
});

describe('subscription', () => {
  const auth = compile(apiKeyAuthPolicy, headerRoute, snap);
  const sub = compile(subscriptionPolicy, headerRoute, snap);

  it('sets the plan of an active subscription', async () => {
    const ctx = new TestContext(headerRoute, { 'x-api-key': KEY });
    await run(ctx, auth, sub);
    expect(ctx.rejection).toBeUndefined();
    expect(ctx.plan).toBe('free');
  });

  it('answers 403 naming the application, API version and environment when there is none', async () => {
    const ctx = new TestContext(headerRoute, { 'x-api-key': NOSUB_KEY });
    await run(ctx, auth, sub);
    expect(ctx.rejection?.code).toBe('APIGOV_ERR_GATEWAY_NO_SUBSCRIPTION');
    expect(ctx.rejection?.detail).toBe('application lonely-app has no active subscription to payments v1 in dev');
    expect(ctx.plan).toBeUndefined();
  });

  it('answers 403 when the subscription has expired', async () => {
    const v2 = route({ apiKeyAuth: { header: 'x-api-key' }, subscription: { required: true } }, 'payments/v2');
    const ctx = new TestContext(v2, { 'x-api-key': KEY });
    await run(ctx, compile(apiKeyAuthPolicy, v2, snap), compile(subscriptionPolicy, v2, snap));
    expect(ctx.rejection?.code).toBe('APIGOV_ERR_GATEWAY_NO_SUBSCRIPTION');
    expect(ctx.rejection?.detail).toBe('the subscription of application bob-app to payments v2 in dev has expired');
  });

  it('answers 401 when nothing authenticated the caller', async () => {
    const ctx = new TestContext(headerRoute);
    await run(ctx, sub);
    expect(ctx.rejection?.code).toBe('APIGOV_ERR_GATEWAY_MISSING_CREDENTIAL');
  });

  it('compiles to nothing when not required', () => {
    const r = route({ subscription: { required: false } });
    expect(subscriptionPolicy.compile({ required: false }, r, undefined, { snapshot: snap, counters: undefined as never, warn: () => {} })).toBeNull();
  });

  it('treats an unparsable expiry as expired and warns once per snapshot', async () => {
    const s = snapshot({ consumers: { a: { application: 'a', team: 't', subscriptions: { 'payments/v1': { plan: 'free', expiresAt: 'someday' } } } }, apiKeys: keys({ [KEY]: { credential: 'c', application: 'a' } }) });
    const warnings: string[] = [];
    const a = compile(apiKeyAuthPolicy, headerRoute, s, warnings);
    const b = compile(subscriptionPolicy, headerRoute, s, warnings);
    expect(warnings).toHaveLength(1);
    const ctx = new TestContext(headerRoute, { 'x-api-key': KEY });
    await run(ctx, a, b);
    expect(ctx.rejection?.code).toBe('APIGOV_ERR_GATEWAY_NO_SUBSCRIPTION');
  });
});
