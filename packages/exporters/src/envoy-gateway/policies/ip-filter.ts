// ipFilter on Envoy: SecurityPolicy authorization on client CIDRs, deny rules first (deny wins), then the allow
// list with a default of Deny when there is one; the client address is the ClientTrafficPolicy's detected one.
import type { PolicyMapping } from '../rule-export.js';
import { cidr } from '../names.js';

export const ipFilter: PolicyMapping<'ipFilter'> = (config, rule) => {
  const rules: Array<Record<string, unknown>> = [];
  if (config.deny.length > 0) rules.push({ name: 'apigov-deny', action: 'Deny', principal: { clientCIDRs: config.deny.map(cidr) } });
  if (config.allow.length > 0) rules.push({ name: 'apigov-allow', action: 'Allow', principal: { clientCIDRs: config.allow.map(cidr) } });
  if (rules.length === 0) return;
  rule.security.authorization = { defaultAction: config.allow.length > 0 ? 'Deny' : 'Allow', rules };
};
