// `apigov export`: every resource the caller may see, as the multi-document YAML `apply` accepts
// (GET /v1/export); `-o json` prints `{documents}` instead. `--format backstage` prints the Backstage catalog instead.
import { Option, type Command } from 'commander';
import { exportFormat, exportJson, exportYaml } from '../api.js';
import { kindsOption, outputOption, type OutputOptions } from '../options.js';
import { renderData, writeOut } from '../output.js';
import type { Session } from '../session.js';

export function registerExportCommand(program: Command, session: Session): void {
  program
    .command('export')
    .description('print every resource you can see as multi-document YAML (the output format is YAML unless -o json)')
    .addOption(new Option('--format <format>', "apigov's own resources, or the model for another platform (GET /v1/exports/FORMAT)").choices(['apigov', 'backstage']).default('apigov'))
    .option('--kind <kinds>', 'only these kinds, comma-separated (Team, Environment, User, Plan, GovernanceRuleset, Api)', kindsOption)
    .addOption(outputOption())
    .action(
      session.action(async (opts: OutputOptions & { kind?: string; format: string }) => {
        const cp = await session.client();
        if (opts.format !== 'apigov') {
          const body = await exportFormat(cp, opts.format, opts.output === 'json');
          writeOut(typeof body === 'string' ? (body.endsWith('\n') ? body : `${body}\n`) : renderData('json', body));
          return;
        }
        if (opts.output === 'json') {
          writeOut(renderData('json', await exportJson(cp, opts.kind)));
          return;
        }
        const text = await exportYaml(cp, opts.kind);
        writeOut(text.endsWith('\n') || text === '' ? text : `${text}\n`);
      }),
    );
}
