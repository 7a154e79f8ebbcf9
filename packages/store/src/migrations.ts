// The database schema as an ordered list of versioned migrations, and the routine that applies the
// missing ones at open (one transaction, under an advisory lock so concurrent control planes don't race).
import { LOCK_CLASS, lockKey } from './locks.js';
import { IDENTITY_GROUPS_MIGRATION } from './identity-groups.js';
import { EVENTS_MIGRATION } from './events.js';
import { WEBHOOKS_MIGRATION } from './webhooks.js';
import type { Db } from './db.js';
import { quoteIdent } from './db.js';
import { GATEWAY_STATE_MIGRATION, USAGE_BY_OPERATION_MIGRATION } from './gateway-state.js';
import { SYNC_STATE_MIGRATION } from './sync-state.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Append only: never edit a migration that has shipped; add a new one. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'resources, api search, audit, tokens, idempotency',
    sql: `
CREATE TABLE resources (
  kind text NOT NULL,
  name text NOT NULL,
  metadata jsonb NOT NULL,
  spec jsonb NOT NULL,
  status jsonb,
  resource_version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  created_by text NOT NULL,
  updated_by text NOT NULL,
  PRIMARY KEY (kind, name)
);

CREATE TABLE api_search (
  name text PRIMARY KEY,
  title text NOT NULL,
  description text,
  owner text NOT NULL,
  tags text[] NOT NULL,
  visibility text NOT NULL,
  states jsonb NOT NULL,
  facets text[] NOT NULL,
  paths text NOT NULL,
  document tsvector NOT NULL
);
CREATE INDEX api_search_document_idx ON api_search USING gin (document);
CREATE INDEX api_search_tags_idx ON api_search USING gin (tags);
CREATE INDEX api_search_facets_idx ON api_search USING gin (facets);
CREATE INDEX api_search_owner_idx ON api_search (owner, name);
CREATE INDEX api_search_visibility_idx ON api_search (visibility, name);

CREATE TABLE audit_events (
  seq bigint PRIMARY KEY,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  kind text NOT NULL,
  name text NOT NULL,
  before jsonb,
  after jsonb,
  request_id text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL
);
CREATE INDEX audit_events_actor_idx ON audit_events (actor, seq);
CREATE INDEX audit_events_target_idx ON audit_events (kind, name, seq);
CREATE INDEX audit_events_action_idx ON audit_events (action, seq);

CREATE TABLE tokens (
  token_hash text PRIMARY KEY,
  user_name text NOT NULL,
  prefix text NOT NULL,
  expires_at timestamptz,
  created_at timestamptz NOT NULL
);
CREATE INDEX tokens_user_idx ON tokens (user_name, created_at);

CREATE TABLE idempotency (
  key text NOT NULL,
  actor text NOT NULL,
  request_hash text NOT NULL,
  status integer NOT NULL,
  body jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (key, actor)
);
CREATE INDEX idempotency_created_idx ON idempotency (created_at);
`,
  },
  { version: 2, name: 'gateway snapshots, gateway status, usage, error samples', sql: GATEWAY_STATE_MIGRATION },
  { version: 3, name: 'usage per OpenAPI operation', sql: USAGE_BY_OPERATION_MIGRATION },
  { version: 4, name: 'GitOps sync state and desired state', sql: SYNC_STATE_MIGRATION },
  {
    version: 5,
    name: 'named, scoped tokens with their last use',
    sql: `
ALTER TABLE tokens ADD COLUMN name text, ADD COLUMN scopes text[], ADD COLUMN team text, ADD COLUMN last_used_at timestamptz;
CREATE UNIQUE INDEX tokens_user_name_idx ON tokens (user_name, name) WHERE name IS NOT NULL;
`,
  },
  {
    version: 6,
    name: 'single sign-on sessions and refresh tokens; SCIM groups',
    sql: `
ALTER TABLE tokens ADD COLUMN kind text, ADD COLUMN session jsonb, ADD COLUMN idp_refresh text;
${IDENTITY_GROUPS_MIGRATION}`,
  },
  { version: 7, name: 'the event outbox', sql: EVENTS_MIGRATION },
  { version: 8, name: 'webhook secrets, the fan-out cursor and deliveries', sql: WEBHOOKS_MIGRATION },
];

export { LOCK_CLASS, lockKey } from './locks.js';

/**
 * Creates the schema if needed and applies the migrations it has not seen yet; returns the versions applied.
 * Runs in one transaction holding a transaction-level advisory lock, so a second control plane
 * starting at the same moment waits and then finds nothing left to do.
 */
export async function migrate(db: Db, schema: string, list: readonly Migration[] = migrations): Promise<number[]> {
  return db.transaction(async (q) => {
    await q.query('SELECT pg_advisory_xact_lock($1::int4, $2::int4)', [LOCK_CLASS, lockKey(`migrate:${schema}`)]);
    if (schema !== 'public') await q.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await q.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`);
    const done = new Set((await q.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of [...list].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await q.exec(m.sql);
      await q.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
