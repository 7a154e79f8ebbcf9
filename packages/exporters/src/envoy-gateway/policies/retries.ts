// retries on Envoy: BackendTrafficPolicy retry (attempts, status codes, connect failures, per-try timeouts);
// apigov's retry budget and its idempotent-methods rule have no Envoy Gateway field.
import type { PolicyMapping } from '../rule-export.js';

export const retries: PolicyMapping<'retries'> = (config, rule) => {
  if (config.attempts === 0) return;
  const statuses = config.on.filter((o): o is number => typeof o === 'number');
  const triggers: string[] = [];
  if (statuses.length > 0) triggers.push('retriable-status-codes');
  if (config.on.includes('connect-failure')) triggers.push('connect-failure', 'reset');
  if (config.on.includes('timeout')) triggers.push('gateway-error');
  rule.traffic.retry = { numRetries: config.attempts, retryOn: { triggers, ...(statuses.length > 0 && { httpStatusCodes: statuses }) } };
  rule.unsupported('retries', `the retry budget (${config.budgetPercent}% of the route's requests) and the methods retried (${config.methods.join(', ')}): Envoy Gateway retries any method, without a budget`);
  if (config.on.includes('timeout') && !statuses.includes(502)) rule.unsupported('retries', "retry on timeout: Envoy's gateway-error trigger also retries 502, 503 and 504");
};
