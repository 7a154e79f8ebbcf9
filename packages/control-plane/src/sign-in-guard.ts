// Failed sign-ins, counted and audited: every refused credential (an unknown, malformed or expired token) is an
// audit event (origin address, method, result; never the token), and an address or a user with too many failures
// in a window is locked out for a while (429 with Retry-After), checked before any token is looked up. Counts are
// per control-plane process; audit events are written in batches so a flood costs one transaction per batch.
import { ApigovError } from '@apigov/model';
import type { Store } from '@apigov/store';

export interface SignInLimits {
  /** failures allowed per address (and per user) within the window */
  maxFailures: number;
  windowSeconds: number;
  /** how long an address or user stays locked out once over the limit */
  lockoutSeconds: number;
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = { maxFailures: 20, windowSeconds: 60, lockoutSeconds: 300 };

interface Counter {
  /** failure times within the window (ms) */
  failures: number[];
  lockedUntil: number;
}

export interface FailedSignIn {
  address: string;
  /** the user a known but refused token belongs to (an expired one) */
  user?: string;
  /** a bearer token, a single sign-on at the IdP (portal or CLI), or a CLI refresh */
  method: 'bearer' | 'oidc' | 'refresh';
  result: 'invalid' | 'expired' | 'malformed' | 'throttled' | 'refused';
  requestId: string;
}

const MAX_TRACKED = 100_000;
const FLUSH_MS = 200;

export class SignInGuard {
  private readonly byAddress = new Map<string, Counter>();
  private readonly byUser = new Map<string, Counter>();
  private queue: FailedSignIn[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    readonly limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws 429 when the address is locked out; called before any credential is checked. */
  assertAllowed(address: string, requestId: string): void {
    const c = this.byAddress.get(address);
    const now = this.now();
    if (c === undefined || c.lockedUntil <= now) return;
    this.record({ address, method: 'bearer', result: 'throttled', requestId });
    throw throttled(Math.ceil((c.lockedUntil - now) / 1000));
  }

  /** Counts a refused credential; throws 429 instead when this failure crosses the limit. */
  failed(failure: Omit<FailedSignIn, 'method'> & { method?: FailedSignIn['method'] }): void {
    this.record({ ...failure, method: failure.method ?? 'bearer' });
    const now = this.now();
    const overAddress = this.count(this.byAddress, failure.address, now);
    const overUser = failure.user === undefined ? false : this.count(this.byUser, failure.user, now);
    if (overAddress || overUser) throw throttled(this.limits.lockoutSeconds);
  }

  /** A user locked out (by failures from any address) signs in with nothing until the lockout ends. */
  assertUserAllowed(user: string, address: string, requestId: string): void {
    const c = this.byUser.get(user);
    const now = this.now();
    if (c === undefined || c.lockedUntil <= now) return;
    this.record({ address, user, method: 'bearer', result: 'throttled', requestId });
    throw throttled(Math.ceil((c.lockedUntil - now) / 1000));
  }

  /** true when this failure puts the key over the limit (it is then locked out) */
  private count(map: Map<string, Counter>, key: string, now: number): boolean {
    let c = map.get(key);
    if (c === undefined) {
      if (map.size >= MAX_TRACKED) this.sweep(map, now);
      c = { failures: [], lockedUntil: 0 };
      map.set(key, c);
    }
    const from = now - this.limits.windowSeconds * 1000;
    c.failures = c.failures.filter((t) => t > from);
    c.failures.push(now);
    if (c.failures.length > this.limits.maxFailures) {
      c.lockedUntil = now + this.limits.lockoutSeconds * 1000;
      c.failures = [];
      return true;
    }
    return false;
  }

  private sweep(map: Map<string, Counter>, now: number): void {
    const from = now - this.limits.windowSeconds * 1000;
    for (const [k, c] of map) if (c.lockedUntil <= now && c.failures.every((t) => t <= from)) map.delete(k);
  }

  private record(failure: FailedSignIn): void {
    this.queue.push(failure);
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes the queued failures as audit events, in one transaction. */
  async flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.flushing !== undefined) await this.flushing;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    this.flushing = (async () => {
      try {
        await this.store.transaction(async (tx) => {
          for (const f of batch) {
            await tx.audit({
              actor: f.user ?? 'anonymous',
              action: f.result === 'throttled' ? 'auth.throttled' : 'auth.failed',
              kind: 'SignIn',
              name: f.address,
              before: null,
              after: { address: f.address, method: f.method, result: f.result, ...(f.user !== undefined && { user: f.user }) },
              requestId: f.requestId,
            });
          }
        });
      } catch (e) {
        process.emitWarning(`apigov: could not audit ${batch.length} failed sign-ins: ${(e as Error).message}`);
      } finally {
        this.flushing = undefined;
      }
    })();
    await this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
  }
}

function throttled(retryAfterSeconds: number): ApigovError {
  return new ApigovError('APIGOV_ERR_AUTH_THROTTLED', `too many failed sign-ins from this address or for this user; try again in ${retryAfterSeconds} s`, {
    extensions: { retryAfter: retryAfterSeconds },
  });
}
