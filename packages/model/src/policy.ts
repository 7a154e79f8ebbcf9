// Gateway policies as users write them (the `Policy` kind) and as the snapshot carries them, one zod
// schema per policy id; the same ids name the gateway's policy modules, metrics and exporter mappings.
import { z } from 'zod';
import { resourceName, urlSchema } from './resource.js';
import { VERSION_KEY_PATTERN } from './names.js';

const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, { message: 'must be an HTTP header name' });
/** an IPv4 or IPv6 address, or a CIDR block */
export const cidrSchema = z
  .string()
  .regex(/^(\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?|[0-9a-fA-F:]+(\/\d{1,3})?)$/, { message: 'must be an IP address or CIDR block' });

export const apiKeyAuthConfig = z
  .object({
    /** header carrying the key */
    header: headerName.default('x-api-key'),
    /** optional query parameter carrying the key (removed before forwarding) */
    query: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/).optional(),
  })
  .strict();

export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512'] as const;

export const jwtIssuerConfig = z
  .object({
    issuer: z.string().min(1),
    /** where to fetch the issuer's keys; refreshed on an unknown `kid` */
    jwksUri: urlSchema.optional(),
    /** inline JWKS keys (public JWKs) instead of jwksUri */
    keys: z.array(z.record(z.string(), z.unknown())).optional(),
    audiences: z.array(z.string().min(1)).min(1, { message: 'name at least one audience' }),
    algorithms: z.array(z.enum(JWT_ALGORITHMS)).min(1).default(['RS256', 'ES256']),
    clockSkewSeconds: z.number().int().min(0).max(300).default(30),
  })
  .strict()
  .refine((i) => (i.jwksUri === undefined) !== (i.keys === undefined), { message: 'give exactly one of jwksUri or keys', path: ['jwksUri'] });

export const jwtAuthConfig = z
  .object({
    issuers: z.array(jwtIssuerConfig).min(1),
    /** copy claims into request headers for the upstream */
    claimsToHeaders: z.array(z.object({ claim: z.string().min(1), header: headerName }).strict()).default([]),
  })
  .strict();

export const subscriptionConfig = z.object({ required: z.boolean().default(true) }).strict();

export const rateLimitConfig = z
  .object({
    perSecond: z.number().int().positive().optional(),
    perMinute: z.number().int().positive().optional(),
    /** `consumer`: each application has its own budget; `route`: one budget shared by everyone */
    scope: z.enum(['consumer', 'route']).default('consumer'),
    /** when the shared counter store (Redis) cannot answer in time */
    failMode: z.enum(['open', 'closed']).default('open'),
  })
  .strict();

export const quotaConfig = z
  .object({ perDay: z.number().int().positive().optional(), perMonth: z.number().int().positive().optional(), failMode: z.enum(['open', 'closed']).default('open') })
  .strict();

export const requestValidationConfig = z
  .object({
    enabled: z.boolean().default(true),
    body: z.boolean().default(true),
    parameters: z.boolean().default(true),
    /** answer 404 for paths and methods the OpenAPI document does not describe */
    rejectUnknownOperations: z.boolean().default(true),
  })
  .strict();

export const corsConfig = z
  .object({
    allowOrigins: z.array(z.string().min(1)).min(1),
    allowMethods: z.array(z.string().regex(/^[A-Z]+$/)).default(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
    allowHeaders: z.array(headerName).default([]),
    exposeHeaders: z.array(headerName).default([]),
    allowCredentials: z.boolean().default(false),
    maxAgeSeconds: z.number().int().min(0).max(86400).default(600),
  })
  .strict();

/** a header value as it may go on the wire: no control characters but tab (no CR or LF to split a head with) */
const headerValue = z.string().max(4096).regex(/^[^\0-\x08\x0a-\x1f\x7f]*$/, { message: 'must not contain control characters' });

const headerEdits = z
  .object({
    add: z.record(headerName, headerValue).default({}),
    remove: z.array(headerName).default([]),
    rename: z.record(headerName, headerName).default({}),
  })
  .strict();

export const headersConfig = z.object({ request: headerEdits.optional(), response: headerEdits.optional() }).strict();

export const pathRewriteConfig = z
  .object({ /** what replaces the route prefix before forwarding; default '' (strip it) */ replacePrefix: z.string().regex(/^(\/[A-Za-z0-9._~{}-]*)*$/).default('') })
  .strict();

export const timeoutsConfig = z
  .object({ connectMs: z.number().int().min(1).max(60000).default(5000), requestMs: z.number().int().min(1).max(300000).default(30000) })
  .strict();

export const retriesConfig = z
  .object({
    attempts: z.number().int().min(0).max(5).default(2),
    /** statuses (and `connect-failure`, `timeout`) worth a retry */
    on: z.array(z.union([z.number().int().min(500).max(599), z.enum(['connect-failure', 'timeout'])])).default([502, 503, 504, 'connect-failure']),
    /** retries may add at most this share of the route's requests (a retry budget) */
    budgetPercent: z.number().int().min(0).max(100).default(20),
    /** only idempotent methods are retried unless listed */
    methods: z.array(z.string().regex(/^[A-Z]+$/)).default(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']),
  })
  .strict();

export const circuitBreakerConfig = z
  .object({
    /** consecutive upstream failures (5xx, connect errors, timeouts) that open the circuit */
    failureThreshold: z.number().int().min(1).max(1000).default(5),
    /** how long it stays open before letting one probe through */
    openSeconds: z.number().int().min(1).max(3600).default(30),
  })
  .strict();

export const trafficSplitConfig = z
  .object({ targets: z.array(z.object({ upstream: urlSchema, weight: z.number().int().min(0).max(100) }).strict()).min(2).max(10) })
  .strict()
  .refine((t) => t.targets.reduce((s, x) => s + x.weight, 0) > 0, { message: 'weights must not all be 0', path: ['targets'] });

export const ipFilterConfig = z.object({ allow: z.array(cidrSchema).default([]), deny: z.array(cidrSchema).default([]) }).strict();

/** Every policy id and its config schema. Adding a policy adds a line here. */
export const policyConfigs = {
  apiKeyAuth: apiKeyAuthConfig,
  jwtAuth: jwtAuthConfig,
  subscription: subscriptionConfig,
  rateLimit: rateLimitConfig,
  quota: quotaConfig,
  requestValidation: requestValidationConfig,
  cors: corsConfig,
  headers: headersConfig,
  pathRewrite: pathRewriteConfig,
  timeouts: timeoutsConfig,
  retries: retriesConfig,
  circuitBreaker: circuitBreakerConfig,
  trafficSplit: trafficSplitConfig,
  ipFilter: ipFilterConfig,
} as const;

export type PolicyId = keyof typeof policyConfigs;
export const POLICY_IDS = Object.keys(policyConfigs) as PolicyId[];

export type PolicyConfigs = { [K in PolicyId]?: z.infer<(typeof policyConfigs)[K]> };

export const policyTargetRef = z
  .object({
    kind: z.enum(['Environment', 'Api']),
    name: resourceName,
    /** Api targets: limit to one version */
    version: z.string().regex(VERSION_KEY_PATTERN).optional(),
    /** Api targets: limit to one operation (its operationId) */
    operation: z.string().min(1).max(200).optional(),
  })
  .strict()
  .refine((t) => t.kind === 'Api' || (t.version === undefined && t.operation === undefined), { message: 'version and operation apply to Api targets only', path: ['operation'] });

const policySections = Object.fromEntries(POLICY_IDS.map((id) => [id, (policyConfigs[id] as z.ZodType).optional()])) as { [K in PolicyId]: z.ZodOptional<(typeof policyConfigs)[K]> };

export const policySpec = z
  .object({ targetRef: policyTargetRef, description: z.string().max(4000).optional(), ...policySections })
  .strict()
  .refine((p) => POLICY_IDS.some((id) => p[id] !== undefined), { message: `set at least one policy: ${POLICY_IDS.join(', ')}`, path: ['targetRef'] });

export type PolicySpec = z.infer<typeof policySpec>;
