// timeouts on Envoy: BackendTrafficPolicy timeout (TCP connect, HTTP request).
import type { PolicyMapping } from '../rule-export.js';
import { duration } from '../names.js';

export const timeouts: PolicyMapping<'timeouts'> = (config, rule) => {
  rule.traffic.timeout = { tcp: { connectTimeout: duration(config.connectMs) }, http: { requestTimeout: duration(config.requestMs) } };
};
