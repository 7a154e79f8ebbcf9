// Search latency over a 10,000-API catalog (target: p95 < 50 ms on PGlite). Loading the catalog takes
// a while, so this runs only when asked: APIGOV_STORE_BENCH=1 npx vitest run packages/store/test/search-latency.test.ts
// (APIGOV_STORE_BENCH_APIS=n changes the size; APIGOV_STORE_BENCH_PG=1 also measures PostgreSQL).
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openStore, type SearchQuery, type SearchViewer, type Store } from '../src/index.js';
import { CATALOG_TEAMS, syntheticCatalog } from './catalog.js';

const enabled = process.env.APIGOV_STORE_BENCH === '1';
const COUNT = Number(process.env.APIGOV_STORE_BENCH_APIS ?? 10_000);
const DATABASE_URL = process.env.APIGOV_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const admin: SearchViewer = { admin: true, teams: [], anonymous: false };
const anonymous: SearchViewer = { admin: false, teams: [], anonymous: true };
const member: SearchViewer = { admin: false, teams: [CATALOG_TEAMS[3], CATALOG_TEAMS[17]], anonymous: false };

const QUERIES: Array<[string, Omit<SearchQuery, 'limit'>]> = [
  ['browse (admin)', { viewer: admin }],
  ['browse (anonymous)', { viewer: anonymous }],
  ['browse (member)', { viewer: member }],
  ["'pay' prefix", { text: 'pay', viewer: member }],
  ["'payments refund'", { text: 'payments refund', viewer: member }],
  ["'api' (matches all)", { text: 'api', viewer: admin }],
  ["'customers partner'", { text: 'customers partner', viewer: anonymous }],
  ["'reconcile ledger'", { text: 'reconcile ledger', viewer: member }],
  ["'transactions' (paths)", { text: 'transactions', viewer: member }],
  ['exact name', { text: 'orders-core-17', viewer: admin }],
  ['team filter', { team: CATALOG_TEAMS[5], viewer: member }],
  ['tag filter', { tag: 'billing', viewer: member }],
  ['env+state filter', { environment: 'prod', state: 'deprecated', viewer: member }],
  ["text+tag+state", { text: 'ship', tag: 'logistics', state: 'published', viewer: member }],
  ['no hits', { text: 'zzzzqqq', viewer: member }],
];

async function load(store: Store): Promise<number> {
  const apis = syntheticCatalog(COUNT);
  const t0 = performance.now();
  for (let i = 0; i < apis.length; i += 500) {
    await store.transaction(async (tx) => {
      for (const api of apis.slice(i, i + 500)) await tx.put(api, 'bench');
    });
  }
  return performance.now() - t0;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function measure(store: Store, label: string): Promise<{ p50: number; p95: number }> {
  const loadMs = await load(store);
  const all: number[] = [];
  const rows: string[] = [];
  // warm up the caches and plans
  for (const [, q] of QUERIES) await store.searchApis({ ...q, limit: 20 });
  for (const [name, q] of QUERIES) {
    const times: number[] = [];
    let total = 0;
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const page = await store.searchApis({ ...q, limit: 20 });
      // the second page, through the cursor
      const t1 = performance.now();
      times.push(t1 - t0);
      total = page.total;
      if (page.nextCursor !== undefined && i % 4 === 0) {
        const t2 = performance.now();
        await store.searchApis({ ...q, limit: 20, cursor: page.nextCursor });
        times.push(performance.now() - t2);
      }
    }
    times.sort((a, b) => a - b);
    all.push(...times);
    rows.push(`  ${name.padEnd(24)} total=${String(total).padStart(5)}  p50=${percentile(times, 50).toFixed(1).padStart(6)} ms  p95=${percentile(times, 95).toFixed(1).padStart(6)} ms`);
  }
  all.sort((a, b) => a - b);
  const p50 = percentile(all, 50);
  const p95 = percentile(all, 95);
  console.log(`[search latency] ${label}, ${COUNT} APIs (loaded in ${(loadMs / 1000).toFixed(1)} s):\n${rows.join('\n')}\n  ALL ${all.length} queries: p50=${p50.toFixed(1)} ms p95=${p95.toFixed(1)} ms max=${all[all.length - 1].toFixed(1)} ms`);
  return { p50, p95 };
}

describe.runIf(enabled)('search latency', () => {
  it(`PGlite: p95 < 50 ms over ${COUNT} APIs`, async () => {
    const store = await openStore({ dataDir: 'memory://' });
    try {
      const { p95 } = await measure(store, 'PGlite memory://');
      expect(p95).toBeLessThan(50);
    } finally {
      await store.close();
    }
  }, 600_000);

  it.runIf(process.env.APIGOV_STORE_BENCH_PG === '1')(`PostgreSQL: p95 < 50 ms over ${COUNT} APIs`, async () => {
    const schema = `apigov_bench_${randomBytes(4).toString('hex')}`;
    const store = await openStore({ databaseUrl: DATABASE_URL, schema });
    try {
      const { p95 } = await measure(store, 'PostgreSQL');
      expect(p95).toBeLessThan(50);
    } finally {
      await store.close();
      const c = new pg.Client({ connectionString: DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA "${schema}" CASCADE`);
      await c.end();
    }
  }, 600_000);
});
