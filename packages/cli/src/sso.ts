// Single sign-on for the CLI: `apigov login --sso` through the control plane's device authorization grant (the
// person approves a code at their identity provider), and the renewal of that session's short-lived token with its
// single-use refresh token, saved back to the config file (mode 0600).
import type { Whoami } from './api.js';
import { CliError, usageError } from './errors.js';
import { ControlPlaneClient } from './http.js';
import { configPath, loadConfig, saveConfig, type Context } from './config.js';

export interface SsoSession {
  token: string;
  expiresAt: string;
  refreshToken: string;
  refreshExpiresAt: string;
  provider: string;
  user: Whoami & { teams?: Array<{ team: string; role: string }> };
}

interface Provider {
  name: string;
  displayName: string;
}

/** The identity provider to sign in with: the one named, or the only one the control plane has. */
export async function pickProvider(cp: ControlPlaneClient, wanted: string | undefined): Promise<Provider> {
  const items = ((await cp.request('GET', '/v1/auth/providers')).body as { items: Provider[] }).items;
  if (wanted !== undefined) {
    const p = items.find((i) => i.name === wanted);
    if (p === undefined) throw usageError(`no identity provider '${wanted}' at ${cp.baseUrl}; it has ${items.map((i) => i.name).join(', ') || 'none'}`);
    return p;
  }
  if (items.length === 0) throw usageError(`${cp.baseUrl} has no identity provider (kind: IdentityProvider); sign in with --token`);
  if (items.length > 1) throw usageError(`${cp.baseUrl} has several identity providers (${items.map((i) => i.name).join(', ')}): give --provider NAME`);
  return items[0]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the device flow: prints where to approve the code, polls until the person has (or the code expires). */
export async function deviceLogin(cp: ControlPlaneClient, provider: Provider, tell: (line: string) => void, stepUp: { acrValues?: string; maxAge?: number } = {}): Promise<SsoSession> {
  const body = { ...(stepUp.acrValues !== undefined && { acr_values: stepUp.acrValues }), ...(stepUp.maxAge !== undefined && { max_age: stepUp.maxAge }) };
  const start = (await cp.request('POST', `/v1/auth/oidc/${encodeURIComponent(provider.name)}/device`, { body })).body as {
    device_code: string;
    user_code: string;
    verification_uri: string;
    verification_uri_complete?: string;
    expires_in: number;
    interval: number;
  };
  tell(`To sign in with ${provider.displayName}, open ${start.verification_uri_complete ?? start.verification_uri} and confirm the code ${start.user_code}.`);
  let interval = Math.max(1, start.interval) * 1000;
  const deadline = Date.now() + start.expires_in * 1000;
  while (Date.now() < deadline) {
    await sleep(interval);
    const r = await cp.request('POST', `/v1/auth/oidc/${encodeURIComponent(provider.name)}/device/token`, { body: { device_code: start.device_code } });
    if (r.status === 202) {
      if ((r.body as { status?: string }).status === 'slow_down') interval += 5000;
      continue;
    }
    return r.body as SsoSession;
  }
  throw new CliError('APIGOV_ERR_AUTH_SSO', `the code ${start.user_code} expired before it was confirmed; run apigov login --sso again`);
}

/** The context's fields for a single sign-on session. */
export function ssoContext(url: string, s: SsoSession, keys?: Record<string, string>): Context {
  return { url, token: s.token, sso: { provider: s.provider, refreshToken: s.refreshToken, expiresAt: s.expiresAt, refreshExpiresAt: s.refreshExpiresAt }, ...(keys !== undefined && { keys }) };
}

/** renew this long before the token expires */
const EARLY_MS = 30_000;

/**
 * The token to use for a context: its own, or, when its single sign-on token has expired or is about to, a renewed
 * one (the refresh token is single use, so the config file is rewritten at once).
 */
export async function freshToken(env: NodeJS.ProcessEnv, contextName: string, context: Context): Promise<string | undefined> {
  const sso = context.sso;
  if (sso === undefined || Date.parse(sso.expiresAt) - EARLY_MS > Date.now()) return context.token;
  let renewed: SsoSession;
  try {
    renewed = (await new ControlPlaneClient(context.url).request('POST', '/v1/auth/refresh', { body: { refreshToken: sso.refreshToken } })).body as SsoSession;
  } catch (e) {
    if (e instanceof CliError && e.status === 401) throw new CliError('APIGOV_ERR_AUTH_EXPIRED_TOKEN', `your single sign-on session at ${context.url} has ended; run apigov login --sso --url ${context.url}`);
    throw e;
  }
  const path = configPath(env);
  const config = await loadConfig(path);
  config.contexts[contextName] = ssoContext(context.url, renewed, config.contexts[contextName]?.keys ?? context.keys);
  await saveConfig(config, path);
  return renewed.token;
}
