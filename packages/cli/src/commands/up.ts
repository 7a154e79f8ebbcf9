// `apigov up`: runs the control plane (with its gateway and portal) on this machine by spawning the
// control-plane package's launcher as a child process; the CLI never imports control-plane code.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { outputOption, portOption } from '../options.js';
import type { Session } from '../session.js';

interface UpOptions {
  demo?: boolean;
  host?: string;
  dataDir?: string;
  port?: number;
  databaseUrl?: string;
}

const LAUNCHER = '@apigov/control-plane/up';
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

function launcherPath(): string {
  let path: string | undefined;
  try {
    path = fileURLToPath(import.meta.resolve(LAUNCHER));
  } catch {
    path = undefined;
  }
  if (path === undefined || !existsSync(path)) {
    throw new CliError('APIGOV_ERR_UNAVAILABLE', `cannot find the control plane launcher (${LAUNCHER}); build it with \`npm run build\``);
  }
  return path;
}

export function registerUpCommand(program: Command, session: Session): void {
  program
    .command('up')
    .description('run the control plane, a gateway and the portal on this machine (Ctrl-C stops them)')
    .option('--demo', 'seed demo teams, users, environments and APIs')
    .option('--data-dir <dir>', 'where the embedded database keeps its files')
    .option('--port <n>', 'control plane port (default 4000; 0 picks a free one)', portOption)
    .option('--host <address>', 'address to listen on')
    .option('--database-url <url>', 'PostgreSQL URL instead of the embedded database')
    .addOption(outputOption().hideHelp())
    .argument('[launcher-args...]', 'further flags for the launcher, after --')
    .action(
      session.action(async (extra: string[], opts: UpOptions) => {
        const args = [launcherPath()];
        if (opts.demo) args.push('--demo');
        if (opts.dataDir !== undefined) args.push('--data-dir', opts.dataDir);
        if (opts.port !== undefined) args.push('--port', String(opts.port));
        if (opts.host !== undefined) args.push('--host', opts.host);
        if (opts.databaseUrl !== undefined) args.push('--database-url', opts.databaseUrl);
        args.push(...extra);
        const child = spawn(process.execPath, args, { stdio: 'inherit' });
        const forward = (signal: NodeJS.Signals) => () => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        };
        const onInt = forward('SIGINT');
        const onTerm = forward('SIGTERM');
        process.on('SIGINT', onInt);
        process.on('SIGTERM', onTerm);
        try {
          return await new Promise<number>((resolve, reject) => {
            child.once('error', (e) => reject(new CliError('APIGOV_ERR_UNAVAILABLE', `cannot start the control plane: ${e.message}`, { cause: e })));
            child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : (SIGNAL_EXIT[signal] ?? 1))));
          });
        } finally {
          process.off('SIGINT', onInt);
          process.off('SIGTERM', onTerm);
        }
      }),
    );
}
