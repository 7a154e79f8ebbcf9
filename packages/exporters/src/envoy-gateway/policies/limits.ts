// What rate limits, quotas and plan limits share on Envoy: with limits on ext-authz (the default) apigov's
// service counts them exactly (calendar months, RateLimit fields on refusals, Redis shared with apigov gateways);
// with limits on Envoy, BackendTrafficPolicy global rules, one client selector per consumer header.
import type { RuleExport } from '../rule-export.js';
import { CONSUMER_HEADER } from './consumer-header.js';

export interface LimitRule {
  requests: number;
  unit: 'Second' | 'Minute' | 'Day' | 'Month';
  /** one counter per application (Distinct), one for a named application (Exact), or one for everyone */
  consumer?: 'each' | string;
}

export function limitRule(l: LimitRule): Record<string, unknown> {
  const selector = l.consumer === undefined ? undefined : l.consumer === 'each' ? { name: CONSUMER_HEADER, type: 'Distinct' } : { name: CONSUMER_HEADER, type: 'Exact', value: l.consumer };
  return { ...(selector !== undefined && { clientSelectors: [{ headers: [selector] }] }), limit: { requests: l.requests, unit: l.unit } };
}

/** Hands a limit to where the export enforces limits. */
export function enforceLimits(rule: RuleExport, policy: 'rateLimit' | 'quota' | 'subscription', rules: LimitRule[]): void {
  if (rules.length === 0) return;
  if (rule.options.limits === 'ext-authz') {
    rule.extAuthz = true;
    rule.unsupported(policy, 'RateLimit header fields on allowed answers: Envoy adds no headers from the authorization service to the client answer (refusals carry them)');
    return;
  }
  rule.rateLimitRules.push(...rules.map(limitRule));
  if (rules.some((r) => r.unit === 'Month')) rule.unsupported(policy, "a monthly quota becomes Envoy's Month window, not apigov's calendar month (UTC)");
  rule.unsupported(policy, 'RateLimit and Retry-After fields: Envoy answers 429 with its own headers and body, not apigov problem+json');
}
