// Compiling a snapshot, off the hot path, into the immutable CompiledSnapshot requests are served from: one
// find-my-way router, each route's pipeline of policy handlers by phase, its upstream stage, metric series and
// the headers every answer carries (lifecycle, configured response headers). A policy that throws refuses it.
import FindMyWay from 'find-my-way';
import { canonicalJson, lifecycleHeaders, type GatewaySnapshot, type PolicyConfigs, type PolicyId, type SnapshotOperation, type SnapshotRoute } from '@apigov/model';
import { PHASES, type CompiledPolicy, type PolicyDefinition, type PolicyDeps } from './policy.js';
import type { CounterStore } from './counters/types.js';
import { UpstreamStage, type UpstreamState } from './upstream.js';
import type { GatewayMetrics, RouteTraffic } from './metrics.js';
import { ALWAYS_REDACTED, redactionProbe } from './access-log.js';
import { responseHeaderEdits } from './policies/headers.js';
import { validatorCache } from '@apigov/openapi/validators';
import { SnapshotRefusedError, type VerifiedRoutes } from './snapshot.js';
import { authTables, prepareAuthTables, type SnapshotAuthTables } from './auth/consumers.js';
import { BusyClock, runToEnd, type LoadSteps } from './load-slices.js';

export interface CompiledPipeline {
  /** the policies compiled for each phase, in PHASES order; null for an empty phase */
  readonly phases: ReadonlyArray<ReadonlyArray<CompiledPolicy> | null>;
  /** the handlers of every phase but `respond`, in order: what the request loop runs */
  readonly handlers: ReadonlyArray<CompiledPolicy>;
  /** `respond` phase handlers, run (synchronously) just before the gateway answers from the upstream */
  readonly respond: ReadonlyArray<CompiledPolicy>;
  /** ids of the policies in the pipeline, in run order (for /snapshot and stats) */
  readonly policyIds: readonly string[];
  readonly upstream: UpstreamStage;
  /** flat [name, value, …]: lifecycle headers and configured response headers, added to every answer */
  readonly answerHeaders: readonly string[];
  /** request headers (lower-case) the pipeline's policies never let through (an API key header) */
  readonly removeRequestHeaders: ReadonlySet<string> | undefined;
  /** upstream response headers (lower-case) not passed back */
  readonly removeResponseHeaders: ReadonlySet<string> | undefined;
  /** upstream response header renames (lower-case → new name) */
  readonly renameResponseHeaders: ReadonlyMap<string, string> | undefined;
}

export interface CompiledRoute {
  readonly route: SnapshotRoute;
  readonly retired: boolean;
  /** brownout windows as [start, end) epoch milliseconds, parsed once at snapshot load */
  readonly brownouts: ReadonlyArray<readonly [number, number]>;
  readonly pipeline: CompiledPipeline;
  readonly traffic: RouteTraffic;
  /** query parameter names (lower-case) whose values the access log hides */
  readonly redact: ReadonlySet<string>;
  /** matches a query string that may carry one of them */
  readonly redactProbe: RegExp;
}

/** What the router's store holds for each registered path. */
export interface RouteMatch {
  readonly compiled: CompiledRoute;
  readonly operation: SnapshotOperation | undefined;
  readonly pipeline: CompiledPipeline;
}

export interface CompiledSnapshot {
  readonly snapshot: GatewaySnapshot;
  /** its key, JWT-binding and subscription tables, which policies read per request */
  readonly auth: SnapshotAuthTables;
  readonly version: number;
  readonly hash: string;
  readonly router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;
  /** route prefix → the route's catch-all, for paths its OpenAPI document does not describe */
  readonly prefixes: ReadonlyMap<string, RouteMatch>;
  readonly routes: readonly CompiledRoute[];
  /** the snapshot's own warnings, then the compile's (routeWarnings), then what the auth tables could not parse */
  readonly warnings: readonly string[];
  /** what compiling the routes warned about: still true for a later snapshot with the same routes and plans */
  readonly routeWarnings: readonly string[];
  /** canonical JSON of the plans the routes' limits were compiled from */
  readonly plansKey: string;
  /** true when the routes were taken from the previous snapshot (rebindSnapshotSteps) instead of compiled */
  readonly routesReused: boolean;
  /** the routes as verified, with their text's digest and canonical JSON, when the load had them (a large text) */
  verifiedRoutes?: VerifiedRoutes;
  readonly compiledAt: string;
  readonly compileMs: number;
}

export interface CompileDeps {
  policies: ReadonlyArray<PolicyDefinition>;
  counters: CounterStore;
  upstreams: UpstreamState;
  metrics: GatewayMetrics;
  /** extra names to hide in the access log (`--redact`) */
  redact: readonly string[];
}

const noop = (): void => {};
/** above this many router entries, find-my-way's code generation is not attempted (it can exceed the stack) */
const COMPILE_ROUTER_BELOW = 20_000;

/**
 * The route whose prefix is the longest one `path` starts with (at a segment boundary), for requests the router
 * did not match. `/payments/v1/a/b` tries `/payments/v1/a/b`, `/payments/v1/a`, `/payments/v1`, `/payments`, `/`.
 */
export function matchPrefix(prefixes: ReadonlyMap<string, RouteMatch>, path: string): RouteMatch | undefined {
  let end = path.length;
  if (end > 1 && path.charCodeAt(end - 1) === 47) end--;
  while (end > 0) {
    const hit = prefixes.get(end === path.length ? path : path.slice(0, end));
    if (hit !== undefined) return hit;
    end = path.lastIndexOf('/', end - 1);
  }
  return prefixes.get('/');
}

/** OpenAPI `/payments/{id}` under prefix `/payments/v1` → find-my-way `/payments/v1/payments/:id` */
export function routerPath(prefix: string, template: string): string {
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const escaped = template.replace(/:/g, '::').replace(/\*/g, '%2A');
  return base + escaped.replace(/\{([^}/]+)\}/g, (_m, name: string) => `:${name.replace(/[^A-Za-z0-9_]/g, '_')}`);
}

function compilePipeline(route: SnapshotRoute, operation: SnapshotOperation | undefined, policies: PolicyConfigs, deps: CompileDeps, policyDeps: PolicyDeps): CompiledPipeline {
  const compiled: Array<{ phase: number; priority: number; id: string; handler: CompiledPolicy }> = [];
  for (const def of deps.policies) {
    const config = policies[def.id as PolicyId];
    if (config === undefined) continue;
    let handler: CompiledPolicy | null;
    try {
      handler = (def.compile as (c: unknown, r: SnapshotRoute, o: SnapshotOperation | undefined, d: PolicyDeps) => CompiledPolicy | null)(config, route, operation, policyDeps);
    } catch (err) {
      const where = operation === undefined ? route.id : `${route.id} operation ${operation.id}`;
      throw new Error(`policy ${def.id} of ${where}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (handler !== null) compiled.push({ phase: PHASES.indexOf(def.phase), priority: def.priority, id: def.id, handler });
  }
  compiled.sort((a, b) => a.phase - b.phase || a.priority - b.priority);
  const phases = PHASES.map((_p, i) => {
    const inPhase = compiled.filter((c) => c.phase === i).map((c) => c.handler);
    return inPhase.length === 0 ? null : inPhase;
  });
  const respondIndex = PHASES.indexOf('respond');
  const edits = responseHeaderEdits(policies.headers);
  const stripped = compiled.flatMap((c) => c.handler.stripRequestHeaders ?? []);
  return {
    phases,
    handlers: compiled.filter((c) => c.phase !== respondIndex).map((c) => c.handler),
    respond: compiled.filter((c) => c.phase === respondIndex).map((c) => c.handler),
    policyIds: compiled.map((c) => c.id),
    upstream: new UpstreamStage(route.id, route.upstream, policies, deps.upstreams),
    answerHeaders: [...lifecycleHeaders(route), ...edits.add],
    removeRequestHeaders: stripped.length === 0 ? undefined : new Set(stripped),
    removeResponseHeaders: edits.remove,
    renameResponseHeaders: edits.rename,
  };
}

/** Builds everything requests need from a validated snapshot; throws SnapshotRefusedError when it cannot. */
export function compileSnapshot(snapshot: GatewaySnapshot, deps: CompileDeps): CompiledSnapshot {
  return runToEnd(compileSnapshotSteps(snapshot, deps));
}

/** compileSnapshot as steps of a load: the auth tables, then one route at a time, yielding in between. */
export function* compileSnapshotSteps(snapshot: GatewaySnapshot, deps: CompileDeps): LoadSteps<CompiledSnapshot> {
  validatorCache.beginSnapshot();
  try {
    return yield* compileSnapshotRoutes(snapshot, deps);
  } finally {
    validatorCache.endSnapshot();
  }
}

function* compileSnapshotRoutes(snapshot: GatewaySnapshot, deps: CompileDeps): LoadSteps<CompiledSnapshot> {
  // compileMs counts the compile's own time, not the requests served between its steps
  const clock = new BusyClock();
  yield* clock.around(prepareAuthTables(snapshot));
  const warnings: string[] = [];
  const policyDeps: PolicyDeps = { snapshot, counters: deps.counters, warn: (m) => warnings.push(m) };
  const router = FindMyWay<FindMyWay.HTTPVersion.V1>({ ignoreTrailingSlash: true, caseSensitive: true, maxParamLength: 1000 });
  const routes: CompiledRoute[] = [];
  const prefixes = new Map<string, RouteMatch>();
  let entries = 0;
  const redactBase = [...ALWAYS_REDACTED, ...deps.redact.map((n) => n.toLowerCase())];
  try {
    for (const route of snapshot.routes) {
      const pipeline = compilePipeline(route, undefined, route.policies, deps, policyDeps);
      const redact = new Set(redactBase);
      const keyParam = route.policies.apiKeyAuth?.query;
      if (keyParam !== undefined) redact.add(keyParam.toLowerCase());
      const keyHeader = route.policies.apiKeyAuth?.header;
      if (keyHeader !== undefined) redact.add(keyHeader.toLowerCase());
      const compiled: CompiledRoute = {
        route,
        retired: route.state === 'retired',
        brownouts: (route.deprecation?.brownouts ?? []).map((b) => [Date.parse(b.start), Date.parse(b.end)] as const).filter(([a, b]) => !Number.isNaN(a) && !Number.isNaN(b)),
        pipeline,
        traffic: deps.metrics.routeTraffic(route.api, route.version, route.id),
        redact,
        redactProbe: redactionProbe(redact),
      };
      routes.push(compiled);
      const base = route.prefix.endsWith('/') ? route.prefix.slice(0, -1) : route.prefix;
      const catchAll: RouteMatch = { compiled, operation: undefined, pipeline };
      if (!compiled.retired) {
        for (const operation of route.operations) {
          const store: RouteMatch = {
            compiled,
            operation,
            pipeline: operation.policies === undefined ? pipeline : compilePipeline(route, operation, operation.policies as PolicyConfigs, deps, policyDeps),
          };
          const path = routerPath(base, operation.path);
          try {
            router.on(operation.method as FindMyWay.HTTPMethod, path, noop, store);
            entries++;
          } catch (err) {
            warnings.push(`${route.id}: operation ${operation.id} (${operation.method} ${operation.path}) is not routable: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      }
      prefixes.set(base === '' ? '/' : base, catchAll);
      clock.pause();
      yield;
      clock.resume();
    }
  } catch (err) {
    throw new SnapshotRefusedError(err instanceof Error ? err.message : String(err), snapshot.version);
  }
  try {
    // generated-code lookups; very large route tables can exceed the code generator's recursion, then the tree walk serves
    if (entries < COMPILE_ROUTER_BELOW) router.compile();
  } catch (err) {
    const r = router as unknown as { find?: unknown; lookup?: unknown };
    delete r.find;
    delete r.lookup;
    warnings.push(`router lookups are not compiled (${err instanceof Error ? err.message : String(err)}); the tree walk serves them`);
  }
  return withAuthTables(snapshot, { router, prefixes, routes, routeWarnings: warnings, plansKey: canonicalJson(snapshot.plans), routesReused: false }, clock);
}

type CompiledRoutes = Pick<CompiledSnapshot, 'router' | 'prefixes' | 'routes' | 'routeWarnings' | 'plansKey' | 'routesReused'>;

/** the compiled snapshot: `routes` served with `snapshot`'s auth tables (built already by prepareAuthTables) */
function withAuthTables(snapshot: GatewaySnapshot, routes: CompiledRoutes, clock: BusyClock): CompiledSnapshot {
  const tableProblems: string[] = [];
  const auth = authTables(snapshot, (m) => tableProblems.push(m));
  return {
    ...routes,
    snapshot,
    auth,
    version: snapshot.version,
    hash: snapshot.hash,
    warnings: [...snapshot.warnings, ...routes.routeWarnings, ...tableProblems],
    compiledAt: new Date().toISOString(),
    compileMs: clock.ms,
  };
}

/**
 * Whether `snapshot` may be served by `previous`'s compiled routes: its routes are previous's own (verification
 * took them over, their text being the same) and so are its plans.
 */
export function canRebind(previous: CompiledSnapshot | undefined, snapshot: GatewaySnapshot): previous is CompiledSnapshot {
  return previous !== undefined && previous.snapshot.routes === snapshot.routes && previous.plansKey === canonicalJson(snapshot.plans);
}

/**
 * A snapshot whose routes and plans are the applied one's (only keys, consumers, subscriptions or JWT bindings
 * changed): its compiled routes, router and pipelines are taken as they are (policies read the auth tables per
 * request), and only its auth tables are built. What an `apigov keys create` costs a gateway with 10,000 routes.
 */
export function* rebindSnapshotSteps(previous: CompiledSnapshot, snapshot: GatewaySnapshot): LoadSteps<CompiledSnapshot> {
  const clock = new BusyClock();
  yield* clock.around(prepareAuthTables(snapshot));
  const { router, prefixes, routes, routeWarnings, plansKey } = previous;
  return withAuthTables(snapshot, { router, prefixes, routes, routeWarnings, plansKey, routesReused: true }, clock);
}
