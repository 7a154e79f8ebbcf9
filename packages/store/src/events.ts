// The event outbox: events written by the same transaction as the change they describe (so none is lost and none
// is sent for a rolled-back change), numbered in commit order (they take the audit chain's lock), read by sequence.
import { randomUUID } from 'node:crypto';
import type { Queryable, Row } from './db.js';
import { ISO_MS } from './audit.js';
import { LOCK_CLASS, lockKey } from './locks.js';
import type { EventInput, EventRecord, EventQuery } from './types.js';

export const EVENTS_MIGRATION = `
CREATE TABLE events (
  seq bigserial PRIMARY KEY,
  id text NOT NULL UNIQUE,
  type text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  subject jsonb NOT NULL,
  teams text[] NOT NULL DEFAULT '{}',
  public boolean NOT NULL DEFAULT false,
  data jsonb NOT NULL
);
CREATE INDEX events_type_idx ON events (type, seq);
CREATE INDEX events_at_idx ON events (at);
`;

interface EventRow extends Row {
  seq: number | string;
  id: string;
  type: string;
  at: string;
  actor: string;
  subject: EventRecord['subject'];
  teams: string[];
  public: boolean;
  data: Record<string, unknown>;
}

const COLUMNS = `seq, id, type, ${ISO_MS('at')} AS at, actor, subject, teams, public, data`;

function toEvent(r: EventRow): EventRecord {
  return { seq: Number(r.seq), id: r.id, type: r.type, at: r.at, actor: r.actor, subject: r.subject, teams: r.teams, public: r.public, data: r.data };
}

/** Appends an event inside the caller's transaction; sequence numbers follow commit order (the audit lock). */
export async function emitEvent(q: Queryable, schema: string, e: EventInput): Promise<EventRecord> {
  await q.query('SELECT pg_advisory_xact_lock($1::int4, $2::int4)', [LOCK_CLASS, lockKey(`audit:${schema}`)]);
  const rows = await q.query<EventRow>(
    `INSERT INTO events (id, type, at, actor, subject, teams, public, data) VALUES ($1, $2, clock_timestamp(), $3, $4::jsonb, $5::text[], $6, $7::jsonb) RETURNING ${COLUMNS}`,
    [e.id ?? `evt_${randomUUID()}`, e.type, e.actor, JSON.stringify(e.subject), e.teams ?? [], e.public ?? false, JSON.stringify(e.data ?? {})],
  );
  return toEvent(rows[0]!);
}

/** Events after a sequence number (or since a time), oldest first, optionally of some types. */
export async function listEvents(q: Queryable, query: EventQuery): Promise<EventRecord[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (query.afterSeq !== undefined) {
    params.push(query.afterSeq);
    where.push(`seq > $${params.length}`);
  }
  if (query.since !== undefined) {
    params.push(query.since);
    where.push(`at >= $${params.length}::text::timestamptz`);
  }
  if (query.types !== undefined && query.types.length > 0) {
    params.push(query.types);
    where.push(`type = ANY($${params.length}::text[])`);
  }
  params.push(query.limit);
  const sql = `SELECT ${COLUMNS} FROM events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT $${params.length}`;
  return (await q.query<EventRow>(sql, params)).map(toEvent);
}
