// Events over REST: the catalog of types (GET /v1/events/types) and the events themselves in commit order, each
// visible to whoever may see its subject (its teams, everyone signed in for a public or internal API's), with a
// long-poll (`wait`) for `apigov events --follow`.
import type { FastifyInstance } from 'fastify';
import type { EventRecord } from '@apigov/store';
import { requireSignedIn, type Principal } from '../auth.js';
import { pageLimit, query, type Deps } from '../http.js';
import { eventTypesDocument, EVENT_TYPES } from '../events/catalog.js';
import { membershipsOf } from '../rbac.js';
import { invalidField } from '../problem.js';

/** The event as it leaves apigov (REST, webhooks): the envelope every type shares. */
export function eventEnvelope(e: EventRecord): Record<string, unknown> {
  return { id: e.id, seq: e.seq, type: e.type, time: e.at, actor: e.actor, subject: e.subject, data: e.data };
}

export function eventVisibleTo(p: Principal, e: EventRecord): boolean {
  if (p.admin) return true;
  if (p.anonymous) return false;
  if (e.public) return true;
  const mine = new Set(membershipsOf(p).map((m) => m.team));
  return e.teams.some((t) => mine.has(t));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function registerEventRoutes(app: FastifyInstance, deps: Deps): void {
  app.get('/v1/events/types', async () => eventTypesDocument());

  app.get('/v1/events', async (request) => {
    const p = request.principal;
    requireSignedIn(p);
    const q = query(request);
    const limit = pageLimit(q.limit, 100);
    const types = q.type === undefined ? undefined : q.type.split(',').map((t) => t.trim()).filter(Boolean);
    for (const t of types ?? []) if (!(t in EVENT_TYPES)) throw invalidField('type', `unknown event type '${t}'; GET /v1/events/types lists them`);
    const after = q.after === undefined ? undefined : Number(q.after);
    if (after !== undefined && (!Number.isInteger(after) || after < 0)) throw invalidField('after', 'must be an event sequence number');
    if (q.since !== undefined && Number.isNaN(Date.parse(q.since))) throw invalidField('since', 'must be a time like 2026-12-01T00:00:00Z');
    const wait = q.wait === undefined ? 0 : Number(q.wait);
    if (!Number.isFinite(wait) || wait < 0 || wait > 60) throw invalidField('wait', 'must be a number of seconds from 0 to 60');
    const deadline = Date.now() + wait * 1000;
    let cursor = after;
    for (;;) {
      const items: EventRecord[] = [];
      // a page of what this caller may see, reading past what they may not
      for (let pages = 0; pages < 20 && items.length < limit; pages++) {
        const batch = await deps.store.listEvents({ ...(cursor !== undefined && { afterSeq: cursor }), ...(q.since !== undefined && { since: new Date(q.since).toISOString() }), ...(types !== undefined && { types }), limit: 500 });
        if (batch.length === 0) break;
        for (const e of batch) {
          cursor = e.seq;
          if (eventVisibleTo(p, e)) items.push(e);
          if (items.length === limit) break;
        }
        if (batch.length < 500) break;
      }
      if (items.length > 0 || Date.now() >= deadline) return { items: items.map(eventEnvelope), ...(cursor !== undefined && { next: cursor }) };
      await sleep(Math.min(250, Math.max(0, deadline - Date.now())));
    }
  });
}
