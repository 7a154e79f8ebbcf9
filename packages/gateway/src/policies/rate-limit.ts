// Rate limit (`rateLimit`): the route's own requests per second and per minute, per consumer (the application, or
// the client IP when nothing authenticated the caller) or shared by everyone calling the route (`scope: route`).
//
// This file also holds the limit engine that `quota` and `plan-limits` use, so the three policies of the `limit`
// phase behave alike:
// - priorities inside the phase, lower first: rateLimit 100, planLimits (plan-limits.ts) 200, quota 300. Windows
//   are checked shortest first and checking stops at the first exceeded one, so a request refused by a per-minute
//   limit does not use up the day's or the month's quota (it has been counted in the shorter windows before it).
// - counters are fixed windows aligned to the epoch (CounterStore); the calendar month (UTC) is a window ending at
//   the month's end, keyed by the month (see `LimitWindow.roll`).
// - every answer of a limited route carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds)
//   of the most restrictive window (fewest requests left; on a tie the later reset), and `RateLimit-Policy` listing
//   every window (`60;w=60, 1000;w=86400`), as in draft-ietf-httpapi-ratelimit-headers. Several limit policies on
//   one route merge into one set of headers.
// - over a limit: ctx.reject(429 RATE_LIMITED or QUOTA_EXCEEDED) saying which limit, with `Retry-After` and the
//   RateLimit headers in the reject options (and removed from ctx.responseHeaders, so they appear once).
// - the store cannot answer (CounterUnavailableError): failMode `closed` → 503 LIMITER_UNAVAILABLE with
//   `Retry-After: 1`; `open` → the request goes on, counted in `apigov_limiter_unavailable_total` and logged at most
//   once a second.
// - with the memory store everything stays synchronous (no promise, no allocation but the counter key of an
//   unauthenticated caller and the header strings); with Redis, one round trip per window.
import { Counter, type Registry } from 'prom-client';
import type { ErrorCode, SnapshotOperation, SnapshotRoute } from '@apigov/model';
import { definePolicy, type RequestContext } from '../policy.js';
import { CounterUnavailableError, type CounterStore, type WindowHit } from '../counters/types.js';
import { MemoryCounterStore } from '../counters/memory.js';

export type LimitCode = Extract<ErrorCode, 'APIGOV_ERR_GATEWAY_RATE_LIMITED' | 'APIGOV_ERR_GATEWAY_QUOTA_EXCEEDED'>;
export type FailMode = 'open' | 'closed';

/** Priorities of the limit phase's policies (lower runs first). */
export const LIMIT_PRIORITIES = { rateLimit: 100, planLimits: 200, quota: 300 } as const;

/** `windowSeconds` of the calendar month (UTC) */
export const CALENDAR_MONTH = 0;

/** counter keys cached per window and application; beyond this many, keys are built per request */
const MAX_CACHED_KEYS = 50_000;

/** The calendar month (UTC) containing `nowMs`: its `YYYY-MM` tag and bounds in epoch ms. */
export function calendarMonth(nowMs: number): { tag: string; startMs: number; endMs: number } {
  const d = new Date(nowMs);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  return { tag: `${y}-${String(m + 1).padStart(2, '0')}`, startMs: Date.UTC(y, m, 1), endMs: Date.UTC(y, m + 1, 1) };
}

export function periodName(seconds: number): string {
  switch (seconds) {
    case 1:
      return 'second';
    case 60:
      return 'minute';
    case 3600:
      return 'hour';
    case 86400:
      return 'day';
    case CALENDAR_MONTH:
      return 'calendar month (UTC)';
    default:
      return `${seconds} seconds`;
  }
}

/** One limit: `limit` requests per window, counted under `basePrefix` + subject. */
export class LimitWindow {
  readonly limitText: string;
  /** what goes to CounterStore.hit as windowSeconds */
  windowSeconds: number;
  /** current key prefix (the month's, for calendar months) */
  keyPrefix: string;
  /** key of the one shared counter (scope `route`) */
  sharedKey: string;
  /** calendar month: when the current month ends (epoch ms), and its length in seconds */
  monthEndMs = 0;
  monthSeconds = 0;
  private keys = new Map<string, string>();

  constructor(
    readonly limit: number,
    /** window length in seconds, or CALENDAR_MONTH */
    readonly seconds: number,
    readonly code: LimitCode,
    /** the 429's detail, e.g. `plan free allows 60 requests per minute` */
    readonly detail: string,
    /** e.g. `rl:payments/v1:m:`; calendar months append `YYYY-MM:` */
    readonly basePrefix: string,
  ) {
    this.limitText = String(limit);
    this.windowSeconds = seconds;
    this.keyPrefix = basePrefix;
    this.sharedKey = basePrefix + '*';
    if (seconds === CALENDAR_MONTH) this.roll(Date.now());
  }

  /**
   * Moves a calendar-month window to the month containing `nowMs`. The store sees a window aligned to the epoch
   * that starts at 0 and ends one minute after the month (so clocks a little apart still agree), under a key that
   * names the month: the count lives exactly as long as the month; the reset the policy reports is the month's end.
   */
  roll(nowMs: number): void {
    const month = calendarMonth(nowMs);
    this.monthEndMs = month.endMs;
    this.monthSeconds = (month.endMs - month.startMs) / 1000;
    this.windowSeconds = month.endMs / 1000 + 60;
    this.keyPrefix = `${this.basePrefix}${month.tag}:`;
    this.sharedKey = this.keyPrefix + '*';
    this.keys = new Map();
  }

  /** The counter key: per application (`a:`), per client IP (`i:`), or the shared one. */
  key(shared: boolean, application: string | undefined, ip: string): string {
    if (shared) return this.sharedKey;
    if (application === undefined) return this.keyPrefix + 'i:' + ip;
    let k = this.keys.get(application);
    if (k === undefined) {
      k = this.keyPrefix + 'a:' + application;
      if (this.keys.size < MAX_CACHED_KEYS) this.keys.set(application, k);
    }
    return k;
  }

  resetSeconds(hit: WindowHit): number {
    if (this.seconds !== CALENDAR_MONTH) return hit.resetSeconds;
    const s = Math.ceil((this.monthEndMs - Date.now()) / 1000);
    return s < 1 ? 1 : s;
  }

  /** this window's part of RateLimit-Policy */
  policyItem(): string {
    return `${this.limit};w=${this.seconds === CALENDAR_MONTH ? this.monthSeconds : this.seconds}`;
  }
}

/** The windows one compiled policy enforces, shortest first. */
export class LimitSet {
  readonly windows: LimitWindow[];
  readonly hasMonth: boolean;
  /** `RateLimit-Policy` value */
  policyHeader: string;

  constructor(
    /** metric label: rateLimit, quota, planLimits */
    readonly policy: string,
    windows: LimitWindow[],
    readonly failMode: FailMode,
    /** one counter for everyone (rateLimit scope `route`) */
    readonly shared: boolean,
  ) {
    this.windows = [...windows].sort((a, b) => windowOrder(a) - windowOrder(b));
    this.hasMonth = this.windows.some((w) => w.seconds === CALENDAR_MONTH);
    this.policyHeader = this.windows.map((w) => w.policyItem()).join(', ');
  }

  /** rolls calendar-month windows into a new month when the current one has ended */
  refresh(nowMs: number): void {
    let rolled = false;
    for (const w of this.windows)
      if (w.seconds === CALENDAR_MONTH && nowMs >= w.monthEndMs) {
        w.roll(nowMs);
        rolled = true;
      }
    if (rolled) this.policyHeader = this.windows.map((w) => w.policyItem()).join(', ');
  }
}

function windowOrder(w: LimitWindow): number {
  return w.seconds === CALENDAR_MONTH ? Number.MAX_SAFE_INTEGER : w.seconds;
}

// ---- metrics and logs of an unavailable store ------------------------------------------------------------------

/** Requests that met an unavailable counter store, by policy and fail mode. Not in any registry until registered. */
export const limiterUnavailableTotal = new Counter({
  name: 'apigov_limiter_unavailable_total',
  help: 'Requests whose rate limit or quota could not be checked because the counter store (Redis) did not answer, by policy and fail mode (open: let through; closed: answered 503)',
  labelNames: ['policy', 'fail_mode'] as const,
  registers: [],
});

/** Adds the limit policies' metrics to the gateway's registry. */
export function registerLimitMetrics(registry: Registry): void {
  registry.registerMetric(limiterUnavailableTotal);
}

let warnSink: (message: string) => void = (message) => process.emitWarning(message, { code: 'APIGOV_LIMITER_UNAVAILABLE' });
let lastWarnAt = 0;
let suppressed = 0;

/** Where the (at most one per second) "counter store unavailable" warnings go; the gateway points it at its log. */
export function setLimitWarningSink(sink: (message: string) => void): void {
  warnSink = sink;
  lastWarnAt = 0;
  suppressed = 0;
}

function storeUnavailable(ctx: RequestContext, set: LimitSet, err: unknown): void {
  if (!(err instanceof CounterUnavailableError)) throw err;
  limiterUnavailableTotal.inc({ policy: set.policy, fail_mode: set.failMode });
  const now = Date.now();
  if (now - lastWarnAt >= 1000) {
    const more = suppressed > 0 ? ` (${suppressed} more since the last warning)` : '';
    suppressed = 0;
    lastWarnAt = now;
    warnSink(`${set.policy}: counter store unavailable, failing ${set.failMode} on route ${ctx.route.id}: ${err.message}${more}`);
  } else suppressed++;
  if (set.failMode === 'closed') {
    removeLimitHeaders(ctx.responseHeaders);
    ctx.reject('APIGOV_ERR_GATEWAY_LIMITER_UNAVAILABLE', 'the rate limiter cannot be reached; try again shortly', { headers: { 'Retry-After': '1' } });
  }
}

// ---- headers ---------------------------------------------------------------------------------------------------

const LIMIT = 'RateLimit-Limit';
const REMAINING = 'RateLimit-Remaining';
const RESET = 'RateLimit-Reset';
const POLICY = 'RateLimit-Policy';

/** Sets (or merges into headers an earlier limit policy set) the RateLimit headers of a passing request. */
function putHeaders(headers: Array<[string, string]>, set: LimitSet, w: LimitWindow, hit: WindowHit): void {
  const reset = w.resetSeconds(hit);
  let iLimit = -1;
  let iRemaining = -1;
  let iReset = -1;
  let iPolicy = -1;
  for (let i = 0; i < headers.length; i++) {
    const name = headers[i]![0];
    if (name === REMAINING) iRemaining = i;
    else if (name === LIMIT) iLimit = i;
    else if (name === RESET) iReset = i;
    else if (name === POLICY) iPolicy = i;
  }
  if (iRemaining === -1 || iLimit === -1 || iReset === -1) {
    headers.push([LIMIT, w.limitText], [REMAINING, String(hit.remaining)], [RESET, String(reset)], [POLICY, set.policyHeader]);
    return;
  }
  const remaining = Number(headers[iRemaining]![1]);
  if (hit.remaining < remaining || (hit.remaining === remaining && reset > Number(headers[iReset]![1]))) {
    headers[iLimit] = [LIMIT, w.limitText];
    headers[iRemaining] = [REMAINING, String(hit.remaining)];
    headers[iReset] = [RESET, String(reset)];
  }
  if (iPolicy === -1) headers.push([POLICY, set.policyHeader]);
  else headers[iPolicy] = [POLICY, headers[iPolicy]![1] + ', ' + set.policyHeader];
}

/** Removes RateLimit headers an earlier limit policy set; returns their RateLimit-Policy, if any. */
function removeLimitHeaders(headers: Array<[string, string]>): string | undefined {
  let policy: string | undefined;
  for (let i = headers.length - 1; i >= 0; i--) {
    const name = headers[i]![0];
    if (name === LIMIT || name === REMAINING || name === RESET || name === POLICY) {
      if (name === POLICY) policy = headers[i]![1];
      headers.splice(i, 1);
    }
  }
  return policy;
}

function deny(ctx: RequestContext, set: LimitSet, w: LimitWindow, hit: WindowHit): void {
  const reset = String(w.resetSeconds(hit));
  const earlier = removeLimitHeaders(ctx.responseHeaders);
  ctx.reject(w.code, w.detail, {
    headers: {
      'Retry-After': reset,
      [LIMIT]: w.limitText,
      [REMAINING]: '0',
      [RESET]: reset,
      [POLICY]: earlier === undefined ? set.policyHeader : earlier + ', ' + set.policyHeader,
    },
  });
}

// ---- the engine ------------------------------------------------------------------------------------------------

function isThenable(x: WindowHit | PromiseLike<WindowHit>): x is PromiseLike<WindowHit> {
  return typeof (x as PromiseLike<WindowHit>).then === 'function';
}

/** Whether `hit` in `w` leaves fewer requests than `best` in `bestW` (on a tie: resets later). */
function tighter(hit: WindowHit, w: LimitWindow, best: WindowHit, bestW: LimitWindow): boolean {
  return hit.remaining < best.remaining || (hit.remaining === best.remaining && w.resetSeconds(hit) > bestW.resetSeconds(best));
}

/**
 * Counts the request in each window of `set`, shortest first, and stops at the first one exceeded (429). Synchronous
 * while the store answers synchronously; from the first promise on, it continues asynchronously.
 */
export function enforceLimits(ctx: RequestContext, store: CounterStore, set: LimitSet, application: string | undefined, ip: string): void | Promise<void> {
  if (set.hasMonth) set.refresh(Date.now());
  if (store instanceof MemoryCounterStore) return enforceInMemory(ctx, store, set, application, ip);
  const windows = set.windows;
  let best: WindowHit | undefined;
  let bestW: LimitWindow | undefined;
  for (let i = 0; i < windows.length; i++) {
    const w = windows[i]!;
    let r: WindowHit | Promise<WindowHit>;
    try {
      r = store.hit(w.key(set.shared, application, ip), w.limit, w.windowSeconds);
    } catch (err) {
      return storeUnavailable(ctx, set, err);
    }
    if (isThenable(r)) return continueAsync(ctx, store, set, application, ip, i, r, best, bestW);
    if (!r.allowed) return deny(ctx, set, w, r);
    if (best === undefined || tighter(r, w, best, bestW!)) {
      best = r;
      bestW = w;
    }
  }
  if (best !== undefined) putHeaders(ctx.responseHeaders, set, bestW!, best);
}

/** The memory store's path: synchronous, one clock read for all windows. */
function enforceInMemory(ctx: RequestContext, store: MemoryCounterStore, set: LimitSet, application: string | undefined, ip: string): void {
  const windows = set.windows;
  const now = store.now();
  let best: WindowHit | undefined;
  let bestW: LimitWindow | undefined;
  for (let i = 0; i < windows.length; i++) {
    const w = windows[i]!;
    const r = store.hitAt(w.key(set.shared, application, ip), w.limit, w.windowSeconds, now);
    if (!r.allowed) return deny(ctx, set, w, r);
    if (best === undefined || tighter(r, w, best, bestW!)) {
      best = r;
      bestW = w;
    }
  }
  if (best !== undefined) putHeaders(ctx.responseHeaders, set, bestW!, best);
}

async function continueAsync(
  ctx: RequestContext,
  store: CounterStore,
  set: LimitSet,
  application: string | undefined,
  ip: string,
  i: number,
  pending: PromiseLike<WindowHit> | WindowHit,
  best: WindowHit | undefined,
  bestW: LimitWindow | undefined,
): Promise<void> {
  const windows = set.windows;
  for (;;) {
    const w = windows[i]!;
    let r: WindowHit;
    try {
      r = await pending;
    } catch (err) {
      return storeUnavailable(ctx, set, err);
    }
    if (!r.allowed) return deny(ctx, set, w, r);
    if (best === undefined || tighter(r, w, best, bestW!)) {
      best = r;
      bestW = w;
    }
    if (++i >= windows.length) break;
    const next = windows[i]!;
    try {
      pending = store.hit(next.key(set.shared, application, ip), next.limit, next.windowSeconds);
    } catch (err) {
      return storeUnavailable(ctx, set, err);
    }
  }
  if (best !== undefined) putHeaders(ctx.responseHeaders, set, bestW!, best);
}

/** `payments/v1`, or `payments/v1#createPayment` when the operation has a config of its own for `policy` */
export function counterScope(route: SnapshotRoute, operation: SnapshotOperation | undefined, policy: 'rateLimit' | 'quota'): string {
  const own = operation?.policies?.[policy];
  if (own === undefined || JSON.stringify(own) === JSON.stringify(route.policies[policy])) return route.id;
  return `${route.id}#${operation!.id}`;
}

// ---- the policy ------------------------------------------------------------------------------------------------

export const rateLimitPolicy = definePolicy({
  id: 'rateLimit',
  phase: 'limit',
  priority: LIMIT_PRIORITIES.rateLimit,
  compile(config, route, operation, deps) {
    const scope = counterScope(route, operation, 'rateLimit');
    const shared = config.scope === 'route';
    const per = shared ? 'in total' : 'per application';
    const windows: LimitWindow[] = [];
    const add = (limit: number | undefined, seconds: number, tag: string) => {
      if (limit === undefined) return;
      windows.push(new LimitWindow(limit, seconds, 'APIGOV_ERR_GATEWAY_RATE_LIMITED', `${route.api} ${route.version} allows ${limit} requests per ${periodName(seconds)} ${per}`, `rl:${scope}:${tag}:`));
    };
    add(config.perSecond, 1, 's');
    add(config.perMinute, 60, 'm');
    if (windows.length === 0) return null;
    const set = new LimitSet('rateLimit', windows, config.failMode, shared);
    const store = deps.counters;
    return {
      handle(ctx: RequestContext): void | Promise<void> {
        return enforceLimits(ctx, store, set, ctx.consumer?.application, ctx.clientIp);
      },
    };
  },
});
