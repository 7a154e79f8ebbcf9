// rateLimit on Envoy: per second and per minute, for each consumer (Distinct on the consumer header) or for the
// route as a whole; limits go where the export enforces them (limits.ts).
import type { PolicyMapping } from '../rule-export.js';
import { enforceLimits, type LimitRule } from './limits.js';

export const rateLimit: PolicyMapping<'rateLimit'> = (config, rule) => {
  const consumer = config.scope === 'consumer' ? 'each' : undefined;
  const rules: LimitRule[] = [];
  if (config.perSecond !== undefined) rules.push({ requests: config.perSecond, unit: 'Second', ...(consumer && { consumer }) });
  if (config.perMinute !== undefined) rules.push({ requests: config.perMinute, unit: 'Minute', ...(consumer && { consumer }) });
  enforceLimits(rule, 'rateLimit', rules);
  if (rule.options.limits === 'envoy' && config.failMode === 'closed') rule.unsupported('rateLimit', 'failMode closed: Envoy lets requests through when its rate-limit service cannot answer');
};
