// The Store: resources, the API search index, the audit chain, tokens and idempotency records in one
// PostgreSQL schema, reached through PGlite (embedded, default) or a PostgreSQL server.
import { AsyncLocalStorage } from 'node:async_hooks';
import { API_VERSION, ApigovError, isKind, type AnyResource, type Kind } from '@apigov/model';
import { openPglite, openPostgres, quoteIdent, type Db, type Queryable, type Row } from './db.js';
import { migrate } from './migrations.js';
import { ISO_MS, appendAudit, jsonText, listAudit, verifyAudit, type AuditTail } from './audit.js';
import { indexApi, searchApis, unindexApi } from './search.js';
import { emitEvent, listEvents } from './events.js';
import * as wh from './webhooks.js';
import { deleteGroup, getGroup, listGroups, putGroup } from './identity-groups.js';
import { getSyncState, listSyncDesired, putSyncState, replaceSyncDesired } from './sync-state.js';
import { getSnapshot, getSnapshotHead, listErrorSamples, listGateways, operationUsage, putSnapshot, recordGatewayReport, usage } from './gateway-state.js';
import type {
  ErrorSampleRecord,
  SyncDesiredRow,
  SyncState,
  GatewayStatusRecord,
  SnapshotHead,
  SnapshotRecord,
  UsageRecord,
  OperationUsageRecord,
  AuditEvent,
  AuditInput,
  AuditVerification,
  AuditAnchor,
  IdempotentResponse,
  ListOptions,
  OpenStoreOptions,
  ResourceSpecRow,
  SearchPage,
  SearchQuery,
  Store,
  StoreTx,
  StoredResource,
  TokenRecord,
  RefreshRecord,
  SessionInfo,
  IdentityGroup,
  EventInput,
  EventRecord,
  EventQuery,
  DeliveryRecord,
  DeliveryState,
} from './types.js';

export const DEFAULT_DATA_DIR = './.apigov/data';

const RESOURCE_COLUMNS = `kind, name, metadata, spec, status, resource_version,
  ${ISO_MS('created_at')} AS created_at, ${ISO_MS('updated_at')} AS updated_at, created_by, updated_by`;

interface ResourceRow extends Row {
  kind: Kind;
  name: string;
  metadata: AnyResource['metadata'];
  spec: AnyResource['spec'];
  status: Record<string, unknown> | null;
  resource_version: number;
  created_at: string;
  updated_at: string;
  created_by: string;
  updated_by: string;
}

/** Status members the store writes itself; anything else in `status` is kept as given. */
const BOOKKEEPING = new Set(['resourceVersion', 'createdAt', 'updatedAt', 'createdBy', 'updatedBy']);

function toStored(r: ResourceRow): StoredResource {
  const bookkeeping = {
    resourceVersion: Number(r.resource_version),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    createdBy: r.created_by,
    updatedBy: r.updated_by,
  };
  const resource = { apiVersion: API_VERSION, kind: r.kind, metadata: r.metadata, spec: r.spec } as AnyResource;
  if (r.status !== null) resource.status = { ...r.status, ...bookkeeping };
  return { resource, ...bookkeeping };
}

function extraStatus(resource: AnyResource): string | null {
  const status = resource.status as Record<string, unknown> | undefined;
  if (status === undefined || status === null || typeof status !== 'object') return null;
  const extra = Object.fromEntries(Object.entries(status).filter(([k, v]) => !BOOKKEEPING.has(k) && v !== undefined));
  return Object.keys(extra).length === 0 ? null : JSON.stringify(extra);
}

function checkLimit(limit: unknown, what: string): void {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) {
    throw new ApigovError('APIGOV_ERR_INPUT_MALFORMED', `${what} must be a non-negative integer`);
  }
}

async function getResource(q: Queryable, kind: Kind, name: string): Promise<StoredResource | null> {
  const rows = await q.query<ResourceRow>(`SELECT ${RESOURCE_COLUMNS} FROM resources WHERE kind = $1 AND name = $2`, [kind, name]);
  return rows.length === 0 ? null : toStored(rows[0]);
}

async function listResources(q: Queryable, kind: Kind, options?: ListOptions): Promise<StoredResource[]> {
  const params: unknown[] = [kind];
  let sql = `SELECT ${RESOURCE_COLUMNS} FROM resources WHERE kind = $1`;
  if (options?.after !== undefined) {
    params.push(options.after);
    sql += ` AND name > $${params.length}`;
  }
  sql += ' ORDER BY name';
  if (options !== undefined) {
    checkLimit(options.limit, 'limit');
    params.push(options.limit);
    sql += ` LIMIT $${params.length}`;
  }
  return (await q.query<ResourceRow>(sql, params)).map(toStored);
}

interface TokenRow extends Row {
  user_name: string;
  prefix: string;
  expires_at: string | null;
  created_at: string;
  name: string | null;
  scopes: string[] | null;
  team: string | null;
  last_used_at: string | null;
  kind: string | null;
  session: SessionInfo | null;
}

const TOKEN_COLUMNS = `user_name, prefix, ${ISO_MS('expires_at')} AS expires_at, ${ISO_MS('created_at')} AS created_at, name, scopes, team, ${ISO_MS('last_used_at')} AS last_used_at, kind, session`;

function toToken(r: TokenRow): TokenRecord {
  const t: TokenRecord = { user: r.user_name, prefix: r.prefix, createdAt: r.created_at };
  if (r.expires_at !== null) t.expiresAt = r.expires_at;
  if (r.name !== null) t.name = r.name;
  if (r.scopes !== null) t.scopes = r.scopes;
  if (r.team !== null) t.team = r.team;
  if (r.last_used_at !== null) t.lastUsedAt = r.last_used_at;
  if (r.kind === 'session' || r.kind === 'refresh') t.kind = r.kind;
  if (r.session !== null) t.session = r.session;
  return t;
}

/** The transaction a caller is inside, so a store method called from within it fails fast instead of waiting for itself. */
const inTransaction = new AsyncLocalStorage<{ store: SqlStore; active: boolean }>();

/** How long idempotency records live, and when expired ones were last deleted (shared by a store's transactions). */
interface IdempotencyKeeping {
  readonly ttlSeconds: number;
  lastPurgeAt: number;
}

/** expired records are deleted at most this often (or once per TTL, if shorter), by the transaction that saves a record */
const IDEMPOTENCY_PURGE_EVERY_MS = 60_000;
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 86_400;
/** SQL for the moment before which an idempotency record has expired; parameter `$n` holds the TTL in seconds */
const idempotencyCutoff = (n: number): string => `now() - ($${n}::double precision * interval '1 second')`;

class SqlTx implements StoreTx {
  /** Resources written or deleted, for the embedded database's housekeeping. */
  writes = 0;

  constructor(
    private readonly q: Queryable,
    private readonly schema: string,
    private readonly idempotency: IdempotencyKeeping,
  ) {}

  get(kind: Kind, name: string): Promise<StoredResource | null> {
    return getResource(this.q, kind, name);
  }

  list(kind: Kind, options?: ListOptions): Promise<StoredResource[]> {
    return listResources(this.q, kind, options);
  }

  async put(resource: AnyResource, actor: string, expectedVersion?: number): Promise<StoredResource> {
    if (expectedVersion !== undefined && (!Number.isInteger(expectedVersion) || expectedVersion < 0)) {
      throw new ApigovError('APIGOV_ERR_INPUT_MALFORMED', `expected version must be a non-negative integer, not ${String(expectedVersion)}`);
    }
    if (!isKind(resource.kind)) throw new ApigovError('APIGOV_ERR_INPUT_INVALID', `unknown kind ${JSON.stringify(resource.kind)}`);
    const name = resource.metadata?.name;
    if (typeof name !== 'string' || name === '') throw new ApigovError('APIGOV_ERR_INPUT_INVALID', 'metadata.name is required');
    const kind = resource.kind;
    const values = [kind, name, JSON.stringify(resource.metadata), JSON.stringify(resource.spec), extraStatus(resource), actor];
    const target = `${kind} ${name}`;
    let rows: ResourceRow[];
    if (expectedVersion === 0) {
      rows = await this.q.query<ResourceRow>(
        `INSERT INTO resources AS r (kind, name, metadata, spec, status, resource_version, created_at, updated_at, created_by, updated_by)
         VALUES ($1, $2, $3::text::jsonb, $4::text::jsonb, $5::text::jsonb, 1, statement_timestamp(), statement_timestamp(), $6, $6)
         ON CONFLICT (kind, name) DO NOTHING
         RETURNING ${RESOURCE_COLUMNS}`,
        values,
      );
      if (rows.length === 0) throw new ApigovError('APIGOV_ERR_RESOURCE_CONFLICT', `${target} already exists`);
    } else if (expectedVersion === undefined) {
      rows = await this.q.query<ResourceRow>(
        `INSERT INTO resources AS r (kind, name, metadata, spec, status, resource_version, created_at, updated_at, created_by, updated_by)
         VALUES ($1, $2, $3::text::jsonb, $4::text::jsonb, $5::text::jsonb, 1, statement_timestamp(), statement_timestamp(), $6, $6)
         ON CONFLICT (kind, name) DO UPDATE SET metadata = excluded.metadata, spec = excluded.spec, status = excluded.status,
           resource_version = r.resource_version + 1, updated_at = excluded.updated_at, updated_by = excluded.updated_by
         RETURNING ${RESOURCE_COLUMNS}`,
        values,
      );
    } else {
      rows = await this.q.query<ResourceRow>(
        `UPDATE resources AS r SET metadata = $3::text::jsonb, spec = $4::text::jsonb, status = $5::text::jsonb,
           resource_version = r.resource_version + 1, updated_at = statement_timestamp(), updated_by = $6
         WHERE kind = $1 AND name = $2 AND resource_version = $7
         RETURNING ${RESOURCE_COLUMNS}`,
        [...values, expectedVersion],
      );
      if (rows.length === 0) {
        const current = await this.q.query<{ resource_version: number }>('SELECT resource_version FROM resources WHERE kind = $1 AND name = $2', [kind, name]);
        const detail =
          current.length === 0
            ? `${target} does not exist (expected version ${expectedVersion})`
            : `${target} is at version ${Number(current[0].resource_version)}, not ${expectedVersion}`;
        throw new ApigovError('APIGOV_ERR_RESOURCE_PRECONDITION', detail, {
          extensions: { currentVersion: current.length === 0 ? null : Number(current[0].resource_version) },
        });
      }
    }
    if (resource.kind === 'Api') await indexApi(this.q, resource);
    this.writes++;
    return toStored(rows[0]);
  }

  async delete(kind: Kind, name: string): Promise<StoredResource | null> {
    const rows = await this.q.query<ResourceRow>(`DELETE FROM resources WHERE kind = $1 AND name = $2 RETURNING ${RESOURCE_COLUMNS}`, [kind, name]);
    if (kind === 'Api') await unindexApi(this.q, name);
    if (rows.length > 0) this.writes++;
    return rows.length === 0 ? null : toStored(rows[0]);
  }

  /** The chain's tail once this transaction holds the audit lock: later events of the same transaction chain on from it. */
  private auditTail: AuditTail | undefined;

  async audit(event: AuditInput): Promise<AuditEvent> {
    const appended = await appendAudit(this.q, this.schema, event, this.auditTail);
    this.auditTail = { seq: appended.seq, hash: appended.hash, at: appended.at };
    return appended;
  }

  async putToken(tokenHash: string, record: TokenRecord, idpRefreshToken?: string): Promise<void> {
    await this.q.query(
      `INSERT INTO tokens (token_hash, user_name, prefix, expires_at, created_at, name, scopes, team, kind, session, idp_refresh) VALUES ($1, $2, $3, $4::text::timestamptz, $5::text::timestamptz, $6, $7::text[], $8, $9, $10::jsonb, $11)
       ON CONFLICT (token_hash) DO UPDATE SET user_name = excluded.user_name, prefix = excluded.prefix,
         expires_at = excluded.expires_at, created_at = excluded.created_at, name = excluded.name, scopes = excluded.scopes, team = excluded.team,
         kind = excluded.kind, session = excluded.session, idp_refresh = excluded.idp_refresh`,
      [tokenHash, record.user, record.prefix, record.expiresAt ?? null, record.createdAt, record.name ?? null, record.scopes ?? null, record.team ?? null, record.kind ?? null, record.session === undefined ? null : JSON.stringify(record.session), idpRefreshToken ?? null],
    );
  }

  emit(event: EventInput): Promise<EventRecord> {
    return emitEvent(this.q, this.schema, event);
  }

  listEvents(query: EventQuery): Promise<EventRecord[]> {
    return listEvents(this.q, query);
  }

  addWebhookSecret(webhook: string, secret: string, previousExpiresAt?: string): Promise<void> {
    return wh.addWebhookSecret(this.q, webhook, secret, previousExpiresAt);
  }

  webhookSecrets(webhook: string): Promise<string[]> {
    return wh.webhookSecrets(this.q, webhook);
  }

  forgetWebhook(webhook: string): Promise<void> {
    return wh.forgetWebhook(this.q, webhook);
  }

  lockCursor(id: string): Promise<number | undefined> {
    return wh.lockCursor(this.q, id);
  }

  setCursor(id: string, seq: number): Promise<void> {
    return wh.setCursor(this.q, id, seq);
  }

  maxEventSeq(): Promise<number> {
    return wh.maxEventSeq(this.q);
  }

  addDelivery(d: { id: string; webhook: string; eventSeq: number; eventType: string }): Promise<void> {
    return wh.addDelivery(this.q, d);
  }

  claimDeliveries(limit: number, leaseSeconds: number): Promise<DeliveryRecord[]> {
    return wh.claimDeliveries(this.q, limit, leaseSeconds);
  }

  finishAttempt(id: string, outcome: { state: DeliveryState; attempts: number; nextAt?: string; status?: number; error?: string }): Promise<void> {
    return wh.finishAttempt(this.q, id, outcome);
  }

  listDeliveries(filter: { id?: string; webhook?: string; states?: DeliveryState[]; since?: string; limit: number }): Promise<DeliveryRecord[]> {
    return wh.listDeliveries(this.q, filter);
  }

  replayDelivery(id: string): Promise<boolean> {
    return wh.replayDelivery(this.q, id);
  }

  putGroup(group: IdentityGroup): Promise<void> {
    return putGroup(this.q, group);
  }

  getGroup(id: string): Promise<IdentityGroup | null> {
    return getGroup(this.q, id);
  }

  listGroups(): Promise<IdentityGroup[]> {
    return listGroups(this.q);
  }

  deleteGroup(id: string): Promise<boolean> {
    return deleteGroup(this.q, id);
  }

  async takeToken(tokenHash: string): Promise<RefreshRecord | null> {
    const rows = await this.q.query<TokenRow & { idp_refresh: string | null }>(`DELETE FROM tokens WHERE token_hash = $1 RETURNING ${TOKEN_COLUMNS}, idp_refresh`, [tokenHash]);
    if (rows.length === 0) return null;
    const record: RefreshRecord = toToken(rows[0]);
    if (rows[0].idp_refresh !== null) record.idpRefreshToken = rows[0].idp_refresh;
    return record;
  }

  async deleteNamedToken(user: string, name: string): Promise<boolean> {
    return (await this.q.query('DELETE FROM tokens WHERE user_name = $1 AND name = $2 RETURNING token_hash', [user, name])).length > 0;
  }

  operationUsage(filter: { api: string; version: string; since: string }): Promise<OperationUsageRecord[]> {
    return operationUsage(this.q, filter);
  }

  getSyncState(): Promise<SyncState | null> {
    return getSyncState(this.q);
  }

  putSyncState(state: SyncState): Promise<void> {
    return putSyncState(this.q, state);
  }

  listSyncDesired(): Promise<SyncDesiredRow[]> {
    return listSyncDesired(this.q);
  }

  replaceSyncDesired(rows: readonly SyncDesiredRow[]): Promise<void> {
    return replaceSyncDesired(this.q, rows);
  }

  async deleteTokensOf(user: string): Promise<number> {
    return (await this.q.query('DELETE FROM tokens WHERE user_name = $1 RETURNING token_hash', [user])).length;
  }

  async saveIdempotent(key: string, actor: string, response: IdempotentResponse): Promise<void> {
    const ttl = this.idempotency.ttlSeconds;
    const now = Date.now();
    if (now - this.idempotency.lastPurgeAt >= Math.min(IDEMPOTENCY_PURGE_EVERY_MS, ttl * 1000)) {
      this.idempotency.lastPurgeAt = now;
      await this.q.query(`DELETE FROM idempotency WHERE created_at <= ${idempotencyCutoff(1)}`, [ttl]);
    }
    // a record past its time is replaced: the key is free again
    const inserted = await this.q.query(
      `INSERT INTO idempotency (key, actor, request_hash, status, body) VALUES ($1, $2, $3, $4, $5::text::jsonb)
       ON CONFLICT (key, actor) DO UPDATE SET request_hash = excluded.request_hash, status = excluded.status, body = excluded.body, created_at = now()
         WHERE idempotency.created_at <= ${idempotencyCutoff(6)}
       RETURNING key`,
      [key, actor, response.requestHash, response.status, jsonText(response.body), ttl],
    );
    if (inserted.length > 0) return;
    const [existing] = await this.q.query<{ request_hash: string }>('SELECT request_hash FROM idempotency WHERE key = $1 AND actor = $2', [key, actor]);
    if (existing !== undefined && existing.request_hash !== response.requestHash) {
      throw new ApigovError('APIGOV_ERR_IDEMPOTENCY_MISMATCH', `idempotency key ${JSON.stringify(key)} was already used for a different request`);
    }
    throw new ApigovError('APIGOV_ERR_RESOURCE_CONFLICT', `a request with idempotency key ${JSON.stringify(key)} has already completed; repeat it to get its response`);
  }
}

/** Deadlocks and serialisation failures: the work was rolled back and may simply be retried. */
const RETRYABLE = new Set(['40P01', '40001']);

/**
 * PGlite runs no autovacuum: without statistics the planner misjudges the search filters, and updated rows
 * leave dead versions behind. So the embedded store vacuums and analyzes its tables itself, in the background,
 * once the writes since the last run reach half the table (at least MAINTENANCE_MIN_WRITES).
 */
const MAINTENANCE_MIN_WRITES = 500;

export class SqlStore implements Store {
  private closed = false;
  private writesSinceMaintenance = 0;
  private rowsAtMaintenance = 0;
  private maintenance: Promise<void> | undefined;

  private readonly idempotency: IdempotencyKeeping;

  constructor(
    private readonly db: Db,
    readonly schema: string,
    idempotencyTtlSeconds = DEFAULT_IDEMPOTENCY_TTL_SECONDS,
  ) {
    this.idempotency = { ttlSeconds: idempotencyTtlSeconds, lastPurgeAt: 0 };
  }

  get dialect(): 'pglite' | 'postgres' {
    return this.db.dialect;
  }

  private outside(method: string): Db {
    if (this.closed) throw new ApigovError('APIGOV_ERR_UNAVAILABLE', 'the store is closed');
    const ctx = inTransaction.getStore();
    if (ctx !== undefined && ctx.active && ctx.store === this) {
      throw new ApigovError(
        'APIGOV_ERR_INTERNAL',
        `store.${method}() was called inside store.transaction(); use the transaction's own methods (the embedded database has one connection and would wait for itself)`,
      );
    }
    return this.db;
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const db = this.outside('transaction');
    const ctx = { store: this, active: true };
    let tx: SqlTx | undefined;
    try {
      const result = await db.transaction((q) => inTransaction.run(ctx, () => fn((tx = new SqlTx(q, this.schema, this.idempotency)))));
      if (tx !== undefined) this.noteWrites(tx.writes);
      return result;
    } catch (e) {
      const code = (e as { code?: unknown } | null)?.code;
      if (typeof code === 'string' && RETRYABLE.has(code)) {
        throw new ApigovError('APIGOV_ERR_UNAVAILABLE', 'the change collided with a concurrent one and was rolled back; retry it', { cause: e });
      }
      throw e;
    } finally {
      ctx.active = false;
    }
  }

  private noteWrites(n: number): void {
    if (this.db.dialect !== 'pglite' || n === 0) return;
    this.writesSinceMaintenance += n;
    if (this.maintenance !== undefined || this.writesSinceMaintenance < Math.max(MAINTENANCE_MIN_WRITES, this.rowsAtMaintenance / 2)) return;
    this.writesSinceMaintenance = 0;
    // queued behind the work already waiting; never awaited by the caller
    this.maintenance = (async () => {
      try {
        await this.db.exec('VACUUM ANALYZE resources, api_search');
        await this.db.exec('ANALYZE audit_events');
        const [row] = await this.db.query<{ n: number | string }>('SELECT count(*) AS n FROM resources');
        this.rowsAtMaintenance = Number(row.n);
      } catch {
        // closed meanwhile, or the next run will do it
      } finally {
        this.maintenance = undefined;
      }
    })();
  }

  get(kind: Kind, name: string): Promise<StoredResource | null> {
    return getResource(this.outside('get'), kind, name);
  }

  list(kind: Kind, options?: ListOptions): Promise<StoredResource[]> {
    return listResources(this.outside('list'), kind, options);
  }

  async listSpecs(kind: Kind, options: ListOptions): Promise<ResourceSpecRow[]> {
    checkLimit(options.limit, 'limit');
    const rows = await this.outside('listSpecs').query<{ name: string; spec: unknown; resource_version: number | string }>(
      'SELECT name, spec, resource_version FROM resources WHERE kind = $1 AND name > $2 ORDER BY name LIMIT $3',
      [kind, options.after ?? '', options.limit],
    );
    return rows.map((r) => ({ name: r.name, spec: r.spec, resourceVersion: Number(r.resource_version) }));
  }

  async count(kind: Kind): Promise<number> {
    const [row] = await this.outside('count').query<{ n: number | string }>('SELECT count(*) AS n FROM resources WHERE kind = $1', [kind]);
    return Number(row.n);
  }

  searchApis(query: SearchQuery): Promise<SearchPage> {
    return searchApis(this.outside('searchApis'), query);
  }

  async findToken(tokenHash: string): Promise<TokenRecord | null> {
    const rows = await this.outside('findToken').query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE token_hash = $1`, [tokenHash]);
    return rows.length === 0 ? null : toToken(rows[0]);
  }

  async touchToken(tokenHash: string, at: string): Promise<void> {
    await this.outside('touchToken').query('UPDATE tokens SET last_used_at = $2::text::timestamptz WHERE token_hash = $1', [tokenHash, at]);
  }

  async listTokens(user: string): Promise<TokenRecord[]> {
    const rows = await this.outside('listTokens').query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE user_name = $1 ORDER BY created_at, token_hash`, [user]);
    return rows.map(toToken);
  }

  async getIdempotent(key: string, actor: string): Promise<IdempotentResponse | null> {
    const rows = await this.outside('getIdempotent').query<{ request_hash: string; status: number; body: unknown }>(
      `SELECT request_hash, status, body FROM idempotency WHERE key = $1 AND actor = $2 AND created_at > ${idempotencyCutoff(3)}`,
      [key, actor, this.idempotency.ttlSeconds],
    );
    if (rows.length === 0) return null;
    return { requestHash: rows[0].request_hash, status: Number(rows[0].status), body: rows[0].body ?? null };
  }

  listAudit(options: { limit: number; beforeSeq?: number; actor?: string; kind?: string; name?: string; action?: string }): Promise<AuditEvent[]> {
    checkLimit(options.limit, 'limit');
    if (options.beforeSeq !== undefined) checkLimit(options.beforeSeq, 'beforeSeq');
    return listAudit(this.outside('listAudit'), options);
  }

  verifyAudit(anchor?: AuditAnchor): Promise<AuditVerification> {
    return verifyAudit(this.outside('verifyAudit'), anchor);
  }

  getSnapshot(environment: string): Promise<SnapshotRecord | null> {
    return getSnapshot(this.outside('getSnapshot'), environment);
  }

  getSnapshotHead(environment: string): Promise<SnapshotHead | null> {
    return getSnapshotHead(this.outside('getSnapshotHead'), environment);
  }

  putSnapshot(environment: string, hash: string, render: (version: number, generatedAt: string) => string): Promise<{ version: number; changed: boolean }> {
    return putSnapshot(this.outside('putSnapshot'), environment, hash, render);
  }

  recordGatewayReport(status: GatewayStatusRecord, usageRows: UsageRecord[], errors: ErrorSampleRecord[]): Promise<void> {
    return recordGatewayReport(this.outside('recordGatewayReport'), status, usageRows, errors);
  }

  listGateways(environment?: string): Promise<GatewayStatusRecord[]> {
    return listGateways(this.outside('listGateways'), environment);
  }

  usage(filter: { api?: string; environment?: string; application?: string; since: string }): Promise<UsageRecord[]> {
    return usage(this.outside('usage'), filter);
  }

  operationUsage(filter: { api: string; version: string; since: string }): Promise<OperationUsageRecord[]> {
    return operationUsage(this.outside('operationUsage'), filter);
  }

  getSyncState(): Promise<SyncState | null> {
    return getSyncState(this.outside('getSyncState'));
  }

  listEvents(query: EventQuery): Promise<EventRecord[]> {
    return listEvents(this.outside('listEvents'), query);
  }

  listSyncDesired(): Promise<SyncDesiredRow[]> {
    return listSyncDesired(this.outside('listSyncDesired'));
  }

  listErrorSamples(filter: { api?: string; environment?: string; limit: number }): Promise<ErrorSampleRecord[]> {
    return listErrorSamples(this.outside('listErrorSamples'), filter);
  }

  /** For tests and maintenance only (not part of `Store`): one raw SQL statement outside any transaction. */
  rawQuery<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    return this.outside('rawQuery').query<R>(sql, params);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.maintenance;
    await this.db.close();
  }
}

/** Runs one raw SQL statement on a store opened by `openStore` (tests and maintenance only). */
export function rawQuery<R extends Row = Row>(store: Store, sql: string, params?: readonly unknown[]): Promise<R[]> {
  if (!(store instanceof SqlStore)) throw new TypeError('rawQuery needs a store opened by openStore');
  return store.rawQuery<R>(sql, params);
}

/**
 * Opens the store: PostgreSQL when `databaseUrl` is given, else PGlite in `dataDir`; applies pending migrations.
 */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const schema = options.schema ?? 'public';
  if (schema === '' || schema.length > 63) throw new ApigovError('APIGOV_ERR_INPUT_MALFORMED', 'schema must be 1-63 characters');
  const ttl = options.idempotencyTtlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS;
  if (!(ttl > 0) || !Number.isFinite(ttl)) throw new ApigovError('APIGOV_ERR_INPUT_MALFORMED', 'idempotencyTtlSeconds must be a positive number of seconds');
  let db: Db;
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    db = await openPostgres(options.databaseUrl, schema);
  } else {
    db = await openPglite(options.dataDir ?? DEFAULT_DATA_DIR);
    if (schema !== 'public') await db.exec(`SET search_path TO ${quoteIdent(schema)}`);
  }
  try {
    await migrate(db, schema);
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
  return new SqlStore(db, schema, ttl);
}
