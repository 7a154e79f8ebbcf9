// `apigov apply` and `apigov diff`: sends the resource documents of a file or directory to
// POST /v1/apply (for real or as a dry run) and prints the plan and a summary line.
import type { Command } from 'commander';
import { applyDocuments, type ApplyResult, type PlanEntry } from '../api.js';
import { CliError } from '../errors.js';
import { loadResourceDocuments, type SourcedDocument } from '../documents.js';
import { outputOption, type OutputOptions } from '../options.js';
import { emit, renderTable } from '../output.js';
import { withProgress } from '../progress.js';
import type { Session } from '../session.js';

const OUTCOMES = ['created', 'updated', 'unchanged', 'deleted'] as const;

/** `create`/`created` → `created`, and so on; other actions are kept as they are. */
function outcome(action: string): string {
  const a = action.toLowerCase();
  if (a.startsWith('create')) return 'created';
  if (a.startsWith('update')) return 'updated';
  if (a.startsWith('unchange') || a === 'noop' || a === 'none') return 'unchanged';
  if (a.startsWith('delete') || a.startsWith('prune')) return 'deleted';
  return a;
}

export function isChange(entry: PlanEntry): boolean {
  return outcome(entry.action) !== 'unchanged';
}

/** `3 created, 1 updated, 5 unchanged, 0 deleted`, plus ` (dry run)`. */
export function summaryLine(plan: readonly PlanEntry[], dryRun: boolean): string {
  const counts = new Map<string, number>(OUTCOMES.map((o) => [o, 0]));
  for (const e of plan) counts.set(outcome(e.action), (counts.get(outcome(e.action)) ?? 0) + 1);
  return [...counts].map(([o, n]) => `${n} ${o}`).join(', ') + (dryRun ? ' (dry run)' : '');
}

function changesText(changes: unknown): string | undefined {
  if (changes === undefined || changes === null) return undefined;
  if (Array.isArray(changes)) {
    return changes
      .map((c) => (typeof c === 'string' ? c : typeof c === 'object' && c !== null && 'path' in c ? String((c as { path: unknown }).path) : JSON.stringify(c)))
      .join(', ');
  }
  if (typeof changes === 'object') return Object.keys(changes).join(', ');
  return String(changes);
}

function planTable(plan: readonly PlanEntry[]): string {
  const withChanges = plan.some((e) => changesText(e.changes));
  const headers = withChanges ? ['action', 'kind', 'name', 'changes'] : ['action', 'kind', 'name'];
  return renderTable(headers, plan.map((e) => [e.action, e.kind, e.name, changesText(e.changes)]));
}

/** Names the file and document of a server-side error at `documents[i]...`. */
function locate(e: unknown, docs: readonly SourcedDocument[]): unknown {
  if (!(e instanceof CliError)) return e;
  const m = /^documents\[(\d+)\]/.exec(e.errors[0]?.path ?? '');
  const doc = m ? docs[Number(m[1])] : undefined;
  if (doc === undefined) return e;
  return new CliError(e.code, `${e.message} (${doc.file}, document ${doc.index})`, {
    exitCode: e.exitCode,
    errors: e.errors,
    extensions: e.extensions,
    status: e.status,
  });
}

async function run(session: Session, target: string, options: { dryRun: boolean; prune: boolean }): Promise<ApplyResult> {
  const docs = await loadResourceDocuments(target);
  const cp = await session.client();
  try {
    return await withProgress(`applying ${docs.length} documents`, applyDocuments(cp, docs.map((d) => d.document), options));
  } catch (e) {
    throw locate(e, docs);
  }
}

export function registerApplyCommands(program: Command, session: Session): void {
  program
    .command('apply')
    .description('create, update (and with --prune delete) resources to match YAML/JSON files')
    .requiredOption('-f, --file <path>', 'a YAML/JSON file (multi-document YAML allowed) or a directory of them (recursive)')
    .option('--dry-run', 'only show what would change')
    .option('--prune', 'delete resources that are not in the files')
    .addOption(outputOption())
    .addHelpText('after', '\nAn Api version may say `specFile: ./openapi.yaml` instead of `openapi:`; the path is relative to the YAML file.')
    .action(
      session.action(async (opts: OutputOptions & { file: string; dryRun?: boolean; prune?: boolean }) => {
        const result = await run(session, opts.file, { dryRun: opts.dryRun === true, prune: opts.prune === true });
        const plan = result.plan ?? [];
        emit(opts.output, result, () => (plan.length > 0 ? planTable(plan) : '') + summaryLine(plan, result.dryRun ?? opts.dryRun === true) + '\n');
      }),
    );

  program
    .command('diff')
    .description('show what `apply` would change (a dry run), listing only resources that differ')
    .requiredOption('-f, --file <path>', 'a YAML/JSON file or a directory of them')
    .option('--prune', 'also show resources that `apply --prune` would delete')
    .option('--exit-code', 'exit 1 when there are changes (for CI), 0 when none')
    .addOption(outputOption())
    .addHelpText('after', '\nExit codes: 0 (also when there are changes, unless --exit-code), 1 changes with --exit-code or a failure, 2 usage error.')
    .action(
      session.action(async (opts: OutputOptions & { file: string; prune?: boolean; exitCode?: boolean }) => {
        const result = await run(session, opts.file, { dryRun: true, prune: opts.prune === true });
        const changes = (result.plan ?? []).filter(isChange);
        emit(opts.output, changes, () => (changes.length === 0 ? 'No changes.\n' : planTable(changes) + summaryLine(result.plan, true) + '\n'));
        return opts.exitCode === true && changes.length > 0 ? 1 : 0;
      }),
    );
}
