// The audit trail's hash chain: how an event is hashed, appended under a lock, read back and verified.
import { createHash } from 'node:crypto';
import { canonicalJson } from '@apigov/model';
import type { Queryable, Row } from './db.js';
import { LOCK_CLASS, lockKey } from './locks.js';
import type { AuditAnchor, AuditEvent, AuditInput, AuditVerification } from './types.js';

export const GENESIS_HASH = '0'.repeat(64);
const VERIFY_PAGE = 1000;

/** ISO 8601 UTC with milliseconds, computed by the database so every replica shares one clock. */
export const ISO_MS = (col: string): string => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The JSON value as it will come back from jsonb (undefined → null, Dates → strings, etc.). */
export function jsonValue(value: unknown): unknown {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  return text === undefined ? null : (JSON.parse(text) as unknown);
}

export function auditHash(prevHash: string, e: Omit<AuditEvent, 'hash' | 'prevHash'>): string {
  const body = canonicalJson({
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    action: e.action,
    kind: e.kind,
    name: e.name,
    before: jsonValue(e.before),
    after: jsonValue(e.after),
    requestId: e.requestId,
  });
  return createHash('sha256').update(prevHash + body).digest('hex');
}

const AUDIT_COLUMNS = `seq, ${ISO_MS('at')} AS at, actor, action, kind, name, before, after, request_id, prev_hash, hash`;

interface AuditRow extends Row {
  seq: number | string;
  at: string;
  actor: string;
  action: string;
  kind: string;
  name: string;
  before: unknown;
  after: unknown;
  request_id: string;
  prev_hash: string;
  hash: string;
}

function toEvent(r: AuditRow): AuditEvent {
  return {
    seq: Number(r.seq),
    at: r.at,
    actor: r.actor,
    action: r.action,
    kind: r.kind,
    name: r.name,
    before: r.before ?? null,
    after: r.after ?? null,
    requestId: r.request_id,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** The last event this transaction appended (it holds the audit lock, so nobody else appends meanwhile). */
export interface AuditTail {
  seq: number;
  hash: string;
  at: string;
}

/**
 * Appends one event inside the caller's transaction; the lock is held until that transaction ends.
 * With `tail` (the previous event this same transaction appended) the lock and the read of the chain's end are skipped.
 */
export async function appendAudit(q: Queryable, schema: string, input: AuditInput, tail?: AuditTail): Promise<AuditEvent> {
  for (const field of ['actor', 'action', 'kind', 'name', 'requestId'] as const) {
    if (typeof input[field] !== 'string') throw new TypeError(`audit event field ${field} must be a string`);
  }
  let head: { seq: number | string | null; hash: string | null; now: string };
  if (tail !== undefined) {
    // never earlier than the event before it, so the chain's times never go backwards
    const now = new Date().toISOString();
    head = { seq: tail.seq, hash: tail.hash, now: now > tail.at ? now : tail.at };
  } else {
    await q.query('SELECT pg_advisory_xact_lock($1::int4, $2::int4)', [LOCK_CLASS, lockKey(`audit:${schema}`)]);
    // a new statement, so its snapshot sees every event committed before we got the lock
    [head] = await q.query<{ seq: number | string | null; hash: string | null; now: string }>(
      `SELECT last.seq, last.hash, ${ISO_MS('clock_timestamp()')} AS now
         FROM (SELECT 1) one LEFT JOIN (SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1) last ON true`,
    );
  }
  const seq = head.seq === null ? 1 : Number(head.seq) + 1;
  const prevHash = head.hash ?? GENESIS_HASH;
  const before = jsonValue(input.before);
  const after = jsonValue(input.after);
  const event: Omit<AuditEvent, 'hash'> = {
    seq,
    at: head.now,
    actor: input.actor,
    action: input.action,
    kind: input.kind,
    name: input.name,
    before,
    after,
    requestId: input.requestId,
    prevHash,
  };
  const hash = auditHash(prevHash, event);
  await q.query(
    `INSERT INTO audit_events (seq, at, actor, action, kind, name, before, after, request_id, prev_hash, hash)
     VALUES ($1, $2::text::timestamptz, $3, $4, $5, $6, $7::text::jsonb, $8::text::jsonb, $9, $10, $11)`,
    [seq, event.at, event.actor, event.action, event.kind, event.name, jsonText(before), jsonText(after), event.requestId, prevHash, hash],
  );
  return { ...event, hash };
}

/** jsonb parameter text; SQL NULL for null so `before`/`after` of a create/delete stay NULL. */
export function jsonText(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

export interface AuditFilter {
  limit: number;
  beforeSeq?: number;
  actor?: string;
  kind?: string;
  name?: string;
  action?: string;
}

export async function listAudit(q: Queryable, options: AuditFilter): Promise<AuditEvent[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (cond: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(cond(`$${params.length}`));
  };
  if (options.beforeSeq !== undefined) add((p) => `seq < ${p}::int8`, options.beforeSeq);
  if (options.actor !== undefined) add((p) => `actor = ${p}`, options.actor);
  if (options.kind !== undefined) add((p) => `kind = ${p}`, options.kind);
  if (options.name !== undefined) add((p) => `name = ${p}`, options.name);
  if (options.action !== undefined) add((p) => `action = ${p}`, options.action);
  params.push(options.limit);
  const rows = await q.query<AuditRow>(
    `SELECT ${AUDIT_COLUMNS} FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map(toEvent);
}

/**
 * Walks the whole chain in seq order, a page at a time, and names the first event that does not hold; with an
 * anchor, the event at its seq must carry its hash, and the chain must reach it.
 */
export async function verifyAudit(q: Queryable, anchor?: AuditAnchor): Promise<AuditVerification> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let count = 0;
  for (;;) {
    const rows = await q.query<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE seq >= $1::int8 ORDER BY seq LIMIT $2`, [expectedSeq, VERIFY_PAGE]);
    for (const row of rows) {
      const e = toEvent(row);
      if (e.seq !== expectedSeq) {
        const missing = e.seq - expectedSeq === 1 ? `seq ${expectedSeq}` : `seqs ${expectedSeq}-${e.seq - 1}`;
        return { ok: false, count, seq: e.seq, reason: `gap before seq ${e.seq} (event deleted: ${missing} missing)` };
      }
      if (e.prevHash !== prevHash) {
        return { ok: false, count, seq: e.seq, reason: `prev_hash mismatch at seq ${e.seq} (chain broken)` };
      }
      if (auditHash(e.prevHash, e) !== e.hash) {
        return { ok: false, count, seq: e.seq, reason: `hash mismatch at seq ${e.seq} (event altered)` };
      }
      if (anchor !== undefined && e.seq === anchor.seq && e.hash !== anchor.hash) {
        return { ok: false, count, seq: e.seq, reason: `seq ${e.seq} is not the anchored event (its hash differs: history rewritten)` };
      }
      prevHash = e.hash;
      expectedSeq = e.seq + 1;
      count++;
    }
    if (rows.length < VERIFY_PAGE) {
      if (anchor !== undefined && expectedSeq <= anchor.seq) {
        return { ok: false, count, seq: expectedSeq, reason: `the chain ends at seq ${expectedSeq - 1}, before the anchored seq ${anchor.seq} (events deleted from its end)` };
      }
      return { ok: true, count, lastHash: prevHash };
    }
  }
}
