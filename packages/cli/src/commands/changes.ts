// `apigov breaking BASE REVISION`: every change between two OpenAPI documents (files, or API@VERSION from the control
// plane), exit 1 at or above --fail-on; `apigov changelog API`: the changes between two registered versions.
import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { isApigovError, versionKey } from '@apigov/model';
import { diffApi, versionDocument } from '../api.js';
import { collectSpec } from '../bundle.js';
import { changesTable, summaryText } from '../changes.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE, usageError } from '../errors.js';
import { versionOption } from '../options.js';
import { renderData, writeOut } from '../output.js';
import { specLibrary } from '../spec.js';
import type { Session } from '../session.js';

/** `payments@v1`, `payments@1`: a registered version rather than a file. */
const REGISTERED = /^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)@(v?\d+(?:\.\d+)*)$/;

async function readDocument(session: Session, what: string, argument: string): Promise<Record<string, unknown>> {
  const spec = await specLibrary();
  const registered = REGISTERED.exec(argument);
  try {
    if (registered !== null && !existsSync(argument)) {
      const version = versionKey(registered[2]);
      if (version === undefined) throw usageError(`${what} ${argument}: '${registered[2]}' names no version`);
      const document = await versionDocument(await session.client(), registered[1], version);
      return (await spec.loadSpec(JSON.stringify(document))).document;
    }
    const collected = await collectSpec(argument);
    return (await spec.loadSpec(collected.source)).document;
  } catch (e) {
    // an unreadable or invalid document, an unknown API or version: a usage error, nothing compared
    if (e instanceof CliError && e.status === 404) throw new CliError(e.code, `${what} ${argument}: ${e.message}`, { exitCode: EXIT_USAGE });
    if (isApigovError(e) && e.code.startsWith('APIGOV_ERR_SPEC_')) throw new CliError(e.code, `${what} ${argument}: ${e.message}`, { exitCode: EXIT_USAGE, errors: e.errors });
    throw e;
  }
}

const LEVEL_RANK = { info: 0, warning: 1, breaking: 2 } as const;

export function registerChangeCommands(program: Command, session: Session): void {
  program
    .command('breaking')
    .description('list every change between two OpenAPI documents; exit 1 when one is at or above --fail-on')
    .argument('<base>', 'the earlier document: a file, or API@VERSION for a registered one (payments@v1)')
    .argument('<revision>', 'the later document: a file, or API@VERSION')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml', 'markdown']).default('table'))
    .addOption(new Option('--fail-on <level>', 'the level that fails the check').choices(['breaking', 'warning']).default('breaking'))
    .addHelpText('after', '\nExit codes: 0 nothing at or above --fail-on, 1 something is, 2 a usage error or an unreadable document.')
    .action(
      session.action(async (base: string, revision: string, opts: { output: string; failOn: 'breaking' | 'warning' }) => {
        const spec = await specLibrary();
        const a = await readDocument(session, 'base', base);
        const b = await readDocument(session, 'revision', revision);
        const changes = spec.diffOpenApi(a, b);
        const failing = changes.filter((c) => LEVEL_RANK[c.level] >= LEVEL_RANK[opts.failOn]);
        const summary = spec.summarizeChanges(changes);
        if (opts.output === 'json' || opts.output === 'yaml') {
          const wire = changes.map((c) => ({ id: c.id, level: c.level, operation: c.operation ?? null, text: c.text, fingerprint: c.fingerprint, migration: c.migration, base: c.base ?? null, revision: c.revision ?? null }));
          writeOut(renderData(opts.output, { changes: wire }));
        } else if (opts.output === 'markdown') {
          writeOut(spec.changelogMarkdown(spec.changelogOf("Changes", base, revision, changes)));
        } else {
          writeOut(changesTable(changes));
          writeOut(`${summaryText(summary)}; ${failing.length === 0 ? `nothing at or above ${opts.failOn}` : `${failing.length} at or above ${opts.failOn}`}.\n`);
        }
        return failing.length === 0 ? 0 : EXIT_FAILURE;
      }),
    );

  program
    .command('changelog')
    .description("what changed between two versions of a registered API, grouped by operation, breaking first, with migration notes and who it affects")
    .argument('<api>', 'API name')
    .option('--from <version>', 'the earlier version (default: the one before --to)', versionOption)
    .option('--to <version>', 'the later version (default: the latest)', versionOption)
    .addOption(new Option('-o, --output <format>', 'output format').choices(['markdown', 'json', 'html']).default('markdown'))
    .action(
      session.action(async (api: string, opts: { from?: string; to?: string; output: string }) => {
        const diff = await diffApi(await session.client(), api, { ...(opts.from !== undefined && { from: opts.from }), ...(opts.to !== undefined && { to: opts.to }) });
        if (opts.output === 'json') return void writeOut(renderData('json', diff));
        const spec = await specLibrary();
        const log = spec.changelogOf(api, diff.from, diff.to, diff.changes);
        writeOut(opts.output === 'html' ? spec.changelogHtml(log) : spec.changelogMarkdown(log));
      }),
    );
}
