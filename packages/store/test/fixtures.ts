// Realistic, validated resources for the store tests (built with the model's parseResource).
import { parseResource, type AnyResource, type LifecycleState, type Visibility } from '@apigov/model';

export type ApiResource = Extract<AnyResource, { kind: 'Api' }>;

export interface ApiFixture {
  name: string;
  owner?: string;
  title?: string;
  description?: string;
  tags?: string[];
  visibility?: Visibility;
  /** version key → paths and per-environment state (default: v1, dev published) */
  versions?: Array<{ name: string; paths?: string[]; environments?: Record<string, LifecycleState> }>;
}

function openapi(title: string, paths: string[]): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title, version: '1.0.0' },
    paths: Object.fromEntries(
      paths.map((p) => [
        p,
        {
          get: {
            operationId: `get${p.replace(/[^A-Za-z0-9]+/g, '_')}`,
            responses: { '200': { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } } },
          },
        },
      ]),
    ),
  };
}

export function makeApi(f: ApiFixture): ApiResource {
  const title = f.title ?? `${f.name} API`;
  const versions = f.versions ?? [{ name: 'v1', paths: [`/${f.name}`, `/${f.name}/{id}`], environments: { dev: 'published' as LifecycleState } }];
  const raw = {
    apiVersion: 'apigov.dev/v1',
    kind: 'Api',
    metadata: { name: f.name, labels: { tier: 'gold' } },
    spec: {
      owner: f.owner ?? 'platform',
      title,
      ...(f.description === undefined ? {} : { description: f.description }),
      tags: f.tags ?? [],
      visibility: f.visibility ?? 'internal',
      versions: versions.map((v) => ({
        name: v.name,
        openapi: openapi(title, v.paths ?? [`/${f.name}`]),
        environments: Object.fromEntries(
          Object.entries(v.environments ?? { dev: 'published' }).map(([env, state]) => [
            env,
            state === 'draft' ? { state } : { state, upstream: 'http://127.0.0.1:4100' },
          ]),
        ),
      })),
    },
  };
  return parseResource(raw) as ApiResource;
}

export function makeTeam(name: string, displayName = `Team ${name}`): AnyResource {
  return parseResource({ apiVersion: 'apigov.dev/v1', kind: 'Team', metadata: { name }, spec: { displayName, contact: { email: `${name}@example.com` } } });
}

export function makeEnvironment(name: string, production = false): AnyResource {
  return parseResource({ apiVersion: 'apigov.dev/v1', kind: 'Environment', metadata: { name }, spec: { production, order: production ? 10 : 0 } });
}
