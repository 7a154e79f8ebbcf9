// `apigov call`: one request to an API through its gateway, as an application would send it: the
// gateway URL of the version and environment comes from the control plane (GET /v1/apis/{name}),
// the API key from --key or the keys remembered by `apigov keys create|rotate`.
import { InvalidArgumentError, type Command } from 'commander';
import { isServed, majorOfKey, type LifecycleState } from '@apigov/model';
import { getResource, type ResourceDocument } from '../api.js';
import { openKeyStore, rememberedKeys } from '../config.js';
import { CliError, usageError } from '../errors.js';
import { readLocalFile } from '../files.js';
import { problemError } from '../http.js';
import { collect, nameOption, outputOption, versionOption, type OutputOptions } from '../options.js';
import { emit } from '../output.js';
import type { Session } from '../session.js';

interface CallOptions extends OutputOptions {
  app?: string;
  env: string;
  version?: string;
  request?: string;
  data?: string;
  header?: string[];
  key?: string;
  include?: boolean;
}

const API_KEY_HEADER = 'x-api-key';
const REQUEST_TIMEOUT_MS = 5 * 60_000;

function methodOption(value: string): string {
  if (!/^[A-Za-z]+$/.test(value)) throw new InvalidArgumentError('must be an HTTP method such as GET, POST, PUT, PATCH or DELETE.');
  return value.toUpperCase();
}

function headerOption(value: string, previous: string[] | undefined): string[] {
  const colon = value.indexOf(':');
  if (colon < 1 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value.slice(0, colon).trim())) throw new InvalidArgumentError("must be 'Name: value'.");
  return collect(value, previous);
}

function parseHeaders(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

interface VersionView {
  name: string;
  environments?: Record<string, { state?: string }>;
}

/** The gateway URL of `version` (default: the newest served) of `api` in `env`. */
function gatewayBase(api: ResourceDocument, env: string, asked: string | undefined): { version: string; url: string } {
  const name = api.metadata.name;
  const versions = Array.isArray(api.spec?.versions) ? (api.spec.versions as VersionView[]) : [];
  let version = asked;
  if (version === undefined) {
    const served = versions.filter((v) => {
      const state = v.environments?.[env]?.state;
      return state !== undefined && isServed(state as LifecycleState);
    });
    if (served.length === 0) throw new CliError('APIGOV_ERR_RESOURCE_NOT_FOUND', `${name} is not published in ${env}; \`apigov describe ${name}\` shows where it is served`);
    version = served.map((v) => v.name).reduce((a, b) => (majorOfKey(b) > majorOfKey(a) ? b : a));
  } else if (!versions.some((v) => v.name === version)) {
    throw new CliError('APIGOV_ERR_RESOURCE_NOT_FOUND', `${name} has no version ${version}`);
  }
  const urls = api.status?.gatewayUrls as Record<string, Record<string, string> | undefined> | undefined;
  const url = urls?.[version]?.[env];
  if (url === undefined) {
    throw new CliError('APIGOV_ERR_UNAVAILABLE', `${name} ${version} has no gateway URL in ${env}: is it published there, and does environment ${env} have a gateway (\`apigov envs list\`)?`);
  }
  return { version, url };
}

/** The API key to send: --key, else the one remembered for --app, else the only one remembered. */
async function resolveKey(session: Session, opts: CallOptions): Promise<string> {
  if (opts.key !== undefined) return opts.key;
  const store = await openKeyStore(await session.target(), session.env);
  const keys = rememberedKeys(store);
  const where = store.context === undefined ? '' : ` in context '${store.context}'`;
  if (opts.app !== undefined) {
    const key = keys[opts.app];
    if (key === undefined) throw usageError(`no API key remembered for ${opts.app}${where}: run \`apigov keys create --app ${opts.app}\` (or pass --key KEY)`);
    return key;
  }
  const apps = Object.keys(keys).sort();
  if (apps.length === 1) return keys[apps[0]];
  if (apps.length === 0) throw usageError(`no API key known${where}: run \`apigov keys create --app APP\` first (or pass --key KEY)`);
  throw usageError(`API keys are remembered for several applications (${apps.join(', ')}): choose one with --app`);
}

function unreachable(url: string, e: unknown): CliError {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const why = err.name === 'TimeoutError' ? 'timed out' : (err.cause?.code ?? err.cause?.message ?? err.message ?? 'unknown error');
  return new CliError('APIGOV_ERR_UNAVAILABLE', `cannot reach the gateway at ${url} (${why})`, { cause: e });
}

export function registerCallCommand(program: Command, session: Session): void {
  program
    .command('call')
    .description("send one request to an API through its environment's gateway with an application's API key")
    .argument('<api>', 'API name')
    .argument('<path>', 'path under the API, e.g. /payments?limit=5')
    .option('--app <application>', 'send the key remembered for this application', nameOption)
    .option('--env <environment>', 'environment', nameOption, 'dev')
    .option('--version <version>', 'API version (default: the newest served in that environment)', versionOption)
    .option('-X, --request <method>', 'HTTP method (default GET, or POST with -d)', methodOption)
    .option('-d, --data <body>', 'JSON request body, or @FILE to read it from a file (sets content-type: application/json)')
    .option('-H, --header <header>', "extra request header 'Name: value' (repeatable)", headerOption)
    .option('--key <key>', 'API key to send (default: the one remembered by `apigov keys create`)')
    .option('-i, --include', 'also print the response headers')
    .addOption(outputOption())
    .addHelpText(
      'after',
      '\nThe key goes in the x-api-key header. With -H for x-api-key or Authorization and neither --key nor --app,\n' +
        'no remembered key is added. Exit codes: 0 for 2xx/3xx, 1 for 4xx/5xx (the problem+json body is printed), 2 usage error.',
    )
    .action(
      session.action(async (api: string, path: string, opts: CallOptions) => {
        if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) throw usageError(`PATH is a path under the API (e.g. /payments), not a URL: ${path}`);
        const userHeaders = parseHeaders(opts.header ?? []);
        const ownCredential = userHeaders[API_KEY_HEADER] !== undefined || userHeaders.authorization !== undefined;
        const key = ownCredential && opts.key === undefined && opts.app === undefined ? undefined : await resolveKey(session, opts);
        let body: string | undefined;
        if (opts.data !== undefined) body = opts.data.startsWith('@') ? await readLocalFile(opts.data.slice(1)) : opts.data;
        const method = opts.request ?? (body === undefined ? 'GET' : 'POST');
        if (body !== undefined && (method === 'GET' || method === 'HEAD')) throw usageError(`-d sends a body, which ${method} requests cannot carry: use -X POST, PUT or PATCH`);

        const target = gatewayBase(await getResource(await session.client(), 'apis', api), opts.env, opts.version);
        const url = target.url.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`);
        const headers: Record<string, string> = { accept: 'application/json, */*;q=0.5' };
        if (body !== undefined) headers['content-type'] = 'application/json';
        if (key !== undefined) headers[API_KEY_HEADER] = key;
        Object.assign(headers, userHeaders);

        let res: Response;
        let text: string;
        try {
          res = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
          text = await res.text();
        } catch (e) {
          throw unreachable(url, e);
        }
        const type = res.headers.get('content-type') ?? '';
        let parsed: unknown = text === '' ? null : text;
        let isJson = false;
        if (/[/+]json\b/.test(type) && text !== '') {
          try {
            parsed = JSON.parse(text);
            isJson = true;
          } catch {
            // shown as text
          }
        }
        const responseHeaders = Object.fromEntries(res.headers);
        emit(opts.output, { status: res.status, headers: responseHeaders, body: parsed }, () => {
          const lines = [`HTTP ${res.status} ${res.statusText}`.trimEnd()];
          if (opts.include) lines.push(...Object.entries(responseHeaders).map(([k, v]) => `${k}: ${v}`), '');
          let out = lines.join('\n') + '\n';
          if (text !== '') out += isJson ? JSON.stringify(parsed, null, 2) + '\n' : text.endsWith('\n') ? text : `${text}\n`;
          return out;
        });
        if (res.status >= 400) {
          const answered = `${method} ${url} answered ${res.status} ${res.statusText}`.trimEnd();
          if (!isJson) throw new CliError(problemError(res.status, res.statusText, undefined).code, answered, { status: res.status });
          const problem = problemError(res.status, res.statusText, parsed);
          throw new CliError(problem.code, `${answered}: ${problem.message}`, { status: res.status, errors: problem.errors });
        }
      }),
    );
}
