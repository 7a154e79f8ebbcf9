// Required subscription: the authenticated application must hold an approved, unexpired subscription to
// this route (api/version) in this environment; its plan goes to ctx.plan for the limit policies.
// No consumer → 401 MISSING_CREDENTIAL (nothing authenticated the caller); no subscription, or an
// expired one → 403 NO_SUBSCRIPTION naming the application, the API version and the environment.
// Per request: two Map lookups (route → application → subscription, built once per snapshot; the tables are the
// request's snapshot's, so a route compiled once serves later snapshots' subscriptions).
import { definePolicy, type RequestContext } from '../policy.js';

export const subscriptionPolicy = definePolicy({
  id: 'subscription',
  phase: 'authorize',
  priority: 100,
  compile(config, route, _operation, deps) {
    if (!config.required) return null;
    const what = `${route.api} ${route.version} in ${deps.snapshot.environment}`;
    const missingDetail = `${what} requires an authenticated application`;

    return {
      handle(ctx: RequestContext): void {
        const consumer = ctx.consumer;
        if (consumer === undefined) {
          ctx.reject('APIGOV_ERR_GATEWAY_MISSING_CREDENTIAL', missingDetail);
          return;
        }
        const s = ctx.auth.subscriptions.get(route.id)?.get(consumer.application);
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
