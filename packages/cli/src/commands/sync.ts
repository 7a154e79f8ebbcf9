// `apigov sync`: the platform run from Git. Each pass fetches the repository (a path or a URL git clones) into a
// mirror, reads the branch head's resources under --path the way `apply -f DIR` does (specFile included) and sends
// them with the commit's SHA and author to POST /v1/sync, which applies them in one transaction or refuses the commit
// (the last good one stays). `--once` syncs and exits (0 applied, 1 refused); without it, it polls every --interval.
// `apigov sync status` shows the last sync, each resource's drift and the gateways behind (GET /v1/sync/status).
import { rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Option, type Command } from 'commander';
import { CliError, EXIT_FAILURE, EXIT_OK, formatError, usageError } from '../errors.js';
import { branchHead, extractTree, fetchMirror, type CommitInfo } from '../git.js';
import { loadResourceDocuments } from '../documents.js';
import { outputOption, type OutputOptions } from '../options.js';
import { emit, renderData, renderTable, writeErr, writeOut } from '../output.js';
import type { ControlPlaneClient } from '../http.js';
import type { Session } from '../session.js';

export interface SyncOptions {
  repo: string;
  branch: string;
  path: string;
  interval: number;
  once: boolean;
  prune: boolean;
  onDrift: 'allow' | 'warn' | 'reject';
  selfHeal: boolean;
}

interface SyncResult {
  commit: string;
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  healed: number;
  plan: Array<{ action: string; kind: string; name: string }>;
}

/** `30s`, `2m`, `500ms`, `1h` → milliseconds */
export function intervalOption(value: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(value.trim());
  if (m === null) throw usageError(`--interval ${value}: give a duration such as 30s, 2m or 500ms`);
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  if (ms < 100) throw usageError('--interval must be at least 100ms');
  return ms;
}

function normalisedPath(p: string): string {
  const parts = p.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw usageError(`--path ${p}: must stay inside the repository`);
  return parts.join('/');
}

export type PassOutcome = { kind: 'applied'; head: CommitInfo; result: SyncResult } | { kind: 'refused'; head: CommitInfo; reason: string };

/** One sync pass: fetch, read the head commit's resources, send them; a refused commit is reported, not thrown. */
export async function syncPass(cp: ControlPlaneClient, opts: SyncOptions, head?: CommitInfo, mirror?: string): Promise<PassOutcome> {
  const gitDir = mirror ?? (await fetchMirror(opts.repo));
  const commit = head ?? (await branchHead(gitDir, opts.branch));
  const source = { repo: opts.repo, branch: opts.branch, path: opts.path, commit: commit.sha, author: commit.author };
  const options = { prune: opts.prune, onDrift: opts.onDrift, selfHeal: opts.selfHeal };
  const tree = await extractTree(gitDir, commit.sha, opts.path);
  let body: Record<string, unknown>;
  try {
    const docs = await loadResourceDocuments(opts.path === '' ? tree : join(tree, ...opts.path.split('/')));
    body = { source, options, documents: docs.map((d) => d.document), files: docs.map((d) => relative(tree, d.file).split(sep).join('/')) };
  } catch (e) {
    // the commit cannot be read (YAML syntax, a missing specFile): the control plane records it as refused
    const reason = (e instanceof Error ? e.message : String(e)).split(tree).join('');
    body = { source, options, refused: reason.replace(/^[/\\]+/, '') };
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
  try {
    const res = await cp.request('POST', '/v1/sync', { body });
    return { kind: 'applied', head: commit, result: res.body as SyncResult };
  } catch (e) {
    if (e instanceof CliError && e.status !== undefined && e.status >= 400 && e.status < 500 && e.status !== 401 && e.status !== 403) return { kind: 'refused', head: commit, reason: e.message };
    throw e;
  }
}

/** `synced <sha> (<author>): 1 created, …` or `refused <sha> (<author>): reason` */
export function syncLine(outcome: PassOutcome): string {
  const sha = outcome.head.sha.slice(0, 12);
  if (outcome.kind === 'refused') return `refused ${sha} (${outcome.head.author}): ${outcome.reason}`;
  const r = outcome.result;
  return `synced ${sha} (${outcome.head.author}): ${r.created} created, ${r.updated} updated, ${r.deleted} deleted, ${r.unchanged} unchanged${r.healed > 0 ? `, ${r.healed} healed` : ''}`;
}

/** The long-lived loop: a pass per interval; a commit already applied is sent again only with self-heal. */
export async function syncLoop(cp: ControlPlaneClient, opts: SyncOptions, signal: AbortSignal, report: (outcome: PassOutcome | Error) => void): Promise<void> {
  let lastSha: string | undefined;
  while (!signal.aborted) {
    try {
      const mirror = await fetchMirror(opts.repo);
      const head = await branchHead(mirror, opts.branch);
      const isNew = head.sha !== lastSha;
      if (isNew || opts.selfHeal) {
        const outcome = await syncPass(cp, opts, head, mirror);
        lastSha = head.sha;
        const changed = outcome.kind === 'applied' && outcome.result.created + outcome.result.updated + outcome.result.deleted + outcome.result.healed > 0;
        if (isNew || changed) report(outcome);
      }
    } catch (e) {
      report(e instanceof Error ? e : new Error(String(e)));
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, opts.interval);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  }
}

interface StatusBody {
  configured: boolean;
  repo?: string;
  branch?: string;
  path?: string;
  settings?: { onDrift: string; selfHeal: boolean; prune: boolean };
  last?: { commit: string; author?: string; at: string; created: number; updated: number; deleted: number; unchanged: number; healed: number; refused?: { reason: string } };
  lastGood?: { commit: string; at: string };
  counts: { synced: number; outOfSync: number; unmanaged: number };
  resources: Array<{ kind: string; name: string; state: string; path?: string; diff?: Array<{ path: string; git: unknown; live: unknown }> }>;
  gateways: Array<{ gateway: string; environment: string; appliedVersion: number; snapshotVersion: number; state: string }>;
}

function statusText(s: StatusBody): string {
  if (!s.configured) return 'no sync has run yet: apigov sync --repo PATH_OR_URL --once\n';
  const out: string[] = [`repository ${s.repo} ${s.branch}${s.path ? ` (${s.path})` : ''}: on drift ${s.settings!.onDrift}${s.settings!.selfHeal ? ', self-heal' : ''}${s.settings!.prune ? ', prune' : ''}`];
  const l = s.last;
  if (l !== undefined) {
    out.push(
      l.refused !== undefined
        ? `last sync ${l.at}: commit ${l.commit.slice(0, 12)} refused: ${l.refused.reason}${s.lastGood ? ` (${s.lastGood.commit.slice(0, 12)} stays applied)` : ''}`
        : `last sync ${l.at}: commit ${l.commit.slice(0, 12)}${l.author ? ` by ${l.author}` : ''}: ${l.created} created, ${l.updated} updated, ${l.deleted} deleted, ${l.unchanged} unchanged`,
    );
  }
  out.push(`${s.counts.synced} synced, ${s.counts.outOfSync} out of sync, ${s.counts.unmanaged} unmanaged`);
  const notSynced = s.resources.filter((r) => r.state !== 'Synced');
  if (notSynced.length > 0) {
    out.push('');
    out.push(renderTable(['state', 'kind', 'name', 'path', 'diff (git → live)'], notSynced.map((r) => [r.state, r.kind, r.name, r.path, (r.diff ?? []).map((d) => `${d.path}: ${JSON.stringify(d.git)} → ${JSON.stringify(d.live)}`).join('; ')])).trimEnd());
  }
  const behind = s.gateways.filter((g) => g.state !== 'InSync');
  if (behind.length > 0) {
    out.push('');
    out.push(renderTable(['gateway', 'environment', 'applied', 'current'], behind.map((g) => [g.gateway, g.environment, g.appliedVersion, g.snapshotVersion])).trimEnd());
  }
  return `${out.join('\n')}\n`;
}

export function registerSyncCommand(program: Command, session: Session): void {
  const sync = program
    .command('sync')
    .description('run the platform from Git: apply each new commit of a branch (one transaction per commit; a refused commit leaves the last good one applied)')
    .option('--repo <path-or-url>', 'the Git repository: a path or any URL git can clone')
    .option('--branch <branch>', 'the branch to follow', 'main')
    .option('--path <dir>', 'the directory of the resources inside the repository (default: all of it)', '')
    .option('--interval <duration>', 'how often to look for a new commit (30s, 2m, …)', '30s')
    .option('--once', 'sync the branch head and exit: 0 when applied, 1 when the commit is refused (for CI)')
    .option('--prune', 'delete Git-managed resources whose file was deleted')
    .addOption(new Option('--on-drift <mode>', 'what a change to a Git-managed resource made outside Git does: allow (reported), warn, reject (409)').choices(['allow', 'warn', 'reject']).default('warn'))
    .option('--self-heal', "put Git's version back over changes made outside Git, at every pass")
    .addOption(outputOption())
    .action(
      session.action(async (opts: OutputOptions & { repo?: string; branch: string; path: string; interval: string; once?: boolean; prune?: boolean; onDrift: SyncOptions['onDrift']; selfHeal?: boolean }) => {
        if (opts.repo === undefined || opts.repo === '') throw usageError('give --repo PATH_OR_URL');
        const options: SyncOptions = { repo: opts.repo, branch: opts.branch, path: normalisedPath(opts.path), interval: intervalOption(opts.interval), once: opts.once === true, prune: opts.prune === true, onDrift: opts.onDrift, selfHeal: opts.selfHeal === true };
        const cp = await session.client();
        if (options.once) {
          const outcome = await syncPass(cp, options);
          if (opts.output === 'json') writeOut(renderData('json', outcome.kind === 'applied' ? { ...outcome.result, author: outcome.head.author } : { commit: outcome.head.sha, author: outcome.head.author, refused: { reason: outcome.reason } }));
          else (outcome.kind === 'applied' ? writeOut : writeErr)(`${syncLine(outcome)}\n`);
          return outcome.kind === 'applied' ? EXIT_OK : EXIT_FAILURE;
        }
        const stop = new AbortController();
        process.once('SIGINT', () => stop.abort());
        process.once('SIGTERM', () => stop.abort());
        writeOut(`apigov sync: following ${options.repo} ${options.branch} every ${opts.interval} (Ctrl-C stops)\n`);
        await syncLoop(cp, options, stop.signal, (o) => (o instanceof Error ? writeErr(`${formatError(o)}\n`) : writeOut(`${syncLine(o)}\n`)));
        return EXIT_OK;
      }),
    );

  sync
    .command('status')
    .description('the last sync, each Git-managed resource Synced or OutOfSync (with its diff), unmanaged resources, and gateways behind')
    .addOption(outputOption())
    .action(
      session.action(async (opts: OutputOptions) => {
        const cp = await session.client();
        const body = (await cp.request('GET', '/v1/sync/status')).body as StatusBody;
        emit(opts.output, body, () => statusText(body));
      }),
    );
}
