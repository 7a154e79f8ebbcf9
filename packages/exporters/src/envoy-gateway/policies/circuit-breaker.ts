// circuitBreaker on Envoy: apigov's breaker opens after consecutive failures, which is Envoy's outlier detection
// (BackendTrafficPolicy healthCheck.passive), not its connection-count circuit breaker.
import type { PolicyMapping } from '../rule-export.js';
import { duration } from '../names.js';

export const circuitBreaker: PolicyMapping<'circuitBreaker'> = (config, rule) => {
  rule.traffic.healthCheck = {
    passive: { consecutive5XxErrors: config.failureThreshold, consecutiveLocalOriginFailures: config.failureThreshold, baseEjectionTime: duration(config.openSeconds * 1000), interval: '1s', maxEjectionPercent: 100 },
  };
  rule.unsupported('circuitBreaker', 'after openSeconds Envoy lets all traffic back to the upstream, not one probe first');
};
