#!/usr/bin/env node
// bench/catalog: catalog search latency over 10,000 registered APIs and the time to apply 1,000 resources,
// on the embedded store (PGlite) through the real HTTP API. Each figure is printed with a reference measured in
// the same run: search against GET /healthz (the HTTP floor), apply against bare inserts of the same rows.
// Usage: npm run bench:catalog [-- --apis 10000 --queries 400 --database-url postgres://...]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openStore } from '@apigov/store';
import { startControlPlane } from '@apigov/control-plane';

const { values } = parseArgs({ options: { apis: { type: 'string', default: '10000' }, queries: { type: 'string', default: '400' }, 'database-url': { type: 'string' } } });
const N_APIS = Number(values.apis);
const N_QUERIES = Number(values.queries);
const ADMIN = 'bench-admin-token-0123456789';

const WORDS = ['payments', 'invoices', 'orders', 'customers', 'shipping', 'inventory', 'ledger', 'refunds', 'billing', 'catalog', 'pricing', 'search', 'identity', 'accounts', 'loyalty', 'reviews', 'tax', 'fraud', 'notifications', 'subscriptions', 'analytics', 'reports', 'documents', 'messaging', 'scheduling', 'routing', 'tracking', 'warehouse', 'returns', 'coupons'];
const TEAMS = Array.from({ length: 40 }, (_, i) => `team-${i}`);
const ENVS = ['dev', 'staging', 'prod'];
const STATES = ['draft', 'published', 'deprecated'];

// deterministic pseudo-random numbers so every run indexes the same catalog
let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = (a) => a[Math.floor(rnd() * a.length)];

function apiDoc(i) {
  const a = pick(WORDS), b = pick(WORDS), c = pick(WORDS);
  const name = `${a}-${b}-${i}`;
  const paths = {};
  for (const w of [a, b, c]) paths[`/${w}`] = { get: { operationId: `list-${w}-${i}`, summary: `List ${w}`, responses: { 200: { description: 'OK' } } } };
  const environments = {};
  for (const env of ENVS) if (rnd() < 0.6) environments[env] = { upstream: `http://127.0.0.1:${4100 + (i % 50)}`, state: pick(STATES) };
  return {
    apiVersion: 'apigov.dev/v1', kind: 'Api', metadata: { name },
    spec: {
      owner: pick(TEAMS), title: `${a[0].toUpperCase()}${a.slice(1)} ${b} service ${i}`,
      description: `Manages ${a} and ${b} for the ${c} domain.`, tags: [a, c], visibility: pick(['public', 'internal', 'internal', 'team-only']),
      versions: [{ name: 'v1', openapi: { openapi: '3.0.3', info: { title: name, version: '1.0.0' }, paths }, environments }],
    },
  };
}

const QUERIES = [
  'q=payments', 'q=pay', 'q=invoices', 'q=ledger refunds', 'q=shipping tracking', 'q=fraud', 'q=customer', 'q=notif',
  'team=team-3', 'tag=billing', 'environment=prod&state=published', 'q=orders&environment=dev', 'q=tax&state=deprecated',
  'q=warehouse&team=team-7', 'q=catalog&tag=pricing', 'q=accounts identity', 'state=draft', 'q=zzznomatch', 'q=reports&environment=staging', 'q=payments-invoices',
];

async function http(url, init = {}) {
  const t0 = performance.now();
  const res = await fetch(url, { ...init, headers: { authorization: `Bearer ${ADMIN}`, ...(init.headers ?? {}) } });
  const body = await res.text();
  if (res.status >= 400) throw new Error(`${res.status} ${url}: ${body.slice(0, 300)}`);
  return { ms: performance.now() - t0, body };
}

function pct(samples, p) {
  const s = [...samples].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const dir = mkdtempSync(join(tmpdir(), 'apigov-bench-'));
const store = await openStore(values['database-url'] ? { databaseUrl: values['database-url'], schema: `bench_${Date.now()}` } : { dataDir: join(dir, 'data') });
const cp = await startControlPlane({ store, adminToken: ADMIN });
try {
  const setup = [...TEAMS.map((t) => ({ apiVersion: 'apigov.dev/v1', kind: 'Team', metadata: { name: t }, spec: {} })), ...ENVS.map((e) => ({ apiVersion: 'apigov.dev/v1', kind: 'Environment', metadata: { name: e }, spec: {} })),
    { apiVersion: 'apigov.dev/v1', kind: 'GovernanceRuleset', metadata: { name: 'bench' }, spec: { gates: [{ environment: '*', blockOn: 'never' }] } }];
  await http(`${cp.url}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ documents: setup }) });

  // populate: 10 applies of N/10 APIs; the first 1,000 are the timed apply
  const chunk = 1000;
  let applyMs = 0;
  const t0 = performance.now();
  for (let start = 0; start < N_APIS; start += chunk) {
    const docs = Array.from({ length: Math.min(chunk, N_APIS - start) }, (_, k) => apiDoc(start + k));
    const r = await http(`${cp.url}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ documents: docs }) });
    if (start === 0) applyMs = r.ms;
  }
  const populateS = (performance.now() - t0) / 1000;

  // reference for apply: the same 1,000 rows inserted bare, in one transaction, through the same store
  const raw = store.dialect === 'pglite' && store.rawQuery ? (sql, p) => store.rawQuery(sql, p) : undefined;
  let bareMs = NaN;
  if (raw) {
    await raw('CREATE TEMP TABLE bench_bare (kind text, name text, spec jsonb, PRIMARY KEY (kind, name))');
    const docs = Array.from({ length: chunk }, (_, k) => apiDoc(900000 + k));
    const b0 = performance.now();
    await raw('BEGIN');
    for (const d of docs) await raw('INSERT INTO bench_bare VALUES ($1, $2, $3)', ['Api', d.metadata.name, JSON.stringify(d.spec)]);
    await raw('COMMIT');
    bareMs = performance.now() - b0;
  }

  // search: the fixed mix, interleaved with the /healthz reference
  const search = [], health = [];
  for (let i = 0; i < 40; i++) await http(`${cp.url}/v1/search?${QUERIES[i % QUERIES.length]}`); // warm-up
  for (let i = 0; i < N_QUERIES; i++) {
    search.push((await http(`${cp.url}/v1/search?${QUERIES[i % QUERIES.length]}&limit=20`)).ms);
    health.push((await http(`${cp.url}/healthz`)).ms);
  }
  const result = {
    apis: N_APIS,
    store: store.dialect,
    search_p50_ms: +pct(search, 50).toFixed(2),
    search_p95_ms: +pct(search, 95).toFixed(2),
    healthz_p50_ms: +pct(health, 50).toFixed(2),
    search_p95_vs_healthz_p95: +(pct(search, 95) / pct(health, 95)).toFixed(1),
    apply_1000_s: +(applyMs / 1000).toFixed(2),
    bare_insert_1000_s: +(bareMs / 1000).toFixed(2),
    apply_vs_bare_insert: +(applyMs / bareMs).toFixed(1),
    populate_s: +populateS.toFixed(1),
  };
  console.log(`search over ${N_APIS} APIs (${N_QUERIES} queries, ${QUERIES.length}-query mix): p50 ${result.search_p50_ms} ms, p95 ${result.search_p95_ms} ms (target p95 < 50 ms); /healthz p50 ${result.healthz_p50_ms} ms`);
  console.log(`apply of 1,000 Api resources: ${result.apply_1000_s} s (target < 10 s); bare insert of the same rows: ${result.bare_insert_1000_s} s`);
  console.log(JSON.stringify(result));
} finally {
  await cp.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
