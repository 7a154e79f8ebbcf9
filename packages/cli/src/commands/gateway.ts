// `apigov gateway`: runs one environment's gateway on this machine by spawning the gateway package's
// process entry (@apigov/gateway/main) with the given flags; the CLI never imports gateway code.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { entryPath, runNodeChild } from '../child.js';
import { usageError } from '../errors.js';
import { nameOption, outputOption, portOption, positiveInt, urlOption } from '../options.js';
import type { Session } from '../session.js';

interface GatewayOptions {
  controlPlane?: string;
  env: string;
  port?: number;
  adminPort?: number;
  host?: string;
  redis?: string;
  cacheDir?: string;
  token?: string;
  workers?: number;
  accessLog?: string;
  trustedProxies?: string;
  snapshotFile?: string;
  mode?: string;
  limits?: string;
}

const ENTRY = '@apigov/gateway/main';

function redisUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379.');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new InvalidArgumentError('must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379.');
  return value;
}

export function registerGatewayCommand(program: Command, session: Session): void {
  program
    .command('gateway')
    .description("run an environment's gateway: it loads its configuration from the control plane and serves that environment's APIs (Ctrl-C stops it)")
    .option('--control-plane <url>', 'control plane base URL to load snapshots from', urlOption)
    .requiredOption('--env <environment>', 'environment to serve', nameOption)
    .option('--port <n>', 'traffic port (default 8080; 0 picks a free one)', portOption)
    .option('--admin-port <n>', 'port of /metrics and readiness (default 9090; 0 picks a free one)', portOption)
    .option('--host <address>', 'address to listen on (default 127.0.0.1)')
    .option('--redis <url>', 'Redis for cluster-wide rate limits and quotas (default: in this process)', redisUrl)
    .option('--cache-dir <dir>', 'where the last good snapshot is kept, to start without the control plane')
    .option('--token <token>', 'gateway token for the control plane (default: APIGOV_GATEWAY_TOKEN)')
    .option('--workers <n>', 'worker processes (default 1)', positiveInt(256))
    .option('--access-log <target>', 'access log: stdout (default), off, or a file path')
    .option('--trusted-proxies <cidrs>', 'comma-separated CIDRs whose X-Forwarded-For is believed')
    .option('--snapshot-file <file>', 'serve a snapshot from this file instead of a control plane')
    .addOption(new Option('--mode <mode>', "proxy (default), or ext-authz: answer Envoy's HTTP external-authorization checks (keys, subscriptions, plans, lifecycle) from the same snapshot").choices(['proxy', 'ext-authz']))
    .addOption(new Option('--limits <where>', 'ext-authz mode: who counts rate limits, quotas and plans: ext-authz (default) or envoy (the export wrote BackendTrafficPolicy rate limits)').choices(['ext-authz', 'envoy']))
    .addOption(outputOption().hideHelp())
    .argument('[gateway-args...]', 'further flags for the gateway process, after --')
    .action(
      session.action(async (extra: string[], opts: GatewayOptions) => {
        if (opts.controlPlane === undefined && opts.snapshotFile === undefined) throw usageError('give --control-plane URL (or --snapshot-file FILE)');
        if (opts.accessLog === '') throw usageError('--access-log must be stdout, off or a file path');
        const args = [entryPath(ENTRY, 'gateway')];
        const flag = (name: string, value: string | number | undefined) => {
          if (value !== undefined) args.push(`--${name}`, String(value));
        };
        flag('control-plane', opts.controlPlane);
        flag('env', opts.env);
        flag('port', opts.port);
        flag('admin-port', opts.adminPort);
        flag('host', opts.host);
        flag('redis', opts.redis);
        flag('cache-dir', opts.cacheDir);
        flag('workers', opts.workers);
        flag('access-log', opts.accessLog);
        flag('trusted-proxies', opts.trustedProxies);
        flag('snapshot-file', opts.snapshotFile);
        if (opts.limits !== undefined && opts.mode !== 'ext-authz') throw usageError('--limits applies to --mode ext-authz only');
        flag('mode', opts.mode);
        flag('limits', opts.limits);
        args.push(...extra);
        // the token goes by environment, not argv, so `ps` does not show it
        const env = opts.token === undefined ? process.env : { ...process.env, APIGOV_GATEWAY_TOKEN: opts.token };
        return runNodeChild(args, 'gateway', env);
      }),
    );
}
