// The gateway process (`apigov gateway …`): parses flags, then runs one gateway, or with --workers N a node:cluster
// whose primary long-polls the control plane once and hands each snapshot to the workers over IPC, serves the
// admin port with metrics aggregated from every worker, and keeps the snapshot cache; workers serve traffic.
import cluster, { type Worker } from 'node:cluster';
import { hostname } from 'node:os';
import { readFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { AggregatorRegistry } from 'prom-client';
import { startGateway, type GatewayOptions } from './gateway.js';
import { GATEWAY_MODES, type GatewayMode, type LimitsMode } from './ext-authz.js';
import { verifySnapshotSteps, SnapshotRefusedError } from './snapshot.js';
import { runInSlices } from './load-slices.js';
import { parseSnapshotText } from './snapshot-text.js';
import { createAdminServer, type SnapshotStatus } from './admin.js';
import { SnapshotClient } from './snapshot-client.js';

export const USAGE = `usage: apigov gateway --env ENV [--control-plane URL] [--port N] [--admin-port N] [--host H]
  [--token T | APIGOV_GATEWAY_TOKEN] [--redis URL] [--cache-dir DIR] [--snapshot-file FILE]
  [--mode proxy|ext-authz [--limits ext-authz|envoy]] [--access-log stdout|off|FILE] [--trusted-proxies CIDR,…] [--redact NAME,…] [--workers N] [--body-limit BYTES] [--report-interval MS]`;

export interface GatewayCommand {
  options: GatewayOptions;
  workers: number;
}

/** flags → options; throws an Error whose message is a usage error */
export function parseGatewayArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): GatewayCommand {
  const { values } = parseArgs({
    args: argv,
    options: {
      'control-plane': { type: 'string' },
      env: { type: 'string' },
      port: { type: 'string' },
      'admin-port': { type: 'string' },
      host: { type: 'string' },
      redis: { type: 'string' },
      'cache-dir': { type: 'string' },
      token: { type: 'string' },
      'snapshot-file': { type: 'string' },
      'access-log': { type: 'string' },
      'trusted-proxies': { type: 'string' },
      redact: { type: 'string' },
      workers: { type: 'string' },
      'body-limit': { type: 'string' },
      'report-interval': { type: 'string' },
      mode: { type: 'string' },
      limits: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) throw new Error(USAGE);
  const environment = values.env;
  if (environment === undefined) throw new Error(`--env is required\n${USAGE}`);
  const int = (name: string, v: string | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${v}`);
    return n;
  };
  if (values['control-plane'] === undefined && values['snapshot-file'] === undefined) throw new Error(`give --control-plane URL or --snapshot-file FILE\n${USAGE}`);
  const list = (v: string | undefined): string[] | undefined => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter((s) => s !== ''));
  const token = values.token ?? env.APIGOV_GATEWAY_TOKEN;
  const mode = values.mode ?? 'proxy';
  if (!(GATEWAY_MODES as readonly string[]).includes(mode)) throw new Error(`--mode must be one of ${GATEWAY_MODES.join(', ')}, got ${mode}`);
  if (values.limits !== undefined && mode !== 'ext-authz') throw new Error('--limits applies to --mode ext-authz only');
  if (values.limits !== undefined && values.limits !== 'ext-authz' && values.limits !== 'envoy') throw new Error(`--limits must be ext-authz or envoy, got ${values.limits}`);
  const options: GatewayOptions = {
    environment,
    port: int('port', values.port, 8080),
    adminPort: int('admin-port', values['admin-port'], 9090),
    host: values.host ?? '127.0.0.1',
    ...(values['control-plane'] !== undefined && { controlPlaneUrl: values['control-plane'] }),
    ...(token !== undefined && { token }),
    ...(values.redis !== undefined && { redisUrl: values.redis }),
    ...(values['cache-dir'] !== undefined && { cacheDir: values['cache-dir'] }),
    ...(values['snapshot-file'] !== undefined && { snapshotFile: values['snapshot-file'] }),
    accessLog: values['access-log'] ?? 'stdout',
    mode: mode as GatewayMode,
    ...(values.limits !== undefined && { limits: values.limits as LimitsMode }),
    ...(values['trusted-proxies'] !== undefined && { trustedProxies: list(values['trusted-proxies']) }),
    ...(values.redact !== undefined && { redact: list(values.redact) }),
    ...(values['body-limit'] !== undefined && { bodyLimitBytes: int('body-limit', values['body-limit'], 0) }),
    ...(values['report-interval'] !== undefined && { reportIntervalMs: Math.max(100, int('report-interval', values['report-interval'], 5000)) }),
  };
  return { options, workers: int('workers', values.workers, 1) };
}

function listeningLine(env: string, url: string, adminUrl: string | undefined, version: number | undefined, workers: number, mode: GatewayMode | undefined): string {
  return `apigov gateway (env ${env}${mode === 'ext-authz' ? ', ext-authz for Envoy' : ''}) listening on ${url}${adminUrl === undefined ? '' : `, admin on ${adminUrl}`}, ${version === undefined ? 'no snapshot yet' : `snapshot v${version}`}${workers > 1 ? ` (${workers} workers)` : ''}`;
}

function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

async function runSingle(options: GatewayOptions): Promise<void> {
  const gw = await startGateway(options);
  process.stdout.write(`${listeningLine(options.environment, gw.url, gw.adminUrl, gw.status().version, 1, options.mode)}\n`);
  onShutdown(() => gw.close());
}

function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (): void => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`apigov gateway: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

type WorkerMessage =
  | { type: 'apigov:listening'; port: number }
  | { type: 'apigov:applied'; version: number; hash: string }
  | { type: 'apigov:refused'; version: number; reason: string };
type PrimaryMessage = { type: 'apigov:snapshot'; text: string };

function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('apigov:');
}

/** Cluster worker: serves traffic; snapshots arrive from the primary; reports usage itself. */
async function runWorker(options: GatewayOptions): Promise<void> {
  const gw = await startGateway({ ...options, adminPort: null, pollSnapshots: false, snapshotFile: undefined, gatewayId: `${hostname()}:${options.port}:${process.pid}` });
  AggregatorRegistry.setRegistries([gw.metricsRegistry]);
  new AggregatorRegistry(); // answers the primary's metric requests
  process.on('message', (m: unknown) => {
    if (typeof m !== 'object' || m === null || (m as PrimaryMessage).type !== 'apigov:snapshot') return;
    gw.applySnapshot((m as PrimaryMessage).text).then(
      () => process.send?.({ type: 'apigov:applied', version: gw.status().version ?? 0, hash: gw.status().hash ?? '' } satisfies WorkerMessage),
      (err: unknown) => process.send?.({ type: 'apigov:refused', version: err instanceof SnapshotRefusedError ? err.version : 0, reason: err instanceof Error ? err.message : String(err) } satisfies WorkerMessage),
    );
  });
  process.send?.({ type: 'apigov:listening', port: gw.port } satisfies WorkerMessage);
  process.on('disconnect', () => {
    void gw.close().then(() => process.exit(0));
  });
  process.on('SIGINT', () => {}); // the primary decides when workers stop
  process.on('SIGTERM', () => void gw.close().then(() => process.exit(0)));
}

interface WorkerState {
  pid: number;
  port: number | undefined;
  version: number | undefined;
  lastRejection?: { version: number; reason: string };
  waiting?: (m: WorkerMessage) => void;
}

/**
 * Cluster primary: one long-poll (or the snapshot file) for all workers; a snapshot is applied when every worker
 * applied it (a worker's refusal refuses it: not cached, reported by that worker). Crashed workers are replaced and
 * get the current snapshot.
 */
async function runPrimary(options: GatewayOptions, count: number, argv: string[]): Promise<void> {
  // workers run this module with the same flags, whoever started the primary (apigov CLI or node dist/main.js)
  cluster.setupPrimary({ exec: fileURLToPath(import.meta.url), args: argv });
  const host = options.host ?? '127.0.0.1';
  const workers = new Map<Worker, WorkerState>();
  let current: { text: string; version: number; hash: string } | undefined;
  let lastRejection: SnapshotStatus['lastRejection'];
  let stopping = false;
  const log = (m: string): void => void process.stderr.write(`apigov gateway: ${m}\n`);

  const send = (w: Worker, text: string): Promise<WorkerMessage> =>
    new Promise((resolve) => {
      const state = workers.get(w)!;
      const timer = setTimeout(() => resolve({ type: 'apigov:refused', version: 0, reason: `worker ${state.pid} did not answer` }), 30_000);
      state.waiting = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
      w.send({ type: 'apigov:snapshot', text } satisfies PrimaryMessage);
    });

  async function apply(text: string): Promise<void> {
    let version = 0;
    try {
      const s = await runInSlices(
        (function* () {
          return yield* verifySnapshotSteps(yield* parseSnapshotText(text));
        })(),
      );
      version = s.version;
      if (s.environment !== options.environment) throw new SnapshotRefusedError(`snapshot is for environment ${s.environment}, this gateway serves ${options.environment}`, s.version);
      const answers = await Promise.all([...workers.keys()].map((w) => send(w, text)));
      const refused = answers.find((a) => a.type === 'apigov:refused');
      if (refused !== undefined && refused.type === 'apigov:refused') throw new SnapshotRefusedError(refused.reason, s.version);
      current = { text, version: s.version, hash: s.hash };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      lastRejection = { version: err instanceof SnapshotRefusedError ? err.version : version, reason, at: new Date().toISOString() };
      log(`snapshot v${lastRejection.version} refused: ${reason}`);
      throw err;
    }
  }

  const fork = (): Worker => {
    const w = cluster.fork({ APIGOV_GATEWAY_WORKER: '1' });
    workers.set(w, { pid: w.process.pid ?? 0, port: undefined, version: undefined });
    w.on('message', (m: unknown) => {
      if (!isWorkerMessage(m)) return;
      const state = workers.get(w);
      if (state === undefined) return;
      if (m.type === 'apigov:listening') {
        state.port = m.port;
        if (current !== undefined) void send(w, current.text);
        return;
      }
      if (m.type === 'apigov:applied') state.version = m.version;
      else state.lastRejection = { version: m.version, reason: m.reason };
      const waiting = state.waiting;
      state.waiting = undefined;
      waiting?.(m);
    });
    return w;
  };
  cluster.on('exit', (w, code, signal) => {
    const state = workers.get(w);
    workers.delete(w);
    state?.waiting?.({ type: 'apigov:refused', version: 0, reason: `worker ${state.pid} exited` });
    if (!stopping) {
      log(`worker ${state?.pid ?? '?'} exited (${signal ?? code}); starting another`);
      fork();
    }
  });

  for (let i = 0; i < count; i++) fork();
  // wait until every worker listens
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if ([...workers.values()].every((s) => s.port !== undefined)) resolve();
      else setTimeout(check, 20);
    };
    check();
  });
  const port = [...workers.values()][0]!.port!;

  let client: SnapshotClient | undefined;
  if (options.snapshotFile !== undefined) await apply(await readFile(options.snapshotFile, 'utf8')).catch(() => {});
  else if (options.controlPlaneUrl !== undefined) {
    client = new SnapshotClient({
      controlPlaneUrl: options.controlPlaneUrl,
      token: options.token,
      environment: options.environment,
      cacheDir: options.cacheDir ?? `./.apigov/gateway-${options.environment}`,
      apply,
      appliedVersion: () => current?.version ?? 0,
      onError: log,
    });
    await client.start();
  }

  const aggregator = new AggregatorRegistry();
  const status = (): SnapshotStatus => ({
    environment: options.environment,
    version: current?.version,
    hash: current?.hash,
    routes: current === undefined ? undefined : (JSON.parse(current.text) as { routes: unknown[] }).routes.length,
    appliedAt: undefined,
    compileMs: undefined,
    warnings: [],
    lastRejection,
    workers: [...workers.values()].map((s) => ({ pid: s.pid, version: s.version, ...(s.lastRejection !== undefined && { lastRejection: s.lastRejection }) })),
  });
  let admin: Server | undefined;
  let adminUrl: string | undefined;
  if (options.adminPort !== null) {
    admin = createAdminServer({
      ready: () => workers.size > 0 && [...workers.values()].every((s) => s.version !== undefined),
      snapshot: status,
      metrics: async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() }),
    });
    await new Promise<void>((resolve, reject) => {
      admin!.once('error', reject);
      admin!.listen(options.adminPort as number, host, () => resolve());
    });
    adminUrl = urlOf(host, (admin.address() as AddressInfo).port);
  }
  process.stdout.write(`${listeningLine(options.environment, urlOf(host, port), adminUrl, current?.version, count, options.mode)}\n`);
  onShutdown(async () => {
    stopping = true;
    await client?.stop();
    const exited = Promise.all([...workers.keys()].map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve())))));
    for (const w of workers.keys()) w.disconnect();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 8000))]);
    if (admin !== undefined) {
      admin.closeAllConnections();
      await new Promise<void>((resolve) => admin!.close(() => resolve()));
    }
  });
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  let command: GatewayCommand;
  try {
    command = parseGatewayArgs(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const { options, workers } = command;
  if (workers >= 2 && cluster.isPrimary) await runPrimary(options, workers, argv);
  else if (cluster.isWorker && process.env.APIGOV_GATEWAY_WORKER === '1') await runWorker(options);
  else await runSingle(options);
}

// run when executed directly (node dist/main.js …), not when imported
function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main().catch((err: unknown) => {
    process.stderr.write(`apigov gateway: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
