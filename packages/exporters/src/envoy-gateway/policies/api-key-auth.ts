// apiKeyAuth on Envoy: apigov keys are stored hashed, so Envoy cannot check them itself (its apiKeyAuth wants
// plain keys in a Secret); the route is secured by ext-authz, which looks the key up by hash as the gateway does.
import type { PolicyMapping } from '../rule-export.js';

export const apiKeyAuth: PolicyMapping<'apiKeyAuth'> = (config, rule) => {
  rule.extAuthz = true;
  rule.headersToExtAuth.add(config.header.toLowerCase());
  if (config.query !== undefined) {
    rule.unsupported('apiKeyAuth', `a key sent in the ${config.query} query parameter is checked, but Envoy passes the query string on to the upstream unchanged (the apigov gateway removes it)`);
  }
};
