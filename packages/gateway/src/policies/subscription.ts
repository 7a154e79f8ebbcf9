// Required subscription: the authenticated application must hold an approved, unexpired subscription to
// this route (api/version) in this environment; its plan goes to ctx.plan for the limit policies.
// No consumer → 401 MISSING_CREDENTIAL (nothing authenticated the caller); no subscription, or an
// expired one → 403 NO_SUBSCRIPTION naming the application, the API version and the environment.
// Per request: one Map lookup (route → application → subscription, built once per snapshot).
import { definePolicy, type RequestContext } from '../policy.js';
import { authTables, type SubscriptionEntry } from '../auth/consumers.js';

const NONE: ReadonlyMap<string, SubscriptionEntry> = new Map();

export const subscriptionPolicy = definePolicy({
  id: 'subscription',
  phase: 'authorize',
  priority: 100,
  compile(config, route, _operation, deps) {
    if (!config.required) return null;
    const subscribers = authTables(deps.snapshot, deps.warn).subscriptions.get(route.id) ?? NONE;
    const what = `${route.api} ${route.version} in ${deps.snapshot.environment}`;
    const missingDetail = `${what} requires an authenticated application`;

    return {
      handle(ctx: RequestContext): void {
        const consumer = ctx.consumer;
        if (consumer === undefined) {
          ctx.reject('APIGOV_ERR_GATEWAY_MISSING_CREDENTIAL', missingDetail);
          return;
        }
        const s = subscribers.get(consumer.application);
        if (s === undefined) {
          ctx.reject('APIGOV_ERR_GATEWAY_NO_SUBSCRIPTION', `application ${consumer.application} has no active subscription to ${what}`);
          return;
        }
        if (s.expiresAt !== Number.POSITIVE_INFINITY && Date.now() >= s.expiresAt) {
          ctx.reject('APIGOV_ERR_GATEWAY_NO_SUBSCRIPTION', `the subscription of application ${consumer.application} to ${what} has expired`);
          return;
        }
        ctx.plan = s.plan;
      },
    };
  },
});
