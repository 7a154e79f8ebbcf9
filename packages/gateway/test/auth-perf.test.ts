// Per-request cost of the auth policies on the hot path: API-key auth (+ subscription) and JWT verification
// with a warm JWKS. Prints µs per request; the bounds asserted are loose (shared CI machines), the printed
// figures are what matters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { apiKeyAuthPolicy } from '../src/policies/api-key-auth.js';
import { jwtAuthPolicy } from '../src/policies/jwt-auth.js';
import { subscriptionPolicy } from '../src/policies/subscription.js';
import { hashApiKey } from '../src/auth/consumers.js';
import { clearTokenCache } from '../src/auth/token-cache.js';
import { compile, JwksServer, keys, route, signingKey, snapshot, TestContext, type SigningKey } from './auth-fixtures.js';

const ISSUER = 'https://idp.perf/';

function perRequestUs(n: number, fn: () => void): number {
  for (let i = 0; i < Math.min(n, 20_000); i++) fn(); // warm-up
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t) / 1000 / n;
}

async function perRequestUsAsync(n: number, fn: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 200; i++) await fn();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - t) / 1000 / n;
}

describe('auth policy cost per request', () => {
  const server = new JwksServer();
  let rsa: SigningKey;
  let ec: SigningKey;
  beforeAll(async () => {
    await server.start();
    rsa = await signingKey('RS256', 'rsa-perf');
    ec = await signingKey('ES256', 'ec-perf');
  });
  afterAll(() => server.stop());

  it('API key auth and the subscription check, with 100,000 keys loaded', () => {
    const apiKeys: Record<string, { credential: string; application: string }> = {};
    for (let i = 0; i < 100_000; i++) apiKeys[`ak_${i.toString(36).padStart(43, '0')}`] = { credential: `c${i}`, application: `app${i % 1000}` };
    const consumers = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`app${i}`, { application: `app${i}`, team: 't', subscriptions: { 'payments/v1': { plan: 'free' } } }]));
    const snap = snapshot({ apiKeys: keys(apiKeys), consumers });
    const built = process.hrtime.bigint();
    const r = route({ apiKeyAuth: { header: 'x-api-key' }, subscription: { required: true } });
    const auth = compile(apiKeyAuthPolicy, r, snap);
    const sub = compile(subscriptionPolicy, r, snap);
    const compileMs = Number(process.hrtime.bigint() - built) / 1e6;

    const key = `ak_${(77_777).toString(36).padStart(43, '0')}`;
    const ctx = new TestContext(r, { 'x-api-key': key });
    const reset = (): void => {
      ctx.consumer = undefined;
      ctx.plan = undefined;
      ctx.removeRequestHeaders.clear();
    };
    const hashUs = perRequestUs(200_000, () => void hashApiKey(key));
    const authUs = perRequestUs(200_000, () => {
      reset();
      auth.handle(ctx);
    });
    const bothUs = perRequestUs(200_000, () => {
      reset();
      auth.handle(ctx);
      sub.handle(ctx);
    });
    expect(ctx.plan).toBe('free');
    expect(ctx.rejection).toBeUndefined();
    console.log(`[auth perf] sha256 of a key: ${hashUs.toFixed(2)} µs; apiKeyAuth: ${authUs.toFixed(2)} µs; apiKeyAuth + subscription: ${bothUs.toFixed(2)} µs per request; building the tables for 100,000 keys (once per snapshot): ${compileMs.toFixed(0)} ms`);
    expect(authUs).toBeLessThan(20);
  });

  it('JWT verification with a warm JWKS (RS256, ES256)', async () => {
    const { url } = server.serve('perf', [rsa.jwk, ec.jwk]);
    const r = route({ jwtAuth: { issuers: [{ issuer: ISSUER, jwksUri: url, audiences: ['perf'], algorithms: ['RS256', 'ES256'], clockSkewSeconds: 30 }], claimsToHeaders: [{ claim: 'sub', header: 'x-user' }] } });
    const snap = snapshot({ consumers: { a: { application: 'a', team: 't', subscriptions: {} } }, jwtBindings: [{ issuer: ISSUER, subject: 'u1', application: 'a' }] });
    const jwt = compile(jwtAuthPolicy, r, snap);
    const results: string[] = [];
    for (const key of [rsa, ec]) {
      const token = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: key.alg, kid: key.kid }).setIssuer(ISSUER).setAudience('perf').setIssuedAt().setExpirationTime('1h').sign(key.privateKey);
      const ctx = new TestContext(r, { authorization: `Bearer ${token}` });
      const verifyUs = await perRequestUsAsync(3000, async () => {
        ctx.consumer = undefined;
        clearTokenCache(); // a token not seen before: full verification
        await jwt.handle(ctx);
      });
      expect(ctx.rejection).toBeUndefined();
      expect(ctx.consumer?.application).toBe('a');
      const hitUs = perRequestUs(200_000, () => {
        ctx.consumer = undefined;
        void jwt.handle(ctx);
      });
      expect(ctx.consumer?.application).toBe('a');
      results.push(`${key.alg} ${verifyUs.toFixed(1)} µs to verify, ${hitUs.toFixed(2)} µs for a token already verified`);
      expect(verifyUs).toBeLessThan(5000);
      expect(hitUs).toBeLessThan(50);
    }
    console.log(`[auth perf] jwtAuth with a warm JWKS: ${results.join(', ')} per request`);
  });
});
