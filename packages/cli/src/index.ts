// The `apigov` command line: builds the commander program from the command modules and turns every
// outcome into an exit code (0 ok, 1 failure, 2 usage error) with at most one error line on stderr.
import { Command, CommanderError } from 'commander';
import { CLI_USAGE, CliError, EXIT_OK, EXIT_USAGE, exitCodeOf, formatError } from './errors.js';
import type { ApiChange } from './api.js';
import { changeLines } from './changes.js';
import { writeErr } from './output.js';
import { Session, type CommandRegistrar } from './session.js';
import { registerAppCommands } from './commands/apps.js';
import { registerApplyCommands } from './commands/apply.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerEventCommands } from './commands/events.js';
import { registerWebhookCommands } from './commands/webhooks.js';
import { registerChangeCommands } from './commands/changes.js';
import { registerCallCommand } from './commands/call.js';
import { registerContextCommands } from './commands/contexts.js';
import { registerDescribeCommands } from './commands/describe.js';
import { registerEnvironmentCommands } from './commands/environments.js';
import { registerExportCommand } from './commands/export.js';
import { registerSyncCommand } from './commands/sync.js';
import { registerTokenCommands } from './commands/tokens.js';
import { registerGatewayCommand } from './commands/gateway.js';
import { registerHookCommands } from './commands/hooks.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerLifecycleCommands } from './commands/lifecycle.js';
import { registerRegisterCommand } from './commands/register.js';
import { registerSearchCommand } from './commands/search.js';
import { registerSubscriptionCommands } from './commands/subscriptions.js';
import { registerTeamCommands } from './commands/teams.js';
import { registerTrafficCommands } from './commands/traffic.js';
import { registerUpCommand } from './commands/up.js';
import { registerUserCommands } from './commands/users.js';
import { registerValidateCommand } from './commands/validate.js';

export const VERSION = '0.1.0';

const COMMANDS: CommandRegistrar[] = [
  registerContextCommands,
  registerTeamCommands,
  registerUserCommands,
  registerEnvironmentCommands,
  registerRegisterCommand,
  registerValidateCommand,
  registerChangeCommands,
  registerHookCommands,
  registerLifecycleCommands,
  registerSearchCommand,
  registerDescribeCommands,
  registerApplyCommands,
  registerExportCommand,
  registerSyncCommand,
  registerTokenCommands,
  registerAuditCommands,
  registerEventCommands,
  registerWebhookCommands,
  registerAppCommands,
  registerSubscriptionCommands,
  registerKeyCommands,
  registerCallCommand,
  registerTrafficCommands,
  registerUpCommand,
  registerGatewayCommand,
];

export function buildProgram(session: Session): Command {
  const program = new Command('apigov')
    .description('Self-serve APIs, central governance: register, publish, find, govern and consume APIs.')
    .version(VERSION, '-V, --version')
    .enablePositionalOptions()
    .exitOverride()
    // commander's own error text is replaced by our one line (see main)
    .configureOutput({ outputError: () => undefined })
    .addHelpText(
      'after',
      '\nEnvironment: APIGOV_URL, APIGOV_TOKEN (override the current context), APIGOV_CONTEXT (use another context),\n' +
        'APIGOV_CONFIG (config file; default $XDG_CONFIG_HOME/apigov/config.yaml or ~/.config/apigov/config.yaml).\n' +
        'Exit codes: 0 ok, 1 failure, 2 usage error.',
    );
  for (const register of COMMANDS) register(program, session);
  return program;
}

function commanderExit(e: CommanderError): number {
  if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT_OK;
  // `apigov help X` exits 0; help written to stderr because a command was missing (`apigov`, `apigov teams`) is a usage error
  if (e.code === 'commander.help') return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  writeErr(`apigov: ${e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()} [${CLI_USAGE}]`);
  return EXIT_USAGE;
}

/** Runs the CLI on `argv` (`process.argv` shape: node, script, args...) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const session = new Session();
  const program = buildProgram(session);
  try {
    await program.parseAsync(argv, { from: 'node' });
    return session.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return commanderExit(e);
    const changes = e instanceof CliError ? e.extensions.breakingChanges : undefined;
    if (Array.isArray(changes) && changes.length > 0) {
      // what breaks, one per line, before the one-line error
      process.stdout.write(`Breaking changes (${changes.length}):\n${changeLines(changes as ApiChange[])}`);
    }
    writeErr(formatError(e));
    return exitCodeOf(e);
  }
}
