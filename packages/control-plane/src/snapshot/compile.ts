// The snapshot compiler: turns the catalog's resources into one environment's gateway snapshot — route table,
// effective policies (platform > api > version > operation), consumers, API-key index, JWT bindings and plans.
import { createHash } from 'node:crypto';
import {
  SNAPSHOT_SCHEMA_VERSION,
  canonicalJson,
  defaultRoutePrefix,
  isServed,
  type ApiSpec,
  type ApplicationSpec,
  type CredentialSpec,
  type GatewaySnapshot,
  type PlanSpec,
  type PolicyConfigs,
  type PolicySpec,
  type SnapshotRoute,
  type SubscriptionSpec,
  POLICY_IDS,
} from '@apigov/model';
import { effectivePolicies } from './precedence.js';
import { extractOperations } from '@apigov/openapi';

export interface Named<S> {
  name: string;
  spec: S;
  /** the stored resource's version: with it, what was compiled from the resource can be reused (RouteCache) */
  version?: number;
}

/** One Api version compiled for one environment, with its warnings (its canonical JSON is kept in canonicalRoutes). */
interface CachedRoute {
  readonly route: SnapshotRoute;
  readonly warnings: readonly string[];
}

/**
 * Routes compiled by earlier compiles, reused while the Api and every policy that could apply to it (the
 * environment's and the Api's own) have the same versions. Kept for one round: what a compile of every environment
 * did not use is dropped by sweep().
 */
export class RouteCache {
  private previous = new Map<string, CachedRoute>();
  private current = new Map<string, CachedRoute>();
  hits = 0;
  misses = 0;

  get(key: string): CachedRoute | undefined {
    const hit = this.current.get(key) ?? this.previous.get(key);
    if (hit !== undefined) {
      this.current.set(key, hit);
      this.hits++;
    } else this.misses++;
    return hit;
  }

  set(key: string, entry: CachedRoute): void {
    this.current.set(key, entry);
  }

  /** after a round of compiles: forget what it did not use */
  sweep(): void {
    this.previous = this.current;
    this.current = new Map();
  }
}

/** canonicalJson of a compiled route, kept with it (routes are never changed once compiled) */
const canonicalRoutes = new WeakMap<SnapshotRoute, string>();

function canonicalRoute(route: SnapshotRoute): string {
  let text = canonicalRoutes.get(route);
  if (text === undefined) {
    text = canonicalJson(route);
    canonicalRoutes.set(route, text);
  }
  return text;
}

/** versions of the resources a route's compile read, or undefined when one is not known (nothing is cached) */
function fingerprint(list: ReadonlyArray<Named<unknown>>): string | undefined {
  let out = '';
  for (const r of list) {
    if (r.version === undefined) return undefined;
    out += `${r.name}@${r.version};`;
  }
  return out;
}

export interface CompileInput {
  environment: string;
  apis: Named<ApiSpec>[];
  policies: Named<PolicySpec>[];
  plans: Named<PlanSpec>[];
  applications: Named<ApplicationSpec>[];
  subscriptions: Named<SubscriptionSpec>[];
  credentials: Named<CredentialSpec>[];
  now: Date;
  /** reuse routes compiled before (SnapshotService keeps one) */
  cache?: RouteCache;
}

export type SnapshotContent = Omit<GatewaySnapshot, 'version' | 'hash' | 'generatedAt'>;

function configsOf(p: PolicySpec): PolicyConfigs {
  const out: PolicyConfigs = {};
  for (const id of POLICY_IDS) if (p[id] !== undefined) (out as Record<string, unknown>)[id] = p[id];
  return out;
}

function merged(list: Named<PolicySpec>[]): PolicyConfigs {
  const out: PolicyConfigs = {};
  for (const p of [...list].sort((a, b) => a.name.localeCompare(b.name))) Object.assign(out, configsOf(p.spec));
  return out;
}

const live = (expiresAt: string | undefined, now: Date) => expiresAt === undefined || Date.parse(expiresAt) > now.getTime();

/** One Api version's route in one environment: effective policies, operations, lifecycle headers. */
function compileRoute(env: string, api: Named<ApiSpec>, v: ApiSpec['versions'][number], id: string, prefix: string, platform: PolicyConfigs, mine: Named<PolicySpec>[]): CachedRoute {
  const e = v.environments[env]!;
  const warnings: string[] = [];
  const forVersion = (p: Named<PolicySpec>) => p.spec.targetRef.version === undefined || p.spec.targetRef.version === v.name;
  const apiLayer = merged(mine.filter((p) => p.spec.targetRef.operation === undefined && p.spec.targetRef.version === undefined));
  const versionLayer = merged(mine.filter((p) => p.spec.targetRef.operation === undefined && p.spec.targetRef.version === v.name));
  const warn = (m: string) => warnings.push(`${id}: ${m}`);
  const policies = effectivePolicies(platform, [apiLayer, versionLayer], warn);
  const { operations, schemas } = extractOperations(v.openapi);
  const opPolicies = mine.filter((p) => p.spec.targetRef.operation !== undefined && forVersion(p));
  for (const p of opPolicies) {
    const op = operations.find((o) => o.id === p.spec.targetRef.operation);
    if (!op) {
      warn(`Policy ${p.name} targets operation ${p.spec.targetRef.operation}, which ${v.name} does not have`);
      continue;
    }
    op.policies = effectivePolicies(platform, [apiLayer, versionLayer, configsOf(p.spec)], (m) => warn(`operation ${op.id}: ${m}`));
  }
  let deprecation: SnapshotRoute['deprecation'];
  if (e.state === 'deprecated') {
    const successor = e.successor === undefined ? undefined : api.spec.versions.find((s) => s.name === e.successor);
    const se = successor?.environments[env];
    const successorPrefix = successor && se && isServed(se.state) ? (se.routePrefix ?? defaultRoutePrefix(api.name, successor.name)) : undefined;
    deprecation = {
      deprecated: true,
      ...(e.deprecatedAt !== undefined && { deprecatedAt: e.deprecatedAt }),
      ...(e.sunset !== undefined && { sunset: e.sunset }),
      ...(successorPrefix !== undefined && { successorPrefix }),
      ...(e.brownouts !== undefined && e.brownouts.length > 0 && { brownouts: e.brownouts.map((b) => ({ start: new Date(b.start).toISOString(), end: new Date(b.end).toISOString() })) }),
    };
  }
  const route: SnapshotRoute = {
    id,
    api: api.name,
    version: v.name,
    prefix,
    state: e.state as SnapshotRoute['state'],
    upstream: e.upstream!,
    ...(deprecation && { deprecation }),
    policies,
    schemas,
    operations: operations.map((o) => ({ ...o, parameters: o.parameters })),
  };
  return { route, warnings };
}

export function compileSnapshot(input: CompileInput): SnapshotContent {
  const { environment: env, now } = input;
  const warnings: string[] = [];
  const routes: SnapshotRoute[] = [];
  const byPrefix = new Map<string, string>();

  const platformPolicies = input.policies.filter((p) => p.spec.targetRef.kind === 'Environment' && p.spec.targetRef.name === env);
  const platform = merged(platformPolicies);
  const platformPrint = fingerprint(platformPolicies);
  const apiPolicies = new Map<string, Named<PolicySpec>[]>();
  for (const p of input.policies) {
    if (p.spec.targetRef.kind !== 'Api') continue;
    const list = apiPolicies.get(p.spec.targetRef.name);
    if (list === undefined) apiPolicies.set(p.spec.targetRef.name, [p]);
    else list.push(p);
  }
  const cache = input.cache;

  for (const api of [...input.apis].sort((a, b) => a.name.localeCompare(b.name))) {
    const mine = apiPolicies.get(api.name) ?? [];
    const minePrint = fingerprint(mine);
    for (const v of api.spec.versions) {
      const e = v.environments[env];
      if (!e || e.state === 'draft' || e.upstream === undefined) continue;
      const id = `${api.name}/${v.name}`;
      const prefix = e.routePrefix ?? defaultRoutePrefix(api.name, v.name);
      const taken = byPrefix.get(prefix);
      if (taken !== undefined) {
        warnings.push(`${id}: route prefix ${prefix} is already served by ${taken}; ${id} is left out`);
        continue;
      }
      byPrefix.set(prefix, id);
      const key = cache !== undefined && api.version !== undefined && platformPrint !== undefined && minePrint !== undefined ? `${env}\n${api.name}@${api.version}\n${v.name}\n${platformPrint}\n${minePrint}` : undefined;
      let compiled = key === undefined ? undefined : cache!.get(key);
      if (compiled === undefined) {
        compiled = compileRoute(env, api, v, id, prefix, platform, mine);
        if (key !== undefined) cache!.set(key, compiled);
      }
      warnings.push(...compiled.warnings);
      routes.push(compiled.route);
    }
  }

  const appTeam = new Map(input.applications.map((a) => [a.name, a.spec.owner]));
  const consumers: SnapshotContent['consumers'] = {};
  const consumerOf = (app: string) => (consumers[app] ??= { application: app, team: appTeam.get(app) ?? '', subscriptions: {} });
  const routeIds = new Set(routes.map((r) => r.id));
  for (const s of [...input.subscriptions].sort((a, b) => a.name.localeCompare(b.name))) {
    const sub = s.spec;
    if (sub.environment !== env || sub.state !== 'approved' || !live(sub.expiresAt, now) || !appTeam.has(sub.application)) continue;
    const routeId = `${sub.api}/${sub.version}`;
    if (!routeIds.has(routeId)) continue;
    consumerOf(sub.application).subscriptions[routeId] = { plan: sub.plan, ...(sub.expiresAt !== undefined && { expiresAt: sub.expiresAt }) };
  }
  const apiKeys: SnapshotContent['apiKeys'] = {};
  const jwtBindings: SnapshotContent['jwtBindings'] = [];
  for (const c of [...input.credentials].sort((a, b) => a.name.localeCompare(b.name))) {
    const cred = c.spec;
    if (!appTeam.has(cred.application) || !live(cred.expiresAt, now)) continue;
    consumerOf(cred.application);
    if (cred.type === 'api-key' && cred.keyHash !== undefined) {
      apiKeys[cred.keyHash] = { credential: c.name, application: cred.application, ...(cred.expiresAt !== undefined && { expiresAt: cred.expiresAt }) };
    } else if (cred.type === 'jwt' && cred.issuer !== undefined) {
      jwtBindings.push({ issuer: cred.issuer, ...(cred.subject !== undefined && { subject: cred.subject }), ...(cred.clientId !== undefined && { clientId: cred.clientId }), application: cred.application });
    }
  }
  const plans: SnapshotContent['plans'] = {};
  for (const p of [...input.plans].sort((a, b) => a.name.localeCompare(b.name))) {
    if (p.spec.environments.length > 0 && !p.spec.environments.includes(env)) continue;
    plans[p.name] = { ...(p.spec.rateLimit && { rateLimit: p.spec.rateLimit }), ...(p.spec.quota && { quota: p.spec.quota }) };
  }
  routes.sort((a, b) => a.prefix.localeCompare(b.prefix));
  return { schemaVersion: SNAPSHOT_SCHEMA_VERSION, environment: env, routes, consumers, apiKeys, jwtBindings, plans, warnings };
}

/**
 * sha256 (hex) of the canonical JSON of the snapshot without version, hash and generatedAt: what gateways verify.
 * Each route's canonical JSON is kept with the route, so a route reused from the cache is not serialised again.
 */
export function snapshotHash(content: SnapshotContent): string {
  const hash = createHash('sha256');
  const doc = content as unknown as Record<string, unknown>;
  let first = true;
  hash.update('{');
  for (const key of Object.keys(doc).sort()) {
    const value = doc[key];
    if (value === undefined) continue;
    hash.update(`${first ? '' : ','}${JSON.stringify(key)}:`);
    first = false;
    if (key === 'routes') {
      hash.update('[');
      content.routes.forEach((r, i) => hash.update(i === 0 ? canonicalRoute(r) : `,${canonicalRoute(r)}`));
      hash.update(']');
    } else hash.update(canonicalJson(value));
  }
  hash.update('}');
  return hash.digest('hex');
}
