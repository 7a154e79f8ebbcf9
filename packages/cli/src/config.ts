// The CLI's contexts: where the config file lives, reading and writing it (mode 0600), and which
// control plane URL and token a command uses (APIGOV_URL / APIGOV_TOKEN override the current context).
import { mkdir, readFile, rename, writeFile, chmod } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import YAML from 'yaml';
import { CLI_CONFIG, CliError, EXIT_USAGE, usageError } from './errors.js';

export interface Context {
  url: string;
  token?: string;
  /** API keys remembered by `apigov keys create|rotate`, per application, for `apigov call`. */
  keys?: Record<string, string>;
  /** a single sign-on session (`apigov login --sso`): `token` is short-lived and renewed with the refresh token */
  sso?: { provider: string; refreshToken: string; expiresAt: string; refreshExpiresAt?: string };
}

export interface CliConfig {
  current?: string;
  contexts: Record<string, Context>;
}

/** The control plane a command talks to, and where each part came from. */
export interface Target {
  url: string;
  token: string | undefined;
  /** The context in use, if any (env overrides may replace its URL or token). */
  context: string | undefined;
  urlFrom: 'APIGOV_URL' | 'context';
  tokenFrom: 'APIGOV_TOKEN' | 'context' | 'none';
  /** the context's own settings, when its token is the one in use (a single sign-on session renews it) */
  contextSettings?: Context;
}

export const DEFAULT_CONTEXT = 'default';

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.APIGOV_CONFIG) return env.APIGOV_CONFIG;
  const base = env.XDG_CONFIG_HOME ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'apigov', 'config.yaml');
}

function configError(path: string, what: string): CliError {
  return new CliError(CLI_CONFIG, `invalid config file ${path}: ${what}`, { exitCode: EXIT_USAGE });
}

/** Reads the config file; a missing file is an empty config, a malformed one a usage error. */
export async function loadConfig(path: string = configPath()): Promise<CliConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { contexts: {} };
    throw new CliError(CLI_CONFIG, `cannot read config file ${path}: ${(e as Error).message}`, { exitCode: EXIT_USAGE });
  }
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (e) {
    throw configError(path, (e as Error).message);
  }
  if (raw === null || raw === undefined) return { contexts: {} };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw configError(path, 'expected a mapping with current and contexts');
  const obj = raw as Record<string, unknown>;
  const config: CliConfig = { contexts: {} };
  if (obj.current !== undefined && obj.current !== null) {
    if (typeof obj.current !== 'string') throw configError(path, 'current must be a context name');
    config.current = obj.current;
  }
  const contexts = obj.contexts ?? {};
  if (typeof contexts !== 'object' || contexts === null || Array.isArray(contexts)) throw configError(path, 'contexts must be a mapping');
  for (const [name, value] of Object.entries(contexts as Record<string, unknown>)) {
    const ctx = value as Record<string, unknown> | null;
    if (typeof ctx !== 'object' || ctx === null || typeof ctx.url !== 'string') throw configError(path, `contexts.${name}.url must be a URL`);
    if (ctx.token !== undefined && ctx.token !== null && typeof ctx.token !== 'string') throw configError(path, `contexts.${name}.token must be a string`);
    const context: Context = typeof ctx.token === 'string' ? { url: ctx.url, token: ctx.token } : { url: ctx.url };
    if (ctx.keys !== undefined && ctx.keys !== null) {
      if (typeof ctx.keys !== 'object' || Array.isArray(ctx.keys)) throw configError(path, `contexts.${name}.keys must be a mapping of application to API key`);
      const keys: Record<string, string> = {};
      for (const [app, key] of Object.entries(ctx.keys as Record<string, unknown>)) {
        if (typeof key !== 'string') throw configError(path, `contexts.${name}.keys.${app} must be a string`);
        keys[app] = key;
      }
      if (Object.keys(keys).length > 0) context.keys = keys;
    }
    if (ctx.sso !== undefined && ctx.sso !== null) {
      const sso = ctx.sso as Record<string, unknown>;
      if (typeof sso !== 'object' || typeof sso.provider !== 'string' || typeof sso.refreshToken !== 'string' || typeof sso.expiresAt !== 'string') {
        throw configError(path, `contexts.${name}.sso must have provider, refreshToken and expiresAt`);
      }
      context.sso = { provider: sso.provider, refreshToken: sso.refreshToken, expiresAt: sso.expiresAt, ...(typeof sso.refreshExpiresAt === 'string' && { refreshExpiresAt: sso.refreshExpiresAt }) };
    }
    config.contexts[name] = context;
  }
  return config;
}

/** Writes the config file atomically, readable only by its owner (it holds tokens). */
export async function saveConfig(config: CliConfig, path: string = configPath()): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const doc: Record<string, unknown> = {};
  if (config.current !== undefined) doc.current = config.current;
  doc.contexts = config.contexts;
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, YAML.stringify(doc), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** Normalises a control plane URL given by a user: absolute http(s), no trailing slash. */
export function normaliseUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw usageError(`not a URL: ${input}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`not an http(s) URL: ${input}`);
  return url.toString().replace(/\/+$/, '');
}

/** Which control plane and token to use: APIGOV_URL/APIGOV_TOKEN, else the current context (APIGOV_CONTEXT picks another). */
export async function resolveTarget(env: NodeJS.ProcessEnv = process.env): Promise<Target> {
  const path = configPath(env);
  const config = await loadConfig(path);
  const name = env.APIGOV_CONTEXT || config.current;
  const ctx = name === undefined ? undefined : config.contexts[name];
  if (env.APIGOV_CONTEXT && ctx === undefined) throw usageError(`unknown context '${env.APIGOV_CONTEXT}' (APIGOV_CONTEXT); run \`apigov env\` to list contexts`);
  const envUrl = env.APIGOV_URL;
  const envToken = env.APIGOV_TOKEN;
  let url: string;
  let urlFrom: Target['urlFrom'];
  if (envUrl) {
    url = normaliseUrl(envUrl);
    urlFrom = 'APIGOV_URL';
  } else if (ctx !== undefined) {
    url = ctx.url.replace(/\/+$/, '');
    urlFrom = 'context';
  } else {
    throw usageError('no control plane configured: run `apigov login --url URL --token TOKEN` or set APIGOV_URL', CLI_CONFIG);
  }
  const token = envToken ? envToken : ctx?.token;
  const tokenFrom: Target['tokenFrom'] = envToken ? 'APIGOV_TOKEN' : ctx?.token ? 'context' : 'none';
  return { url, token, context: ctx === undefined ? undefined : name, urlFrom, tokenFrom, ...(tokenFrom === 'context' && ctx !== undefined && { contextSettings: ctx }) };
}

/** Where API keys for one control plane are remembered: a context and the config file holding it. */
export interface KeyStore {
  path: string;
  config: CliConfig;
  /** The context that holds the keys (undefined: none yet; `rememberKey` creates one). */
  context: string | undefined;
  url: string;
}

/**
 * The context whose keys belong to the control plane in use: the context in use when its URL is the
 * target's (the usual case), else the first context with that URL (APIGOV_URL pointing elsewhere).
 */
export async function openKeyStore(target: Target, env: NodeJS.ProcessEnv = process.env): Promise<KeyStore> {
  const path = configPath(env);
  const config = await loadConfig(path);
  const sameUrl = (name: string) => config.contexts[name]?.url.replace(/\/+$/, '') === target.url;
  let context: string | undefined;
  if (target.context !== undefined && (target.urlFrom === 'context' || sameUrl(target.context))) context = target.context;
  else context = Object.keys(config.contexts).sort().find(sameUrl);
  return { path, config, context, url: target.url };
}

export function rememberedKeys(store: KeyStore): Record<string, string> {
  return store.context === undefined ? {} : { ...store.config.contexts[store.context]?.keys };
}

/** A context name for a control plane URL that has none yet: `127.0.0.1-4000`. */
function contextNameFor(url: string, taken: Record<string, Context>): string {
  let base = new URL(url).host.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '') || DEFAULT_CONTEXT;
  base = base.slice(0, 56);
  let name = base;
  for (let i = 2; taken[name] !== undefined; i++) name = `${base}-${i}`;
  return name;
}

/**
 * Remembers `key` for `app` in the store's context and saves the config (mode 0600). With no context for
 * this control plane yet (APIGOV_URL alone), one is created for its URL, without a token and not made current.
 * Returns the context used.
 */
export async function rememberKey(store: KeyStore, app: string, key: string): Promise<string> {
  if (store.context === undefined) {
    store.context = contextNameFor(store.url, store.config.contexts);
    store.config.contexts[store.context] = { url: store.url };
  }
  const ctx = store.config.contexts[store.context];
  ctx.keys = { ...ctx.keys, [app]: key };
  await saveConfig(store.config, store.path);
  return store.context;
}

/** Forgets the remembered key of `app` if `matches` says it is the one; true when one was forgotten. */
export async function forgetKey(store: KeyStore, app: string, matches: (key: string) => boolean): Promise<boolean> {
  const ctx = store.context === undefined ? undefined : store.config.contexts[store.context];
  const key = ctx?.keys?.[app];
  if (ctx === undefined || key === undefined || !matches(key)) return false;
  const rest = { ...ctx.keys };
  delete rest[app];
  if (Object.keys(rest).length > 0) ctx.keys = rest;
  else delete ctx.keys;
  await saveConfig(store.config, store.path);
  return true;
}
