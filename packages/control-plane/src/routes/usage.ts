// What happens to an API at run time, from the gateways' reports: traffic and latency per minute (stats),
// gateway and error-rate health, recent errors and recent requests. API owners see every consumer;
// other teams see only their own applications' traffic.
import type { FastifyInstance } from 'fastify';
import { ApigovError, LATENCY_BUCKETS_MS } from '@apigov/model';
import type { UsageRecord } from '@apigov/store';
import { requireSignedIn, type Principal } from '../auth.js';
import { query, type Deps } from '../http.js';
import { notFound } from '../problem.js';
import { canSee, inTeam } from '../rbac.js';
import { approvesFor } from '../visibility.js';

/** The latency under which `p` of the requests fell, from summed histogram buckets (upper bounds). */
export function percentileMs(buckets: number[], p: number): number | null {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i];
    if (seen >= p * total) return i < LATENCY_BUCKETS_MS.length ? LATENCY_BUCKETS_MS[i] : Infinity;
  }
  return null;
}

function add(into: number[], from: number[]): void {
  for (let i = 0; i < from.length; i++) into[i] = (into[i] ?? 0) + from[i];
}

async function scope(deps: Deps, p: Principal, api: string): Promise<(application: string | undefined) => boolean> {
  const a = await deps.store.get('Api', api);
  if (!a || !canSee(p, a.resource)) throw notFound(`Api ${api}`);
  if (await approvesFor(deps.store, p, api)) return () => true;
  const apps = await deps.store.list('Application', { limit: 100000 });
  const mine = new Set(apps.filter((x) => x.resource.kind === 'Application' && inTeam(p, x.resource.spec.owner)).map((x) => x.resource.metadata.name));
  return (application) => application !== undefined && mine.has(application);
}

function window(q: Record<string, string | undefined>): { minutes: number; since: string } {
  const minutes = q.minutes === undefined ? 60 : Number(q.minutes);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 60 * 24 * 31) {
    throw new ApigovError('APIGOV_ERR_INPUT_INVALID', 'minutes must be an integer from 1 to 44640', { errors: [{ path: 'minutes', message: 'must be an integer from 1 to 44640' }] });
  }
  const start = Math.floor((Date.now() - minutes * 60_000) / 60_000) * 60_000;
  return { minutes, since: new Date(start).toISOString() };
}

function summarise(rows: UsageRecord[]) {
  const buckets: number[] = [];
  let requests = 0;
  let errors4xx = 0;
  let errors5xx = 0;
  let latencySumMs = 0;
  for (const r of rows) {
    requests += r.count;
    if (r.statusClass === '4xx') errors4xx += r.count;
    if (r.statusClass === '5xx') errors5xx += r.count;
    latencySumMs += r.latencySumMs;
    add(buckets, r.latencyBuckets);
  }
  const p95 = percentileMs(buckets, 0.95);
  return { requests, errors4xx, errors5xx, meanMs: requests === 0 ? null : +(latencySumMs / requests).toFixed(2), p95Ms: p95 === Infinity ? `>${LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]}` : p95 };
}

export function registerUsageRoutes(app: FastifyInstance, deps: Deps): void {
  app.get<{ Params: { name: string } }>('/v1/apis/:name/stats', async (request) => {
    requireSignedIn(request.principal);
    const q = query(request);
    const allowed = await scope(deps, request.principal, request.params.name);
    const { minutes, since } = window(q);
    const rows = (await deps.store.usage({ api: request.params.name, environment: q.environment, application: q.application, since })).filter((r) => allowed(r.application));
    const byMinute = new Map<string, UsageRecord[]>();
    const byApp = new Map<string, UsageRecord[]>();
    for (const r of rows) {
      byMinute.set(r.minute, [...(byMinute.get(r.minute) ?? []), r]);
      const key = r.application ?? '(anonymous)';
      byApp.set(key, [...(byApp.get(key) ?? []), r]);
    }
    return {
      api: request.params.name,
      environment: q.environment ?? null,
      minutes,
      since,
      totals: summarise(rows),
      series: [...byMinute.entries()].map(([minute, rs]) => ({ minute, ...summarise(rs) })),
      byApplication: [...byApp.entries()].map(([application, rs]) => ({ application, ...summarise(rs) })).sort((a, b) => b.requests - a.requests),
    };
  });

  app.get<{ Params: { name: string } }>('/v1/apis/:name/health', async (request) => {
    requireSignedIn(request.principal);
    const a = await deps.store.get('Api', request.params.name);
    if (!a || a.resource.kind !== 'Api' || !canSee(request.principal, a.resource)) throw notFound(`Api ${request.params.name}`);
    const served = new Map<string, string[]>();
    for (const v of a.resource.spec.versions) for (const [env, e] of Object.entries(v.environments)) if (e.state !== 'draft') served.set(env, [...(served.get(env) ?? []), `${v.name}:${e.state}`]);
    const since = new Date(Date.now() - 5 * 60_000).toISOString();
    const environments = [];
    for (const [env, versions] of served) {
      const snapshot = await deps.store.getSnapshotHead(env);
      const gateways = (await deps.store.listGateways(env)).map((g) => ({
        gateway: g.gateway,
        appliedVersion: g.appliedVersion,
        inSync: snapshot !== null && g.appliedVersion === snapshot.version,
        lastSeenAt: g.lastSeenAt,
        stale: Date.now() - Date.parse(g.lastSeenAt) > 30_000,
        ...(g.rejected && { rejected: g.rejected }),
      }));
      const last5 = summarise(await deps.store.usage({ api: request.params.name, environment: env, since }));
      const live = gateways.filter((g) => !g.stale);
      const errorRate = last5.requests === 0 ? 0 : last5.errors5xx / last5.requests;
      const status = live.length === 0 ? 'no-gateway' : live.some((g) => !g.inSync) ? 'drift' : errorRate > 0.05 ? 'degraded' : 'ok';
      environments.push({ environment: env, versions, status, snapshotVersion: snapshot?.version ?? null, gateways, last5Minutes: { ...last5, errorRate: +errorRate.toFixed(4) } });
    }
    return { api: request.params.name, environments };
  });

  const samples = (errorsOnly: boolean) => async (request: { params: { name: string }; principal: Principal; query: unknown }) => {
    requireSignedIn(request.principal);
    const q = (request.query ?? {}) as Record<string, string | undefined>;
    const allowed = await scope(deps, request.principal, request.params.name);
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ApigovError('APIGOV_ERR_INPUT_INVALID', 'limit must be an integer from 1 to 1000', { errors: [{ path: 'limit', message: 'from 1 to 1000' }] });
    const rows = await deps.store.listErrorSamples({ api: request.params.name, environment: q.environment, limit: 1000 });
    return { items: rows.filter((r) => (!errorsOnly || r.status >= 400) && allowed(r.application)).slice(0, limit) };
  };
  app.get<{ Params: { name: string } }>('/v1/apis/:name/errors', samples(true));
  app.get<{ Params: { name: string } }>('/v1/apis/:name/logs', samples(false));
}
