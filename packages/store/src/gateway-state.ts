// The control plane's record of its data plane: each environment's snapshot (versioned, content-hashed),
// each gateway's last report (applied version, rejections), per-minute usage and recent error samples.
import type { Db, Queryable, Row } from './db.js';
import { ISO_MS } from './audit.js';
import { LOCK_CLASS, lockKey } from './locks.js';
import type { ErrorSampleRecord, GatewayStatusRecord, OperationUsageRecord, SnapshotHead, SnapshotRecord, UsageRecord } from './types.js';

export const GATEWAY_STATE_MIGRATION = `
CREATE TABLE gateway_snapshots (
  environment text PRIMARY KEY,
  version bigint NOT NULL,
  hash text NOT NULL,
  generated_at timestamptz NOT NULL,
  body text NOT NULL
);
CREATE TABLE gateway_status (
  gateway text PRIMARY KEY,
  environment text NOT NULL,
  applied_version bigint NOT NULL,
  applied_hash text,
  rejected jsonb,
  started_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL
);
CREATE TABLE usage_minutes (
  minute timestamptz NOT NULL,
  environment text NOT NULL,
  api text NOT NULL,
  version text NOT NULL,
  application text NOT NULL,
  status_class text NOT NULL,
  count bigint NOT NULL,
  latency_sum_ms double precision NOT NULL,
  latency_buckets bigint[] NOT NULL,
  PRIMARY KEY (api, minute, environment, version, application, status_class)
);
CREATE INDEX usage_minutes_minute_idx ON usage_minutes (minute);
CREATE TABLE error_samples (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  environment text NOT NULL,
  gateway text NOT NULL,
  api text NOT NULL,
  version text NOT NULL,
  status integer NOT NULL,
  code text NOT NULL,
  request_id text NOT NULL,
  application text,
  method text NOT NULL,
  path text NOT NULL
);
CREATE INDEX error_samples_api_idx ON error_samples (api, id);
`;

/** Usage is kept per OpenAPI operation ('' when a request matched none), so a breaking change can name who calls what. */
export const USAGE_BY_OPERATION_MIGRATION = `
ALTER TABLE usage_minutes ADD COLUMN operation text NOT NULL DEFAULT '';
ALTER TABLE usage_minutes DROP CONSTRAINT usage_minutes_pkey;
ALTER TABLE usage_minutes ADD PRIMARY KEY (api, minute, environment, version, operation, application, status_class);
`;

/** How many error samples are kept per API (older ones are dropped as new ones arrive). */
export const ERROR_SAMPLES_KEPT = 1000;

interface SnapshotRow extends Row {
  environment: string;
  version: string | number;
  hash: string;
  generated_at: string;
  body: string;
}

const SNAPSHOT_COLUMNS = `environment, version, hash, ${ISO_MS('generated_at')} AS generated_at, body`;

function toSnapshot(r: SnapshotRow): SnapshotRecord {
  return { environment: r.environment, version: Number(r.version), hash: r.hash, generatedAt: r.generated_at, body: r.body };
}

export async function getSnapshot(q: Queryable, environment: string): Promise<SnapshotRecord | null> {
  const rows = await q.query<SnapshotRow>(`SELECT ${SNAPSHOT_COLUMNS} FROM gateway_snapshots WHERE environment = $1`, [environment]);
  return rows.length === 0 ? null : toSnapshot(rows[0]);
}

/** An environment's snapshot version and hash, without its (possibly tens of MB) body. */
export async function getSnapshotHead(q: Queryable, environment: string): Promise<SnapshotHead | null> {
  const rows = await q.query<{ version: string | number; hash: string }>('SELECT version, hash FROM gateway_snapshots WHERE environment = $1', [environment]);
  return rows.length === 0 ? null : { version: Number(rows[0]!.version), hash: rows[0]!.hash };
}

export async function putSnapshot(db: Db, environment: string, hash: string, render: (version: number, generatedAt: string) => string): Promise<{ version: number; changed: boolean }> {
  return db.transaction(async (q) => {
    await q.query('SELECT pg_advisory_xact_lock($1::int4, $2::int4)', [LOCK_CLASS, lockKey(`snapshot:${environment}`)]);
    const current = await getSnapshotHead(q, environment);
    if (current && current.hash === hash) return { version: current.version, changed: false };
    const version = (current?.version ?? 0) + 1;
    const generatedAt = new Date().toISOString();
    const body = render(version, generatedAt);
    await q.query(
      `INSERT INTO gateway_snapshots (environment, version, hash, generated_at, body) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (environment) DO UPDATE SET version = excluded.version, hash = excluded.hash, generated_at = excluded.generated_at, body = excluded.body`,
      [environment, version, hash, generatedAt, body],
    );
    return { version, changed: true };
  });
}

export async function recordGatewayReport(db: Db, s: GatewayStatusRecord, usage: UsageRecord[], errors: ErrorSampleRecord[]): Promise<void> {
  await db.transaction(async (q) => {
    await q.query(
      `INSERT INTO gateway_status (gateway, environment, applied_version, applied_hash, rejected, started_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (gateway) DO UPDATE SET environment = excluded.environment, applied_version = excluded.applied_version,
         applied_hash = excluded.applied_hash, rejected = excluded.rejected, started_at = excluded.started_at, last_seen_at = excluded.last_seen_at`,
      [s.gateway, s.environment, s.appliedVersion, s.appliedHash ?? null, s.rejected === undefined ? null : JSON.stringify(s.rejected), s.startedAt, s.lastSeenAt],
    );
    for (const u of usage) {
      await q.query(
        `INSERT INTO usage_minutes (minute, environment, api, version, application, status_class, count, latency_sum_ms, latency_buckets, operation)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (api, minute, environment, version, operation, application, status_class) DO UPDATE SET
           count = usage_minutes.count + excluded.count,
           latency_sum_ms = usage_minutes.latency_sum_ms + excluded.latency_sum_ms,
           latency_buckets = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0) FROM unnest(usage_minutes.latency_buckets, excluded.latency_buckets) AS t(a, b))`,
        [u.minute, u.environment, u.api, u.version, u.application ?? '', u.statusClass, u.count, u.latencySumMs, u.latencyBuckets, u.operation ?? ''],
      );
    }
    const apis = new Set<string>();
    for (const e of errors) {
      apis.add(e.api);
      await q.query(
        `INSERT INTO error_samples (at, environment, gateway, api, version, status, code, request_id, application, method, path) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [e.at, e.environment, e.gateway, e.api, e.version, e.status, e.code, e.requestId, e.application ?? null, e.method, e.path],
      );
    }
    for (const api of apis) {
      await q.query(`DELETE FROM error_samples WHERE api = $1 AND id <= (SELECT id FROM error_samples WHERE api = $1 ORDER BY id DESC OFFSET $2 LIMIT 1)`, [api, ERROR_SAMPLES_KEPT]);
    }
  });
}

export async function listGateways(q: Queryable, environment?: string): Promise<GatewayStatusRecord[]> {
  const rows = await q.query<{ gateway: string; environment: string; applied_version: string | number; applied_hash: string | null; rejected: { version: number; reason: string } | null; started_at: string; last_seen_at: string }>(
    `SELECT gateway, environment, applied_version, applied_hash, rejected, ${ISO_MS('started_at')} AS started_at, ${ISO_MS('last_seen_at')} AS last_seen_at
     FROM gateway_status WHERE $1::text IS NULL OR environment = $1 ORDER BY environment, gateway`,
    [environment ?? null],
  );
  return rows.map((r) => ({
    gateway: r.gateway,
    environment: r.environment,
    appliedVersion: Number(r.applied_version),
    ...(r.applied_hash !== null && { appliedHash: r.applied_hash }),
    ...(r.rejected !== null && { rejected: r.rejected }),
    startedAt: r.started_at,
    lastSeenAt: r.last_seen_at,
  }));
}

/** Requests per (environment, application, operation) of one API version since a time: who calls what. */
export async function operationUsage(q: Queryable, f: { api: string; version: string; since: string }): Promise<OperationUsageRecord[]> {
  const rows = await q.query<{ environment: string; application: string; operation: string; count: string | number }>(
    `SELECT environment, application, operation, sum(count) AS count FROM usage_minutes
     WHERE api = $1 AND version = $2 AND minute >= $3
     GROUP BY environment, application, operation ORDER BY environment, application, operation`,
    [f.api, f.version, f.since],
  );
  return rows.map((r) => ({
    environment: r.environment,
    ...(r.application !== '' && { application: r.application }),
    ...(r.operation !== '' && { operation: r.operation }),
    requests: Number(r.count),
  }));
}

export async function usage(q: Queryable, f: { api?: string; environment?: string; application?: string; since: string }): Promise<UsageRecord[]> {
  const rows = await q.query<{ minute: string; environment: string; api: string; version: string; operation: string; application: string; status_class: UsageRecord['statusClass']; count: string | number; latency_sum_ms: number; latency_buckets: Array<string | number> }>(
    `SELECT ${ISO_MS('minute')} AS minute, environment, api, version, operation, application, status_class, count, latency_sum_ms, latency_buckets
     FROM usage_minutes
     WHERE minute >= $1 AND ($2::text IS NULL OR api = $2) AND ($3::text IS NULL OR environment = $3) AND ($4::text IS NULL OR application = $4)
     ORDER BY minute, api, environment, version, operation, application, status_class`,
    [f.since, f.api ?? null, f.environment ?? null, f.application ?? null],
  );
  return rows.map((r) => ({
    minute: r.minute,
    environment: r.environment,
    api: r.api,
    version: r.version,
    ...(r.operation !== '' && { operation: r.operation }),
    ...(r.application !== '' && { application: r.application }),
    statusClass: r.status_class,
    count: Number(r.count),
    latencySumMs: Number(r.latency_sum_ms),
    latencyBuckets: r.latency_buckets.map(Number),
  }));
}

export async function listErrorSamples(q: Queryable, f: { api?: string; environment?: string; limit: number }): Promise<ErrorSampleRecord[]> {
  const rows = await q.query<{ at: string; environment: string; gateway: string; api: string; version: string; status: number; code: string; request_id: string; application: string | null; method: string; path: string }>(
    `SELECT ${ISO_MS('at')} AS at, environment, gateway, api, version, status, code, request_id, application, method, path
     FROM error_samples WHERE ($1::text IS NULL OR api = $1) AND ($2::text IS NULL OR environment = $2) ORDER BY id DESC LIMIT $3`,
    [f.api ?? null, f.environment ?? null, f.limit],
  );
  return rows.map((r) => ({
    at: r.at,
    environment: r.environment,
    gateway: r.gateway,
    api: r.api,
    version: r.version,
    status: Number(r.status),
    code: r.code,
    requestId: r.request_id,
    ...(r.application !== null && { application: r.application }),
    method: r.method,
    path: r.path,
  }));
}
