// Cluster-wide fixed-window counters in Redis: every gateway sharing the server sees one count. One Lua script
// does INCR and, on the window's first hit, PEXPIRE, atomically (ioredis defineCommand: EVALSHA, EVAL on NOSCRIPT).
// Keys are `keyPrefix + key + ':' + windowStart` (epoch ms, start = floor(now / windowMs) * windowMs), and live until
// the window ends plus one second of clock-skew slack. Every call is bounded by `timeoutMs`: the promise rejects with
// CounterUnavailableError on timeout, refused connection or a server that went away, and never hangs. There is no
// offline queue and no per-request retry; the connection itself is re-established in the background. Auto-pipelining
// batches the hits of one tick into one write (about 20% less CPU per hit under concurrency, some tens of µs more
// latency when idle).
import { Redis } from 'ioredis';
import { CounterUnavailableError, type CounterStore, type WindowHit } from './types.js';

export interface RedisCounterStoreOptions {
  /** redis://[:password@]host:port[/db] */
  url: string;
  /** upper bound of one hit, connection wait included; default 50 ms */
  timeoutMs?: number;
  /** default `apigov:rl:` */
  keyPrefix?: string;
  /** clock in epoch milliseconds (tests); default Date.now */
  now?: () => number;
}

/** keys outlive their window by this much so a gateway whose clock is slightly behind still finds the count */
const SKEW_SLACK_MS = 1000;

const HIT_SCRIPT = `
local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return c`;

type HitClient = Redis & { apigovHit(key: string, ttlMs: number): Promise<number> };

export class RedisCounterStore implements CounterStore {
  readonly kind = 'redis' as const;
  readonly keyPrefix: string;
  readonly timeoutMs: number;
  private readonly client: HitClient;
  private readonly now: () => number;
  private everReady = false;
  private connecting: Promise<void> | undefined;
  private lastError: Error | undefined;
  private closed = false;

  constructor(options: RedisCounterStoreOptions) {
    this.timeoutMs = options.timeoutMs ?? 50;
    this.keyPrefix = options.keyPrefix ?? 'apigov:rl:';
    this.now = options.now ?? Date.now;
    const client = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      enableAutoPipelining: true,
      connectTimeout: Math.max(1000, this.timeoutMs * 4),
      // reconnect forever, quickly at first, then once a second
      retryStrategy: (times) => Math.min(times * 50, 1000),
    }) as HitClient;
    client.defineCommand('apigovHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    client.on('error', (err: Error) => {
      this.lastError = err;
    });
    client.on('ready', () => {
      this.everReady = true;
      this.lastError = undefined;
    });
    this.client = client;
  }

  hit(key: string, limit: number, windowSeconds: number): Promise<WindowHit> {
    const windowMs = windowSeconds * 1000;
    const now = this.now();
    const start = now - (now % windowMs);
    const end = start + windowMs;
    const redisKey = this.keyPrefix + key + ':' + start;
    const ttl = end - now + SKEW_SLACK_MS;
    return new Promise<WindowHit>((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        reject(new CounterUnavailableError(`redis did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const fail = (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof CounterUnavailableError ? err : new CounterUnavailableError(`redis unavailable: ${(err as Error)?.message ?? String(err)}`, { cause: err }));
      };
      const send = () => {
        if (timedOut) return; // too late to matter: do not count it
        this.client.apigovHit(redisKey, ttl).then((count) => {
          clearTimeout(timer);
          const c = Number(count);
          const reset = Math.ceil((end - this.now()) / 1000);
          resolve({ allowed: c <= limit, count: c, limit, remaining: c < limit ? limit - c : 0, resetSeconds: reset < 1 ? 1 : reset });
        }, fail);
      };
      if (this.client.status === 'ready') send();
      else this.whenReady().then(send, fail);
    });
  }

  /**
   * Connects (first use) and resolves when the connection is ready. While the first connection is being made,
   * callers wait for it (bounded by their timeout); once Redis has been seen failing, callers fail at once
   * instead of each waiting out its timeout, and the client keeps reconnecting in the background.
   */
  connect(): Promise<void> {
    return this.whenReady();
  }

  private whenReady(): Promise<void> {
    if (this.closed) return Promise.reject(new CounterUnavailableError('counter store closed'));
    const status = this.client.status;
    if (status === 'ready') return Promise.resolve();
    if (status !== 'wait' && (this.everReady || this.lastError !== undefined))
      return Promise.reject(new CounterUnavailableError(`redis not connected (${status}${this.lastError ? `: ${this.lastError.message}` : ''})`));
    if (this.connecting === undefined) {
      this.connecting = new Promise<void>((resolve, reject) => {
        const onReady = () => {
          done();
          resolve();
        };
        const onError = (err: Error) => {
          done();
          reject(new CounterUnavailableError(`redis unavailable: ${err.message}`, { cause: err }));
        };
        const done = () => {
          this.client.off('ready', onReady);
          this.client.off('error', onError);
          this.connecting = undefined;
        };
        this.client.once('ready', onReady);
        this.client.once('error', onError);
        if (this.client.status === 'wait') this.client.connect().catch(() => {});
      });
    }
    return this.connecting;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.client.status === 'ready') {
      const timer = new Promise<void>((resolve) => setTimeout(resolve, Math.max(this.timeoutMs, 200)).unref());
      await Promise.race([this.client.quit().then(() => undefined, () => undefined), timer]);
    }
    this.client.disconnect();
  }
}
