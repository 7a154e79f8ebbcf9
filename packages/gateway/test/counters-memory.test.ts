// The memory counter store: the conformance suite, bounded memory, and the cost of one hit on the hot path.
import { describe, expect, it } from 'vitest';
import { MemoryCounterStore } from '../src/counters/memory.js';
import { registerCounterConformance, testClock } from './counters-conformance.js';

registerCounterConformance('memory', ({ now }) => new MemoryCounterStore({ now }), { shared: false });

describe('MemoryCounterStore', () => {
  it('answers synchronously', async () => {
    const store = new MemoryCounterStore();
    const hit = store.hit('k', 1, 1);
    expect(hit).not.toBeInstanceOf(Promise);
    expect(hit.count).toBe(1);
    await store.close();
  });

  it('sweeps ended windows, keeps current ones, and reuses a slot when its key comes back', async () => {
    const clock = testClock();
    const store = new MemoryCounterStore({ now: clock.now });
    for (let i = 0; i < 1000; i++) store.hit(`short-${i}`, 10, 1);
    for (let i = 0; i < 10; i++) store.hit(`long-${i}`, 10, 3600);
    expect(store.size).toBe(1010);
    clock.advance(1000);
    store.sweep();
    expect(store.size).toBe(10);
    expect(store.hit('long-3', 10, 3600).count).toBe(2);
    clock.advance(3_600_000);
    expect(store.hit('long-3', 10, 3600).count).toBe(1); // reused in place
    store.sweep();
    expect(store.size).toBe(1);
    await store.close();
    expect(store.size).toBe(0);
  });

  it('sweeps on its own (unref-ed) timer and close() stops it', async () => {
    const store = new MemoryCounterStore({ sweepIntervalMs: 20 });
    store.hit('gone-soon', 10, 0.01); // 10 ms window
    await new Promise((r) => setTimeout(r, 80));
    expect(store.size).toBe(0);
    await store.close();
  });

  it('costs well under a microsecond per hit', async () => {
    const store = new MemoryCounterStore();
    const keys = Array.from({ length: 10_000 }, (_, i) => `app-${i}`);
    let allowed = 0;
    const prefix = 'pl:payments/v1:m:';
    // warm up the JIT
    for (let i = 0; i < 200_000; i++) if (store.hit(prefix + keys[i % 10_000], 1_000_000, 60).allowed) allowed++;
    const n = 2_000_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (store.hit(prefix + keys[i % 10_000], 1_000_000, 60).allowed) allowed++;
    const ns = Number(process.hrtime.bigint() - t0) / n;
    console.log(`[bench] MemoryCounterStore.hit: ${ns.toFixed(0)} ns per hit (10,000 keys, key built by concatenation)`);
    expect(allowed).toBe(n + 200_000);
    expect(ns).toBeLessThan(1000);
    await store.close();
  });
});
