// The counter store behind rate limits and quotas: exact in one process (memory) or cluster-wide (Redis).
// Fixed windows aligned to the epoch, so every gateway agrees on when a window starts.

export interface WindowHit {
  /** whether this request fits in the limit */
  allowed: boolean;
  /** requests counted in the window, this one included */
  count: number;
  limit: number;
  remaining: number;
  /** whole seconds until the window resets (≥ 1) */
  resetSeconds: number;
}

export interface CounterStore {
  readonly kind: 'memory' | 'redis';
  /**
   * Counts one request for `key` in the current window of `windowSeconds` and says whether it is within `limit`.
   * Memory answers synchronously. Redis answers a promise that rejects with CounterUnavailableError when the
   * server does not answer within its timeout; the calling policy applies its failMode.
   */
  hit(key: string, limit: number, windowSeconds: number): WindowHit | Promise<WindowHit>;
  close(): Promise<void>;
}

export class CounterUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CounterUnavailableError';
  }
}
