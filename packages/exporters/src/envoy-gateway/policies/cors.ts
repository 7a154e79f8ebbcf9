// cors on Envoy: SecurityPolicy cors (Envoy answers preflights itself).
import type { PolicyMapping } from '../rule-export.js';

export const cors: PolicyMapping<'cors'> = (config, rule) => {
  rule.security.cors = {
    allowOrigins: config.allowOrigins,
    allowMethods: config.allowMethods,
    ...(config.allowHeaders.length > 0 && { allowHeaders: config.allowHeaders }),
    ...(config.exposeHeaders.length > 0 && { exposeHeaders: config.exposeHeaders }),
    maxAge: `${config.maxAgeSeconds}s`,
    allowCredentials: config.allowCredentials,
  };
};
