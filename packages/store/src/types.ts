// The store's contract: what the control plane may ask of the database (PGlite or PostgreSQL).
import type { AnyResource, Kind, LifecycleState, Visibility } from '@apigov/model';

/** A resource as stored: its declarative part plus server-written bookkeeping. */
export interface StoredResource<R extends AnyResource = AnyResource> {
  resource: R;
  /** Increments on every change; the ETag of the resource. Starts at 1. */
  resourceVersion: number;
  createdAt: string; // ISO timestamp
  updatedAt: string;
  createdBy: string;
  updatedBy: string;
}

/** What one audit event says; the store adds seq, time, prev_hash and hash. */
export interface AuditInput {
  actor: string;
  action: string; // e.g. 'create', 'update', 'delete', 'publish', 'deprecate', 'retire', 'token.issue', 'apply'
  kind: string; // target kind (or 'Token', 'Apply')
  name: string; // target name
  before: unknown | null;
  after: unknown | null;
  requestId: string;
}

export interface AuditEvent extends AuditInput {
  seq: number;
  at: string; // ISO timestamp with ms, UTC
  prevHash: string; // hex; 64 zeros for the first event
  hash: string; // hex sha256(prevHash ‖ canonicalJson({seq, at, actor, action, kind, name, before, after, requestId}))
}

/**
 * An event of the chain recorded outside the store (seq and hash, as `audit verify` prints them): a later
 * verification with it proves the chain still holds that event, unchanged, so events cannot be cut from the end
 * or history rewritten up to it without notice.
 */
export interface AuditAnchor {
  seq: number;
  hash: string;
}

export type AuditVerification =
  | { ok: true; count: number; lastHash: string }
  | { ok: false; count: number; seq: number; reason: string };

/** The part of a stored resource a compiler reads. */
export interface ResourceSpecRow {
  name: string;
  spec: unknown;
  resourceVersion: number;
}

export interface ListOptions {
  /** Keyset cursor: return names strictly after this one (ordered by name). */
  after?: string;
  limit: number;
}

/** Who is searching: visibility filters are applied inside the query. */
export interface SearchViewer {
  admin: boolean;
  teams: string[]; // teams whose team-only APIs the viewer may see
  anonymous: boolean; // anonymous viewers see only `public` APIs
}

export interface SearchQuery {
  text?: string; // full text; words are ANDed, each as a prefix
  team?: string;
  tag?: string;
  environment?: string;
  state?: LifecycleState;
  viewer: SearchViewer;
  limit: number;
  /** Opaque cursor returned by a previous page. */
  cursor?: string;
}

export interface SearchHit {
  name: string;
  title: string;
  description?: string;
  owner: string;
  tags: string[];
  visibility: Visibility;
  /** Every (version, environment, state), e.g. [{version:'v1', environment:'dev', state:'published'}] */
  states: Array<{ version: string; environment: string; state: LifecycleState }>;
  rank: number;
}

export interface SearchPage {
  items: SearchHit[];
  nextCursor?: string;
  total: number;
}

export interface TokenRecord {
  user: string;
  prefix: string; // first 8 chars of the token, for display
  expiresAt?: string;
  createdAt: string;
  /** a named (service-account) token: what `apigov tokens` lists and revokes it by */
  name?: string;
  /** what the token may do (on top of its owner's rights); absent: everything its owner may */
  scopes?: string[];
  /** the team the token acts for */
  team?: string;
  lastUsedAt?: string;
  /** absent: a token; `session`: a single sign-on session (portal cookie or CLI); `refresh`: renews a CLI session */
  kind?: 'session' | 'refresh';
  /** how the person signed in at the identity provider (sessions and refresh tokens) */
  session?: SessionInfo;
}

export interface SessionInfo {
  provider: string;
  /** seconds since the epoch: the ID token's auth_time */
  authTime: number;
  acr?: string;
  amr?: string[];
  /** who the session is for: the portal (a cookie) or the CLI (a bearer token with a refresh token) */
  client: 'portal' | 'cli';
}

/** What a change tells the world: written by the change's transaction (the outbox). */
export interface EventInput {
  /** assigned when absent: evt_<uuid> */
  id?: string;
  type: string;
  actor: string;
  /** what the event is about */
  subject: { kind: string; name: string; version?: string; environment?: string };
  /** the teams the event concerns (the API's owner, the application's team): who sees it besides platform admins */
  teams?: string[];
  /** about a public or internal API: any signed-in person sees it */
  public?: boolean;
  data?: Record<string, unknown>;
}

export interface EventRecord extends Required<Omit<EventInput, 'data'>> {
  seq: number;
  at: string;
  data: Record<string, unknown>;
}

export interface EventQuery {
  afterSeq?: number;
  since?: string;
  types?: string[];
  limit: number;
}

export type DeliveryState = 'pending' | 'retrying' | 'delivered' | 'failed';

/** One event on its way to one webhook. */
export interface DeliveryRecord {
  /** the Standard Webhooks message id (webhook-id): msg_… */
  id: string;
  webhook: string;
  eventSeq: number;
  eventType: string;
  state: DeliveryState;
  attempts: number;
  nextAt: string;
  lastStatus?: number;
  lastError?: string;
  createdAt: string;
  updatedAt: string;
}

/** A group as an identity provider provisions it over SCIM. */
export interface IdentityGroup {
  id: string;
  displayName: string;
  externalId?: string;
  createdAt: string;
  updatedAt: string;
}

/** A refresh token as taken (deleted) for its single use, with the identity provider's own refresh token. */
export interface RefreshRecord extends TokenRecord {
  idpRefreshToken?: string;
}

export interface IdempotentResponse {
  requestHash: string;
  status: number;
  body: unknown;
}

/** Where a Git-managed resource comes from (also kept in the resource's status.source). */
export interface SyncSource {
  repo: string;
  /** the file, relative to the repository root */
  path: string;
  commit: string;
  author?: string;
}

/** The GitOps sync's settings and its last outcome. */
export interface SyncState {
  repo: string;
  branch: string;
  path: string;
  onDrift: 'allow' | 'warn' | 'reject';
  selfHeal: boolean;
  prune: boolean;
  /** the last sync run, applied or refused */
  last?: { commit: string; author?: string; at: string; created: number; updated: number; deleted: number; unchanged: number; healed: number; refused?: { reason: string } };
  /** the last commit applied */
  lastGood?: { commit: string; author?: string; at: string };
}

/** What the last good commit declares for one resource. */
export interface SyncDesiredRow {
  kind: Kind;
  name: string;
  path: string;
  commit: string;
  desired: unknown;
}

/** Reads and writes inside one transaction. Every mutation appends its audit event through `audit`. */
export interface StoreTx {
  get(kind: Kind, name: string): Promise<StoredResource | null>;
  list(kind: Kind, options?: ListOptions): Promise<StoredResource[]>;
  /**
   * Creates or replaces a resource. `expectedVersion`: undefined = no check; 0 = must not exist
   * (else APIGOV_ERR_RESOURCE_CONFLICT); n = must currently be at version n (else APIGOV_ERR_RESOURCE_PRECONDITION).
   * Keeps the API search index in step when kind is Api.
   */
  put(resource: AnyResource, actor: string, expectedVersion?: number): Promise<StoredResource>;
  /** Deletes; returns what was deleted or null when absent. Removes the API from the search index. */
  delete(kind: Kind, name: string): Promise<StoredResource | null>;
  audit(event: AuditInput): Promise<AuditEvent>;
  /** requests per (environment, application, operation) of one API version since `since` (read in the transaction) */
  operationUsage(filter: { api: string; version: string; since: string }): Promise<OperationUsageRecord[]>;
  getSyncState(): Promise<SyncState | null>;
  putSyncState(state: SyncState): Promise<void>;
  listSyncDesired(): Promise<SyncDesiredRow[]>;
  replaceSyncDesired(rows: readonly SyncDesiredRow[]): Promise<void>;
  /** stores a token; `idpRefreshToken` is kept beside a refresh token and never listed */
  putToken(tokenHash: string, record: TokenRecord, idpRefreshToken?: string): Promise<void>;
  /** deletes one token (sign-out, refresh rotation); the record when there was one, the IdP refresh token included */
  takeToken(tokenHash: string): Promise<RefreshRecord | null>;
  /** appends an event to the outbox, committed or rolled back with the rest of the transaction */
  emit(event: EventInput): Promise<EventRecord>;
  /** events after a sequence number, read in the transaction */
  listEvents(query: EventQuery): Promise<EventRecord[]>;
  /** webhook delivery state (webhooks.ts) */
  addWebhookSecret(webhook: string, secret: string, previousExpiresAt?: string): Promise<void>;
  webhookSecrets(webhook: string): Promise<string[]>;
  forgetWebhook(webhook: string): Promise<void>;
  lockCursor(id: string): Promise<number | undefined>;
  setCursor(id: string, seq: number): Promise<void>;
  maxEventSeq(): Promise<number>;
  addDelivery(d: { id: string; webhook: string; eventSeq: number; eventType: string }): Promise<void>;
  claimDeliveries(limit: number, leaseSeconds: number): Promise<DeliveryRecord[]>;
  finishAttempt(id: string, outcome: { state: DeliveryState; attempts: number; nextAt?: string; status?: number; error?: string }): Promise<void>;
  listDeliveries(filter: { id?: string; webhook?: string; states?: DeliveryState[]; since?: string; limit: number }): Promise<DeliveryRecord[]>;
  replayDelivery(id: string): Promise<boolean>;
  putGroup(group: IdentityGroup): Promise<void>;
  getGroup(id: string): Promise<IdentityGroup | null>;
  listGroups(): Promise<IdentityGroup[]>;
  deleteGroup(id: string): Promise<boolean>;
  deleteTokensOf(user: string): Promise<number>;
  /** revokes a user's named token; false when there is none */
  deleteNamedToken(user: string, name: string): Promise<boolean>;
  saveIdempotent(key: string, actor: string, response: IdempotentResponse): Promise<void>;
}

export interface Store extends GatewayStateStore {
  /** 'pglite' or 'postgres' */
  readonly dialect: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction: all of it commits or none of it does (an exception rolls back). */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  get(kind: Kind, name: string): Promise<StoredResource | null>;
  list(kind: Kind, options?: ListOptions): Promise<StoredResource[]>;
  /** A kind's names, specs and versions only (what compilers read), ordered by name: about 3× cheaper than list. */
  listSpecs(kind: Kind, options: ListOptions): Promise<ResourceSpecRow[]>;
  count(kind: Kind): Promise<number>;
  searchApis(query: SearchQuery): Promise<SearchPage>;
  findToken(tokenHash: string): Promise<TokenRecord | null>;
  listTokens(user: string): Promise<TokenRecord[]>;
  /** records when a token was last used (at most about once a minute per token) */
  touchToken(tokenHash: string, at: string): Promise<void>;
  getIdempotent(key: string, actor: string): Promise<IdempotentResponse | null>;
  /** Newest first when `beforeSeq` given or by default; filters are exact matches. */
  listAudit(options: { limit: number; beforeSeq?: number; actor?: string; kind?: string; name?: string; action?: string }): Promise<AuditEvent[]>;
  /** checks the hash chain from its start; with `anchor`, also that it still holds that event unchanged */
  verifyAudit(anchor?: AuditAnchor): Promise<AuditVerification>;
  getSyncState(): Promise<SyncState | null>;
  listSyncDesired(): Promise<SyncDesiredRow[]>;
  /** events in commit order */
  listEvents(query: EventQuery): Promise<EventRecord[]>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** PostgreSQL connection string; when absent, PGlite in `dataDir`. */
  databaseUrl?: string;
  /** PGlite data directory (default ./.apigov/data); 'memory://' for an in-memory database. */
  dataDir?: string;
  /** PostgreSQL schema to use (created if missing); lets tests isolate themselves. Default 'public'. */
  schema?: string;
  /** how long an Idempotency-Key's response is kept and replayed (default 86,400 s: a day); after that the key is free again */
  idempotencyTtlSeconds?: number;
}

/** An environment's snapshot version and content hash. */
export interface SnapshotHead {
  version: number;
  hash: string;
}

/** One environment's compiled gateway snapshot as stored. */
export interface SnapshotRecord {
  environment: string;
  version: number;
  hash: string;
  generatedAt: string;
  /** the snapshot document as JSON text, exactly as gateways receive it */
  body: string;
}

/** What a gateway last told the control plane about itself. */
export interface GatewayStatusRecord {
  gateway: string;
  environment: string;
  appliedVersion: number;
  appliedHash?: string;
  rejected?: { version: number; reason: string };
  startedAt: string;
  lastSeenAt: string;
}

/** Requests of one minute for one (environment, api, version, application, status class). */
export interface UsageRecord {
  minute: string;
  environment: string;
  api: string;
  version: string;
  /** the OpenAPI operation, `METHOD /path/{template}`; absent when the request matched none */
  operation?: string;
  application?: string;
  statusClass: '1xx' | '2xx' | '3xx' | '4xx' | '5xx';
  count: number;
  latencySumMs: number;
  /** counts per latency bucket, in the order of LATENCY_BUCKETS_MS plus one overflow bucket */
  latencyBuckets: number[];
}

/** Requests of one (environment, application, operation) of an API version, summed over a window. */
export interface OperationUsageRecord {
  environment: string;
  application?: string;
  operation?: string;
  requests: number;
}

export interface ErrorSampleRecord {
  at: string;
  environment: string;
  gateway: string;
  api: string;
  version: string;
  status: number;
  code: string;
  requestId: string;
  application?: string;
  method: string;
  path: string;
}

/** Gateway snapshots, gateway health and usage: the control plane's side of the data plane. */
export interface GatewayStateStore {
  getSnapshot(environment: string): Promise<SnapshotRecord | null>;
  /** the version and hash only: what a poll or a drift check needs, without reading the body */
  getSnapshotHead(environment: string): Promise<SnapshotHead | null>;
  /**
   * Stores a snapshot as the environment's next version unless its hash equals the one in force.
   * `render(version, generatedAt)` makes the JSON text. Serialised across control planes by an advisory lock.
   */
  putSnapshot(environment: string, hash: string, render: (version: number, generatedAt: string) => string): Promise<{ version: number; changed: boolean }>;
  recordGatewayReport(status: GatewayStatusRecord, usage: UsageRecord[], errors: ErrorSampleRecord[]): Promise<void>;
  listGateways(environment?: string): Promise<GatewayStatusRecord[]>;
  usage(filter: { api?: string; environment?: string; application?: string; since: string }): Promise<UsageRecord[]>;
  /** requests per (environment, application, operation) of one API version since `since` */
  operationUsage(filter: { api: string; version: string; since: string }): Promise<OperationUsageRecord[]>;
  listErrorSamples(filter: { api?: string; environment?: string; limit: number }): Promise<ErrorSampleRecord[]>;
}
