// `apigov register`: registers an API, or one version of it, from an OpenAPI file and the local files
// its $refs reach (POST /v1/apis/register), then reports the lint findings count.
import { Option, type Command } from 'commander';
import { VISIBILITIES, versionKey } from '@apigov/model';
import { registerApi, type Finding, type RegisterRequest } from '../api.js';
import { collectSpec } from '../bundle.js';
import { changeLines, summaryText } from '../changes.js';
import { countFindings, describeCounts } from '../findings.js';
import { collect, collectUpstream, nameOption, outputOption, versionOption, type OutputOptions } from '../options.js';
import { emit } from '../output.js';
import { withProgress } from '../progress.js';
import type { Session } from '../session.js';

interface RegisterOptions extends OutputOptions {
  spec: string;
  name: string;
  team?: string;
  version?: string;
  upstream?: Record<string, string>;
  visibility?: string;
  title?: string;
  description?: string;
  tag?: string[];
}

function infoVersion(doc: unknown): string | undefined {
  const info = (doc as { info?: { version?: unknown } } | undefined)?.info;
  return typeof info?.version === 'string' ? info.version : undefined;
}

export function registerRegisterCommand(program: Command, session: Session): void {
  program
    .command('register')
    .description('register an API (or a new version of it) from its OpenAPI document')
    .requiredOption('--spec <file>', 'OpenAPI document (YAML or JSON); local files it $refs are sent along')
    .requiredOption('--name <name>', 'API name', nameOption)
    .option('--team <team>', 'owner team (required for a new API)', nameOption)
    .option('--version <version>', "version to register (default: the major of the document's info.version)", versionOption)
    .option('--upstream <env=url>', 'upstream URL per environment, e.g. dev=http://127.0.0.1:4100 (repeatable)', collectUpstream)
    .addOption(new Option('--visibility <visibility>', 'who can see the API').choices(VISIBILITIES))
    .option('--title <text>', "title (default: the document's info.title)")
    .option('--description <text>', "description (default: the document's info.description)")
    .option('--tag <tag>', 'catalog tag (repeatable)', collect)
    .addOption(outputOption())
    .action(
      session.action(async (opts: RegisterOptions) => {
        const spec = await collectSpec(opts.spec);
        const request: RegisterRequest = { name: opts.name, spec: spec.source };
        if (opts.team !== undefined) request.team = opts.team;
        if (opts.version !== undefined) request.version = opts.version;
        if (opts.upstream !== undefined) request.upstreams = opts.upstream;
        if (opts.visibility !== undefined) request.visibility = opts.visibility;
        if (opts.title !== undefined) request.title = opts.title;
        if (opts.description !== undefined) request.description = opts.description;
        if (opts.tag !== undefined) request.tags = opts.tag;
        const result = await withProgress(`registering ${opts.name}`, registerApi(await session.client(), request));
        const findings: Finding[] = Array.isArray(result.body.findings) ? result.body.findings : [];
        emit(opts.output, result.body, () => {
          const revision = infoVersion(spec.entryDocument);
          const version = opts.version ?? (revision === undefined ? undefined : versionKey(revision)) ?? '';
          const files = typeof spec.source === 'string' ? '' : ` from ${Object.keys(spec.source.files).length} files`;
          const lines = [
            `Registered ${opts.name} ${version}${revision === undefined ? '' : ` (revision ${revision})`}${opts.team === undefined ? '' : ` for team ${opts.team}`}${files}: ${result.created ? 'new API' : 'API updated'}.`,
          ];
          for (const [env, url] of Object.entries(opts.upstream ?? {})) lines.push(`  upstream ${env}: ${url}`);
          const counts = countFindings(findings);
          lines.push(`Lint: ${describeCounts(counts)}${counts.error + counts.warn > 0 ? ` (apigov validate ${opts.spec} lists them)` : ''}.`);
          const changes = result.body.changes;
          if (changes !== undefined) {
            const shown = changes.changes.filter((c) => c.level !== 'info');
            lines.push(`Changes from ${changes.from} to ${changes.to}: ${summaryText(changes.summary)}${changes.summary.info > 0 ? ` (apigov changelog ${opts.name} lists them all)` : ''}.`);
            if (shown.length > 0) lines.push(changeLines(shown).trimEnd());
          }
          return lines.join('\n') + '\n';
        });
      }),
    );
}
