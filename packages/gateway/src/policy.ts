// The shape every gateway policy has (definePolicy), the fixed phases it runs in, and the per-request
// context the pipeline hands it. A policy compiles its config once per snapshot; `handle` runs per request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode, FieldError, GatewaySnapshot, PolicyConfigs, PolicyId, SnapshotOperation, SnapshotRoute } from '@apigov/model';
import type { CounterStore } from './counters/types.js';
import type { SnapshotAuthTables } from './auth/consumers.js';

/** The fixed phases of the request path, in order (ARCHITECTURE.md, "The gateway's request path"). */
export const PHASES = ['onRequest', 'authenticate', 'authorize', 'limit', 'validate', 'transform', 'upstream', 'respond'] as const;
export type Phase = (typeof PHASES)[number];

/** Who is calling, once authentication has run. */
export interface Consumer {
  application: string;
  team: string;
  /** the Credential resource that matched (api-key) */
  credential?: string;
  /** JWT subject, when authenticated by a token */
  subject?: string;
}

export interface RejectOptions {
  headers?: Record<string, string>;
  errors?: FieldError[];
}

/** Per-request state shared by the phases of one request. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: SnapshotRoute;
  /** the key, binding and subscription tables of the snapshot serving this request (looked up per request, so a
   *  compiled route can serve the next snapshot's tables without being compiled again) */
  readonly auth: SnapshotAuthTables;
  /** the matched operation of the route's OpenAPI document, if any */
  readonly operation: SnapshotOperation | undefined;
  readonly requestId: string;
  /** client address, from X-Forwarded-For only when the peer is a trusted proxy */
  readonly clientIp: string;
  /** performance.now() when the request arrived (ms) */
  readonly startedAt: number;
  /** the request path without the route prefix, plus the query string: what the upstream receives */
  upstreamPath: string;
  /** path parameters matched by the router (`{id}` → value) */
  readonly params: Readonly<Record<string, string | undefined>>;
  /** the query string, parsed on first use */
  query(): URLSearchParams;
  /** the methods the route's operations take at this request's path (none when no operation has the path); for 405 */
  allowedMethods(): string[];
  consumer: Consumer | undefined;
  /** the plan of the consumer's subscription to this route, set by the subscription policy */
  plan: string | undefined;
  /** request headers to set (lower-case names) on the upstream request */
  readonly setRequestHeaders: Record<string, string>;
  /** request header names (lower-case) not to forward */
  readonly removeRequestHeaders: Set<string>;
  /** headers added to whatever the gateway answers: RateLimit-*, CORS, Deprecation, … */
  readonly responseHeaders: Array<[string, string]>;
  /** the request body, when a policy had to read it (validation); the upstream then receives these bytes */
  body: Buffer | undefined;
  /** reads the whole request body once (bounded by the gateway's body limit) and keeps it in `body` */
  readBody(): Promise<Buffer>;
  /** answers with application/problem+json (the code's status, stable type, request id) and stops the pipeline */
  reject(code: ErrorCode, detail: string, options?: RejectOptions): void;
  /** true once a policy has answered (reject or its own response) */
  readonly done: boolean;
}

export interface CompiledPolicy {
  /** sync where it can be; return a promise only when it must wait */
  handle(ctx: RequestContext): void | Promise<void>;
  /** request headers (lower-case) never forwarded on a route with this policy: stripped once per pipeline, not per request */
  readonly stripRequestHeaders?: readonly string[];
}

/** What a policy may use while compiling. Nothing here reaches the control plane or a database. */
export interface PolicyDeps {
  snapshot: GatewaySnapshot;
  counters: CounterStore;
  /** warnings become part of the gateway's report */
  warn(message: string): void;
}

export interface PolicyDefinition<K extends PolicyId = PolicyId> {
  /** the policy id, as in YAML, snapshot and metrics */
  id: K;
  phase: Phase;
  /** order inside the phase; lower runs first; no silent default */
  priority: number;
  /**
   * Off the hot path, once per route (and per operation with its own overrides) per snapshot.
   * Throws to reject the snapshot. Returns null when the config makes the policy a no-op.
   */
  compile(config: NonNullable<PolicyConfigs[K]>, route: SnapshotRoute, operation: SnapshotOperation | undefined, deps: PolicyDeps): CompiledPolicy | null;
}

export function definePolicy<K extends PolicyId>(definition: PolicyDefinition<K>): PolicyDefinition<K> {
  return definition;
}
