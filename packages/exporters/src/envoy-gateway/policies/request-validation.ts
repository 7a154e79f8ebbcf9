// requestValidation on Envoy: unknown operations are refused by matching only the document's operations (the
// rules are built per operation, route-rules.ts); Envoy validates no parameter or body, and never hands the body
// to the authorization service, so that part is listed as unsupported.
import type { PolicyMapping } from '../rule-export.js';

export const requestValidation: PolicyMapping<'requestValidation'> = (config, rule) => {
  if (!config.enabled) return;
  const parts = [config.parameters && 'parameters', config.body && 'bodies'].filter(Boolean);
  if (parts.length > 0) rule.unsupported('requestValidation', `request ${parts.join(' and ')} are not validated against the OpenAPI document: Envoy has no OpenAPI validation`);
};
