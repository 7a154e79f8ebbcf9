// The gateway snapshot: everything one environment's gateways need, compiled by the control plane into one
// immutable, versioned, content-hashed document. Gateways validate it with `gatewaySnapshot` before use.
import { z } from 'zod';
import { policyConfigs, POLICY_IDS, type PolicyConfigs } from './policy.js';

export const SNAPSHOT_SCHEMA_VERSION = 1;

const policiesSchema = z.object(Object.fromEntries(POLICY_IDS.map((id) => [id, (policyConfigs[id] as z.ZodType).optional()])) as Record<string, z.ZodOptional<z.ZodType>>).strict();

/** One operation of the route's OpenAPI document, with what validation needs already extracted. */
export const snapshotOperation = z
  .object({
    /** operationId, or `METHOD path` when the document has none */
    id: z.string().min(1),
    method: z.string().regex(/^[A-Z]+$/),
    /** OpenAPI path template relative to the route prefix, e.g. `/payments/{id}` */
    path: z.string().startsWith('/'),
    /** JSON Schemas (draft 2020-12 / OpenAPI 3.1 flavour, $refs resolved or pointing into `schemas`) */
    parameters: z
      .array(
        z.object({ name: z.string(), in: z.enum(['path', 'query', 'header', 'cookie']), required: z.boolean(), schema: z.record(z.string(), z.unknown()).optional() }).strict(),
      )
      .default([]),
    requestBody: z
      .object({ required: z.boolean(), content: z.record(z.string(), z.object({ schema: z.record(z.string(), z.unknown()).optional() }).strict()) })
      .strict()
      .optional(),
    /** per-operation policy overrides (already merged with the route's: the effective config for this operation) */
    policies: policiesSchema.optional(),
  })
  .strict();

export const snapshotRoute = z
  .object({
    /** `api/version`, e.g. `payments/v1` */
    id: z.string().min(1),
    api: z.string().min(1),
    version: z.string().min(1),
    /** where the gateway serves it, e.g. `/payments/v1`; stripped before forwarding unless pathRewrite says otherwise */
    prefix: z.string().startsWith('/'),
    state: z.enum(['published', 'deprecated', 'retired']),
    upstream: z.string().url(),
    /** RFC 9745 / RFC 8594 headers for deprecated versions */
    deprecation: z
      .object({
        deprecated: z.literal(true),
        deprecatedAt: z.string().optional(),
        sunset: z.string().optional(),
        successorPrefix: z.string().optional(),
        /** windows (ISO start and end) in which the gateway answers 410 Gone */
        brownouts: z.array(z.object({ start: z.string(), end: z.string() }).strict()).max(50).optional(),
      })
      .strict()
      .optional(),
    /** effective policies of the route (platform > environment > api > version), one config per policy id */
    policies: policiesSchema,
    /** shared JSON Schemas referenced by operations as `#/components/schemas/X` (3.x) or `#/definitions/X` (2.0) */
    schemas: z.record(z.string(), z.unknown()).default({}),
    operations: z.array(snapshotOperation).default([]),
  })
  .strict();

export const snapshotConsumer = z
  .object({
    application: z.string(),
    team: z.string(),
    /** approved, unexpired subscriptions in this environment: route id → plan name (+ expiry) */
    subscriptions: z.record(z.string(), z.object({ plan: z.string(), expiresAt: z.string().optional() }).strict()),
  })
  .strict();

/** the lookup key of an API key in `apiKeys`: sha256 of the key, hex */
export const apiKeyDigest = z.string().regex(/^[0-9a-f]{64}$/);
/** the credential an API key belongs to */
export const snapshotApiKey = z.object({ credential: z.string(), application: z.string(), expiresAt: z.string().optional() }).strict();

export const gatewaySnapshot = z
  .object({
    schemaVersion: z.literal(SNAPSHOT_SCHEMA_VERSION),
    environment: z.string(),
    /** increases with every change to this environment's snapshot */
    version: z.number().int().positive(),
    /** sha256 (hex) of the canonical JSON of everything but version, hash and generatedAt */
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    generatedAt: z.string(),
    routes: z.array(snapshotRoute),
    /** application name → who it is and what it may call */
    consumers: z.record(z.string(), snapshotConsumer),
    /** sha256(hex) of an API key → the credential that owns it */
    apiKeys: z.record(apiKeyDigest, snapshotApiKey),
    /** JWT identities: `issuer` + (`subject` | `clientId`) → application */
    jwtBindings: z.array(z.object({ issuer: z.string(), subject: z.string().optional(), clientId: z.string().optional(), application: z.string() }).strict()),
    plans: z.record(
      z.string(),
      z
        .object({
          rateLimit: z.object({ perSecond: z.number().int().positive().optional(), perMinute: z.number().int().positive().optional() }).strict().optional(),
          quota: z.object({ perDay: z.number().int().positive().optional(), perMonth: z.number().int().positive().optional() }).strict().optional(),
        })
        .strict(),
    ),
    /** what the compiler could not express or had to override, for operators */
    warnings: z.array(z.string()).default([]),
  })
  .strict();

export type SnapshotOperation = z.infer<typeof snapshotOperation>;
export type SnapshotRoute = Omit<z.infer<typeof snapshotRoute>, 'policies'> & { policies: PolicyConfigs };
export type SnapshotConsumer = z.infer<typeof snapshotConsumer>;
export type GatewaySnapshot = Omit<z.infer<typeof gatewaySnapshot>, 'routes'> & { routes: SnapshotRoute[] };

/**
 * The members of a snapshot that grow with the number of APIs, applications and keys: a gateway checks their
 * entries one by one (between requests) with these, and everything else at once with `snapshotFrame`.
 */
export const SNAPSHOT_COLLECTIONS = ['routes', 'consumers', 'apiKeys'] as const;
/** the snapshot without its large collections */
export const snapshotFrame = gatewaySnapshot.omit({ routes: true, consumers: true, apiKeys: true });
/** the schemas of one key and one value of the record-valued collections */
export const snapshotRecordEntries: Record<'consumers' | 'apiKeys', { key: z.ZodType<string>; value: z.ZodType }> = {
  consumers: { key: z.string(), value: snapshotConsumer },
  apiKeys: { key: apiKeyDigest, value: snapshotApiKey },
};

/** What a gateway reports to the control plane, in batches. */
export const gatewayReport = z
  .object({
    gateway: z.string().min(1).max(200),
    environment: z.string(),
    appliedVersion: z.number().int().min(0),
    appliedHash: z.string().optional(),
    /** last snapshot refused, and why */
    rejected: z.object({ version: z.number().int(), reason: z.string() }).strict().optional(),
    startedAt: z.string(),
    usage: z
      .array(
        z
          .object({
            /** minute bucket start, ISO */
            minute: z.string(),
            api: z.string(),
            version: z.string(),
            route: z.string(),
            /** the OpenAPI operation matched, `METHOD /path/{template}`; absent when none matched */
            operation: z.string().max(2100).optional(),
            application: z.string().optional(),
            statusClass: z.enum(['1xx', '2xx', '3xx', '4xx', '5xx']),
            count: z.number().int().min(0),
            latencySumMs: z.number().min(0),
            /** histogram buckets (upper bounds in ms) → counts, same bounds in every report */
            latencyBuckets: z.record(z.string(), z.number().int().min(0)),
          })
          .strict(),
      )
      .max(10000)
      .default([]),
    /** recent errors for `apigov errors`, redacted */
    errors: z
      .array(z.object({ at: z.string(), api: z.string(), version: z.string(), status: z.number().int(), code: z.string(), requestId: z.string(), application: z.string().optional(), method: z.string(), path: z.string() }).strict())
      .max(1000)
      .default([]),
    /** a sample of recent requests for `apigov logs` (status < 400 included), redacted */
    requests: z
      .array(z.object({ at: z.string(), api: z.string(), version: z.string(), status: z.number().int(), requestId: z.string(), application: z.string().optional(), method: z.string(), path: z.string(), durationMs: z.number().min(0) }).strict())
      .max(1000)
      .default([]),
  })
  .strict();

export type GatewayReport = z.infer<typeof gatewayReport>;
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;
