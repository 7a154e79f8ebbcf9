// Every policy kind's Envoy Gateway mapping, by policy id: the type requires one for each, so adding a policy to
// the model without its mapping here does not compile.
import type { PolicyMappings } from '../rule-export.js';
import { apiKeyAuth } from './api-key-auth.js';
import { jwtAuth } from './jwt-auth.js';
import { subscription } from './subscription.js';
import { rateLimit } from './rate-limit.js';
import { quota } from './quota.js';
import { requestValidation } from './request-validation.js';
import { cors } from './cors.js';
import { headers } from './headers.js';
import { pathRewrite } from './path-rewrite.js';
import { timeouts } from './timeouts.js';
import { retries } from './retries.js';
import { circuitBreaker } from './circuit-breaker.js';
import { trafficSplit } from './traffic-split.js';
import { ipFilter } from './ip-filter.js';

export const POLICY_MAPPINGS: PolicyMappings = { apiKeyAuth, jwtAuth, subscription, rateLimit, quota, requestValidation, cors, headers, pathRewrite, timeouts, retries, circuitBreaker, trafficSplit, ipFilter };
