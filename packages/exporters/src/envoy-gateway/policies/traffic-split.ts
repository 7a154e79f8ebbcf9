// trafficSplit on Envoy: one Backend per target, weighted backendRefs on the rule.
import type { PolicyMapping } from '../rule-export.js';

export const trafficSplit: PolicyMapping<'trafficSplit'> = (config, rule) => {
  rule.split = config.targets.map((t) => ({ upstream: t.upstream, weight: t.weight }));
};
