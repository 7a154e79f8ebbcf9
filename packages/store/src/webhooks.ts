// Webhook delivery state: each webhook's signing secrets (kept apart from the resource, never exported), the
// fan-out cursor over the event outbox, and one delivery row per (webhook, event) that workers claim with a lease
// under FOR UPDATE SKIP LOCKED, so several control planes deliver each event once.
import type { Queryable, Row } from './db.js';
import { ISO_MS } from './audit.js';
import type { DeliveryRecord, DeliveryState } from './types.js';

export const WEBHOOKS_MIGRATION = `
CREATE TABLE webhook_secrets (
  webhook text NOT NULL,
  secret text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  PRIMARY KEY (webhook, secret)
);
CREATE TABLE event_cursors (
  id text PRIMARY KEY,
  seq bigint NOT NULL
);
CREATE TABLE deliveries (
  id text PRIMARY KEY,
  webhook text NOT NULL,
  event_seq bigint NOT NULL,
  event_type text NOT NULL,
  state text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_at timestamptz NOT NULL,
  lease_until timestamptz,
  last_status integer,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (webhook, event_seq)
);
CREATE INDEX deliveries_due_idx ON deliveries (state, next_at);
CREATE INDEX deliveries_webhook_idx ON deliveries (webhook, created_at);
`;

interface DeliveryRow extends Row {
  id: string;
  webhook: string;
  event_seq: number | string;
  event_type: string;
  state: DeliveryState;
  attempts: number;
  next_at: string;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

const COLUMNS = `id, webhook, event_seq, event_type, state, attempts, ${ISO_MS('next_at')} AS next_at, last_status, last_error, ${ISO_MS('created_at')} AS created_at, ${ISO_MS('updated_at')} AS updated_at`;

function toDelivery(r: DeliveryRow): DeliveryRecord {
  return {
    id: r.id,
    webhook: r.webhook,
    eventSeq: Number(r.event_seq),
    eventType: r.event_type,
    state: r.state,
    attempts: r.attempts,
    nextAt: r.next_at,
    ...(r.last_status !== null && { lastStatus: r.last_status }),
    ...(r.last_error !== null && { lastError: r.last_error }),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export async function addWebhookSecret(q: Queryable, webhook: string, secret: string, previousExpiresAt?: string): Promise<void> {
  // a rotation: the secrets already there stay valid until then (receivers accept either), or go at once
  if (previousExpiresAt === undefined) await q.query('DELETE FROM webhook_secrets WHERE webhook = $1', [webhook]);
  else await q.query('UPDATE webhook_secrets SET expires_at = $2::text::timestamptz WHERE webhook = $1 AND (expires_at IS NULL OR expires_at > $2::text::timestamptz)', [webhook, previousExpiresAt]);
  await q.query('INSERT INTO webhook_secrets (webhook, secret) VALUES ($1, $2)', [webhook, secret]);
}

/** The secrets valid now, newest first. */
export async function webhookSecrets(q: Queryable, webhook: string): Promise<string[]> {
  const rows = await q.query<{ secret: string }>('SELECT secret FROM webhook_secrets WHERE webhook = $1 AND (expires_at IS NULL OR expires_at > now()) ORDER BY created_at DESC', [webhook]);
  return rows.map((r) => r.secret);
}

export async function forgetWebhook(q: Queryable, webhook: string): Promise<void> {
  await q.query('DELETE FROM webhook_secrets WHERE webhook = $1', [webhook]);
  await q.query('DELETE FROM deliveries WHERE webhook = $1', [webhook]);
}

/** The fan-out cursor, locked for the rest of the transaction (one replica fans out at a time). */
export async function lockCursor(q: Queryable, id: string): Promise<number | undefined> {
  const rows = await q.query<{ seq: number | string }>('SELECT seq FROM event_cursors WHERE id = $1 FOR UPDATE', [id]);
  return rows.length === 0 ? undefined : Number(rows[0]!.seq);
}

export async function setCursor(q: Queryable, id: string, seq: number): Promise<void> {
  await q.query('INSERT INTO event_cursors (id, seq) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq', [id, seq]);
}

export async function maxEventSeq(q: Queryable): Promise<number> {
  const rows = await q.query<{ seq: number | string | null }>('SELECT max(seq) AS seq FROM events');
  return Number(rows[0]?.seq ?? 0);
}

export async function addDelivery(q: Queryable, d: { id: string; webhook: string; eventSeq: number; eventType: string }): Promise<void> {
  await q.query(`INSERT INTO deliveries (id, webhook, event_seq, event_type, state, next_at) VALUES ($1, $2, $3, $4, 'pending', now()) ON CONFLICT (webhook, event_seq) DO NOTHING`, [d.id, d.webhook, d.eventSeq, d.eventType]);
}

/** Claims up to `limit` due deliveries for `leaseSeconds`: no other worker takes them meanwhile. */
export async function claimDeliveries(q: Queryable, limit: number, leaseSeconds: number): Promise<DeliveryRecord[]> {
  const rows = await q.query<DeliveryRow>(
    `UPDATE deliveries SET lease_until = now() + ($2::int * interval '1 second'), updated_at = now()
      WHERE id IN (SELECT id FROM deliveries WHERE state IN ('pending', 'retrying') AND next_at <= now() AND (lease_until IS NULL OR lease_until < now())
                    ORDER BY next_at, event_seq LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING ${COLUMNS}`,
    [limit, leaseSeconds],
  );
  return rows.map(toDelivery).sort((a, b) => a.eventSeq - b.eventSeq);
}

export async function finishAttempt(q: Queryable, id: string, outcome: { state: DeliveryState; attempts: number; nextAt?: string; status?: number; error?: string }): Promise<void> {
  await q.query(
    `UPDATE deliveries SET state = $2, attempts = $3, next_at = COALESCE($4::text::timestamptz, next_at), last_status = $5, last_error = $6, lease_until = NULL, updated_at = now() WHERE id = $1`,
    [id, outcome.state, outcome.attempts, outcome.nextAt ?? null, outcome.status ?? null, outcome.error ?? null],
  );
}

export async function listDeliveries(q: Queryable, filter: { id?: string; webhook?: string; states?: DeliveryState[]; since?: string; limit: number }): Promise<DeliveryRecord[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.id !== undefined) {
    params.push(filter.id);
    where.push(`id = $${params.length}`);
  }
  if (filter.webhook !== undefined) {
    params.push(filter.webhook);
    where.push(`webhook = $${params.length}`);
  }
  if (filter.states !== undefined) {
    params.push(filter.states);
    where.push(`state = ANY($${params.length}::text[])`);
  }
  if (filter.since !== undefined) {
    params.push(filter.since);
    where.push(`created_at >= $${params.length}::text::timestamptz`);
  }
  params.push(filter.limit);
  return (await q.query<DeliveryRow>(`SELECT ${COLUMNS} FROM deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY event_seq DESC LIMIT $${params.length}`, params)).map(toDelivery);
}

/** Sends a delivery again from its first attempt (a dead letter replayed); false when there is none. */
export async function replayDelivery(q: Queryable, id: string): Promise<boolean> {
  return (await q.query(`UPDATE deliveries SET state = 'pending', attempts = 0, next_at = now(), lease_until = NULL, last_error = NULL, updated_at = now() WHERE id = $1 RETURNING id`, [id])).length > 0;
}
