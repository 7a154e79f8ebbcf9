// SCIM groups: the identity provider's groups as it provisions them (id, display name, its external id). Members
// are not kept here: each User's spec lists its groups, from which its teams derive.
import type { Queryable } from './db.js';
import { ISO_MS } from './audit.js';
import type { IdentityGroup } from './types.js';

export const IDENTITY_GROUPS_MIGRATION = `
CREATE TABLE identity_groups (
  id text PRIMARY KEY,
  display_name text NOT NULL UNIQUE,
  external_id text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
`;

interface GroupRow {
  [k: string]: unknown;
  id: string;
  display_name: string;
  external_id: string | null;
  created_at: string;
  updated_at: string;
}

const COLUMNS = `id, display_name, external_id, ${ISO_MS('created_at')} AS created_at, ${ISO_MS('updated_at')} AS updated_at`;

function toGroup(r: GroupRow): IdentityGroup {
  return { id: r.id, displayName: r.display_name, ...(r.external_id !== null && { externalId: r.external_id }), createdAt: r.created_at, updatedAt: r.updated_at };
}

export async function putGroup(q: Queryable, g: IdentityGroup): Promise<void> {
  await q.query(
    `INSERT INTO identity_groups (id, display_name, external_id, created_at, updated_at) VALUES ($1, $2, $3, $4::text::timestamptz, $5::text::timestamptz)
     ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, external_id = excluded.external_id, updated_at = excluded.updated_at`,
    [g.id, g.displayName, g.externalId ?? null, g.createdAt, g.updatedAt],
  );
}

export async function getGroup(q: Queryable, id: string): Promise<IdentityGroup | null> {
  const rows = await q.query<GroupRow>(`SELECT ${COLUMNS} FROM identity_groups WHERE id = $1`, [id]);
  return rows.length === 0 ? null : toGroup(rows[0]);
}

export async function listGroups(q: Queryable): Promise<IdentityGroup[]> {
  return (await q.query<GroupRow>(`SELECT ${COLUMNS} FROM identity_groups ORDER BY display_name`)).map(toGroup);
}

export async function deleteGroup(q: Queryable, id: string): Promise<boolean> {
  return (await q.query('DELETE FROM identity_groups WHERE id = $1 RETURNING id', [id])).length > 0;
}
