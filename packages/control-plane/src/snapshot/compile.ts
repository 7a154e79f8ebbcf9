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
import { extractOperations } from './operations.js';

export interface Named<S> {
  name: string;
  spec: S;
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

export function compileSnapshot(input: CompileInput): SnapshotContent {
  const { environment: env, now } = input;
  const warnings: string[] = [];
  const platform = merged(input.policies.filter((p) => p.spec.targetRef.kind === 'Environment' && p.spec.targetRef.name === env));
  const routes: SnapshotRoute[] = [];
  const byPrefix = new Map<string, string>();

  for (const api of [...input.apis].sort((a, b) => a.name.localeCompare(b.name))) {
    const mine = input.policies.filter((p) => p.spec.targetRef.kind === 'Api' && p.spec.targetRef.name === api.name);
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
        deprecation = { deprecated: true, ...(e.deprecatedAt !== undefined && { deprecatedAt: e.deprecatedAt }), ...(e.sunset !== undefined && { sunset: e.sunset }), ...(successorPrefix !== undefined && { successorPrefix }) };
      }
      routes.push({
        id,
        api: api.name,
        version: v.name,
        prefix,
        state: e.state as SnapshotRoute['state'],
        upstream: e.upstream,
        ...(deprecation && { deprecation }),
        policies,
        schemas,
        operations: operations.map((o) => ({ ...o, parameters: o.parameters })),
      });
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

/** sha256 (hex) of the canonical JSON of the snapshot without version, hash and generatedAt: what gateways verify. */
export function snapshotHash(content: SnapshotContent): string {
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}
