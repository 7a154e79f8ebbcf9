// `apigov describe` and `apigov versions`: one API's ownership, catalog facts and, per version and
// environment, its lifecycle state, sunset, upstream and gateway URL (GET /v1/apis/{name}[/versions]).
import type { Command } from 'commander';
import { getResource, listVersions, type ResourceDocument } from '../api.js';
import { outputOption, type OutputOptions } from '../options.js';
import { emit, renderFields, renderTable, type Cell } from '../output.js';
import type { Session } from '../session.js';

interface Contact {
  name?: string;
  email?: string;
  url?: string;
}

interface EnvironmentView {
  state?: string;
  upstream?: string;
  routePrefix?: string;
  sunset?: string;
  successor?: string;
}

function contactText(c: Contact | undefined): string | undefined {
  if (c === undefined) return undefined;
  const parts = [c.name, c.email === undefined ? undefined : `<${c.email}>`, c.url].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : undefined;
}

function describeApi(api: ResourceDocument): string {
  const spec = api.spec ?? {};
  const tags = Array.isArray(spec.tags) ? (spec.tags as string[]) : [];
  const head = renderFields([
    ['name', api.metadata?.name],
    ['title', spec.title as string | undefined],
    ['owner', spec.owner as string | undefined],
    ['contact', contactText(spec.contact as Contact | undefined)],
    ['visibility', spec.visibility as string | undefined],
    ['tags', tags.length > 0 ? tags.join(', ') : undefined],
    ['description', spec.description as string | undefined],
  ]);
  const gatewayUrls = (api.status?.gatewayUrls ?? {}) as Record<string, Record<string, string> | undefined>;
  const rows: Cell[][] = [];
  const versions = Array.isArray(spec.versions) ? (spec.versions as Array<{ name: string; revision?: string; environments?: Record<string, EnvironmentView> }>) : [];
  for (const v of versions) {
    const envs = Object.entries(v.environments ?? {});
    if (envs.length === 0) rows.push([v.name, v.revision, undefined, 'not in any environment', undefined, undefined, undefined, undefined]);
    for (const [env, e] of envs) {
      rows.push([v.name, v.revision, env, e.state, e.sunset, e.successor, e.upstream, gatewayUrls[v.name]?.[env]]);
    }
  }
  const table = rows.length === 0 ? 'No versions.\n' : renderTable(['version', 'revision', 'env', 'state', 'sunset', 'successor', 'upstream', 'gateway url'], rows);
  return `${head}\n${table}`;
}

/** `dev=published, prod=draft` from either a map of environments or a list. */
function environmentsText(envs: unknown): string | undefined {
  if (Array.isArray(envs)) return envs.length > 0 ? envs.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join(', ') : undefined;
  if (typeof envs !== 'object' || envs === null) return undefined;
  const parts = Object.entries(envs as Record<string, unknown>).map(([env, v]) => {
    const state = typeof v === 'string' ? v : (v as { state?: unknown } | null)?.state;
    return state === undefined ? env : `${env}=${String(state)}`;
  });
  return parts.length > 0 ? parts.join(', ') : undefined;
}

export function registerDescribeCommands(program: Command, session: Session): void {
  program
    .command('describe')
    .description('show an API: owner, contact, visibility, tags, and each version per environment')
    .argument('<name>', 'API name')
    .addOption(outputOption())
    .action(
      session.action(async (name: string, opts: OutputOptions) => {
        const api = await getResource(await session.client(), 'apis', name);
        emit(opts.output, api, () => describeApi(api));
      }),
    );

  program
    .command('versions')
    .description("list an API's versions and their state per environment")
    .argument('<name>', 'API name')
    .addOption(outputOption())
    .action(
      session.action(async (name: string, opts: OutputOptions) => {
        const items = await listVersions(await session.client(), name);
        emit(opts.output, items, () =>
          items.length === 0
            ? `${name} has no versions.\n`
            : renderTable(['version', 'revision', 'environments'], items.map((v) => [v.name, v.revision, environmentsText(v.environments)])),
        );
      }),
    );
}
