// The limit phase's policies (rateLimit, quota, plan limits) compiled and run on RequestContexts, with the memory
// counter store: 429s and their details, RateLimit headers, Retry-After, calendar months, fail modes, sync path.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryCounterStore } from '../src/counters/memory.js';
import { CounterUnavailableError, type CounterStore, type WindowHit } from '../src/counters/types.js';
import { LIMIT_PRIORITIES, calendarMonth, limiterUnavailableTotal, rateLimitPolicy, setLimitWarningSink } from '../src/policies/rate-limit.js';
import { quotaPolicy } from '../src/policies/quota.js';
import { planLimitsPolicy } from '../src/policies/plan-limits.js';
import { LimitContext, compileLimit, limitRoute, runLimits } from './limits-context.js';
import { testClock } from './counters-conformance.js';

const PLANS = { free: { rateLimit: { perMinute: 60 }, quota: { perDay: 1000 } }, gold: { rateLimit: { perMinute: 6000 } }, unlimited: {} };

/** runs one request synchronously (asserting the handler returned no promise) */
function call(handler: ReturnType<typeof compileLimit>, ctx: LimitContext): LimitContext {
  const r = handler!.handle(ctx);
  expect(r).toBeUndefined();
  return ctx;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('rateLimit', () => {
  it('has id rateLimit in the limit phase, before plan limits and quota', () => {
    expect(rateLimitPolicy).toMatchObject({ id: 'rateLimit', phase: 'limit', priority: LIMIT_PRIORITIES.rateLimit });
    expect(planLimitsPolicy).toMatchObject({ id: 'subscription', phase: 'limit', priority: LIMIT_PRIORITIES.planLimits });
    expect(quotaPolicy).toMatchObject({ id: 'quota', phase: 'limit', priority: LIMIT_PRIORITIES.quota });
    expect(rateLimitPolicy.priority).toBeLessThan(planLimitsPolicy.priority);
    expect(planLimitsPolicy.priority).toBeLessThan(quotaPolicy.priority);
  });

  it('admits the limit per application with RateLimit headers, then answers 429 with Retry-After, synchronously', () => {
    const clock = testClock();
    clock.set(clock.base + 15_000);
    const store = new MemoryCounterStore({ now: clock.now });
    const route = limitRoute({ rateLimit: { perMinute: 3, scope: 'consumer', failMode: 'open' } });
    const h = compileLimit(rateLimitPolicy, route, store);
    for (let i = 0; i < 3; i++) {
      const ctx = call(h, new LimitContext(route, { application: 'bob-app' }));
      expect(ctx.rejection).toBeUndefined();
      expect(ctx.headers()).toEqual({ 'RateLimit-Limit': '3', 'RateLimit-Remaining': String(2 - i), 'RateLimit-Reset': '45', 'RateLimit-Policy': '3;w=60' });
    }
    const over = call(h, new LimitContext(route, { application: 'bob-app' }));
    expect(over.rejection).toEqual({
      code: 'APIGOV_ERR_GATEWAY_RATE_LIMITED',
      detail: 'payments v1 allows 3 requests per minute per application',
      headers: { 'Retry-After': '45', 'RateLimit-Limit': '3', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '45', 'RateLimit-Policy': '3;w=60' },
    });
    expect(over.responseHeaders).toEqual([]);
    // another application has its own budget; the next minute starts over
    expect(call(h, new LimitContext(route, { application: 'other-app' })).rejection).toBeUndefined();
    clock.set(clock.base + 60_000);
    expect(call(h, new LimitContext(route, { application: 'bob-app' })).headers()['RateLimit-Remaining']).toBe('2');
  });

  it('keys unauthenticated callers by client IP', () => {
    const store = new MemoryCounterStore();
    const route = limitRoute({ rateLimit: { perMinute: 1, scope: 'consumer', failMode: 'open' } });
    const h = compileLimit(rateLimitPolicy, route, store);
    expect(call(h, new LimitContext(route, { ip: '198.51.100.1' })).rejection).toBeUndefined();
    expect(call(h, new LimitContext(route, { ip: '198.51.100.2' })).rejection).toBeUndefined();
    expect(call(h, new LimitContext(route, { ip: '198.51.100.1' })).rejection?.code).toBe('APIGOV_ERR_GATEWAY_RATE_LIMITED');
    // an application named like an IP does not share the IP's counter
    expect(call(h, new LimitContext(route, { application: '198.51.100.1' })).rejection).toBeUndefined();
  });

  it('scope route: one budget shared by every caller', () => {
    const store = new MemoryCounterStore();
    const route = limitRoute({ rateLimit: { perSecond: 2, scope: 'route', failMode: 'open' } });
    const h = compileLimit(rateLimitPolicy, route, store);
    expect(call(h, new LimitContext(route, { application: 'a' })).rejection).toBeUndefined();
    expect(call(h, new LimitContext(route, { ip: '203.0.113.9' })).rejection).toBeUndefined();
    const third = call(h, new LimitContext(route, { application: 'b' }));
    expect(third.rejection?.detail).toBe('payments v1 allows 2 requests per second in total');
    expect(third.rejection?.headers['Retry-After']).toBe('1');
  });

  it('reports the most restrictive window and lists both in RateLimit-Policy', () => {
    const clock = testClock();
    clock.set(clock.base + 500);
    const store = new MemoryCounterStore({ now: clock.now });
    const route = limitRoute({ rateLimit: { perSecond: 2, perMinute: 100, scope: 'consumer', failMode: 'open' } });
    const h = compileLimit(rateLimitPolicy, route, store);
    const ctx = call(h, new LimitContext(route, { application: 'a' }));
    expect(ctx.headers()).toEqual({ 'RateLimit-Limit': '2', 'RateLimit-Remaining': '1', 'RateLimit-Reset': '1', 'RateLimit-Policy': '2;w=1, 100;w=60' });
    expect(call(h, new LimitContext(route, { application: 'a' })).headers()).toMatchObject({ 'RateLimit-Limit': '2', 'RateLimit-Remaining': '0' });
    // a second later the per-second window is fresh (1 left) and the minute has 97 left: still the second's
    clock.set(clock.base + 1500);
    expect(call(h, new LimitContext(route, { application: 'a' })).headers()).toMatchObject({ 'RateLimit-Limit': '2', 'RateLimit-Remaining': '1', 'RateLimit-Reset': '1' });

    const tight = limitRoute({ rateLimit: { perSecond: 2, perMinute: 3, scope: 'consumer', failMode: 'open' } });
    const t = compileLimit(rateLimitPolicy, tight, store);
    clock.set(clock.base + 10_000);
    call(t, new LimitContext(tight, { application: 'c' }));
    call(t, new LimitContext(tight, { application: 'c' }));
    clock.set(clock.base + 11_000);
    // second: 1 left; minute: 0 left → the minute is reported
    expect(call(t, new LimitContext(tight, { application: 'c' })).headers()).toEqual({ 'RateLimit-Limit': '3', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '49', 'RateLimit-Policy': '2;w=1, 3;w=60' });
    const over = call(t, new LimitContext(tight, { application: 'c' }));
    expect(over.rejection).toMatchObject({ detail: 'payments v1 allows 3 requests per minute per application', headers: { 'Retry-After': '49', 'RateLimit-Limit': '3' } });
  });

  it('counts an operation with its own config apart from the route, and one without its own with it', () => {
    const store = new MemoryCounterStore();
    const route = limitRoute({ rateLimit: { perMinute: 1, scope: 'consumer', failMode: 'open' } });
    const own = { id: 'createPayment', method: 'POST', path: '/payments', parameters: [], policies: { rateLimit: { perMinute: 5, scope: 'consumer' as const, failMode: 'open' as const } } };
    const same = { id: 'listPayments', method: 'GET', path: '/payments', parameters: [], policies: { rateLimit: { perMinute: 1, scope: 'consumer' as const, failMode: 'open' as const } } };
    const hRoute = compileLimit(rateLimitPolicy, route, store);
    const hOwn = compileLimit(rateLimitPolicy, route, store, {}, own);
    const hSame = compileLimit(rateLimitPolicy, route, store, {}, same);
    expect(call(hRoute, new LimitContext(route, { application: 'a' })).rejection).toBeUndefined();
    expect(call(hOwn, new LimitContext(route, { application: 'a' })).rejection).toBeUndefined();
    expect(call(hSame, new LimitContext(route, { application: 'a' })).rejection?.code).toBe('APIGOV_ERR_GATEWAY_RATE_LIMITED');
  });

  it('compiles to nothing without a limit', () => {
    const route = limitRoute({ rateLimit: { scope: 'consumer', failMode: 'open' } });
    expect(compileLimit(rateLimitPolicy, route, new MemoryCounterStore())).toBeNull();
  });
});

describe('plan limits', () => {
  it('enforces the plan of ctx.plan: "plan free allows 60 requests per minute"', () => {
    const clock = testClock();
    clock.set(clock.base + 10_000);
    const store = new MemoryCounterStore({ now: clock.now });
    const route = limitRoute({ subscription: { required: true } });
    const h = compileLimit(planLimitsPolicy, route, store, PLANS);
    for (let i = 0; i < 60; i++) expect(call(h, new LimitContext(route, { application: 'bob-app', plan: 'free' })).rejection).toBeUndefined();
    const ok = new LimitContext(route, { application: 'bob-app', plan: 'free' });
    const over = call(h, ok);
    expect(over.rejection).toEqual({
      code: 'APIGOV_ERR_GATEWAY_RATE_LIMITED',
      detail: 'plan free allows 60 requests per minute',
      headers: { 'Retry-After': '50', 'RateLimit-Limit': '60', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '50', 'RateLimit-Policy': '60;w=60, 1000;w=86400' },
    });
    // gold is another plan, another budget (per application and route, whatever the plan)
    const gold = call(h, new LimitContext(route, { application: 'alice-app', plan: 'gold' }));
    expect(gold.headers()).toEqual({ 'RateLimit-Limit': '6000', 'RateLimit-Remaining': '5999', 'RateLimit-Reset': '50', 'RateLimit-Policy': '6000;w=60' });
  });

  it('counts per application and route', () => {
    const store = new MemoryCounterStore();
    const plans = { tiny: { rateLimit: { perMinute: 1 } } };
    const r1 = limitRoute({ subscription: { required: true } }, 'payments/v1');
    const r2 = limitRoute({ subscription: { required: true } }, 'payments/v2');
    const h1 = compileLimit(planLimitsPolicy, r1, store, plans);
    const h2 = compileLimit(planLimitsPolicy, r2, store, plans);
    expect(call(h1, new LimitContext(r1, { application: 'a', plan: 'tiny' })).rejection).toBeUndefined();
    expect(call(h2, new LimitContext(r2, { application: 'a', plan: 'tiny' })).rejection).toBeUndefined();
    expect(call(h1, new LimitContext(r1, { application: 'b', plan: 'tiny' })).rejection).toBeUndefined();
    expect(call(h1, new LimitContext(r1, { application: 'a', plan: 'tiny' })).rejection?.detail).toBe('plan tiny allows 1 requests per minute');
  });

  it('leaves requests without a plan, or on a plan without limits, alone; compiles to nothing when no subscription is required', () => {
    const store = new MemoryCounterStore();
    const route = limitRoute({ subscription: { required: true } });
    const h = compileLimit(planLimitsPolicy, route, store, PLANS);
    for (const who of [{ application: 'a' }, { application: 'a', plan: 'unlimited' }, { application: 'a', plan: 'not-in-snapshot' }]) {
      const ctx = call(h, new LimitContext(route, who));
      expect(ctx.rejection).toBeUndefined();
      expect(ctx.responseHeaders).toEqual([]);
    }
    expect(compileLimit(planLimitsPolicy, limitRoute({ subscription: { required: false } }), store, PLANS)).toBeNull();
    expect(compileLimit(planLimitsPolicy, route, store, { unlimited: {} })).toBeNull();
  });

  it('does not spend the day quota on requests a shorter window refused', () => {
    const clock = testClock();
    const store = new MemoryCounterStore({ now: clock.now });
    const route = limitRoute({ subscription: { required: true } });
    const h = compileLimit(planLimitsPolicy, route, store, { p: { rateLimit: { perMinute: 2 }, quota: { perDay: 5 } } });
    const outcomes: string[] = [];
    for (let minute = 0; minute < 3; minute++) {
      clock.set(clock.base + minute * 60_000 + 1000);
      for (let i = 0; i < 4; i++) outcomes.push(call(h, new LimitContext(route, { application: 'a', plan: 'p' })).rejection?.code ?? 'ok');
    }
    expect(outcomes).toEqual([
      ...['ok', 'ok', 'APIGOV_ERR_GATEWAY_RATE_LIMITED', 'APIGOV_ERR_GATEWAY_RATE_LIMITED'],
      ...['ok', 'ok', 'APIGOV_ERR_GATEWAY_RATE_LIMITED', 'APIGOV_ERR_GATEWAY_RATE_LIMITED'],
      // the 5th of the day passes; the 6th fits the minute but not the day; the 7th is over the minute again
      ...['ok', 'APIGOV_ERR_GATEWAY_QUOTA_EXCEEDED', 'APIGOV_ERR_GATEWAY_RATE_LIMITED', 'APIGOV_ERR_GATEWAY_RATE_LIMITED'],
    ]);
    clock.set(clock.base + 3 * 60_000 + 1000);
    const last = call(h, new LimitContext(route, { application: 'a', plan: 'p' }));
    expect(last.rejection?.detail).toBe('plan p allows 5 requests per day');
  });

  it('costs little per request on the synchronous path (measured)', () => {
    const store = new MemoryCounterStore();
    const route = limitRoute({ subscription: { required: true } });
    const h = compileLimit(planLimitsPolicy, route, store, { big: { rateLimit: { perSecond: 1e9, perMinute: 1e9 }, quota: { perDay: 1e9 } } })!;
    const ctxs = Array.from({ length: 1000 }, (_, i) => new LimitContext(route, { application: `app-${i}`, plan: 'big' }));
    const n = 300_000;
    const runOnce = (i: number) => {
      const ctx = ctxs[i % 1000]!;
      ctx.responseHeaders.length = 0;
      h.handle(ctx);
    };
    for (let i = 0; i < 50_000; i++) runOnce(i);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) runOnce(i);
    const ns = Number(process.hrtime.bigint() - t0) / n;
    console.log(`[bench] plan limits, 3 windows, memory store: ${ns.toFixed(0)} ns per request (${(ns / 3).toFixed(0)} ns per window, headers included)`);
    expect(ns).toBeLessThan(10_000);
  });
});

describe('quota', () => {
  it('per day: resets at 00:00 UTC, Retry-After counts the seconds to it', () => {
    const clock = testClock();
    const dayStart = Math.ceil(clock.base / 86_400_000) * 86_400_000;
    clock.set(dayStart + 86_400_000 - 90_000); // 23:58:30 UTC
    const store = new MemoryCounterStore({ now: clock.now });
    const route = limitRoute({ quota: { perDay: 2, failMode: 'open' } });
    const h = compileLimit(quotaPolicy, route, store);
    expect(call(h, new LimitContext(route, { application: 'a' })).headers()).toEqual({ 'RateLimit-Limit': '2', 'RateLimit-Remaining': '1', 'RateLimit-Reset': '90', 'RateLimit-Policy': '2;w=86400' });
    call(h, new LimitContext(route, { application: 'a' }));
    const over = call(h, new LimitContext(route, { application: 'a' }));
    expect(over.rejection).toMatchObject({ code: 'APIGOV_ERR_GATEWAY_QUOTA_EXCEEDED', detail: 'payments v1 allows 2 requests per day per application', headers: { 'Retry-After': '90' } });
    clock.set(dayStart + 86_400_000);
    expect(call(h, new LimitContext(route, { application: 'a' })).rejection).toBeUndefined();
  });

  it('calendarMonth: UTC bounds, December into January, February of a leap year', () => {
    expect(calendarMonth(Date.UTC(2026, 0, 31, 23, 59, 59, 999))).toEqual({ tag: '2026-01', startMs: Date.UTC(2026, 0, 1), endMs: Date.UTC(2026, 1, 1) });
    expect(calendarMonth(Date.UTC(2025, 11, 15))).toEqual({ tag: '2025-12', startMs: Date.UTC(2025, 11, 1), endMs: Date.UTC(2026, 0, 1) });
    const feb = calendarMonth(Date.UTC(2028, 1, 29, 12));
    expect(feb.tag).toBe('2028-02');
    expect((feb.endMs - feb.startMs) / 86_400_000).toBe(29);
  });

  it('per calendar month (UTC): counts through the month, resets on the 1st, Retry-After to the month end', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-31T23:59:58.500Z'));
    const store = new MemoryCounterStore({ now: () => Date.now() });
    const route = limitRoute({ quota: { perMonth: 2, failMode: 'open' } });
    const h = compileLimit(quotaPolicy, route, store);
    const first = call(h, new LimitContext(route, { application: 'a' }));
    expect(first.headers()).toEqual({ 'RateLimit-Limit': '2', 'RateLimit-Remaining': '1', 'RateLimit-Reset': '2', 'RateLimit-Policy': `2;w=${31 * 86400}` });
    call(h, new LimitContext(route, { application: 'a' }));
    const over = call(h, new LimitContext(route, { application: 'a' }));
    expect(over.rejection).toMatchObject({ code: 'APIGOV_ERR_GATEWAY_QUOTA_EXCEEDED', detail: 'payments v1 allows 2 requests per calendar month (UTC) per application', headers: { 'Retry-After': '2' } });
    vi.setSystemTime(new Date('2026-02-01T00:00:00.000Z'));
    const feb = call(h, new LimitContext(route, { application: 'a' }));
    expect(feb.rejection).toBeUndefined();
    expect(feb.headers()).toEqual({ 'RateLimit-Limit': '2', 'RateLimit-Remaining': '1', 'RateLimit-Reset': String(28 * 86400), 'RateLimit-Policy': `2;w=${28 * 86400}` });
    // the store's window of a month lasts until one minute after it, under a key naming the month
    vi.setSystemTime(new Date('2026-02-27T10:00:00.000Z'));
    expect(call(h, new LimitContext(route, { application: 'a' })).rejection).toBeUndefined();
    expect(call(h, new LimitContext(route, { application: 'a' })).rejection?.code).toBe('APIGOV_ERR_GATEWAY_QUOTA_EXCEEDED');
  });

  it('day and month together: the one with fewer requests left is reported', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-10T12:00:00.000Z'));
    const store = new MemoryCounterStore({ now: () => Date.now() });
    const route = limitRoute({ quota: { perDay: 100, perMonth: 3, failMode: 'open' } });
    const h = compileLimit(quotaPolicy, route, store);
    const ctx = call(h, new LimitContext(route, { application: 'a' }));
    expect(ctx.headers()).toEqual({ 'RateLimit-Limit': '3', 'RateLimit-Remaining': '2', 'RateLimit-Reset': String(21 * 86400 + 12 * 3600), 'RateLimit-Policy': `100;w=86400, 3;w=${31 * 86400}` });
  });
});

describe('several limit policies on one route', () => {
  it('merge into one set of RateLimit headers (the tightest) and one RateLimit-Policy; a 429 carries them once', async () => {
    const store = new MemoryCounterStore();
    const route = limitRoute({ subscription: { required: true }, rateLimit: { perMinute: 10, scope: 'consumer', failMode: 'open' }, quota: { perDay: 1000, failMode: 'open' } });
    const plans = { free: { rateLimit: { perMinute: 5 } } };
    const pipeline = [compileLimit(rateLimitPolicy, route, store), compileLimit(planLimitsPolicy, route, store, plans), compileLimit(quotaPolicy, route, store)];
    const ctx = new LimitContext(route, { application: 'a', plan: 'free' });
    await runLimits(ctx, ...pipeline);
    expect(ctx.headers()).toMatchObject({ 'RateLimit-Limit': '5', 'RateLimit-Remaining': '4', 'RateLimit-Policy': '10;w=60, 5;w=60, 1000;w=86400' });
    for (let i = 0; i < 4; i++) await runLimits(new LimitContext(route, { application: 'a', plan: 'free' }), ...pipeline);
    const over = new LimitContext(route, { application: 'a', plan: 'free' });
    await runLimits(over, ...pipeline);
    expect(over.rejection).toMatchObject({ code: 'APIGOV_ERR_GATEWAY_RATE_LIMITED', detail: 'plan free allows 5 requests per minute' });
    expect(over.rejection!.headers).toMatchObject({ 'RateLimit-Limit': '5', 'RateLimit-Remaining': '0', 'RateLimit-Policy': '10;w=60, 5;w=60' });
    expect(over.responseHeaders).toEqual([]);
  });
});

// ---- stores that fail, stores that answer promises ------------------------------------------------------------

class FailingStore implements CounterStore {
  readonly kind = 'redis' as const;
  calls = 0;
  constructor(private readonly error: Error = new CounterUnavailableError('redis did not answer within 50 ms')) {}
  hit(): Promise<WindowHit> {
    this.calls++;
    return Promise.reject(this.error);
  }
  async close(): Promise<void> {}
}

/** the memory store behind promises, as Redis answers */
class AsyncStore implements CounterStore {
  readonly kind = 'redis' as const;
  constructor(private readonly inner: MemoryCounterStore) {}
  hit(key: string, limit: number, windowSeconds: number): Promise<WindowHit> {
    return new Promise((resolve) => setImmediate(() => resolve(this.inner.hit(key, limit, windowSeconds))));
  }
  async close(): Promise<void> {}
}

describe('fail modes and asynchronous stores', () => {
  it('failMode closed: 503 LIMITER_UNAVAILABLE with Retry-After 1', async () => {
    const route = limitRoute({ rateLimit: { perMinute: 10, scope: 'consumer', failMode: 'closed' } });
    const ctx = new LimitContext(route, { application: 'a' });
    const r = compileLimit(rateLimitPolicy, route, new FailingStore())!.handle(ctx);
    expect(r).toBeInstanceOf(Promise);
    await r;
    expect(ctx.rejection).toEqual({ code: 'APIGOV_ERR_GATEWAY_LIMITER_UNAVAILABLE', detail: 'the rate limiter cannot be reached; try again shortly', headers: { 'Retry-After': '1' } });
  });

  it('failMode open: lets requests through without headers, counts them, warns at most once a second', async () => {
    const warnings: string[] = [];
    setLimitWarningSink((m) => warnings.push(m));
    const before = (await limiterUnavailableTotal.get()).values.find((v) => v.labels.policy === 'quota' && v.labels.fail_mode === 'open')?.value ?? 0;
    const route = limitRoute({ quota: { perDay: 10, failMode: 'open' } });
    const h = compileLimit(quotaPolicy, route, new FailingStore());
    for (let i = 0; i < 50; i++) {
      const ctx = new LimitContext(route, { application: 'a' });
      await runLimits(ctx, h);
      expect(ctx.rejection).toBeUndefined();
      expect(ctx.responseHeaders).toEqual([]);
    }
    const after = (await limiterUnavailableTotal.get()).values.find((v) => v.labels.policy === 'quota' && v.labels.fail_mode === 'open')?.value ?? 0;
    expect(after - before).toBe(50);
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatch(/^quota: counter store unavailable, failing open on route payments\/v1: redis did not answer within 50 ms/);
  });

  it('plan limits take the route rateLimit failMode', async () => {
    const route = limitRoute({ subscription: { required: true }, rateLimit: { scope: 'consumer', failMode: 'closed' } });
    const ctx = new LimitContext(route, { application: 'a', plan: 'free' });
    await runLimits(ctx, compileLimit(planLimitsPolicy, route, new FailingStore(), PLANS));
    expect(ctx.rejection?.code).toBe('APIGOV_ERR_GATEWAY_LIMITER_UNAVAILABLE');
  });

  it('other store errors are not a fail mode: they propagate', async () => {
    const route = limitRoute({ rateLimit: { perMinute: 10, scope: 'consumer', failMode: 'open' } });
    const ctx = new LimitContext(route, { application: 'a' });
    await expect(runLimits(ctx, compileLimit(rateLimitPolicy, route, new FailingStore(new TypeError('bug'))))).rejects.toThrow('bug');
  });

  it('with a store that answers promises: same counts, headers and 429s', async () => {
    const clock = testClock();
    clock.set(clock.base + 1000);
    const store = new AsyncStore(new MemoryCounterStore({ now: clock.now }));
    const route = limitRoute({ subscription: { required: true } });
    const h = compileLimit(planLimitsPolicy, route, store, { p: { rateLimit: { perSecond: 100, perMinute: 3 }, quota: { perDay: 1000 } } });
    const results = [];
    for (let i = 0; i < 4; i++) {
      const ctx = new LimitContext(route, { application: 'a', plan: 'p' });
      const r = h!.handle(ctx);
      expect(r).toBeInstanceOf(Promise);
      await r;
      results.push(ctx);
    }
    expect(results[2]!.headers()).toEqual({ 'RateLimit-Limit': '3', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '59', 'RateLimit-Policy': '100;w=1, 3;w=60, 1000;w=86400' });
    expect(results[3]!.rejection).toMatchObject({ code: 'APIGOV_ERR_GATEWAY_RATE_LIMITED', detail: 'plan p allows 3 requests per minute', headers: { 'Retry-After': '59' } });
  });
});
