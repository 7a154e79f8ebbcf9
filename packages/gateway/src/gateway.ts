// One gateway process: the traffic server (node:http) running the request path, the admin server, the snapshot
// source (control plane long-poll with disk cache, a file, or a static object), loads of snapshots (one at a time,
// between requests) and swaps of the applied one, and the reporter. startGateway is what main.ts, `apigov up` and
// the tests call.
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { GatewaySnapshot } from '@apigov/model';
import { pipelinePolicies } from './policies/index.js';
import { MemoryCounterStore } from './counters/memory.js';
import { RedisCounterStore } from './counters/redis.js';
import type { CounterStore } from './counters/types.js';
import { canRebind, compileSnapshotSteps, rebindSnapshotSteps, type CompiledSnapshot } from './compile.js';
import { verifySnapshotReusing, SnapshotRefusedError } from './snapshot.js';
import { runInSlices, type LoadSteps } from './load-slices.js';
import { parseSnapshotText, type SnapshotTextDigests } from './snapshot-text.js';
import { RequestPath } from './request-path.js';
import { KEEP_ALIVE_TIMEOUT_MS } from './answer-writer.js';
import { validatorCache } from '@apigov/openapi/validators';
import { UpstreamState } from './upstream.js';
import { GatewayMetrics } from './metrics.js';
import { UsageRecorder } from './usage.js';
import { AccessLog } from './access-log.js';
import { createAdminServer, type SnapshotStatus } from './admin.js';
import { SnapshotClient } from './snapshot-client.js';
import { Reporter } from './reporter.js';
import type { PolicyDefinition } from './policy.js';
import { extAuthzPolicies, type GatewayMode, type LimitsMode } from './ext-authz.js';

export interface GatewayOptions {
  /** control plane base URL; snapshots are long-polled from it and reports sent to it */
  controlPlaneUrl?: string;
  /** bearer token for the control plane */
  token?: string;
  environment: string;
  /** traffic port (0: any free one) */
  port: number;
  /** admin port (0: any free one); null: no admin server (cluster workers: the primary serves it) */
  adminPort: number | null;
  host?: string;
  /** Redis for cluster-wide rate limits and quotas */
  redisUrl?: string;
  /** where the last good snapshot is kept (default ./.apigov/gateway-<env> when a control plane is used) */
  cacheDir?: string;
  /** a snapshot document to serve, without a control plane */
  snapshot?: GatewaySnapshot | Record<string, unknown>;
  /** a file holding a snapshot document, without a control plane */
  snapshotFile?: string;
  /** 'stdout' (default), 'off', or a file path */
  accessLog?: string;
  /** peers (addresses or CIDR blocks) whose X-Forwarded-For is believed */
  trustedProxies?: string[];
  /** handled by main.ts (node:cluster); ignored here */
  workers?: number;
  /** request body limit (default 10 MB) */
  bodyLimitBytes?: number;
  /** request header count limit (default 100) */
  maxHeaders?: number;
  /** how often usage is reported (default 5000 ms) */
  reportIntervalMs?: number;
  /** the counter store for rate limits and quotas (default: memory, or Redis with redisUrl) */
  counters?: CounterStore;
  /** extra query parameter names whose values the access log hides */
  redact?: string[];
  /** long-poll the control plane for snapshots (default true with controlPlaneUrl; cluster workers get them over IPC) */
  pollSnapshots?: boolean;
  /** gateway id in reports (default hostname:port:pid) */
  gatewayId?: string;
  /** long-poll wait (seconds) */
  snapshotWaitSeconds?: number;
  /** the pipeline policies (default: every registered policy) */
  policies?: ReadonlyArray<PolicyDefinition>;
  /** proxy (default), or answer Envoy's HTTP external-authorization checks from the same snapshot (ext-authz.ts) */
  mode?: GatewayMode;
  /** ext-authz mode: `envoy` when the exported BackendTrafficPolicies count limits (this service then does not) */
  limits?: LimitsMode;
  /** operational messages (default: stderr) */
  log?: (message: string) => void;
}

export interface GatewayStats {
  served: number;
  inFlight: number;
  snapshotVersion: number;
  snapshotsApplied: number;
  snapshotsRefused: number;
  openCircuits: number;
  upstreamPools: number;
  reportsSent: number;
  reportsFailed: number;
  usageDropped: number;
}

export interface Gateway {
  url: string;
  adminUrl: string | undefined;
  port: number;
  adminPort: number | undefined;
  /** validates, compiles and swaps in a snapshot (object or JSON text); rejects when it is refused */
  applySnapshot(snapshot: GatewaySnapshot | Record<string, unknown> | string): Promise<void>;
  status(): SnapshotStatus;
  metricsRegistry: GatewayMetrics['registry'];
  stats(): GatewayStats;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((m: string) => process.stderr.write(`apigov gateway: ${m}\n`));
  const startedAt = new Date().toISOString();
  const metrics = new GatewayMetrics();
  const usage = new UsageRecorder();
  const accessLogTarget = options.accessLog ?? 'stdout';
  const accessLog = accessLogTarget === 'off' ? undefined : new AccessLog(accessLogTarget);
  const ownCounters = options.counters === undefined;
  const counters: CounterStore = options.counters ?? (options.redisUrl !== undefined ? new RedisCounterStore({ url: options.redisUrl, timeoutMs: 50 }) : new MemoryCounterStore());
  const upstreams = new UpstreamState();
  const requestPath = new RequestPath({
    bodyLimitBytes: options.bodyLimitBytes ?? 10 * 1024 * 1024,
    maxHeaders: options.maxHeaders ?? 100,
    trustedProxies: options.trustedProxies ?? [],
    metrics,
    usage,
    accessLog,
    mode: options.mode ?? 'proxy',
  });
  const all = options.policies ?? pipelinePolicies;
  const policies = options.mode === 'ext-authz' ? extAuthzPolicies(all, options.limits) : all;
  let applied: CompiledSnapshot | undefined;
  let lastRejection: SnapshotStatus['lastRejection'];
  let appliedCount = 0;
  let refusedCount = 0;

  /** loads run one after another, each in slices between requests (load-slices.ts) */
  let loads: Promise<void> = Promise.resolve();
  function applySnapshot(input: GatewaySnapshot | Record<string, unknown> | string): Promise<void> {
    const next = loads.then(() => load(input));
    loads = next.catch(() => {});
    return next;
  }

  /** parses, verifies and compiles one snapshot; requests go on being served from the applied one until the swap */
  function* loadSteps(input: GatewaySnapshot | Record<string, unknown> | string): LoadSteps<CompiledSnapshot | undefined> {
    let raw: unknown = input;
    const digests: SnapshotTextDigests = {};
    if (typeof input === 'string') {
      try {
        raw = yield* parseSnapshotText(input, undefined, digests);
      } catch (err) {
        throw new SnapshotRefusedError(`snapshot is not JSON: ${err instanceof Error ? err.message : String(err)}`, 0);
      }
    }
    const previous = applied;
    // routes whose text is the applied snapshot's are not checked, hashed or compiled again
    const verified = yield* verifySnapshotReusing(raw, { routesDigest: digests.routes, previous: previous?.verifiedRoutes });
    const snapshot = verified.snapshot;
    if (snapshot.environment !== options.environment) throw new SnapshotRefusedError(`snapshot is for environment ${snapshot.environment}, this gateway serves ${options.environment}`, snapshot.version);
    if (previous !== undefined && previous.version === snapshot.version && previous.hash === snapshot.hash) return undefined;
    const compiled = canRebind(previous, snapshot)
      ? yield* rebindSnapshotSteps(previous, snapshot)
      : yield* compileSnapshotSteps(snapshot, { policies, counters, upstreams, metrics, redact: options.redact ?? [] });
    compiled.verifiedRoutes = verified.routes;
    return compiled;
  }

  async function load(input: GatewaySnapshot | Record<string, unknown> | string): Promise<void> {
    let compiled: CompiledSnapshot | undefined;
    try {
      compiled = await runInSlices(loadSteps(input));
    } catch (err) {
      throw refuse(err instanceof SnapshotRefusedError ? err : new SnapshotRefusedError(err instanceof Error ? err.message : String(err), 0));
    }
    if (compiled === undefined) return;
    // the swap: one reference; requests already running keep the snapshot they started with
    requestPath.current = compiled;
    applied = compiled;
    appliedCount++;
    metrics.snapshotApplied(compiled.version);
    upstreams.retain(new Set(compiled.snapshot.routes.map((r) => r.id)));
  }

  function refuse(err: SnapshotRefusedError): SnapshotRefusedError {
    refusedCount++;
    lastRejection = { version: err.version, reason: err.message, at: new Date().toISOString() };
    metrics.snapshotRefused();
    log(`snapshot v${err.version} refused, keeping ${applied === undefined ? 'none' : `v${applied.version}`}: ${err.message}`);
    return err;
  }

  function status(): SnapshotStatus {
    return {
      environment: options.environment,
      version: applied?.version,
      hash: applied?.hash,
      routes: applied?.routes.length,
      appliedAt: applied?.compiledAt,
      compileMs: applied === undefined ? undefined : Math.round(applied.compileMs * 10) / 10,
      ...(applied !== undefined && { routesReused: applied.routesReused }),
      warnings: applied?.warnings ?? [],
      lastRejection,
    };
  }

  const server = createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, headersTimeout: KEEP_ALIVE_TIMEOUT_MS + 1000, requestTimeout: 0, maxHeaderSize: 32 * 1024 }, requestPath.handle);
  server.maxHeadersCount = (options.maxHeaders ?? 100) + 1;
  const port = await listen(server, options.port, host);
  let admin: Server | undefined;
  let adminPort: number | undefined;
  if (options.adminPort !== null) {
    admin = createAdminServer({
      ready: () => applied !== undefined,
      snapshot: status,
      metrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
    });
    adminPort = await listen(admin, options.adminPort, host);
  }

  const gatewayId = options.gatewayId ?? `${hostname()}:${port}:${process.pid}`;
  let client: SnapshotClient | undefined;
  let reporter: Reporter | undefined;
  try {
    if (options.snapshot !== undefined) await applySnapshot(options.snapshot);
    else if (options.snapshotFile !== undefined) await applySnapshot(await readFile(options.snapshotFile, 'utf8'));
    if (options.controlPlaneUrl !== undefined) {
      if (options.pollSnapshots !== false && options.snapshot === undefined && options.snapshotFile === undefined) {
        client = new SnapshotClient({
          controlPlaneUrl: options.controlPlaneUrl,
          token: options.token,
          environment: options.environment,
          cacheDir: options.cacheDir ?? `./.apigov/gateway-${options.environment}`,
          apply: (text) => applySnapshot(text),
          appliedVersion: () => applied?.version ?? 0,
          onError: log,
          ...(options.snapshotWaitSeconds !== undefined && { waitSeconds: options.snapshotWaitSeconds }),
        });
        await client.start();
      }
      reporter = new Reporter({
        controlPlaneUrl: options.controlPlaneUrl,
        token: options.token,
        gatewayId,
        environment: options.environment,
        startedAt,
        intervalMs: options.reportIntervalMs ?? 5000,
        usage,
        state: () => ({
          appliedVersion: applied?.version ?? 0,
          ...(applied !== undefined && { appliedHash: applied.hash }),
          ...(lastRejection !== undefined && { rejected: { version: lastRejection.version, reason: lastRejection.reason.slice(0, 2000) } }),
        }),
        onError: log,
      });
      reporter.start();
    }
  } catch (err) {
    server.close();
    admin?.close();
    throw err;
  }

  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    await client?.stop();
    // stop accepting, let running requests finish, then drop idle keep-alive connections
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const deadline = Date.now() + 5000;
    while (requestPath.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    server.closeAllConnections();
    await stopped;
    await reporter?.stop();
    if (admin !== undefined) {
      const a = admin;
      await new Promise<void>((resolve) => {
        a.close(() => resolve());
        a.closeAllConnections();
      });
    }
    await upstreams.pools.close();
    await accessLog?.close();
    if (ownCounters) await counters.close();
  }

  return {
    url: urlOf(host, port),
    adminUrl: adminPort === undefined ? undefined : urlOf(host, adminPort),
    port,
    adminPort,
    applySnapshot,
    status,
    metricsRegistry: metrics.registry,
    stats: () => ({
      served: requestPath.served,
      inFlight: requestPath.inFlight,
      snapshotVersion: applied?.version ?? 0,
      snapshotsApplied: appliedCount,
      snapshotsRefused: refusedCount,
      openCircuits: upstreams.openCircuits(),
      upstreamPools: upstreams.pools.size,
      reportsSent: reporter?.sent ?? 0,
      reportsFailed: reporter?.failed ?? 0,
      usageDropped: usage.dropped,
      /** request validators of the applied snapshot still waiting for the background compile */
      validatorsPending: validatorCache.pending,
    }),
    close: () => (closing ??= close()),
  };
}
