// quota on Envoy: per day and per month, for each consumer; limits go where the export enforces them (limits.ts).
import type { PolicyMapping } from '../rule-export.js';
import { enforceLimits, type LimitRule } from './limits.js';

export const quota: PolicyMapping<'quota'> = (config, rule) => {
  const rules: LimitRule[] = [];
  if (config.perDay !== undefined) rules.push({ requests: config.perDay, unit: 'Day', consumer: 'each' });
  if (config.perMonth !== undefined) rules.push({ requests: config.perMonth, unit: 'Month', consumer: 'each' });
  enforceLimits(rule, 'quota', rules);
  if (rule.options.limits === 'envoy' && config.failMode === 'closed') rule.unsupported('quota', 'failMode closed: Envoy lets requests through when its rate-limit service cannot answer');
};
