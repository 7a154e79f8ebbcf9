// Quota (`quota`): the route's requests per day and per calendar month, per application (per client IP when nothing
// authenticated the caller). A day is the UTC day (an 86,400 s window aligned to the epoch); a month is the calendar
// month in UTC, from its first day 00:00 to the next month's (see LimitWindow.roll in rate-limit.ts). Over quota →
// 429 APIGOV_ERR_GATEWAY_QUOTA_EXCEEDED with Retry-After (seconds to the end of the day or month). Runs last in the
// limit phase (priority 300), so requests refused by a rate limit do not use up the quota. The engine, the headers
// and the fail modes are rate-limit.ts's.
import { definePolicy, type RequestContext } from '../policy.js';
import { CALENDAR_MONTH, LIMIT_PRIORITIES, LimitSet, LimitWindow, counterScope, enforceLimits, periodName } from './rate-limit.js';

export { calendarMonth } from './rate-limit.js';

export const quotaPolicy = definePolicy({
  id: 'quota',
  phase: 'limit',
  priority: LIMIT_PRIORITIES.quota,
  compile(config, route, operation, deps) {
    const scope = counterScope(route, operation, 'quota');
    const windows: LimitWindow[] = [];
    const add = (limit: number | undefined, seconds: number, tag: string) => {
      if (limit === undefined) return;
      windows.push(new LimitWindow(limit, seconds, 'APIGOV_ERR_GATEWAY_QUOTA_EXCEEDED', `${route.api} ${route.version} allows ${limit} requests per ${periodName(seconds)} per application`, `q:${scope}:${tag}:`));
    };
    add(config.perDay, 86400, 'd');
    add(config.perMonth, CALENDAR_MONTH, 'M');
    if (windows.length === 0) return null;
    const set = new LimitSet('quota', windows, config.failMode, false);
    const store = deps.counters;
    return {
      handle(ctx: RequestContext): void | Promise<void> {
        return enforceLimits(ctx, store, set, ctx.consumer?.application, ctx.clientIp);
      },
    };
  },
});
