// `apigov publish|deprecate|retire`: moves one version of an API through its lifecycle in one or every
// environment (POST /v1/apis/{name}/versions/{version}/{action}); publish shows a governance refusal's findings.
import type { Command } from 'commander';
import { majorOfKey, VERSION_KEY_PATTERN } from '@apigov/model';
import { changeLifecycle, getResource, type Finding, type ResourceDocument } from '../api.js';
import { CliError, usageError } from '../errors.js';
import { findingsTable } from '../findings.js';
import { nameOption, outputOption, urlOption, versionOption, type OutputOptions } from '../options.js';
import { emit, renderData, writeOut } from '../output.js';
import { withProgress } from '../progress.js';
import type { ControlPlaneClient } from '../http.js';
import type { Session } from '../session.js';

interface VersionEnvironment {
  state?: string;
  upstream?: string;
  routePrefix?: string;
  sunset?: string;
  successor?: string;
}

interface ApiVersionView {
  name: string;
  environments?: Record<string, VersionEnvironment>;
}

function versionsOf(api: ResourceDocument): ApiVersionView[] {
  const versions = api.spec?.versions;
  return Array.isArray(versions) ? (versions as ApiVersionView[]) : [];
}

function gatewayUrl(api: ResourceDocument, version: string, env: string): string | undefined {
  const urls = api.status?.gatewayUrls as Record<string, Record<string, string> | undefined> | undefined;
  return urls?.[version]?.[env];
}

/** The highest version key of an API (what `publish` uses without --version). */
async function latestVersion(cp: ControlPlaneClient, api: string): Promise<string> {
  const keys = versionsOf(await getResource(cp, 'apis', api))
    .map((v) => v.name)
    .filter((k) => VERSION_KEY_PATTERN.test(k));
  if (keys.length === 0) throw usageError(`API ${api} has no versions; register one first`);
  return keys.reduce((a, b) => (majorOfKey(b) > majorOfKey(a) ? b : a));
}

function environmentsIn(api: ResourceDocument, version: string, state: string): string[] {
  const v = versionsOf(api).find((x) => x.name === version);
  return Object.entries(v?.environments ?? {})
    .filter(([, e]) => e.state === state)
    .map(([env]) => env);
}

function sunsetDate(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw usageError(`--sunset must be a date (YYYY-MM-DD) or an RFC 3339 timestamp, got '${value}'`);
  }
  return value;
}

export function registerLifecycleCommands(program: Command, session: Session): void {
  program
    .command('publish')
    .description("publish a version of an API to an environment (runs that environment's governance gate)")
    .argument('<name>', 'API name')
    .requiredOption('--env <environment>', 'environment to publish to', nameOption)
    .option('--version <version>', 'version (default: the latest version of the API)', versionOption)
    .option('--upstream <url>', 'upstream URL for this environment', urlOption)
    .option('--route-prefix <path>', 'gateway route prefix (default /{name}/{version})')
    .addOption(outputOption())
    .action(
      session.action(async (name: string, opts: OutputOptions & { env: string; version?: string; upstream?: string; routePrefix?: string }) => {
        const cp = await session.client();
        const version = opts.version ?? (await latestVersion(cp, name));
        let api: ResourceDocument;
        try {
          api = await withProgress(
            `publishing ${name} ${version} to ${opts.env}`,
            changeLifecycle(cp, name, version, 'publish', { environment: opts.env, upstream: opts.upstream, routePrefix: opts.routePrefix }),
          );
        } catch (e) {
          const findings = e instanceof CliError ? e.extensions.findings : undefined;
          if (Array.isArray(findings) && findings.length > 0) {
            writeOut(opts.output === 'table' ? findingsTable(findings as Finding[]) : renderData(opts.output, findings));
          }
          throw e;
        }
        // a production publish held for a platform admin's approval (AccessPolicy): filed, not done
        const filed = (api as unknown as { publishRequest?: { metadata: { name: string } }; detail?: string }).publishRequest;
        if (filed !== undefined) {
          emit(opts.output, api, () => `${(api as unknown as { detail: string }).detail}.\n`);
          return;
        }
        emit(opts.output, api, () => {
          const env = versionsOf(api).find((v) => v.name === version)?.environments?.[opts.env] ?? {};
          const url = gatewayUrl(api, version, opts.env);
          const lines = [`Published ${name} ${version} to ${opts.env} (state ${env.state ?? 'unknown'}).`];
          if (env.upstream !== undefined) lines.push(`  upstream:     ${env.upstream}`);
          if (env.routePrefix !== undefined) lines.push(`  route prefix: ${env.routePrefix}`);
          if (url !== undefined) lines.push(`  gateway URL:  ${url}`);
          return lines.join('\n') + '\n';
        });
      }),
    );

  program
    .command('deprecate')
    .description('deprecate a version (Deprecation/Sunset headers), in one environment or everywhere it is published')
    .argument('<name>', 'API name')
    .requiredOption('--version <version>', 'version to deprecate', versionOption)
    .requiredOption('--sunset <date>', 'when it stops answering (YYYY-MM-DD or RFC 3339)')
    .option('--successor <version>', 'the version that replaces it', versionOption)
    .option('--env <environment>', 'only this environment (default: every environment where it is published)', nameOption)
    .addOption(outputOption())
    .action(
      session.action(async (name: string, opts: OutputOptions & { version: string; sunset: string; successor?: string; env?: string }) => {
        const sunset = sunsetDate(opts.sunset);
        const api = await changeLifecycle(await session.client(), name, opts.version, 'deprecate', {
          environment: opts.env,
          sunset,
          successor: opts.successor,
        });
        emit(opts.output, api, () => {
          const envs = opts.env === undefined ? environmentsIn(api, opts.version, 'deprecated') : [opts.env];
          const extra = [`sunset ${sunset}`, opts.successor === undefined ? undefined : `successor ${opts.successor}`].filter(Boolean).join(', ');
          return `Deprecated ${name} ${opts.version} in ${envs.length > 0 ? envs.join(', ') : 'no environment'} (${extra}).\n`;
        });
      }),
    );

  program
    .command('retire')
    .description('retire a version (the gateway answers 410), in one environment or everywhere it is served')
    .argument('<name>', 'API name')
    .requiredOption('--version <version>', 'version to retire', versionOption)
    .option('--env <environment>', 'only this environment (default: every environment where it is published or deprecated)', nameOption)
    .addOption(outputOption())
    .action(
      session.action(async (name: string, opts: OutputOptions & { version: string; env?: string }) => {
        const api = await changeLifecycle(await session.client(), name, opts.version, 'retire', { environment: opts.env });
        emit(opts.output, api, () => {
          const envs = opts.env === undefined ? environmentsIn(api, opts.version, 'retired') : [opts.env];
          return `Retired ${name} ${opts.version} in ${envs.length > 0 ? envs.join(', ') : 'no environment'}.\n`;
        });
      }),
    );
}
