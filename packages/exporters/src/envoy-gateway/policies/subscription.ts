// subscription on Envoy: Envoy has no subscriptions or plans, so ext-authz checks them; each subscribed consumer's
// plan limits go where the export enforces limits (one Exact client selector per consumer with limits on Envoy).
import type { PolicyMapping } from '../rule-export.js';
import { enforceLimits, type LimitRule } from './limits.js';

export const subscription: PolicyMapping<'subscription'> = (config, rule) => {
  if (!config.required) return;
  rule.extAuthz = true;
  const rules: LimitRule[] = [];
  for (const [application, consumer] of Object.entries(rule.env.consumers).sort(([a], [b]) => a.localeCompare(b))) {
    const plan = consumer.subscriptions[rule.route.id]?.plan;
    const limits = plan === undefined ? undefined : rule.env.plans[plan];
    if (limits === undefined) continue;
    if (limits.rateLimit?.perSecond !== undefined) rules.push({ requests: limits.rateLimit.perSecond, unit: 'Second', consumer: application });
    if (limits.rateLimit?.perMinute !== undefined) rules.push({ requests: limits.rateLimit.perMinute, unit: 'Minute', consumer: application });
    if (limits.quota?.perDay !== undefined) rules.push({ requests: limits.quota.perDay, unit: 'Day', consumer: application });
    if (limits.quota?.perMonth !== undefined) rules.push({ requests: limits.quota.perMonth, unit: 'Month', consumer: application });
  }
  enforceLimits(rule, 'subscription', rules);
};
