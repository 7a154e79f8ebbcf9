// The store's conformance suite: the same behaviour asserted against every backend (PGlite in memory,
// PGlite on disk, PostgreSQL). Each backend's test file calls `storeConformance` with a factory.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApigovError, canonicalJson, type AnyResource } from '@apigov/model';
import type { AuditEvent, OpenStoreOptions, SearchQuery, SearchViewer, Store } from '../src/index.js';
import { migrations, openStore } from '../src/index.js';
import { rawQuery } from '../src/store.js';
import { makeApi, makeEnvironment, makeTeam } from './fixtures.js';

export interface StoreFactory {
  /** Label used in test names, e.g. 'pglite memory'. */
  label: string;
  /** Opens a fresh, empty store (its own database, data dir or schema), with these options added. */
  open(options?: Pick<OpenStoreOptions, 'idempotencyTtlSeconds'>): Promise<Store>;
  /** Closes `store` and opens the same database again, if the backend keeps data across opens. */
  reopen?(store: Store): Promise<Store>;
  /** Removes everything `open` created (called once, after the suite). */
  cleanup?(): Promise<void>;
}

export async function expectCode(p: Promise<unknown>, code: string): Promise<ApigovError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(ApigovError);
  expect((err as ApigovError).code).toBe(code);
  return err as ApigovError;
}

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function expectedHash(e: AuditEvent): string {
  const { seq, at, actor, action, kind, name, before, after, requestId } = e;
  return createHash('sha256')
    .update(e.prevHash + canonicalJson({ seq, at, actor, action, kind, name, before, after, requestId }))
    .digest('hex');
}

const admin: SearchViewer = { admin: true, teams: [], anonymous: false };
const anonymous: SearchViewer = { admin: false, teams: [], anonymous: true };
const member = (...teams: string[]): SearchViewer => ({ admin: false, teams, anonymous: false });

export function storeConformance(factory: StoreFactory): void {
  describe(`store conformance: ${factory.label}`, () => {
    const opened: Store[] = [];
    async function fresh(): Promise<Store> {
      const s = await factory.open();
      opened.push(s);
      return s;
    }
    // resources, tokens and idempotency share one store; groups that count audit events or tamper with them get their own
    let main: Promise<Store> | undefined;
    const mainStore = (): Promise<Store> => (main ??= fresh());
    afterAll(async () => {
      for (const s of opened) await s.close();
      await factory.cleanup?.();
    });

    describe('opening', () => {
      it('applies every migration once and records it', async () => {
        const store = await mainStore();
        const rows = await rawQuery<{ version: number; name: string }>(store, 'SELECT version, name FROM schema_migrations ORDER BY version');
        expect(rows.map((r) => Number(r.version))).toEqual(migrations.map((m) => m.version));
        expect(['pglite', 'postgres']).toContain(store.dialect);
      });

      it.runIf(factory.reopen !== undefined)('reopening finds the data and the audit chain intact and applies nothing new', async () => {
        let store = await factory.open();
        const api = makeApi({ name: 'reopen-me', owner: 'payments', description: 'Survives a restart' });
        await store.transaction(async (tx) => {
          const after = await tx.put(api, 'alice', 0);
          await tx.audit({ actor: 'alice', action: 'create', kind: 'Api', name: 'reopen-me', before: null, after: after.resource, requestId: 'req-1' });
        });
        const before = await rawQuery<{ version: number; applied_at: string }>(store, 'SELECT version, applied_at::text AS applied_at FROM schema_migrations ORDER BY version');
        store = await factory.reopen!(store);
        opened.push(store);
        const after = await rawQuery<{ version: number; applied_at: string }>(store, 'SELECT version, applied_at::text AS applied_at FROM schema_migrations ORDER BY version');
        expect(after).toEqual(before);
        expect((await store.get('Api', 'reopen-me'))?.resource).toEqual(api);
        expect((await store.searchApis({ text: 'restart', viewer: admin, limit: 10 })).items.map((h) => h.name)).toEqual(['reopen-me']);
        const v1 = await store.verifyAudit();
        expect(v1).toMatchObject({ ok: true, count: 1 });
        const e2 = await store.transaction((tx) => tx.audit({ actor: 'bob', action: 'update', kind: 'Api', name: 'reopen-me', before: null, after: null, requestId: 'req-2' }));
        expect(e2.seq).toBe(2);
        expect(e2.prevHash).toBe(v1.ok ? v1.lastHash : '');
        expect(await store.verifyAudit()).toEqual({ ok: true, count: 2, lastHash: e2.hash });
      });
    });

    describe('resources', () => {
      let store: Store;
      beforeAll(async () => {
        store = await mainStore();
      });

      it('creates with expectedVersion 0, reads back the same document and bookkeeping', async () => {
        const api = makeApi({ name: 'payments', owner: 'payments-team', description: 'Take card payments', tags: ['billing'] });
        const created = await store.transaction((tx) => tx.put(api, 'alice', 0));
        expect(created.resourceVersion).toBe(1);
        expect(created.createdBy).toBe('alice');
        expect(created.updatedBy).toBe('alice');
        expect(created.createdAt).toMatch(ISO_MS);
        expect(created.updatedAt).toBe(created.createdAt);
        expect(created.resource).toEqual(api);
        const got = await store.get('Api', 'payments');
        expect(got).toEqual(created);
        expect(await store.get('Team', 'payments')).toBeNull();
        expect(await store.get('Api', 'nope')).toBeNull();
      });

      it('refuses a second create with APIGOV_ERR_RESOURCE_CONFLICT', async () => {
        const err = await expectCode(store.transaction((tx) => tx.put(makeApi({ name: 'payments' }), 'mallory', 0)), 'APIGOV_ERR_RESOURCE_CONFLICT');
        expect(err.status).toBe(409);
        expect((await store.get('Api', 'payments'))?.createdBy).toBe('alice');
      });

      it('updates at the expected version, keeps creation bookkeeping, increments the version', async () => {
        const changed = makeApi({ name: 'payments', owner: 'payments-team', title: 'Payments v2', tags: ['billing', 'cards'] });
        const updated = await store.transaction((tx) => tx.put(changed, 'bob', 1));
        expect(updated.resourceVersion).toBe(2);
        expect(updated.createdBy).toBe('alice');
        expect(updated.updatedBy).toBe('bob');
        expect(updated.resource.spec).toEqual(changed.spec);
        expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(updated.createdAt));
      });

      it('refuses a stale or impossible expected version with APIGOV_ERR_RESOURCE_PRECONDITION', async () => {
        const err = await expectCode(store.transaction((tx) => tx.put(makeApi({ name: 'payments' }), 'carol', 1)), 'APIGOV_ERR_RESOURCE_PRECONDITION');
        expect(err.status).toBe(412);
        expect(err.message).toContain('version 2');
        await expectCode(store.transaction((tx) => tx.put(makeApi({ name: 'ghost' }), 'carol', 3)), 'APIGOV_ERR_RESOURCE_PRECONDITION');
        expect(await store.get('Api', 'ghost')).toBeNull();
        expect((await store.get('Api', 'payments'))?.resourceVersion).toBe(2);
      });

      it('rejects a malformed expected version', async () => {
        await expectCode(store.transaction((tx) => tx.put(makeApi({ name: 'payments' }), 'carol', -1)), 'APIGOV_ERR_INPUT_MALFORMED');
        await expectCode(store.transaction((tx) => tx.put(makeApi({ name: 'payments' }), 'carol', 1.5)), 'APIGOV_ERR_INPUT_MALFORMED');
      });

      it('upserts without an expected version', async () => {
        const a = await store.transaction((tx) => tx.put(makeTeam('ledger'), 'alice'));
        expect(a.resourceVersion).toBe(1);
        const b = await store.transaction((tx) => tx.put(makeTeam('ledger', 'The Ledger Team'), 'bob'));
        expect(b.resourceVersion).toBe(2);
        expect(b.createdBy).toBe('alice');
        expect((b.resource.spec as { displayName?: string }).displayName).toBe('The Ledger Team');
      });

      it('lists by name with a keyset cursor, per kind, and counts', async () => {
        await store.transaction(async (tx) => {
          for (const n of ['zeta', 'alpha', 'mid', 'beta']) await tx.put(makeTeam(n), 'alice');
          await tx.put(makeEnvironment('dev'), 'alice');
          await tx.put(makeEnvironment('prod', true), 'alice');
        });
        const all = await store.list('Team');
        expect(all.map((r) => r.resource.metadata.name)).toEqual(['alpha', 'beta', 'ledger', 'mid', 'zeta']);
        const page1 = await store.list('Team', { limit: 2 });
        expect(page1.map((r) => r.resource.metadata.name)).toEqual(['alpha', 'beta']);
        const page2 = await store.list('Team', { limit: 2, after: 'beta' });
        expect(page2.map((r) => r.resource.metadata.name)).toEqual(['ledger', 'mid']);
        const page3 = await store.list('Team', { limit: 2, after: 'mid' });
        expect(page3.map((r) => r.resource.metadata.name)).toEqual(['zeta']);
        expect(await store.list('Team', { limit: 2, after: 'zeta' })).toEqual([]);
        expect((await store.list('Environment')).map((r) => r.resource.metadata.name)).toEqual(['dev', 'prod']);
        expect(await store.count('Team')).toBe(5);
        expect(await store.count('Environment')).toBe(2);
        expect(await store.count('Plan')).toBe(0);
        await store.transaction(async (tx) => {
          expect((await tx.list('Team', { limit: 1, after: 'alpha' })).map((r) => r.resource.metadata.name)).toEqual(['beta']);
        });
        // the lean listing compilers use: the same names, specs and versions, in the same pages
        const lean = [...(await store.listSpecs('Team', { limit: 2 })), ...(await store.listSpecs('Team', { limit: 2, after: 'beta' })), ...(await store.listSpecs('Team', { limit: 2, after: 'mid' }))];
        expect(lean).toEqual(all.map((r) => ({ name: r.resource.metadata.name, spec: r.resource.spec, resourceVersion: r.resourceVersion })));
        expect(await store.listSpecs('Team', { limit: 2, after: 'zeta' })).toEqual([]);
      });

      it('deletes and returns what was deleted; deleting again returns null', async () => {
        const before = await store.get('Team', 'mid');
        const deleted = await store.transaction((tx) => tx.delete('Team', 'mid'));
        expect(deleted).toEqual(before);
        expect(await store.get('Team', 'mid')).toBeNull();
        expect(await store.transaction((tx) => tx.delete('Team', 'mid'))).toBeNull();
        // a recreated resource starts again at version 1
        expect((await store.transaction((tx) => tx.put(makeTeam('mid'), 'dave', 0))).resourceVersion).toBe(1);
      });

      it('keeps server-written status members and fills in the bookkeeping', async () => {
        const env = makeEnvironment('staging') as AnyResource;
        const withStatus = { ...env, status: { resourceVersion: 99, createdAt: 'x', updatedAt: 'x', createdBy: 'x', updatedBy: 'x', lint: { errors: 0 } } } as AnyResource;
        const stored = await store.transaction((tx) => tx.put(withStatus, 'erin', 0));
        expect(stored.resource.status).toEqual({ lint: { errors: 0 }, resourceVersion: 1, createdAt: stored.createdAt, updatedAt: stored.updatedAt, createdBy: 'erin', updatedBy: 'erin' });
      });
    });

    describe('transactions', () => {
      let store: Store;
      beforeAll(async () => {
        store = await fresh();
      });

      it('an exception inside the callback leaves nothing behind: resources, search index, audit, tokens, idempotency', async () => {
        const boom = new Error('boom');
        const err = await store
          .transaction(async (tx) => {
            const created = await tx.put(makeApi({ name: 'doomed', description: 'never committed' }), 'alice', 0);
            await tx.put(makeTeam('doomed-team'), 'alice', 0);
            await tx.audit({ actor: 'alice', action: 'create', kind: 'Api', name: 'doomed', before: null, after: created.resource, requestId: 'r1' });
            await tx.putToken('hash-doomed', { user: 'alice', prefix: 'agv_doom', createdAt: new Date().toISOString() });
            await tx.saveIdempotent('key-doomed', 'alice', { requestHash: 'h', status: 201, body: { ok: true } });
            expect((await tx.get('Api', 'doomed'))?.resourceVersion).toBe(1);
            throw boom;
          })
          .catch((e: unknown) => e);
        expect(err).toBe(boom);
        expect(await store.get('Api', 'doomed')).toBeNull();
        expect(await store.get('Team', 'doomed-team')).toBeNull();
        expect((await store.searchApis({ text: 'doomed', viewer: admin, limit: 10 })).total).toBe(0);
        expect(await store.listAudit({ limit: 10 })).toEqual([]);
        expect(await store.findToken('hash-doomed')).toBeNull();
        expect(await store.getIdempotent('key-doomed', 'alice')).toBeNull();
        expect(await store.verifyAudit()).toEqual({ ok: true, count: 0, lastHash: '0'.repeat(64) });
      });

      it('a failing SQL statement that the callback swallows still rolls the whole transaction back', async () => {
        const err = await store
          .transaction(async (tx) => {
            await tx.put(makeTeam('half-done'), 'alice', 0);
            // jsonb cannot hold \u0000: the database refuses the statement
            await tx.audit({ actor: 'alice', action: 'create', kind: 'Team', name: 'x', before: null, after: { bad: 'a\u0000b' }, requestId: 'r' }).catch(() => undefined);
            return 'done';
          })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Error);
        expect(await store.get('Team', 'half-done')).toBeNull();
        // and the store is usable afterwards
        expect((await store.transaction((tx) => tx.put(makeTeam('half-done'), 'alice', 0))).resourceVersion).toBe(1);
      });

      it('a conflict caught inside the callback does not poison the transaction', async () => {
        await store.transaction(async (tx) => {
          await expectCode(tx.put(makeTeam('half-done'), 'bob', 0), 'APIGOV_ERR_RESOURCE_CONFLICT');
          await tx.put(makeTeam('after-conflict'), 'bob', 0);
        });
        expect(await store.get('Team', 'after-conflict')).not.toBeNull();
      });

      it('returns the callback value', async () => {
        expect(await store.transaction(async () => 42)).toBe(42);
      });

      it('refuses store methods called from inside a transaction instead of hanging', async () => {
        const err = await store.transaction(async () => store.get('Team', 'alpha')).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ApigovError);
        expect((err as Error).message).toMatch(/inside store\.transaction/);
        // after the transaction, the same code path works again
        expect(await store.get('Team', 'half-done')).not.toBeNull();
      });

      it('refuses to use a transaction after it has finished', async () => {
        let leaked: Parameters<Parameters<Store['transaction']>[0]>[0] | undefined;
        await store.transaction(async (tx) => {
          leaked = tx;
        });
        await expect(leaked!.get('Team', 'alpha')).rejects.toThrow(/already finished/);
      });

      it('20 concurrent transactions produce an unbroken chain of 20 with sequential seqs', async () => {
        const startSeq = ((await store.listAudit({ limit: 1 }))[0]?.seq ?? 0) + 1;
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.transaction(async (tx) => {
              const name = `concurrent-${String(i).padStart(2, '0')}`;
              const created = await tx.put(makeTeam(name), `user-${i}`, 0);
              await new Promise((r) => setTimeout(r, Math.random() * 5));
              return tx.audit({ actor: `user-${i}`, action: 'create', kind: 'Team', name, before: null, after: created.resource, requestId: `req-${i}` });
            }),
          ),
        );
        const seqs = results.map((e) => e.seq).sort((a, b) => a - b);
        expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => startSeq + i));
        const events = (await store.listAudit({ limit: 100 })).reverse();
        expect(events.map((e) => e.seq)).toEqual(seqs);
        for (let i = 1; i < events.length; i++) expect(events[i].prevHash).toBe(events[i - 1].hash);
        expect(await store.verifyAudit()).toMatchObject({ ok: true, count: startSeq + 19 });
        expect(await store.count('Team')).toBeGreaterThanOrEqual(20);
      });

      it('keeps planner statistics up to date on PGlite, which has no autovacuum', async () => {
        await store.transaction(async (tx) => {
          for (let i = 0; i < 520; i++) await tx.put(makeTeam(`bulk-${i}`), 'bulk');
        });
        if (store.dialect !== 'pglite') return; // PostgreSQL's autovacuum does this on a server
        // the housekeeping was queued right after the commit, so this query runs after it
        const [row] = await rawQuery<{ reltuples: number }>(store, `SELECT reltuples FROM pg_class WHERE oid = 'resources'::regclass`);
        expect(Number(row.reltuples)).toBeGreaterThanOrEqual(520);
      });

      it('verifies long chains page by page', async () => {
        const first = ((await store.listAudit({ limit: 1 }))[0]?.seq ?? 0) + 1;
        await store.transaction(async (tx) => {
          for (let i = 0; i < 1200; i++) await tx.audit({ actor: 'bulk', action: 'apply', kind: 'Apply', name: `n${i}`, before: null, after: { i }, requestId: 'bulk' });
        });
        const last = first + 1199;
        expect(await store.verifyAudit()).toMatchObject({ ok: true, count: last });
        await rawQuery(store, `UPDATE audit_events SET after = '{"i": -1}' WHERE seq = $1`, [last - 10]);
        expect(await store.verifyAudit()).toMatchObject({ ok: false, seq: last - 10, count: last - 11, reason: `hash mismatch at seq ${last - 10} (event altered)` });
      });
    });

    describe('audit', () => {
      let store: Store;
      const events: AuditEvent[] = [];
      beforeAll(async () => {
        store = await fresh();
        const actors = ['alice', 'bob', 'alice', 'carol', 'bob', 'alice', 'carol', 'alice'];
        for (const [i, actor] of actors.entries()) {
          events.push(
            await store.transaction((tx) =>
              tx.audit({
                actor,
                action: i % 3 === 0 ? 'create' : 'update',
                kind: i % 2 === 0 ? 'Api' : 'Team',
                name: i < 4 ? 'payments' : 'ledger',
                // key order differs from canonical order, and jsonb reorders keys on its own
                before: i === 0 ? null : { z: 1, a: { y: [3, { q: 1, b: 2 }], c: 'ü' }, n: 1.5, big: 12345678901234 },
                after: { spec: { title: `t${i}`, tags: ['b', 'a'] }, apiVersion: 'apigov.dev/v1', empty: {}, nothing: null, when: new Date(0) },
                requestId: `req-${i}`,
              }),
            ),
          );
        }
      });

      it('hashes each event over its canonical form and links it to the previous one', () => {
        expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
        expect(events[0].prevHash).toBe('0'.repeat(64));
        for (const [i, e] of events.entries()) {
          expect(e.at).toMatch(ISO_MS);
          expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
          expect(e.hash).toBe(expectedHash(e));
          if (i > 0) expect(e.prevHash).toBe(events[i - 1].hash);
        }
        // values are returned as they are stored (a Date becomes its JSON string)
        expect((events[1].after as { when: unknown }).when).toBe('1970-01-01T00:00:00.000Z');
      });

      it('lists newest first, pages with beforeSeq, filters by exact match', async () => {
        const all = await store.listAudit({ limit: 100 });
        expect(all.map((e) => e.seq)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
        expect(all.reverse()).toEqual(events);
        expect((await store.listAudit({ limit: 3 })).map((e) => e.seq)).toEqual([8, 7, 6]);
        expect((await store.listAudit({ limit: 3, beforeSeq: 6 })).map((e) => e.seq)).toEqual([5, 4, 3]);
        expect((await store.listAudit({ limit: 3, beforeSeq: 3 })).map((e) => e.seq)).toEqual([2, 1]);
        expect((await store.listAudit({ limit: 100, actor: 'alice' })).map((e) => e.seq)).toEqual([8, 6, 3, 1]);
        expect((await store.listAudit({ limit: 100, actor: 'ali' })).map((e) => e.seq)).toEqual([]);
        expect((await store.listAudit({ limit: 100, kind: 'Api', name: 'payments' })).map((e) => e.seq)).toEqual([3, 1]);
        expect((await store.listAudit({ limit: 100, action: 'create' })).map((e) => e.seq)).toEqual([7, 4, 1]);
        expect((await store.listAudit({ limit: 100, actor: 'alice', action: 'update', beforeSeq: 8 })).map((e) => e.seq)).toEqual([6, 3]);
      });

      it('verifies the chain, then names the event an UPDATE altered', async () => {
        expect(await store.verifyAudit()).toEqual({ ok: true, count: 8, lastHash: events[7].hash });
        await rawQuery(store, `UPDATE audit_events SET actor = 'mallory' WHERE seq = 3`);
        const v = await store.verifyAudit();
        expect(v).toMatchObject({ ok: false, seq: 3, count: 2 });
        expect(v.ok ? '' : v.reason).toBe('hash mismatch at seq 3 (event altered)');
        await rawQuery(store, `UPDATE audit_events SET actor = 'alice' WHERE seq = 3`);
        expect((await store.verifyAudit()).ok).toBe(true);
      });

      it('with an anchor kept outside, also finds events cut from the end and a rewritten history', async () => {
        const anchor = { seq: 8, hash: events[7].hash };
        expect(await store.verifyAudit(anchor)).toEqual({ ok: true, count: 8, lastHash: events[7].hash });
        expect(await store.verifyAudit({ seq: 5, hash: events[4].hash })).toMatchObject({ ok: true, count: 8 });
        expect(await store.verifyAudit({ seq: 5, hash: 'f'.repeat(64) })).toEqual({ ok: false, count: 4, seq: 5, reason: 'seq 5 is not the anchored event (its hash differs: history rewritten)' });
        expect(await store.verifyAudit({ seq: 9, hash: 'f'.repeat(64) })).toEqual({ ok: false, count: 8, seq: 9, reason: 'the chain ends at seq 8, before the anchored seq 9 (events deleted from its end)' });
        // the newest events deleted: the chain alone still holds, the anchor does not
        const deleted = await rawQuery(store, 'SELECT * FROM audit_events WHERE seq >= 7 ORDER BY seq');
        await rawQuery(store, 'DELETE FROM audit_events WHERE seq >= 7');
        expect(await store.verifyAudit()).toEqual({ ok: true, count: 6, lastHash: events[5].hash });
        expect(await store.verifyAudit(anchor)).toEqual({ ok: false, count: 6, seq: 7, reason: 'the chain ends at seq 6, before the anchored seq 8 (events deleted from its end)' });
        for (const r of deleted) {
          await rawQuery(store, 'INSERT INTO audit_events (seq, at, actor, action, kind, name, before, after, request_id, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)', [r.seq, r.at, r.actor, r.action, r.kind, r.name, r.before, r.after, r.request_id, r.prev_hash, r.hash]);
        }
        expect(await store.verifyAudit(anchor)).toMatchObject({ ok: true, count: 8 });
      });

      it('a rewritten hash breaks the link to the next event', async () => {
        const fake = '1'.repeat(64);
        // the attacker alters seq 5 and recomputes its hash, but cannot fix seq 6 without rewriting the rest
        const e5 = { ...events[4], actor: 'mallory' };
        const rehashed = expectedHash(e5);
        await rawQuery(store, `UPDATE audit_events SET actor = 'mallory', hash = $1 WHERE seq = 5`, [rehashed]);
        const v = await store.verifyAudit();
        expect(v).toMatchObject({ ok: false, seq: 6, reason: 'prev_hash mismatch at seq 6 (chain broken)' });
        await rawQuery(store, `UPDATE audit_events SET actor = $1, hash = $2 WHERE seq = 5`, [events[4].actor, events[4].hash]);
        await rawQuery(store, `UPDATE audit_events SET prev_hash = $1 WHERE seq = 2`, [fake]);
        expect(await store.verifyAudit()).toMatchObject({ ok: false, seq: 2, reason: 'prev_hash mismatch at seq 2 (chain broken)' });
        await rawQuery(store, `UPDATE audit_events SET prev_hash = $1 WHERE seq = 2`, [events[1].prevHash]);
        expect((await store.verifyAudit()).ok).toBe(true);
      });

      it('reports a deleted event as a gap', async () => {
        await rawQuery(store, 'DELETE FROM audit_events WHERE seq = 6');
        const v = await store.verifyAudit();
        expect(v).toMatchObject({ ok: false, seq: 7, count: 5 });
        expect(v.ok ? '' : v.reason).toMatch(/^gap before seq 7 \(event deleted/);
        await rawQuery(store, 'DELETE FROM audit_events WHERE seq = 1');
        expect(await store.verifyAudit()).toMatchObject({ ok: false, seq: 2 });
      });

    });

    describe('API search', () => {
      let store: Store;
      const q = (query: Partial<SearchQuery>): SearchQuery => ({ viewer: admin, limit: 50, ...query });
      const names = async (query: Partial<SearchQuery>) => (await store.searchApis(q(query))).items.map((h) => h.name);

      beforeAll(async () => {
        store = await fresh();
        const apis = [
          makeApi({ name: 'payments', owner: 'payments', title: 'Payments', description: 'Charge cards and refund charges', tags: ['billing', 'cards'], visibility: 'public' }),
          makeApi({
            name: 'ledger',
            owner: 'finance',
            title: 'General ledger',
            description: 'Double-entry bookkeeping; records payments from the payments API',
            tags: ['billing'],
            visibility: 'internal',
            versions: [
              { name: 'v1', paths: ['/accounts', '/accounts/{accountId}/entries'], environments: { dev: 'published', prod: 'deprecated' } },
              { name: 'v2', paths: ['/accounts', '/journals'], environments: { dev: 'published', prod: 'published' } },
            ],
          }),
          makeApi({ name: 'payouts', owner: 'payments', title: 'Payouts', description: 'Send money to merchants', tags: ['billing'], visibility: 'team-only', versions: [{ name: 'v1', paths: ['/payouts'], environments: { dev: 'draft' } }] }),
          makeApi({ name: 'invoicing', owner: 'finance', title: 'Invoicing', description: 'Create and send invoices', tags: ['documents'], visibility: 'team-only', versions: [{ name: 'v1', paths: ['/invoices', '/invoices/{invoiceId}/pdf'], environments: { staging: 'published' } }] }),
          makeApi({ name: 'weather', owner: 'data', title: 'Weather forecasts', description: 'Hourly forecasts for any city', tags: ['open-data'], visibility: 'public', versions: [{ name: 'v1', paths: ['/forecasts/{city}'], environments: { prod: 'retired', dev: 'published' } }] }),
          makeApi({ name: 'customer-profiles', owner: 'crm', title: 'Customer profiles', description: 'Who our customers are', tags: ['pii'], visibility: 'internal' }),
          makeApi({ name: 'search-index', owner: 'platform', title: 'Search', description: 'Internal search over documents', tags: ['documents'], visibility: 'internal' }),
          makeApi({ name: 'fx-rates', owner: 'finance', title: 'FX rates', description: 'Currency exchange rates used by payments', tags: ['billing', 'open-data'], visibility: 'public', versions: [{ name: 'v3', paths: ['/rates/{base}'], environments: { dev: 'published', staging: 'deprecated' } }] }),
        ];
        await store.transaction(async (tx) => {
          for (const a of apis) await tx.put(a, 'seed', 0);
          await tx.put(makeTeam('finance'), 'seed', 0); // not an Api: not indexed
        });
      });

      it('an exact name match ranks above a description mention', async () => {
        const page = await store.searchApis(q({ text: 'payments' }));
        expect(page.items[0].name).toBe('payments');
        expect(page.items.map((h) => h.name)).toEqual(expect.arrayContaining(['payments', 'ledger', 'fx-rates']));
        expect(page.items[0].rank).toBeGreaterThan(page.items[1].rank);
        for (let i = 1; i < page.items.length; i++) expect(page.items[i - 1].rank).toBeGreaterThanOrEqual(page.items[i].rank);
        expect(page.total).toBe(page.items.length);
        // title (weight A) beats description (weight C) even without the exact-name boost
        expect((await names({ text: 'forecasts' }))[0]).toBe('weather');
      });

      it('matches word prefixes, ANDs the words, and shrugs off operators and punctuation', async () => {
        expect(await names({ text: 'pay' })).toEqual(expect.arrayContaining(['payments', 'payouts', 'ledger', 'fx-rates']));
        expect((await names({ text: 'pay' }))[0]).toMatch(/^pay/);
        expect(await names({ text: 'PAY merch' })).toEqual(['payouts']);
        expect(await names({ text: 'curr exch' })).toEqual(['fx-rates']);
        expect(await names({ text: "pay & !(ouT's) | <-> :* \\ 'x" })).toEqual([]);
        expect(await names({ text: 'payouts!!' })).toEqual(['payouts']);
        expect(await names({ text: '&|!():*' })).toEqual(await names({}));
        expect(await names({ text: 'nothing-matches-this' })).toEqual([]);
        expect(await names({ text: `payouts ${'x'.repeat(3000)} ${Array.from({ length: 40 }, (_, i) => ['pay', 'payo', 'payou'][i % 3]).join(' ')}` })).toEqual(['payouts']);
        expect(await names({ text: 'café Zürich 東京' })).toEqual([]);
      });

      it('finds words as they are being typed, where the english stem is not a prefix of the word', async () => {
        // english stems 'invoicing' to 'invoic' and 'business' to 'busi': 'invoicin' and 'busines' prefix neither stem
        expect(await names({ text: 'invoicin' })).toEqual(['invoicing']);
        expect(await names({ text: 'bookkeepin' })).toEqual(['ledger']);
        expect(await names({ text: 'forecast' })).toEqual(['weather']);
        // stop words are ignored unless the query has nothing else
        expect(await names({ text: 'the payouts' })).toEqual(['payouts']);
        expect(await names({ text: 'for' })).toEqual(await names({ text: 'forecasts' }));
      });

      it('finds APIs by tag, owner and OpenAPI paths', async () => {
        expect(await names({ text: 'journals' })).toEqual(['ledger']);
        expect(await names({ text: 'invoiceId' })).toEqual(['invoicing']);
        expect(await names({ text: 'documents' })).toEqual(expect.arrayContaining(['invoicing', 'search-index']));
        expect(await names({ text: 'crm' })).toEqual(['customer-profiles']);
      });

      it('with no text, returns every visible API ordered by name', async () => {
        const page = await store.searchApis(q({}));
        expect(page.items.map((h) => h.name)).toEqual(['customer-profiles', 'fx-rates', 'invoicing', 'ledger', 'payments', 'payouts', 'search-index', 'weather']);
        expect(page.total).toBe(8);
        const ledger = page.items.find((h) => h.name === 'ledger')!;
        expect(ledger).toMatchObject({ title: 'General ledger', owner: 'finance', tags: ['billing'], visibility: 'internal', rank: 0 });
        expect(ledger.description).toContain('Double-entry');
        expect(ledger.states).toEqual(
          expect.arrayContaining([
            { version: 'v1', environment: 'dev', state: 'published' },
            { version: 'v1', environment: 'prod', state: 'deprecated' },
            { version: 'v2', environment: 'dev', state: 'published' },
            { version: 'v2', environment: 'prod', state: 'published' },
          ]),
        );
        expect(ledger.states).toHaveLength(4);
      });

      it('filters by team, tag, environment, state, and environment with state', async () => {
        expect(await names({ team: 'finance' })).toEqual(['fx-rates', 'invoicing', 'ledger']);
        expect(await names({ tag: 'billing' })).toEqual(['fx-rates', 'ledger', 'payments', 'payouts']);
        expect(await names({ tag: 'bill' })).toEqual([]);
        expect(await names({ environment: 'staging' })).toEqual(['fx-rates', 'invoicing']);
        expect(await names({ environment: 'prod' })).toEqual(['ledger', 'weather']);
        expect(await names({ state: 'deprecated' })).toEqual(['fx-rates', 'ledger']);
        expect(await names({ state: 'draft' })).toEqual(['payouts']);
        expect(await names({ state: 'retired' })).toEqual(['weather']);
        expect(await names({ environment: 'prod', state: 'published' })).toEqual(['ledger']);
        expect(await names({ environment: 'staging', state: 'published' })).toEqual(['invoicing']);
        expect(await names({ environment: 'dev', state: 'deprecated' })).toEqual([]);
        expect((await names({ team: 'finance', tag: 'billing', text: 'pay' })).sort()).toEqual(['fx-rates', 'ledger']);
        expect((await store.searchApis(q({ tag: 'billing', limit: 1 }))).total).toBe(4);
      });

      it('applies visibility inside the query', async () => {
        const all = ['customer-profiles', 'fx-rates', 'invoicing', 'ledger', 'payments', 'payouts', 'search-index', 'weather'];
        expect(await names({ viewer: admin })).toEqual(all);
        expect(await names({ viewer: anonymous })).toEqual(['fx-rates', 'payments', 'weather']);
        expect(await names({ viewer: member('payments') })).toEqual(all.filter((n) => n !== 'invoicing'));
        expect(await names({ viewer: member('finance', 'crm') })).toEqual(all.filter((n) => n !== 'payouts'));
        expect(await names({ viewer: member('data') })).toEqual(all.filter((n) => n !== 'payouts' && n !== 'invoicing'));
        expect(await names({ viewer: member() })).toEqual(all.filter((n) => n !== 'payouts' && n !== 'invoicing'));
        expect(await names({ viewer: member('payments'), text: 'merchants' })).toEqual(['payouts']);
        expect(await names({ viewer: member('finance'), text: 'merchants' })).toEqual([]);
        expect((await store.searchApis(q({ viewer: anonymous, text: 'pay' }))).total).toBe(2);
        // anonymous wins over teams: an anonymous viewer sees only public APIs
        expect(await names({ viewer: { admin: false, anonymous: true, teams: ['payments'] } })).toEqual(['fx-rates', 'payments', 'weather']);
      });

      it('pages through every hit exactly once, with and without text', async () => {
        for (const query of [q({ limit: 3 }), q({ limit: 2, text: 'pay' }), q({ limit: 1, text: 'a' }), q({ limit: 2, viewer: member('crm'), tag: 'billing' })]) {
          const full = await store.searchApis({ ...query, limit: 100 });
          const seen: string[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await store.searchApis({ ...query, cursor });
            expect(page.total).toBe(full.total);
            expect(page.items.length).toBeLessThanOrEqual(query.limit);
            seen.push(...page.items.map((h) => h.name));
            cursor = page.nextCursor;
            pages++;
          } while (cursor !== undefined && pages < 50);
          expect(seen).toEqual(full.items.map((h) => h.name));
          expect(new Set(seen).size).toBe(seen.length);
          expect(pages).toBe(Math.max(1, Math.ceil(full.total / query.limit)));
        }
      });

      it('rejects a garbage cursor, or one from another search, with APIGOV_ERR_INPUT_MALFORMED', async () => {
        const first = await store.searchApis(q({ limit: 2, text: 'pay' }));
        expect(first.nextCursor).toBeDefined();
        await expectCode(store.searchApis(q({ limit: 2, text: 'pay', cursor: 'not a cursor!' })), 'APIGOV_ERR_INPUT_MALFORMED');
        await expectCode(store.searchApis(q({ limit: 2, text: 'pay', cursor: Buffer.from('{"o":1}').toString('base64url') })), 'APIGOV_ERR_INPUT_MALFORMED');
        await expectCode(store.searchApis(q({ limit: 2, text: 'pay', cursor: 'AAAA' })), 'APIGOV_ERR_INPUT_MALFORMED');
        await expectCode(store.searchApis(q({ limit: 2, text: 'ledger', cursor: first.nextCursor })), 'APIGOV_ERR_INPUT_MALFORMED');
        await expectCode(store.searchApis(q({ limit: 2, text: 'pay', viewer: anonymous, cursor: first.nextCursor })), 'APIGOV_ERR_INPUT_MALFORMED');
        await expectCode(store.searchApis(q({ limit: 0 })), 'APIGOV_ERR_INPUT_MALFORMED');
        // the same cursor with the same query is stable
        const again = await store.searchApis(q({ limit: 2, text: 'pay', cursor: first.nextCursor }));
        const again2 = await store.searchApis(q({ limit: 2, text: 'pay', cursor: first.nextCursor }));
        expect(again2).toEqual(again);
      });

      it('keeps the index in step with put and delete', async () => {
        await store.transaction((tx) => tx.put(makeApi({ name: 'shipping', owner: 'logistics', title: 'Shipping labels', description: 'Print parcel labels', visibility: 'public' }), 'alice', 0));
        expect(await names({ text: 'parcel' })).toEqual(['shipping']);
        await store.transaction((tx) => tx.put(makeApi({ name: 'shipping', owner: 'logistics', title: 'Shipping', description: 'Track deliveries', visibility: 'public' }), 'alice', 1));
        expect(await names({ text: 'parcel' })).toEqual([]);
        expect(await names({ text: 'deliveries' })).toEqual(['shipping']);
        expect(await names({ team: 'logistics' })).toEqual(['shipping']);
        const deleted = await store.transaction((tx) => tx.delete('Api', 'shipping'));
        expect(deleted?.resource.metadata.name).toBe('shipping');
        expect(await names({ text: 'deliveries' })).toEqual([]);
        expect(await names({ team: 'logistics' })).toEqual([]);
      });
    });

    describe('gateway snapshots', () => {
      it('stores a new version only when the hash changes; the head is read without the body', async () => {
        const store = await mainStore();
        expect(await store.getSnapshotHead('snap-env')).toBeNull();
        const render = (text: string) => (version: number, generatedAt: string) => JSON.stringify({ version, generatedAt, text });
        expect(await store.putSnapshot('snap-env', 'h1', render('one'))).toEqual({ version: 1, changed: true });
        expect(await store.putSnapshot('snap-env', 'h1', () => { throw new Error('not rendered when unchanged'); })).toEqual({ version: 1, changed: false });
        expect(await store.putSnapshot('snap-env', 'h2', render('two'))).toEqual({ version: 2, changed: true });
        expect(await store.getSnapshotHead('snap-env')).toEqual({ version: 2, hash: 'h2' });
        const full = await store.getSnapshot('snap-env');
        expect(full).toMatchObject({ environment: 'snap-env', version: 2, hash: 'h2' });
        expect(JSON.parse(full!.body)).toMatchObject({ version: 2, text: 'two' });
      });
    });

    describe('usage per operation', () => {
      it('adds up reports per (environment, application, operation) of one version since a time, and keeps rows without an operation apart', async () => {
        const store = await fresh();
        const status = { gateway: 'gw-1', environment: 'dev', appliedVersion: 1, startedAt: '2026-12-01T00:00:00.000Z', lastSeenAt: '2026-12-01T00:00:00.000Z' };
        const row = (minute: string, operation: string | undefined, application: string | undefined, count: number, version = 'v1') => ({
          minute, environment: 'dev', api: 'payments', version, ...(operation !== undefined && { operation }), ...(application !== undefined && { application }), statusClass: '2xx' as const, count, latencySumMs: count, latencyBuckets: [count],
        });
        await store.recordGatewayReport(status, [row('2026-12-01T10:00:00.000Z', 'GET /payments', 'bob-app', 3), row('2026-12-01T10:00:00.000Z', 'POST /payments', 'bob-app', 1), row('2026-12-01T10:00:00.000Z', undefined, undefined, 2)], []);
        // the same cell again adds up; another minute, another version, an old minute
        await store.recordGatewayReport(status, [row('2026-12-01T10:00:00.000Z', 'GET /payments', 'bob-app', 4), row('2026-12-01T10:01:00.000Z', 'GET /payments', 'bob-app', 5), row('2026-12-01T10:01:00.000Z', 'GET /payments', 'bob-app', 9, 'v2'), row('2026-10-01T10:00:00.000Z', 'GET /payments', 'old-app', 7)], []);
        expect(await store.operationUsage({ api: 'payments', version: 'v1', since: '2026-11-01T00:00:00.000Z' })).toEqual([
          { environment: 'dev', requests: 2 },
          { environment: 'dev', application: 'bob-app', operation: 'GET /payments', requests: 12 },
          { environment: 'dev', application: 'bob-app', operation: 'POST /payments', requests: 1 },
        ]);
        const minutes = await store.usage({ api: 'payments', since: '2026-12-01T10:00:00.000Z' });
        expect(minutes.filter((u) => u.operation === 'GET /payments' && u.version === 'v1').map((u) => u.count)).toEqual([7, 5]);
      });
    });

    describe('GitOps sync state', () => {
      it('keeps the sync state and the desired state of the last good commit, written in a transaction or not at all', async () => {
        const store = await fresh();
        expect(await store.getSyncState()).toBeNull();
        expect(await store.listSyncDesired()).toEqual([]);
        const state = { repo: '/srv/config', branch: 'main', path: 'apigov', onDrift: 'reject' as const, selfHeal: false, prune: true, lastGood: { commit: 'a'.repeat(40), at: '2026-12-01T00:00:00.000Z' } };
        const rows = Array.from({ length: 450 }, (_x, i) => ({ kind: 'Team' as const, name: `team-${String(i).padStart(3, '0')}`, path: `apigov/teams/${i}.yaml`, commit: 'a'.repeat(40), desired: { spec: { displayName: `T${i}` } } }));
        await store.transaction(async (tx) => {
          await tx.putSyncState(state);
          await tx.replaceSyncDesired(rows);
          expect(await tx.getSyncState()).toEqual(state);
        });
        expect(await store.getSyncState()).toEqual(state);
        const listed = await store.listSyncDesired();
        expect(listed).toHaveLength(450);
        expect(listed[7]).toEqual(rows[7]);
        // a rolled-back sync leaves the last one in place
        await expect(
          store.transaction(async (tx) => {
            await tx.putSyncState({ ...state, branch: 'other' });
            await tx.replaceSyncDesired(rows.slice(0, 1));
            throw new Error('refused');
          }),
        ).rejects.toThrow('refused');
        expect((await store.getSyncState())!.branch).toBe('main');
        expect(await store.listSyncDesired()).toHaveLength(450);
        await store.transaction((tx) => tx.replaceSyncDesired([]));
        expect(await store.listSyncDesired()).toEqual([]);
      });
    });

    describe('tokens and idempotency', () => {
      let store: Store;
      beforeAll(async () => {
        store = await mainStore();
      });

      it('stores, finds, lists and revokes tokens', async () => {
        await store.transaction(async (tx) => {
          await tx.putToken('sha-1', { user: 'alice', prefix: 'agv_1234', createdAt: '2025-01-02T03:04:05.678Z' });
          await tx.putToken('sha-2', { user: 'alice', prefix: 'agv_5678', createdAt: '2025-01-03T00:00:00.000Z', expiresAt: '2025-02-03T00:00:00.000Z' });
          await tx.putToken('sha-3', { user: 'bob', prefix: 'agv_9999', createdAt: '2025-01-01T00:00:00.000Z' });
        });
        expect(await store.findToken('sha-1')).toEqual({ user: 'alice', prefix: 'agv_1234', createdAt: '2025-01-02T03:04:05.678Z' });
        expect(await store.findToken('sha-2')).toEqual({ user: 'alice', prefix: 'agv_5678', createdAt: '2025-01-03T00:00:00.000Z', expiresAt: '2025-02-03T00:00:00.000Z' });
        expect(await store.findToken('sha-none')).toBeNull();
        expect((await store.listTokens('alice')).map((t) => t.prefix)).toEqual(['agv_1234', 'agv_5678']);
        expect(await store.listTokens('nobody')).toEqual([]);
        expect(await store.transaction((tx) => tx.deleteTokensOf('alice'))).toBe(2);
        expect(await store.transaction((tx) => tx.deleteTokensOf('alice'))).toBe(0);
        expect(await store.findToken('sha-1')).toBeNull();
        expect(await store.findToken('sha-3')).not.toBeNull();
      });

      it('records an idempotent response per key and actor', async () => {
        const body = { apiVersion: 'apigov.dev/v1', kind: 'Team', metadata: { name: 'x', labels: {} }, nested: [1, { b: 2, a: 1 }] };
        await store.transaction((tx) => tx.saveIdempotent('key-1', 'alice', { requestHash: 'rh-1', status: 201, body }));
        expect(await store.getIdempotent('key-1', 'alice')).toEqual({ requestHash: 'rh-1', status: 201, body });
        expect(await store.getIdempotent('key-1', 'bob')).toBeNull();
        await store.transaction((tx) => tx.saveIdempotent('key-1', 'bob', { requestHash: 'rh-2', status: 204, body: null }));
        expect(await store.getIdempotent('key-1', 'bob')).toEqual({ requestHash: 'rh-2', status: 204, body: null });
        await expectCode(store.transaction((tx) => tx.saveIdempotent('key-1', 'alice', { requestHash: 'rh-other', status: 201, body })), 'APIGOV_ERR_IDEMPOTENCY_MISMATCH');
        await expectCode(store.transaction((tx) => tx.saveIdempotent('key-1', 'alice', { requestHash: 'rh-1', status: 201, body })), 'APIGOV_ERR_RESOURCE_CONFLICT');
        expect(await store.getIdempotent('key-1', 'alice')).toEqual({ requestHash: 'rh-1', status: 201, body });
      });

      it('keeps named, scoped tokens with their team and last use, and revokes one by name', async () => {
        await store.transaction((tx) => tx.putToken('sha-ci', { user: 'alice', prefix: 'agv_ci00', createdAt: '2025-01-04T00:00:00.000Z', name: 'ci', scopes: ['apis:write', 'apis:publish:dev'], team: 'payments' }));
        expect(await store.findToken('sha-ci')).toEqual({ user: 'alice', prefix: 'agv_ci00', createdAt: '2025-01-04T00:00:00.000Z', name: 'ci', scopes: ['apis:write', 'apis:publish:dev'], team: 'payments' });
        await store.touchToken('sha-ci', '2025-01-05T06:07:08.900Z');
        expect((await store.findToken('sha-ci'))!.lastUsedAt).toBe('2025-01-05T06:07:08.900Z');
        // a second token of the same name for the same user is refused by the database
        await expect(store.transaction((tx) => tx.putToken('sha-ci-2', { user: 'alice', prefix: 'agv_ci11', createdAt: '2025-01-04T00:00:00.000Z', name: 'ci' }))).rejects.toThrow();
        expect(await store.transaction((tx) => tx.deleteNamedToken('alice', 'ci'))).toBe(true);
        expect(await store.transaction((tx) => tx.deleteNamedToken('alice', 'ci'))).toBe(false);
        expect(await store.findToken('sha-ci')).toBeNull();
      });

      it('forgets an idempotent response after its time: the key is free again and expired records are deleted', async () => {
        const short = await factory.open({ idempotencyTtlSeconds: 1 });
        opened.push(short);
        await short.transaction((tx) => tx.saveIdempotent('old', 'alice', { requestHash: 'rh-1', status: 201, body: { n: 1 } }));
        await short.transaction((tx) => tx.saveIdempotent('reused', 'alice', { requestHash: 'rh-1', status: 201, body: { n: 1 } }));
        expect(await short.getIdempotent('reused', 'alice')).toEqual({ requestHash: 'rh-1', status: 201, body: { n: 1 } });
        await new Promise((r) => setTimeout(r, 1300));
        expect(await short.getIdempotent('reused', 'alice')).toBeNull();
        // a different request under the expired key is a new request, not a mismatch
        await short.transaction((tx) => tx.saveIdempotent('reused', 'alice', { requestHash: 'rh-2', status: 204, body: null }));
        expect(await short.getIdempotent('reused', 'alice')).toEqual({ requestHash: 'rh-2', status: 204, body: null });
        // that save also deleted what had expired
        expect(await rawQuery(short, 'SELECT key FROM idempotency ORDER BY key')).toEqual([{ key: 'reused' }]);
        await expect(openStore({ dataDir: 'memory://', idempotencyTtlSeconds: 0 })).rejects.toThrow(/idempotencyTtlSeconds must be a positive number/);
      });
    });
  });
}
