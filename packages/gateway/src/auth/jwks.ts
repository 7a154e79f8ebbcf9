// Where the JWT policy gets an issuer's public keys: a remote JWKS (one cache per jwksUri for the whole
// process, so snapshot swaps and routes sharing an issuer never refetch) or inline keys from the snapshot.
//
// Key selection (kid, kty, alg, use) is jose's createLocalJWKSet. Fetching is ours rather than
// jose's createRemoteJWKSet, for two behaviours that one does not have:
//  - stale-if-error: keys stay in use when a refresh fails (an identity provider outage must not turn
//    into a gateway outage); refreshes after `refreshMs` happen in the background, never on a request;
//  - the unknown-`kid` cooldown counts fetch *attempts*, not successes, so with the provider down a
//    stream of tokens naming unknown kids causes at most one fetch per cooldown, not one per request.
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

export interface JwksTimings {
  /** age after which keys are refreshed in the background (they stay in use meanwhile) */
  refreshMs: number;
  /** least time between two fetches caused by unknown kids or failed refreshes */
  cooldownMs: number;
  /** while an issuer has no keys at all, least time between two fetch attempts */
  emptyRetryMs: number;
  /** per fetch */
  timeoutMs: number;
}

export const JWKS_TIMINGS: Readonly<JwksTimings> = Object.freeze({ refreshMs: 10 * 60_000, cooldownMs: 10_000, emptyRetryMs: 1_000, timeoutMs: 2_000 });

/** The issuer's keys could not be fetched and none are cached: not the client's fault (503). */
export class JwksUnavailableError extends Error {
  constructor(uri: string, options?: { cause?: unknown }) {
    super(`the JWKS at ${uri} could not be fetched`, options);
    this.name = 'JwksUnavailableError';
  }
}

export interface KeySource {
  readonly getKey: JWTVerifyGetKey;
  /** starts a first fetch if none was made yet (called at compile time so the first request finds keys) */
  prefetch(): void;
}

export interface RemoteJwksStatus {
  uri: string;
  /** Date.now() of the last successful fetch, 0 if none */
  loadedAt: number;
  fetches: number;
  failures: number;
  lastError: string | undefined;
  keys: number;
}

class RemoteJwks implements KeySource {
  private local: ReturnType<typeof createLocalJWKSet> | undefined;
  private keyCount = 0;
  private loadedAt = 0;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<void> | undefined;
  private lastError: unknown;
  private fetches = 0;
  private failures = 0;

  constructor(
    readonly uri: string,
    private readonly timings: JwksTimings,
  ) {}

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const now = Date.now();
    let local = this.local;
    if (local === undefined) {
      if (now - this.lastAttemptAt < this.timings.emptyRetryMs && this.pending === undefined) throw new JwksUnavailableError(this.uri, { cause: this.lastError });
      try {
        await this.refresh();
      } catch (cause) {
        throw new JwksUnavailableError(this.uri, { cause });
      }
      local = this.local!;
    } else if (now - this.loadedAt >= this.timings.refreshMs && now - this.lastAttemptAt >= this.timings.cooldownMs) {
      this.refresh().catch(() => {}); // background; the current keys answer this request
    }
    try {
      return await local(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      // an unknown kid: maybe the issuer rotated. Refetch once per cooldown (or join a fetch in flight).
      if (this.pending === undefined && Date.now() - this.lastAttemptAt < this.timings.cooldownMs) throw err;
      try {
        await this.refresh();
      } catch {
        throw err;
      }
      return this.local!(header, token);
    }
  };

  prefetch(): void {
    if (this.local === undefined && this.pending === undefined) this.refresh().catch(() => {});
  }

  status(): RemoteJwksStatus {
    return {
      uri: this.uri,
      loadedAt: this.loadedAt,
      fetches: this.fetches,
      failures: this.failures,
      lastError: this.lastError === undefined ? undefined : String((this.lastError as Error)?.message ?? this.lastError),
      keys: this.keyCount,
    };
  }

  /** one fetch at a time; concurrent callers share it */
  private refresh(): Promise<void> {
    if (this.pending !== undefined) return this.pending;
    this.lastAttemptAt = Date.now();
    this.fetches++;
    const p = this.fetchOnce().then(
      ({ jwks, local }) => {
        this.local = local;
        this.keyCount = jwks.keys.length;
        this.loadedAt = Date.now();
        this.lastError = undefined;
      },
      (err: unknown) => {
        this.failures++;
        this.lastError = err;
        throw err;
      },
    );
    const pending = p.finally(() => {
      this.pending = undefined; // only one fetch is ever in flight, and it is this one
    });
    // nobody may be awaiting a background refresh: keep its rejection from becoming an unhandled one
    pending.catch(() => {});
    this.pending = pending;
    return pending;
  }

  private async fetchOnce(): Promise<{ jwks: JSONWebKeySet; local: ReturnType<typeof createLocalJWKSet> }> {
    const res = await fetch(this.uri, {
      headers: { accept: 'application/jwk-set+json, application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(this.timings.timeoutMs),
    });
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`JWKS answered HTTP ${res.status}`);
    }
    const jwks = (await res.json()) as JSONWebKeySet;
    if (jwks === null || typeof jwks !== 'object' || !Array.isArray(jwks.keys)) throw new Error('JWKS response is not a JSON Web Key Set');
    return { jwks, local: createLocalJWKSet(jwks) };
  }
}

const remotes = new Map<string, RemoteJwks>();

/** The process-wide key source for a JWKS URL (normalised), created on first use. */
export function remoteKeySource(jwksUri: string, timings: JwksTimings = JWKS_TIMINGS): KeySource {
  const uri = new URL(jwksUri).href;
  let source = remotes.get(uri);
  if (source === undefined) {
    source = new RemoteJwks(uri, timings);
    remotes.set(uri, source);
  }
  return source;
}

/** Inline keys from the snapshot. Throws (and so rejects the snapshot) when they are not a valid key set. */
export function localKeySource(keys: ReadonlyArray<Record<string, unknown>>): KeySource {
  const getKey = createLocalJWKSet({ keys: keys as JSONWebKeySet['keys'] });
  return { getKey, prefetch() {} };
}

/** For readiness/reports and tests: what each remote key set has been doing. */
export function remoteJwksStatus(): RemoteJwksStatus[] {
  return [...remotes.values()].map((r) => r.status());
}
