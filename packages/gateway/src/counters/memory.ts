// Exact fixed-window counters in one process. Windows are aligned to the epoch (start = floor(now / windowMs) *
// windowMs), so a memory store and a Redis store agree on when a window starts. `hit` is synchronous and O(1): two
// Map lookups and one small result object. Expired windows are reused in place when their key comes back and are
// swept by an unref'd timer otherwise, so memory stays bounded by the keys active in their current window.
import type { CounterStore, WindowHit } from './types.js';

export interface MemoryCounterStoreOptions {
  /** clock in epoch milliseconds (tests); default Date.now */
  now?: () => number;
  /** how often expired windows are swept; default 5000 ms */
  sweepIntervalMs?: number;
}

interface Slot {
  /** window start, epoch ms */
  start: number;
  count: number;
}

export class MemoryCounterStore implements CounterStore {
  readonly kind = 'memory' as const;
  /** the store's clock (epoch ms) */
  readonly now: () => number;
  /** window length (ms) → key → slot. Keyed by length first so the same key in two window sizes never collides. */
  private readonly windows = new Map<number, Map<string, Slot>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(options: MemoryCounterStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    const every = options.sweepIntervalMs ?? 5000;
    this.timer = setInterval(() => this.sweep(), every);
    this.timer.unref();
  }

  hit(key: string, limit: number, windowSeconds: number): WindowHit {
    return this.hitAt(key, limit, windowSeconds, this.now());
  }

  /**
   * `hit` at a given time (`now` from this store's clock): lets a caller counting one request in several windows
   * read the clock once (the policies' fast path; a clock read costs about as much as the rest of a hit).
   */
  hitAt(key: string, limit: number, windowSeconds: number, now: number): WindowHit {
    const windowMs = windowSeconds * 1000;
    const start = now - (now % windowMs);
    let slots = this.windows.get(windowMs);
    if (slots === undefined) {
      slots = new Map();
      this.windows.set(windowMs, slots);
    }
    let slot = slots.get(key);
    if (slot === undefined) {
      slot = { start, count: 0 };
      slots.set(key, slot);
    } else if (slot.start !== start) {
      slot.start = start;
      slot.count = 0;
    }
    const count = ++slot.count;
    const resetSeconds = Math.ceil((start + windowMs - now) / 1000);
    return { allowed: count <= limit, count, limit, remaining: count < limit ? limit - count : 0, resetSeconds: resetSeconds < 1 ? 1 : resetSeconds };
  }

  /** Drops every window that has ended. Runs on the timer; public for tests and for callers that want it now. */
  sweep(): void {
    const now = this.now();
    for (const [windowMs, slots] of this.windows) {
      const current = now - (now % windowMs);
      for (const [key, slot] of slots) if (slot.start < current) slots.delete(key);
      if (slots.size === 0) this.windows.delete(windowMs);
    }
  }

  /** number of live counters (tests, metrics) */
  get size(): number {
    let n = 0;
    for (const slots of this.windows.values()) n += slots.size;
    return n;
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.windows.clear();
  }
}
