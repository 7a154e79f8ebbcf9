// jwtAuth on Envoy: a SecurityPolicy jwt provider per issuer (remote JWKS or the inline keys, audiences, claims to
// headers); optional when the route also takes API keys, since either credential satisfies it.
import type { PolicyMapping } from '../rule-export.js';
import { label } from '../names.js';

const DEFAULT_ALGORITHMS = ['RS256', 'ES256'];

export const jwtAuth: PolicyMapping<'jwtAuth'> = (config, rule) => {
  const providers = config.issuers.map((issuer, i) => ({
    name: label(`${i + 1}-${issuer.issuer.replace(/^https?:\/\//, '')}`),
    issuer: issuer.issuer,
    audiences: issuer.audiences,
    ...(issuer.jwksUri !== undefined ? { remoteJWKS: { uri: issuer.jwksUri } } : { localJWKS: { type: 'Inline', inline: JSON.stringify({ keys: issuer.keys }) } }),
    ...(config.claimsToHeaders.length > 0 && { claimToHeaders: config.claimsToHeaders.map((c) => ({ claim: c.claim, header: c.header })) }),
  }));
  rule.security.jwt = { providers, ...(rule.policies.apiKeyAuth !== undefined && { optional: true }) };
  rule.headersToExtAuth.add('authorization');
  for (const issuer of config.issuers) {
    if (issuer.algorithms.join(',') !== DEFAULT_ALGORITHMS.join(',')) rule.unsupported('jwtAuth', `issuer ${issuer.issuer}: Envoy accepts every algorithm its JWKS keys allow, not only ${issuer.algorithms.join(', ')}`);
    if (issuer.clockSkewSeconds !== 30) rule.unsupported('jwtAuth', `issuer ${issuer.issuer}: Envoy allows its own fixed clock skew (60 s), not ${issuer.clockSkewSeconds} s`);
  }
};
