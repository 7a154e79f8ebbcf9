// pathRewrite on Envoy: what replaces the route prefix in the rule's URL rewrite (route-rules.ts writes it).
import type { PolicyMapping } from '../rule-export.js';

export const pathRewrite: PolicyMapping<'pathRewrite'> = (config, rule) => {
  rule.replacePrefix = config.replacePrefix;
};
