// `apigov up`: runs the control plane (with its gateways and portal) on this machine by spawning the
// control-plane package's launcher as a child process; the CLI never imports control-plane code.
import type { Command } from 'commander';
import { entryPath, runNodeChild } from '../child.js';
import { outputOption, portOption, positiveInt } from '../options.js';
import type { Session } from '../session.js';

interface UpOptions {
  demo?: boolean;
  host?: string;
  dataDir?: string;
  port?: number;
  databaseUrl?: string;
  gatewayPort?: number;
}

const LAUNCHER = '@apigov/control-plane/up';

export function registerUpCommand(program: Command, session: Session): void {
  program
    .command('up')
    .description('run the control plane, a gateway per environment and the portal on this machine (Ctrl-C stops them)')
    .option('--demo', 'seed demo teams, users, environments, plans and APIs')
    .option('--data-dir <dir>', 'where the embedded database keeps its files')
    .option('--port <n>', 'control plane port (default 4000; 0 picks a free one)', portOption)
    .option('--gateway-port <n>', "the first environment's gateway port (default 8080); the next ones get N+1, N+2, ...", positiveInt(65535))
    .option('--host <address>', 'address to listen on')
    .option('--database-url <url>', 'PostgreSQL URL instead of the embedded database')
    .addOption(outputOption().hideHelp())
    .argument('[launcher-args...]', 'further flags for the launcher, after --')
    .action(
      session.action(async (extra: string[], opts: UpOptions) => {
        const args = [entryPath(LAUNCHER, 'control plane launcher')];
        if (opts.demo) args.push('--demo');
        if (opts.dataDir !== undefined) args.push('--data-dir', opts.dataDir);
        if (opts.port !== undefined) args.push('--port', String(opts.port));
        if (opts.gatewayPort !== undefined) args.push('--gateway-port', String(opts.gatewayPort));
        if (opts.host !== undefined) args.push('--host', opts.host);
        if (opts.databaseUrl !== undefined) args.push('--database-url', opts.databaseUrl);
        args.push(...extra);
        return runNodeChild(args, 'control plane');
      }),
    );
}
