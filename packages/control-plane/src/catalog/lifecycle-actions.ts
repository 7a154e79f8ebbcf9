// Publish, deprecate and retire: lifecycle moves of one API version in one or every environment,
// expressed as a change to the Api resource so they share the write path with apply.
import { ApigovError, dateSchema, parseResource, urlSchema, versionKey, type ApiEnvironmentSpec, type ApiSpec, type LifecycleState } from '@apigov/model';
import type { StoredResource } from '@apigov/store';
import { invalidField, notFound } from '../problem.js';
import { canSee } from '../rbac.js';
import { writeResource, type WriteContext } from './writes.js';

export type { LifecycleAction } from '@apigov/model';
import type { LifecycleAction } from '@apigov/model';

export interface LifecycleRequest {
  environment?: string;
  upstream?: string;
  routePrefix?: string;
  sunset?: string;
  successor?: string;
}

export function parseLifecycleRequest(action: LifecycleAction, body: unknown): LifecycleRequest {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b !== 'object' || Array.isArray(b)) throw invalidField('(body)', 'must be a JSON object');
  const allowed: Record<LifecycleAction, string[]> = {
    publish: ['environment', 'upstream', 'routePrefix'],
    deprecate: ['environment', 'sunset', 'successor'],
    retire: ['environment'],
  };
  for (const k of Object.keys(b)) if (!allowed[action].includes(k)) throw invalidField(k, `unknown field '${k}'`);
  for (const k of allowed[action]) if (b[k] !== undefined && typeof b[k] !== 'string') throw invalidField(k, 'must be a string');
  if (action === 'publish' && b.environment === undefined) throw invalidField('environment', 'is required');
  if (action === 'deprecate' && b.sunset === undefined) throw invalidField('sunset', 'is required (YYYY-MM-DD)');
  if (b.sunset !== undefined) {
    const d = dateSchema.safeParse(b.sunset);
    if (!d.success) throw invalidField('sunset', d.error.issues[0].message);
  }
  if (b.upstream !== undefined) {
    const u = urlSchema.safeParse(b.upstream);
    if (!u.success) throw invalidField('upstream', u.error.issues[0].message);
  }
  if (b.successor !== undefined && versionKey(b.successor as string) === undefined) throw invalidField('successor', 'must name a version, like v2');
  return b as LifecycleRequest;
}

export async function changeLifecycle(ctx: WriteContext, api: string, version: string, action: LifecycleAction, req: LifecycleRequest, expectedVersion?: number): Promise<StoredResource> {
  const current = await ctx.tx.get('Api', api);
  if (!current || current.resource.kind !== 'Api' || !canSee(ctx.principal, current.resource)) throw notFound(`Api ${api}`);
  const key = versionKey(version);
  const spec: ApiSpec = current.resource.spec;
  const v = key === undefined ? undefined : spec.versions.find((x) => x.name === key);
  if (!v) throw notFound(`version ${version} of Api ${api}`);
  const successor = req.successor === undefined ? undefined : versionKey(req.successor);
  if (req.successor !== undefined && (successor === undefined || !spec.versions.some((x) => x.name === successor))) {
    throw invalidField('successor', `Api ${api} has no version ${req.successor}`);
  }
  const environments: Record<string, ApiEnvironmentSpec> = { ...v.environments };
  const target: LifecycleState = action === 'publish' ? 'published' : action === 'deprecate' ? 'deprecated' : 'retired';
  let envs: string[];
  if (req.environment !== undefined) envs = [req.environment];
  else {
    const from: LifecycleState[] = action === 'deprecate' ? ['published'] : ['published', 'deprecated'];
    envs = Object.entries(environments).filter(([, e]) => from.includes(e.state)).map(([env]) => env);
    if (envs.length === 0) throw new ApigovError('APIGOV_ERR_LIFECYCLE_TRANSITION', `${api} ${v.name} is not ${from.join(' or ')} in any environment`);
  }
  for (const env of envs) {
    const e: ApiEnvironmentSpec = { ...(environments[env] ?? { state: 'draft' }) };
    if (req.upstream !== undefined) e.upstream = req.upstream;
    if (req.routePrefix !== undefined) e.routePrefix = req.routePrefix;
    if (action === 'publish' && e.upstream === undefined) throw invalidField('upstream', `${api} ${v.name} has no upstream in ${env}; pass one`);
    if (action === 'deprecate') {
      if (e.state !== 'deprecated' || e.deprecatedAt === undefined) e.deprecatedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      e.sunset = req.sunset;
      if (successor !== undefined) e.successor = successor;
    }
    if (action === 'publish') {
      delete e.deprecatedAt;
      delete e.sunset;
      delete e.successor;
    }
    e.state = target;
    environments[env] = e;
  }
  const next = parseResource({
    ...current.resource,
    spec: { ...spec, versions: spec.versions.map((x) => (x.name === v.name ? { ...x, environments } : x)) },
  });
  const { stored } = await writeResource(ctx, next, { action, expectedVersion });
  return stored;
}
