// GitOps sync state: the sync's settings and last outcome (one row), and per Git-managed resource the desired state
// the last good commit declared (what drift is measured against). Written in the transaction of the sync it records.
import type { Kind } from '@apigov/model';
import type { Queryable } from './db.js';
import type { SyncDesiredRow, SyncState } from './types.js';

export const SYNC_STATE_MIGRATION = `
CREATE TABLE sync_state (
  id text PRIMARY KEY,
  state jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE sync_desired (
  kind text NOT NULL,
  name text NOT NULL,
  path text NOT NULL,
  commit text NOT NULL,
  desired jsonb NOT NULL,
  PRIMARY KEY (kind, name)
);
`;

const ID = 'default';

export async function getSyncState(q: Queryable): Promise<SyncState | null> {
  const rows = await q.query<{ state: SyncState }>('SELECT state FROM sync_state WHERE id = $1', [ID]);
  return rows[0]?.state ?? null;
}

export async function putSyncState(q: Queryable, state: SyncState): Promise<void> {
  await q.query('INSERT INTO sync_state (id, state, updated_at) VALUES ($1, $2::text::jsonb, now()) ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = now()', [ID, JSON.stringify(state)]);
}

export async function listSyncDesired(q: Queryable): Promise<SyncDesiredRow[]> {
  const rows = await q.query<{ kind: Kind; name: string; path: string; commit: string; desired: unknown }>('SELECT kind, name, path, commit, desired FROM sync_desired ORDER BY kind, name');
  return rows.map((r) => ({ kind: r.kind, name: r.name, path: r.path, commit: r.commit, desired: r.desired }));
}

/** Replaces every row: the desired state of the commit just applied. */
export async function replaceSyncDesired(q: Queryable, rows: readonly SyncDesiredRow[]): Promise<void> {
  await q.query('DELETE FROM sync_desired');
  for (let i = 0; i < rows.length; i += 200) {
    const chunk = rows.slice(i, i + 200);
    const params: unknown[] = [];
    const values = chunk.map((r, j) => {
      params.push(r.kind, r.name, r.path, r.commit, JSON.stringify(r.desired));
      const b = j * 5;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}::text::jsonb)`;
    });
    await q.query(`INSERT INTO sync_desired (kind, name, path, commit, desired) VALUES ${values.join(', ')}`, params);
  }
}
