// Plan limits: the rate limit (per second, per minute) and quota (per day, per calendar month UTC) of the plan the
// caller's subscription is on. It is compiled from the route's `subscription` policy (so its id is `subscription`,
// like the authorize-phase policy that checks the subscription and sets ctx.plan) and runs in the limit phase at
// priority 200: after the route's own rateLimit (100), before its quota (300).
//
// Compile precomputes, for every plan of the snapshot, its windows (limit, window, counter-key prefix, the 429's
// detail); handle() looks the plan up and counts, allocating nothing but header strings (counter keys are cached
// per application). Counters are per application and route, not per plan, so changing plans mid-window keeps the
// count: `plan:{route}:{s|m|d|M:YYYY-MM}:a:{application}`. Over a limit → 429 saying which one ("plan free allows
// 60 requests per minute"). When the counter store cannot answer, the route's rateLimit failMode applies (else its
// quota's, else open). A request without a plan (the subscription policy refused it, or the plan is not in the
// snapshot) or on a plan without limits is not limited here.
import { definePolicy, type RequestContext } from '../policy.js';
import { CALENDAR_MONTH, LIMIT_PRIORITIES, LimitSet, LimitWindow, enforceLimits, periodName, type FailMode, type LimitCode } from './rate-limit.js';

export const planLimitsPolicy = definePolicy({
  id: 'subscription',
  phase: 'limit',
  priority: LIMIT_PRIORITIES.planLimits,
  compile(config, route, _operation, deps) {
    if (!config.required) return null;
    const failMode: FailMode = route.policies.rateLimit?.failMode ?? route.policies.quota?.failMode ?? 'open';
    const sets = new Map<string, LimitSet>();
    for (const [plan, limits] of Object.entries(deps.snapshot.plans)) {
      const windows: LimitWindow[] = [];
      const add = (limit: number | undefined, seconds: number, tag: string, code: LimitCode) => {
        if (limit === undefined) return;
        windows.push(new LimitWindow(limit, seconds, code, `plan ${plan} allows ${limit} requests per ${periodName(seconds)}`, `plan:${route.id}:${tag}:`));
      };
      add(limits.rateLimit?.perSecond, 1, 's', 'APIGOV_ERR_GATEWAY_RATE_LIMITED');
      add(limits.rateLimit?.perMinute, 60, 'm', 'APIGOV_ERR_GATEWAY_RATE_LIMITED');
      add(limits.quota?.perDay, 86400, 'd', 'APIGOV_ERR_GATEWAY_QUOTA_EXCEEDED');
      add(limits.quota?.perMonth, CALENDAR_MONTH, 'M', 'APIGOV_ERR_GATEWAY_QUOTA_EXCEEDED');
      if (windows.length > 0) sets.set(plan, new LimitSet('planLimits', windows, failMode, false));
    }
    if (sets.size === 0) return null;
    const store = deps.counters;
    return {
      handle(ctx: RequestContext): void | Promise<void> {
        const plan = ctx.plan;
        if (plan === undefined) return;
        const set = sets.get(plan);
        if (set === undefined) return;
        return enforceLimits(ctx, store, set, ctx.consumer?.application, ctx.clientIp);
      },
    };
  },
});
