// One conformance suite for every CounterStore (memory, Redis), plus helpers the counter and limit tests share:
// reaching the machine's Redis on 127.0.0.1:6379 and running a private redis-server on a free port.
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CounterStore, WindowHit } from '../src/counters/types.js';

export interface StoreFactoryOptions {
  /** the store's clock, epoch ms */
  now: () => number;
}

export interface ConformanceOptions {
  /** two stores from the factory share their counts (Redis: two gateways on one server) */
  shared: boolean;
}

export type StoreFactory = (options: StoreFactoryOptions) => CounterStore | Promise<CounterStore>;

/** Clock for tests: starts at the beginning of the next hour in real time (so Redis TTLs stay sensible). */
export function testClock(): { now: () => number; set(ms: number): void; advance(ms: number): void; readonly base: number } {
  const base = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
  let t = base;
  return {
    now: () => t,
    set: (ms: number) => {
      t = ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
    base,
  };
}

export function uniqueKey(label: string): string {
  return `${label}-${randomBytes(6).toString('hex')}`;
}

export function registerCounterConformance(name: string, factory: StoreFactory, options: ConformanceOptions): void {
  describe(`CounterStore conformance: ${name}`, () => {
    const clock = testClock();
    const opened: CounterStore[] = [];
    let store: CounterStore;
    const open = async () => {
      const s = await factory({ now: clock.now });
      opened.push(s);
      return s;
    };

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      for (const s of opened) await s.close();
    });

    it('counts within a window, with remaining going down', async () => {
      clock.set(clock.base + 1000);
      const key = uniqueKey('count');
      const hits: WindowHit[] = [];
      for (let i = 0; i < 5; i++) hits.push(await store.hit(key, 10, 60));
      expect(hits.map((h) => h.count)).toEqual([1, 2, 3, 4, 5]);
      expect(hits.map((h) => h.remaining)).toEqual([9, 8, 7, 6, 5]);
      expect(hits.every((h) => h.allowed && h.limit === 10)).toBe(true);
    });

    it('resets at the start of the next window, aligned to the epoch', async () => {
      const key = uniqueKey('reset');
      clock.set(clock.base + 59_999); // last millisecond of the minute window starting at base
      expect((await store.hit(key, 2, 60)).count).toBe(1);
      expect((await store.hit(key, 2, 60)).count).toBe(2);
      expect((await store.hit(key, 2, 60)).allowed).toBe(false);
      clock.set(clock.base + 60_000);
      const fresh = await store.hit(key, 2, 60);
      expect(fresh).toMatchObject({ count: 1, allowed: true, remaining: 1, resetSeconds: 60 });
      clock.advance(59_000);
      expect((await store.hit(key, 2, 60)).count).toBe(2);
    });

    it('keeps keys, and window lengths of one key, independent', async () => {
      clock.set(clock.base + 5000);
      const a = uniqueKey('a');
      const b = uniqueKey('b');
      await store.hit(a, 100, 60);
      await store.hit(a, 100, 60);
      expect((await store.hit(b, 100, 60)).count).toBe(1);
      expect((await store.hit(a, 100, 60)).count).toBe(3);
      expect((await store.hit(a, 100, 1)).count).toBe(1);
      expect((await store.hit(a, 100, 86400)).count).toBe(1);
    });

    it('admits exactly the limit of 150 sequential hits', async () => {
      clock.set(clock.base + 2000);
      const key = uniqueKey('seq');
      let allowed = 0;
      let last: WindowHit | undefined;
      for (let i = 0; i < 150; i++) {
        last = await store.hit(key, 100, 60);
        if (last.allowed) allowed++;
        if (i === 99) expect(last).toMatchObject({ allowed: true, remaining: 0, count: 100 });
        if (i === 100) expect(last).toMatchObject({ allowed: false, remaining: 0, count: 101 });
      }
      expect(allowed).toBe(100);
      expect(last).toMatchObject({ allowed: false, count: 150, remaining: 0, limit: 100 });
    });

    it('admits exactly the limit of 150 concurrent hits', async () => {
      clock.set(clock.base + 3000);
      const key = uniqueKey('conc');
      const results = await Promise.all(Array.from({ length: 150 }, () => store.hit(key, 100, 60)));
      expect(results.filter((r) => r.allowed).length).toBe(100);
      expect(new Set(results.map((r) => r.count)).size).toBe(150);
    });

    it('reports resetSeconds between 1 and the window length, rounded up', async () => {
      const key = uniqueKey('resetsec');
      clock.set(clock.base + 250);
      expect((await store.hit(key, 5, 10)).resetSeconds).toBe(10);
      clock.set(clock.base + 9_999);
      expect((await store.hit(key, 5, 10)).resetSeconds).toBe(1);
      clock.set(clock.base + 10_000);
      expect((await store.hit(key, 5, 10)).resetSeconds).toBe(10);
      clock.set(clock.base + 3_600_000 - 1);
      const h = await store.hit(uniqueKey('hour'), 5, 3600);
      expect(h.resetSeconds).toBe(1);
      for (let ms = 0; ms < 1000; ms += 97) {
        clock.set(clock.base + ms);
        const r = await store.hit(key, 1_000_000, 1);
        expect(r.resetSeconds).toBe(1);
      }
    });

    if (options.shared) {
      it('shares one count between two stores (two gateways)', async () => {
        clock.set(clock.base + 4000);
        const other = await open();
        const key = uniqueKey('shared');
        const results = await Promise.all(Array.from({ length: 150 }, (_, i) => (i % 2 === 0 ? store : other).hit(key, 100, 60)));
        expect(results.filter((r) => r.allowed).length).toBe(100);
        expect(Math.max(...results.map((r) => r.count))).toBe(150);
      });
    }
  });
}

// ---- Redis availability and private servers -------------------------------------------------------------------

/** true when something answers PING with +PONG on host:port within `timeoutMs` */
export function redisPing(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => finish(d.toString().startsWith('+PONG')));
  });
}

/**
 * Whether the Redis tests run: the machine's Redis on 127.0.0.1:6379 must answer. On CI (CI=true) an unreachable
 * Redis is a failure, not a skip; elsewhere the tests are skipped with a message.
 */
export async function machineRedis(): Promise<{ available: boolean; mustFail: boolean }> {
  const available = await redisPing(6379);
  const mustFail = !available && process.env.CI === 'true';
  if (!available && !mustFail) console.warn('[apigov gateway tests] Redis on 127.0.0.1:6379 is not reachable: Redis-backed tests are SKIPPED (they fail on CI)');
  return { available, mustFail };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A private redis-server (never the machine's), on a free port, that tests may stop, freeze and restart. */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const server = new PrivateRedis(await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    this.child = child;
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    const deadline = Date.now() + 5000;
    for (;;) {
      const up = await Promise.race([redisPing(this.port, '127.0.0.1', 200), spawnError]);
      if (up) return;
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not start`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** SIGSTOP: the server keeps its socket open but answers nothing (a hung server) */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  /** SIGKILL and wait for the exit: connections drop, new ones are refused */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }
}
