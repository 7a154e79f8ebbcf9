// `apigov validate`: lints an OpenAPI document locally with @apigov/openapi (no control plane needed) and
// fails when a finding reaches the environment's governance gate.
import type { Command } from 'commander';
import { isApigovError, type GateLevel } from '@apigov/model';
import type { Finding } from '../api.js';
import { collectSpec } from '../bundle.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from '../errors.js';
import { countFindings, describeCounts, findingsTable, sortFindings } from '../findings.js';
import { blockOnFor, isBlocking, loadRuleset, type Gate } from '../gates.js';
import { nameOption, outputOption, type OutputOptions } from '../options.js';
import { emit } from '../output.js';
import { withProgress } from '../progress.js';
import { specLibrary, type LoadedSpec, type RuleSeverity } from '../spec.js';
import type { Session } from '../session.js';

interface ValidateOptions extends OutputOptions {
  env?: string;
  ruleset?: string;
}

function describeGate(blockOn: GateLevel, env: string | undefined): string {
  const where = env === undefined ? '' : ` for ${env}`;
  if (blockOn === 'never') return `nothing blocks${where}`;
  return `${blockOn === 'warn' ? 'errors and warnings' : 'errors'} block${where}`;
}

export function registerValidateCommand(program: Command, session: Session): void {
  program
    .command('validate')
    .description('lint an OpenAPI document locally; exit 1 when findings would block publication')
    .argument('<file>', 'OpenAPI document (YAML or JSON)')
    .option('--env <environment>', "apply this environment's gate (default gates: errors block every environment but dev)", nameOption)
    .option('--ruleset <file>', 'GovernanceRuleset YAML whose gates and rule severities to use')
    .addOption(outputOption())
    .addHelpText('after', '\nExit codes: 0 no blocking findings, 1 blocking findings, 2 the file is unreadable or not an OpenAPI document.')
    .action(
      session.action(async (file: string, opts: ValidateOptions) => {
        let gates: Gate[] = [];
        let ruleOverrides: Record<string, RuleSeverity> | undefined;
        if (opts.ruleset !== undefined) {
          const ruleset = await loadRuleset(opts.ruleset);
          gates = ruleset.gates;
          ruleOverrides = ruleset.rules;
        }
        const collected = await collectSpec(file);
        const spec = await specLibrary();
        let loaded: LoadedSpec;
        try {
          loaded = await spec.loadSpec(collected.source);
        } catch (e) {
          if (isApigovError(e) && e.code.startsWith('APIGOV_ERR_SPEC_')) {
            throw new CliError(e.code, `${file}: ${e.message}`, { exitCode: EXIT_USAGE, errors: e.errors });
          }
          throw e;
        }
        // one file: lint its own text so lines are the file's; a bundle: lint the bundled document
        const input = typeof collected.source === 'string' ? { text: loaded.text } : { document: loaded.document };
        const findings: Finding[] = sortFindings(await withProgress(`linting ${file}`, spec.lintSpec(input, ruleOverrides === undefined ? {} : { ruleOverrides }), { immediate: true }));
        const blockOn = blockOnFor(opts.env, gates);
        const blocking = findings.filter((f) => isBlocking(f, blockOn));
        const blocked = blocking.length > 0;
        emit(opts.output, { findings, blocked, blockOn }, () => {
          const bundled = typeof collected.source === 'string' ? '' : ' (lines refer to the bundled document as JSON)';
          const summary = `${file}${bundled}: ${describeCounts(countFindings(findings))}; ${describeGate(blockOn, opts.env)}: ${blocked ? `BLOCKED by ${blocking.length}` : 'ok'}.\n`;
          return (findings.length > 0 ? findingsTable(findings) : '') + summary;
        });
        return blocked ? EXIT_FAILURE : 0;
      }),
    );
}
