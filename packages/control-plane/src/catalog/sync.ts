// GitOps sync: one commit's resources applied in one transaction with apply's semantics, each written with its
// status.source (repo, path, commit, author) and audited as the commit's author; a commit that fails validation is
// refused and recorded while the last good commit stays applied. Drift both ways: a Git-managed resource changed
// through the CLI, REST or the portal is OutOfSync (allowed and reported, warned about, or refused per setting, and
// put back by self-heal); a resource no Git file declares is Unmanaged.
import { createHash } from 'node:crypto';
import { ApigovError, KINDS, canonicalJson, desiredState, type AnyResource, type Kind } from '@apigov/model';
import type { Store, StoredResource, StoreTx, SyncDesiredRow, SyncSource, SyncState } from '@apigov/store';
import type { Principal } from '../auth.js';
import { readBundle, validateBundle } from './apply.js';
import { deleteResource, writeResource, type WriteContext } from './writes.js';
import { DRIFT_MODES, sourceOf, type DriftMode } from './drift.js';
import { invalidField } from '../problem.js';


export interface SyncRequest {
  source: { repo: string; branch: string; path: string; commit: string; author?: string };
  options: { prune: boolean; onDrift: DriftMode; selfHeal: boolean };
  /** the commit's resource documents, each with the file it came from */
  documents?: unknown[];
  files?: string[];
  /** the CLI could not read the commit (a YAML syntax error, a missing specFile): recorded as refused */
  refused?: string;
}

export interface SyncResult {
  commit: string;
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  /** OutOfSync resources put back to Git's version (self-heal) */
  healed: number;
  plan: Array<{ action: 'create' | 'update' | 'unchanged' | 'delete' | 'heal' | 'skip-drifted'; kind: Kind; name: string }>;
}

export interface ResourceSyncState {
  kind: Kind;
  name: string;
  state: 'Synced' | 'OutOfSync' | 'Unmanaged';
  path?: string;
  commit?: string;
  /** OutOfSync: what differs, Git's value against the live one */
  diff?: FieldDiff[];
}

export interface FieldDiff {
  path: string;
  git: unknown;
  live: unknown;
}

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** kinds that never come from Git: keys are minted by the control plane and shown once */
const NOT_FROM_GIT = new Set<Kind>(['Credential']);

/** Checks the body of POST /v1/sync. */
export function syncRequestOf(body: unknown): SyncRequest {
  const b = (body ?? {}) as Record<string, any>;
  const s = b.source as Record<string, unknown> | undefined;
  if (typeof s !== 'object' || s === null) throw invalidField('source', 'give {repo, branch, path, commit}');
  for (const k of ['repo', 'branch', 'commit'] as const) if (typeof s[k] !== 'string' || s[k] === '') throw invalidField(`source.${k}`, 'must be a non-empty string');
  if (!SHA.test(String(s.commit))) throw invalidField('source.commit', 'must be a full commit SHA');
  const o = (b.options ?? {}) as Record<string, unknown>;
  const onDrift = (o.onDrift ?? 'warn') as DriftMode;
  if (!DRIFT_MODES.includes(onDrift)) throw invalidField('options.onDrift', `must be one of ${DRIFT_MODES.join(', ')}`);
  if (b.refused === undefined && !Array.isArray(b.documents)) throw invalidField('documents', 'give the commit\'s resource documents, or refused with the reason');
  if (b.files !== undefined && (!Array.isArray(b.files) || b.files.length !== (b.documents as unknown[] | undefined)?.length)) throw invalidField('files', 'one file per document');
  return {
    source: { repo: String(s.repo), branch: String(s.branch), path: typeof s.path === 'string' ? s.path : '', commit: String(s.commit), ...(typeof s.author === 'string' && { author: s.author }) },
    options: { prune: o.prune === true, onDrift, selfHeal: o.selfHeal === true },
    ...(Array.isArray(b.documents) && { documents: b.documents as unknown[] }),
    ...(Array.isArray(b.files) && { files: b.files as string[] }),
    ...(typeof b.refused === 'string' && { refused: b.refused.slice(0, 4000) }),
  };
}

const idOf = (kind: string, name: string) => `${kind}/${name}`;

function desiredJson(r: Pick<AnyResource, 'apiVersion' | 'kind' | 'metadata' | 'spec'>): string {
  return canonicalJson(desiredState(r));
}

const digest = (v: unknown) => createHash('sha256').update(canonicalJson(v)).digest('hex').slice(0, 12);

/** Leaf differences between Git's desired state and the live one (OpenAPI documents compared by digest), at most 50. */
export function fieldDiff(git: unknown, live: unknown, path = '', out: FieldDiff[] = []): FieldDiff[] {
  if (out.length >= 50) return out;
  if (canonicalJson(git) === canonicalJson(live)) return out;
  if (path.endsWith('.openapi')) {
    out.push({ path, git: `document sha256:${digest(git)}`, live: `document sha256:${digest(live)}` });
    return out;
  }
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(git) && isObj(live)) {
    for (const k of [...new Set([...Object.keys(git), ...Object.keys(live)])].sort()) fieldDiff(git[k], live[k], path === '' ? k : `${path}.${k}`, out);
    return out;
  }
  if (Array.isArray(git) && Array.isArray(live) && git.length === live.length) {
    git.forEach((g, i) => fieldDiff(g, live[i], `${path}[${i}]`, out));
    return out;
  }
  out.push({ path: path === '' ? '(resource)' : path, git: git ?? null, live: live ?? null });
  return out;
}

/** every resource of a kind, a page at a time (from the store or inside a transaction) */
async function allOf(tx: Pick<StoreTx, 'list'>, kind: Kind): Promise<StoredResource[]> {
  const out: StoredResource[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await tx.list(kind, { after, limit: 500 });
    out.push(...page);
    if (page.length < 500) return out;
    after = page[page.length - 1]!.resource.metadata.name;
  }
}

function withSource(r: AnyResource, source: SyncSource): AnyResource {
  return { ...r, status: { ...((r.status as Record<string, unknown> | undefined) ?? {}), source } } as unknown as AnyResource;
}

/** Records a refused commit; the last good one stays applied. */
export async function recordRefusal(store: Store, req: SyncRequest, reason: string): Promise<void> {
  await store.transaction(async (tx) => {
    const previous = await tx.getSyncState();
    await tx.putSyncState({
      ...settingsOf(req),
      ...(previous?.lastGood !== undefined && { lastGood: previous.lastGood }),
      last: { commit: req.source.commit, ...(req.source.author !== undefined && { author: req.source.author }), at: new Date().toISOString(), created: 0, updated: 0, deleted: 0, unchanged: 0, healed: 0, refused: { reason } },
    });
  });
}

function settingsOf(req: SyncRequest): Omit<SyncState, 'last' | 'lastGood'> {
  return { repo: req.source.repo, branch: req.source.branch, path: req.source.path, ...req.options };
}

/** Applies one commit in one transaction; throws (and records the refusal) when any document is refused. */
export async function syncCommit(store: Store, principal: Principal, req: SyncRequest): Promise<SyncResult> {
  if (!principal.admin) throw new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', 'only a platform admin may sync the platform from Git');
  if (req.refused !== undefined) {
    await recordRefusal(store, req, req.refused);
    throw new ApigovError('APIGOV_ERR_INPUT_INVALID', `commit ${req.source.commit.slice(0, 12)} refused: ${req.refused}`, { extensions: { commit: req.source.commit } });
  }
  try {
    return await applyCommit(store, principal, req);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    await recordRefusal(store, req, reason);
    if (e instanceof ApigovError) {
      throw new ApigovError(e.code, `commit ${req.source.commit.slice(0, 12)} refused, the last good commit stays applied: ${e.message}`, { errors: e.errors, extensions: { ...e.extensions, commit: req.source.commit } });
    }
    throw e;
  }
}

async function applyCommit(store: Store, principal: Principal, req: SyncRequest): Promise<SyncResult> {
  const docs = readBundle({ documents: req.documents ?? [] });
  const resources = validateBundle(docs);
  const files = req.files ?? [];
  const fileOf = new Map(resources.map((r, i) => [idOf(r.kind, r.metadata.name), files[i] ?? req.source.path]));
  const fromGit = resources.filter((r) => NOT_FROM_GIT.has(r.kind));
  if (fromGit.length > 0) throw invalidField(`documents[${resources.indexOf(fromGit[0]!)}].kind`, `${fromGit[0]!.kind} resources are not kept in Git (keys are shown once and stored hashed)`);
  const ordered = [...resources].sort((a, b) => KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind));
  const { repo, commit, author } = req.source;
  const actor = author === undefined ? principal.name : `git:${author}`;
  return store.transaction(async (tx) => {
    const ctx: WriteContext = { tx, principal: { ...principal, name: actor }, requestId: `git:${commit}`, sync: true, bulk: true };
    const previous = new Map((await tx.listSyncDesired()).map((row) => [idOf(row.kind, row.name), row]));
    const result: SyncResult = { commit, created: 0, updated: 0, deleted: 0, unchanged: 0, healed: 0, plan: [] };
    const desiredRows: SyncDesiredRow[] = [];
    for (const r of ordered) {
      const id = idOf(r.kind, r.metadata.name);
      const path = fileOf.get(id)!;
      const gitJson = desiredJson(r);
      const current = await tx.get(r.kind, r.metadata.name);
      const before = previous.get(id);
      const liveJson = current === null ? undefined : desiredJson(current.resource);
      const source: SyncSource = { repo, path, commit, ...(author !== undefined && { author }) };
      desiredRows.push({ kind: r.kind, name: r.metadata.name, path, commit: before !== undefined && canonicalJson(before.desired) === gitJson ? before.commit : commit, desired: JSON.parse(gitJson) });
      if (liveJson === gitJson) {
        // already as Git says: nothing is written, unless the resource is adopted from outside Git
        const had = current === null ? undefined : sourceOf(current.resource);
        if (current !== null && (had === undefined || had.repo !== repo || had.path !== path)) {
          await tx.put(withSource(current.resource, source), actor, current.resourceVersion);
        }
        result.unchanged++;
        result.plan.push({ action: 'unchanged', kind: r.kind, name: r.metadata.name });
        continue;
      }
      // Git did not change this resource since the last good commit, so the difference is a live change (drift)
      const drifted = before !== undefined && canonicalJson(before.desired) === gitJson;
      if (drifted && !req.options.selfHeal) {
        // the live change stays until self-heal or a new Git change to this resource
        result.unchanged++;
        result.plan.push({ action: 'skip-drifted', kind: r.kind, name: r.metadata.name });
        desiredRows[desiredRows.length - 1]!.commit = before!.commit;
        continue;
      }
      const { outcome } = await writeResource(ctx, withSource(r, source), { prefix: `documents[${resources.indexOf(r)}].`, action: drifted ? 'sync.heal' : current === null ? 'sync.create' : 'sync.update' });
      if (drifted) {
        result.healed++;
        result.plan.push({ action: 'heal', kind: r.kind, name: r.metadata.name });
      } else if (outcome === 'create') {
        result.created++;
        result.plan.push({ action: 'create', kind: r.kind, name: r.metadata.name });
      } else {
        result.updated++;
        result.plan.push({ action: 'update', kind: r.kind, name: r.metadata.name });
      }
    }
    if (req.options.prune) {
      const declared = new Set(resources.map((r) => idOf(r.kind, r.metadata.name)));
      for (const kind of [...KINDS].reverse()) {
        for (const s of await allOf(tx, kind)) {
          const src = sourceOf(s.resource);
          if (src === undefined || src.repo !== repo || declared.has(idOf(kind, s.resource.metadata.name))) continue;
          await deleteResource(ctx, kind, s.resource.metadata.name, { action: 'sync.prune' });
          result.deleted++;
          result.plan.push({ action: 'delete', kind, name: s.resource.metadata.name });
        }
      }
    }
    await tx.replaceSyncDesired(desiredRows);
    const at = new Date().toISOString();
    await tx.putSyncState({
      ...settingsOf(req),
      last: { commit, ...(author !== undefined && { author }), at, created: result.created, updated: result.updated, deleted: result.deleted, unchanged: result.unchanged, healed: result.healed },
      lastGood: { commit, ...(author !== undefined && { author }), at },
    });
    return result;
  });
}

/** Every resource's sync state: Synced, OutOfSync with its field diff, or Unmanaged. */
export async function resourceStates(store: Store): Promise<ResourceSyncState[]> {
  const desired = new Map((await store.listSyncDesired()).map((row) => [idOf(row.kind, row.name), row]));
  const out: ResourceSyncState[] = [];
  const seen = new Set<string>();
  for (const kind of KINDS) {
    if (NOT_FROM_GIT.has(kind)) continue;
    for (const s of await allOf(store, kind)) {
      const id = idOf(kind, s.resource.metadata.name);
      seen.add(id);
      const git = desired.get(id);
      const source = sourceOf(s.resource);
      if (git === undefined) {
        if (source === undefined) out.push({ kind, name: s.resource.metadata.name, state: 'Unmanaged' });
        // managed once, no longer declared: Git deleted it and the sync does not prune
        else out.push({ kind, name: s.resource.metadata.name, state: 'OutOfSync', path: source.path, commit: source.commit, diff: [{ path: '(resource)', git: null, live: 'present' }] });
        continue;
      }
      const live = JSON.parse(desiredJson(s.resource)) as unknown;
      const diff = fieldDiff(git.desired, live);
      out.push({ kind, name: s.resource.metadata.name, state: diff.length === 0 ? 'Synced' : 'OutOfSync', path: git.path, commit: git.commit, ...(diff.length > 0 && { diff }) });
    }
  }
  // declared in Git but deleted here
  for (const [id, git] of desired) if (!seen.has(id)) out.push({ kind: git.kind, name: git.name, state: 'OutOfSync', path: git.path, commit: git.commit, diff: [{ path: '(resource)', git: 'present', live: null }] });
  return out;
}
