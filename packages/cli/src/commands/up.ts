// `apigov up`: runs the control plane (with its gateways and portal) on this machine by spawning the
// control-plane package's launcher as a child process; the CLI never imports control-plane code. With --sync-repo,
// the platform runs from Git: once the control plane listens, this process follows the repository (`apigov sync`).
import { randomBytes } from 'node:crypto';
import { Option, type Command } from 'commander';
import { entryPath, runNodeChild } from '../child.js';
import { formatError, usageError } from '../errors.js';
import { ControlPlaneClient } from '../http.js';
import { outputOption, portOption, positiveInt } from '../options.js';
import { writeErr, writeOut } from '../output.js';
import type { Session } from '../session.js';
import { intervalOption, syncLoop, syncLine, type SyncOptions } from './sync.js';

interface UpOptions {
  demo?: boolean;
  host?: string;
  dataDir?: string;
  port?: number;
  databaseUrl?: string;
  tlsCert?: string;
  tlsKey?: string;
  trustedProxies?: string;
  publicUrl?: string;
  eventsNats?: string;
  gatewayPort?: number;
  syncRepo?: string;
  syncBranch: string;
  syncPath: string;
  syncInterval: string;
  syncPrune?: boolean;
  syncOnDrift: SyncOptions['onDrift'];
  syncSelfHeal?: boolean;
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
    .option('--tls-cert <file>', 'serve the control plane and portal over HTTPS: PEM certificate chain (with --tls-key)')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option('--trusted-proxies <cidrs>', 'comma-separated addresses or CIDRs of proxies whose X-Forwarded-For/-Proto/-Host are believed')
    .option('--events-nats <url>', 'also publish every event to NATS JetStream there (subjects apigov.events.<type>, stream APIGOV_EVENTS)')
    .option('--public-url <url>', 'the URL people reach the control plane at, for single sign-on redirects (default: from each request)')
    .option('--sync-repo <path-or-url>', 'run the platform from this Git repository (what `apigov sync` does, for as long as the control plane runs)')
    .option('--sync-branch <branch>', 'with --sync-repo: the branch to follow', 'main')
    .option('--sync-path <dir>', 'with --sync-repo: the directory of the resources', '')
    .option('--sync-interval <duration>', 'with --sync-repo: how often to look for a new commit', '30s')
    .option('--sync-prune', 'with --sync-repo: delete Git-managed resources whose file was deleted')
    .addOption(new Option('--sync-on-drift <mode>', 'with --sync-repo: allow, warn or reject changes to Git-managed resources made outside Git').choices(['allow', 'warn', 'reject']).default('warn'))
    .option('--sync-self-heal', "with --sync-repo: put Git's version back over changes made outside Git")
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
        if (opts.tlsCert !== undefined) args.push('--tls-cert', opts.tlsCert);
        if (opts.tlsKey !== undefined) args.push('--tls-key', opts.tlsKey);
        if (opts.trustedProxies !== undefined) args.push('--trusted-proxies', opts.trustedProxies);
        if (opts.publicUrl !== undefined) args.push('--public-url', opts.publicUrl);
        if (opts.eventsNats !== undefined) args.push('--events-nats', opts.eventsNats);
        args.push(...extra);
        if (opts.syncRepo === undefined) return runNodeChild(args, 'control plane');
        const sync: SyncOptions = { repo: opts.syncRepo, branch: opts.syncBranch, path: opts.syncPath.split('/').filter(Boolean).join('/'), interval: intervalOption(opts.syncInterval), once: false, prune: opts.syncPrune === true, onDrift: opts.syncOnDrift, selfHeal: opts.syncSelfHeal === true };
        if (sync.path.split('/').includes('..')) throw usageError(`--sync-path ${opts.syncPath}: must stay inside the repository`);
        // the sync acts as the platform admin: the bootstrap token given, or one made for this run (never printed)
        const token = process.env.APIGOV_ADMIN_TOKEN ?? `agt_${randomBytes(24).toString('hex')}`;
        const stop = new AbortController();
        let seen = '';
        let started = false;
        const code = await runNodeChild(args, 'control plane', { ...process.env, APIGOV_ADMIN_TOKEN: token }, (text) => {
          if (started) return;
          seen += text;
          const m = /apigov control plane listening on (\S+)/.exec(seen);
          if (m === null) return;
          started = true;
          writeOut(`apigov sync: following ${sync.repo} ${sync.branch} every ${opts.syncInterval}\n`);
          void syncLoop(new ControlPlaneClient(m[1]!, token), sync, stop.signal, (o) => (o instanceof Error ? writeErr(`${formatError(o)}\n`) : writeOut(`${syncLine(o)}\n`)));
        });
        stop.abort();
        return code;
      }),
    );
}
