// Every gateway policy, in one registry the pipeline compiler reads. Adding a policy adds one line here.
import type { PolicyDefinition } from '../policy.js';
import { apiKeyAuthPolicy } from './api-key-auth.js';
import { jwtAuthPolicy } from './jwt-auth.js';
import { subscriptionPolicy } from './subscription.js';
import { planLimitsPolicy } from './plan-limits.js';
import { rateLimitPolicy } from './rate-limit.js';
import { quotaPolicy } from './quota.js';
import { requestValidationPolicy } from './request-validation.js';
import { corsPolicy } from './cors.js';
import { headersPolicy } from './headers.js';
import { pathRewritePolicy } from './path-rewrite.js';
import { ipFilterPolicy } from './ip-filter.js';

/** Policies that run as pipeline handlers. timeouts, retries, circuitBreaker and trafficSplit configure the upstream stage instead. */
export const pipelinePolicies: ReadonlyArray<PolicyDefinition> = [
  ipFilterPolicy,
  corsPolicy,
  apiKeyAuthPolicy,
  jwtAuthPolicy,
  subscriptionPolicy,
  planLimitsPolicy,
  rateLimitPolicy,
  quotaPolicy,
  requestValidationPolicy,
  headersPolicy,
  pathRewritePolicy,
] as PolicyDefinition[];
