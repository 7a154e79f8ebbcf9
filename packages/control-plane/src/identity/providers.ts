// The identity providers the control plane signs people in with: each `kind: IdentityProvider` resolved to an
// openid-client Configuration from its issuer's discovery document (cached; refreshed when the resource changes),
// with its client secret read from the environment or a file, and an insecure set-up refused.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as oidc from 'openid-client';
import { ApigovError, canonicalJson, isSecureIssuer, type IdentityProviderSpec } from '@apigov/model';
import type { Store } from '@apigov/store';

export interface ResolvedProvider {
  name: string;
  spec: IdentityProviderSpec;
  config: oidc.Configuration;
  /** the IdP offers the device authorization grant (the CLI's sign-in) */
  deviceFlow: boolean;
  /** the IdP ends its own session on sign-out (RP-initiated logout) */
  endSession: boolean;
}

const CACHE_MS = 5 * 60_000;

function readSecret(name: string, spec: IdentityProviderSpec): string | undefined {
  const ref = spec.clientSecret;
  if (ref === undefined) return undefined;
  if ('fromEnv' in ref) {
    const v = process.env[ref.fromEnv];
    if (v === undefined || v === '') throw new ApigovError('APIGOV_ERR_AUTH_SSO_CONFIG', `IdentityProvider ${name}: the client secret's environment variable ${ref.fromEnv} is not set`);
    return v;
  }
  try {
    return readFileSync(ref.fromFile, 'utf8').trim();
  } catch {
    throw new ApigovError('APIGOV_ERR_AUTH_SSO_CONFIG', `IdentityProvider ${name}: the client secret file ${ref.fromFile} cannot be read`);
  }
}

export class IdentityProviders {
  private readonly cache = new Map<string, { key: string; at: number; resolved: Promise<ResolvedProvider> }>();

  constructor(private readonly store: Pick<Store, 'get' | 'list'>) {}

  /** Every IdentityProvider: name and display name (what the portal offers as sign-in buttons). */
  async list(): Promise<Array<{ name: string; displayName: string; issuer: string }>> {
    return (await this.store.list('IdentityProvider', { limit: 100 })).flatMap((s) =>
      s.resource.kind === 'IdentityProvider' ? [{ name: s.resource.metadata.name, displayName: s.resource.spec.displayName ?? s.resource.metadata.name, issuer: s.resource.spec.issuer }] : [],
    );
  }

  async spec(name: string): Promise<IdentityProviderSpec> {
    const stored = await this.store.get('IdentityProvider', name);
    if (stored?.resource.kind !== 'IdentityProvider') throw new ApigovError('APIGOV_ERR_RESOURCE_NOT_FOUND', `IdentityProvider ${name} not found`);
    return stored.resource.spec;
  }

  async resolve(name: string): Promise<ResolvedProvider> {
    const spec = await this.spec(name);
    const key = createHash('sha256').update(canonicalJson(spec)).digest('hex');
    const hit = this.cache.get(name);
    if (hit && hit.key === key && Date.now() - hit.at < CACHE_MS) return hit.resolved;
    const resolved = this.discover(name, spec);
    this.cache.set(name, { key, at: Date.now(), resolved });
    resolved.catch(() => this.cache.delete(name));
    return resolved;
  }

  private async discover(name: string, spec: IdentityProviderSpec): Promise<ResolvedProvider> {
    // the resource schema already holds this; a stored resource from before the rule is refused here too
    if (!isSecureIssuer(spec.issuer)) throw new ApigovError('APIGOV_ERR_AUTH_SSO_CONFIG', `IdentityProvider ${name}: the issuer must be https (http only on a loopback address)`);
    const secret = readSecret(name, spec);
    const insecure = new URL(spec.issuer).protocol === 'http:';
    let config: oidc.Configuration;
    try {
      config = await oidc.discovery(new URL(spec.issuer), spec.clientId, secret === undefined ? { token_endpoint_auth_method: 'none' } : undefined, secret === undefined ? oidc.None() : oidc.ClientSecretPost(secret), {
        ...(insecure && { execute: [oidc.allowInsecureRequests] }),
        timeout: 10,
      });
    } catch (e) {
      throw new ApigovError('APIGOV_ERR_AUTH_SSO_CONFIG', `IdentityProvider ${name}: discovery at ${spec.issuer} failed: ${(e as Error).message}`);
    }
    const meta = config.serverMetadata();
    if (!(meta.code_challenge_methods_supported ?? []).includes('S256')) {
      throw new ApigovError('APIGOV_ERR_AUTH_SSO_CONFIG', `IdentityProvider ${name}: ${spec.issuer} does not offer PKCE with S256 (code_challenge_methods_supported); apigov signs in only with PKCE`);
    }
    return { name, spec, config, deviceFlow: meta.device_authorization_endpoint !== undefined, endSession: meta.end_session_endpoint !== undefined };
  }
}
