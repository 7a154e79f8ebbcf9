// How resources look on the wire: the declarative document plus a server-written `status`
// (bookkeeping, and for an Api the gateway URL of each version in each environment).
import { defaultRoutePrefix, type AnyResource, type EnvironmentSpec, type Resource, type ResourceStatus } from '@apigov/model';
import type { Store, StoredResource } from '@apigov/store';

export type EnvironmentIndex = Map<string, EnvironmentSpec>;

export async function environmentIndex(store: Store): Promise<EnvironmentIndex> {
  const envs = await store.list('Environment', { limit: 1000 });
  return new Map(envs.map((e) => [e.resource.metadata.name, e.resource.spec as EnvironmentSpec]));
}

/** `https://gw.example/payments/v1` for each version and environment whose Environment has a gatewayUrl. */
export function gatewayUrls(api: AnyResource, envs: EnvironmentIndex): Record<string, Record<string, string>> {
  if (api.kind !== 'Api') return {};
  const out: Record<string, Record<string, string>> = {};
  for (const v of api.spec.versions) {
    for (const [env, e] of Object.entries(v.environments)) {
      const base = envs.get(env)?.gatewayUrl;
      if (base === undefined) continue;
      (out[v.name] ??= {})[env] = base.replace(/\/+$/, '') + (e.routePrefix ?? defaultRoutePrefix(api.metadata.name, v.name));
    }
  }
  return out;
}

export function render(s: StoredResource, envs?: EnvironmentIndex): Resource {
  const status: ResourceStatus = {
    resourceVersion: s.resourceVersion,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    createdBy: s.createdBy,
    updatedBy: s.updatedBy,
  };
  if (s.resource.kind === 'Api' && envs) status.gatewayUrls = gatewayUrls(s.resource, envs);
  // a Git-managed resource says where it comes from (repo, path, commit, author)
  const source = (s.resource.status as Record<string, unknown> | undefined)?.source;
  if (source !== undefined) status.source = source;
  return { ...s.resource, status } as Resource;
}

export function etag(s: StoredResource): string {
  return `"${s.resourceVersion}"`;
}
