// Verified bearer tokens, remembered so that a client reusing its token (the common case) costs a Map
// lookup instead of a signature verification (~200 µs with WebCrypto). Keyed by the whole token string,
// signature included, so nothing unverified can hit. An entry belongs to one "owner": the effective jwtAuth
// config with one snapshot's auth tables (routes with the same config share it; a new snapshot starts afresh, so bindings
// and teams are always the current ones). It lives until the token expires (plus the clock tolerance) and
// at most MAX_AGE_MS, which bounds how long a key withdrawn from a JWKS keeps working (the JWKS itself is
// refreshed every 10 minutes). Process-wide, at most MAX_ENTRIES tokens; the oldest go first.
import type { Consumer } from '../policy.js';

export const TOKEN_CACHE_MAX_ENTRIES = 10_000;
export const TOKEN_CACHE_MAX_AGE_MS = 60_000;

export interface VerifiedToken {
  readonly consumer: Readonly<Consumer>;
  /** claimsToHeaders result: header → value, or undefined to remove the header */
  readonly headers: ReadonlyArray<readonly [string, string | undefined]>;
  /** epoch ms; the entry is used while Date.now() is below it */
  readonly validUntil: number;
}

/** one per (snapshot's auth tables, effective jwtAuth config) */
export type CacheOwner = { readonly description: string };

interface Entry {
  readonly owner: CacheOwner;
  readonly token: VerifiedToken;
}

const entries = new Map<string, Entry>();
const owners = new WeakMap<object, Map<string, CacheOwner>>();

/** `tables`: the auth tables of the snapshot serving the request (a new snapshot's bindings and teams start afresh) */
export function cacheOwner(tables: object, configKey: string): CacheOwner {
  let perSnapshot = owners.get(tables);
  if (perSnapshot === undefined) owners.set(tables, (perSnapshot = new Map()));
  let owner = perSnapshot.get(configKey);
  if (owner === undefined) perSnapshot.set(configKey, (owner = Object.freeze({ description: configKey })));
  return owner;
}

export function cachedToken(token: string, owner: CacheOwner, now: number): VerifiedToken | undefined {
  const e = entries.get(token);
  if (e === undefined || e.owner !== owner) return undefined;
  if (now >= e.token.validUntil) {
    entries.delete(token);
    return undefined;
  }
  return e.token;
}

export function rememberToken(token: string, owner: CacheOwner, verified: VerifiedToken): void {
  if (entries.size >= TOKEN_CACHE_MAX_ENTRIES && !entries.has(token)) {
    const oldest = entries.keys().next();
    if (!oldest.done) entries.delete(oldest.value);
  }
  entries.delete(token); // re-insert as the newest
  entries.set(token, { owner, token: verified });
}

/** tests */
export function clearTokenCache(): void {
  entries.clear();
}

export function tokenCacheSize(): number {
  return entries.size;
}
