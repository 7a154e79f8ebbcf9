// The limit policies on Redis: two gateways sharing the machine's Redis (127.0.0.1:6379) admit exactly the limit
// between them; with a private redis-server killed or frozen, failMode open and closed behave as configured, within
// the store's timeout, and limiting resumes when it is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RedisCounterStore } from '../src/counters/redis.js';
import { rateLimitPolicy } from '../src/policies/rate-limit.js';
import { quotaPolicy } from '../src/policies/quota.js';
import { planLimitsPolicy } from '../src/policies/plan-limits.js';
import { PrivateRedis, machineRedis, testClock } from './counters-conformance.js';
import { LimitContext, compileLimit, limitRoute, runLimits } from './limits-context.js';

const { available, mustFail } = await machineRedis();
const prefix = `apigov:test:limits:${process.pid}:${Date.now()}:`;

if (mustFail) {
  it('needs Redis on 127.0.0.1:6379 (CI=true)', () => {
    expect.fail('Redis on 127.0.0.1:6379 is not reachable; on CI it must be');
  });
}

describe.skipIf(!available)('limits on the machine Redis', () => {
  const clock = testClock();
  const stores: RedisCounterStore[] = [];
  const open = () => {
    const s = new RedisCounterStore({ url: 'redis://127.0.0.1:6379', keyPrefix: prefix, now: clock.now, timeoutMs: 500 });
    stores.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of stores) await s.close();
    const raw = new Redis('redis://127.0.0.1:6379');
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length) await raw.del(...keys);
    raw.disconnect();
  });

  it('two gateways sharing Redis admit exactly 100 of 150 concurrent requests on a plan of 100 per minute', async () => {
    clock.set(clock.base + 20_000);
    const route = limitRoute({ subscription: { required: true } });
    const plans = { hundred: { rateLimit: { perMinute: 100 }, quota: { perDay: 10_000 } } };
    const gatewayA = compileLimit(planLimitsPolicy, route, open(), plans);
    const gatewayB = compileLimit(planLimitsPolicy, route, open(), plans);
    await Promise.all(stores.map((s) => s.connect()));
    const ctxs = Array.from({ length: 150 }, () => new LimitContext(route, { application: 'bob-app', plan: 'hundred' }));
    await Promise.all(ctxs.map((ctx, i) => runLimits(ctx, i % 2 === 0 ? gatewayA : gatewayB)));
    const admitted = ctxs.filter((c) => c.rejection === undefined);
    expect(admitted.length).toBe(100);
    expect(new Set(admitted.map((c) => c.headers()['RateLimit-Remaining'])).size).toBe(100);
    for (const c of ctxs.filter((x) => x.rejection !== undefined)) {
      expect(c.rejection).toEqual({
        code: 'APIGOV_ERR_GATEWAY_RATE_LIMITED',
        detail: 'plan hundred allows 100 requests per minute',
        headers: { 'Retry-After': '40', 'RateLimit-Limit': '100', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '40', 'RateLimit-Policy': '100;w=60, 10000;w=86400' },
      });
    }
    // the day's quota counted only the admitted ones
    const raw = new Redis('redis://127.0.0.1:6379');
    const dayKeys = await raw.keys(`${prefix}plan:payments/v1:d:a:bob-app:*`);
    expect(dayKeys.length).toBe(1);
    expect(await raw.get(dayKeys[0]!)).toBe('100');
    raw.disconnect();
  });

  it('rateLimit and quota headers over Redis, sequentially', async () => {
    clock.set(clock.base + 5_000);
    const store = open();
    const route = limitRoute({ rateLimit: { perMinute: 3, scope: 'consumer', failMode: 'closed' }, quota: { perDay: 1000, failMode: 'closed' } }, 'ledger/v2');
    const pipeline = [compileLimit(rateLimitPolicy, route, store), compileLimit(quotaPolicy, route, store)];
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const ctx = new LimitContext(route, { application: 'a' });
      await runLimits(ctx, ...pipeline);
      expect(ctx.rejection).toBeUndefined();
      remaining.push(ctx.headers()['RateLimit-Remaining']!);
      expect(ctx.headers()['RateLimit-Policy']).toBe('3;w=60, 1000;w=86400');
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const over = new LimitContext(route, { application: 'a' });
    await runLimits(over, ...pipeline);
    expect(over.rejection).toMatchObject({ code: 'APIGOV_ERR_GATEWAY_RATE_LIMITED', detail: 'ledger v2 allows 3 requests per minute per application', headers: { 'Retry-After': '55' } });
  });
});

describe.skipIf(!available)('fail modes with a private Redis that dies, hangs and comes back', () => {
  let server: PrivateRedis;
  let store: RedisCounterStore;
  // short enough to test the fail modes quickly, long enough for a loaded 2-core CI machine
  const timeoutMs = 250;
  const closed = limitRoute({ rateLimit: { perMinute: 1000, scope: 'consumer', failMode: 'closed' } }, 'closed/v1');
  const openRoute = limitRoute({ rateLimit: { perMinute: 1000, scope: 'consumer', failMode: 'open' } }, 'open/v1');
  let hClosed: ReturnType<typeof compileLimit>;
  let hOpen: ReturnType<typeof compileLimit>;

  beforeAll(async () => {
    server = await PrivateRedis.start();
    store = new RedisCounterStore({ url: server.url, timeoutMs, keyPrefix: prefix });
    await store.connect();
    hClosed = compileLimit(rateLimitPolicy, closed, store);
    hOpen = compileLimit(rateLimitPolicy, openRoute, store);
  });
  afterAll(async () => {
    await store.close();
    await server.kill();
  });

  async function timed(ctx: LimitContext, h: ReturnType<typeof compileLimit>): Promise<number> {
    const t0 = performance.now();
    await runLimits(ctx, h);
    return performance.now() - t0;
  }

  it('limits normally while Redis is up', async () => {
    const a = new LimitContext(closed, { application: 'a' });
    await runLimits(a, hClosed);
    expect(a.rejection).toBeUndefined();
    expect(a.headers()['RateLimit-Remaining']).toBe('999');
  });

  it('Redis frozen: closed → 503, open → through, each within 3× the timeout', async () => {
    server.freeze();
    try {
      const c = new LimitContext(closed, { application: 'a' });
      const o = new LimitContext(openRoute, { application: 'a' });
      const [tc, to] = await Promise.all([timed(c, hClosed), timed(o, hOpen)]);
      expect(c.rejection).toMatchObject({ code: 'APIGOV_ERR_GATEWAY_LIMITER_UNAVAILABLE', headers: { 'Retry-After': '1' } });
      expect(o.rejection).toBeUndefined();
      expect(o.responseHeaders).toEqual([]);
      expect(tc).toBeLessThan(timeoutMs * 3);
      expect(to).toBeLessThan(timeoutMs * 3);
    } finally {
      server.thaw();
    }
  });

  it('Redis killed: closed → 503, open → through, fast; limiting resumes after a restart on the same port', async () => {
    await server.kill();
    for (let i = 0; i < 10; i++) {
      const c = new LimitContext(closed, { application: 'a' });
      const o = new LimitContext(openRoute, { application: 'a' });
      expect(await timed(c, hClosed)).toBeLessThan(timeoutMs * 3);
      expect(await timed(o, hOpen)).toBeLessThan(timeoutMs * 3);
      expect(c.rejection?.code).toBe('APIGOV_ERR_GATEWAY_LIMITER_UNAVAILABLE');
      expect(o.rejection).toBeUndefined();
    }
    await server.start();
    const deadline = Date.now() + 5000;
    let back: LimitContext | undefined;
    while (Date.now() < deadline) {
      const c = new LimitContext(closed, { application: 'a' });
      await runLimits(c, hClosed);
      if (c.rejection === undefined) {
        back = c;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(back?.headers()['RateLimit-Remaining']).toBe('999'); // a fresh server: the count starts over
  });
});
