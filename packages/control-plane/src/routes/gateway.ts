// The data plane's side of the REST API: gateways long-poll their environment's snapshot and send usage and
// health reports; operators see which gateway runs which snapshot version (config drift).
import type { FastifyInstance } from 'fastify';
import { ApigovError, LATENCY_BUCKETS_MS, gatewayReport, zodFieldErrors } from '@apigov/model';
import type { ErrorSampleRecord, UsageRecord } from '@apigov/store';
import type { Principal } from '../auth.js';
import { query, type Deps } from '../http.js';
import type { SnapshotService } from '../snapshot/service.js';

function assertGatewayOrAdmin(p: Principal): void {
  if (p.anonymous) throw new ApigovError('APIGOV_ERR_AUTH_MISSING_TOKEN', 'gateways sign in with the gateway token (APIGOV_GATEWAY_TOKEN) or an admin token');
  if (p.role !== 'gateway' && !p.admin) throw new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', `${p.name} (${p.role}) may not read gateway snapshots`);
}

function int(v: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new ApigovError('APIGOV_ERR_INPUT_INVALID', `${name} must be an integer from ${min} to ${max}`, { errors: [{ path: name, message: `must be an integer from ${min} to ${max}` }] });
  return n;
}

export function registerGatewayRoutes(app: FastifyInstance, deps: Deps, snapshots: SnapshotService): void {
  app.get('/v1/gateway/snapshot', async (request, reply) => {
    assertGatewayOrAdmin(request.principal);
    const q = query(request);
    const env = q.environment;
    if (env === undefined || env === '') throw new ApigovError('APIGOV_ERR_INPUT_INVALID', 'environment: is required', { errors: [{ path: 'environment', message: 'is required' }] });
    if (!(await deps.store.get('Environment', env))) throw new ApigovError('APIGOV_ERR_RESOURCE_NOT_FOUND', `Environment ${env} not found`);
    const since = int(q.since, 'since', 0, Number.MAX_SAFE_INTEGER, 0);
    const wait = int(q.wait, 'wait', 0, 60, 0);
    if (!(await deps.store.getSnapshotHead(env))) await snapshots.refresh();
    const record = await snapshots.next(env, since, wait * 1000);
    if (!record) return reply.code(304).header('cache-control', 'no-store').send();
    return reply.header('content-type', 'application/json').header('etag', `"${record.version}"`).header('cache-control', 'no-store').send(record.body);
  });

  app.post('/v1/gateway/reports', async (request, reply) => {
    assertGatewayOrAdmin(request.principal);
    const parsed = gatewayReport.safeParse(request.body);
    if (!parsed.success) {
      const errors = zodFieldErrors('', parsed.error);
      throw new ApigovError('APIGOV_ERR_INPUT_INVALID', `${errors[0].path}: ${errors[0].message}`, { errors });
    }
    const r = parsed.data;
    const bounds = LATENCY_BUCKETS_MS.map(String);
    const usage: UsageRecord[] = r.usage.map((u) => ({
      minute: u.minute,
      environment: r.environment,
      api: u.api,
      version: u.version,
      ...(u.operation !== undefined && { operation: u.operation }),
      ...(u.application !== undefined && { application: u.application }),
      statusClass: u.statusClass,
      count: u.count,
      latencySumMs: u.latencySumMs,
      latencyBuckets: [...bounds.map((b) => u.latencyBuckets[b] ?? 0), u.latencyBuckets['+Inf'] ?? 0],
    }));
    const sample = (s: { at: string; api: string; version: string; status: number; requestId: string; application?: string; method: string; path: string; code?: string }): ErrorSampleRecord => ({
      at: s.at,
      environment: r.environment,
      gateway: r.gateway,
      api: s.api,
      version: s.version,
      status: s.status,
      code: s.code ?? '',
      requestId: s.requestId,
      ...(s.application !== undefined && { application: s.application }),
      method: s.method,
      path: s.path,
    });
    await deps.store.recordGatewayReport(
      {
        gateway: r.gateway,
        environment: r.environment,
        appliedVersion: r.appliedVersion,
        ...(r.appliedHash !== undefined && { appliedHash: r.appliedHash }),
        ...(r.rejected !== undefined && { rejected: r.rejected }),
        startedAt: r.startedAt,
        lastSeenAt: new Date().toISOString(),
      },
      usage,
      // a failed request can be in both lists; keep it once, with its error code
      [...r.errors.map(sample), ...r.requests.filter((q) => !r.errors.some((e) => e.requestId === q.requestId)).map(sample)],
    );
    return reply.code(202).send({ accepted: true, usage: usage.length });
  });

  app.get('/v1/gateway/status', async (request) => {
    assertGatewayOrAdmin(request.principal);
    const q = query(request);
    const gateways = await deps.store.listGateways(q.environment);
    const envs = [...new Set(gateways.map((g) => g.environment))];
    const current = new Map<string, number>();
    for (const e of envs) current.set(e, (await deps.store.getSnapshotHead(e))?.version ?? 0);
    const now = Date.now();
    return {
      items: gateways.map((g) => ({
        ...g,
        snapshotVersion: current.get(g.environment) ?? 0,
        inSync: g.appliedVersion === current.get(g.environment),
        stale: now - Date.parse(g.lastSeenAt) > 30_000,
      })),
    };
  });
}
