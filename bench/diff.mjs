#!/usr/bin/env node
// bench/diff: what the breaking-change engine costs against loading the documents it compares (the reference, in the
// same process): for the large openai pair (2024-04-23, 487 KB YAML → 2026-08-21, 2.97 MB YAML) and every version pair
// of the shared data, the load time of both documents (loadSpec: parse + bundle), the diff time (median of 5 runs
// after one warm-up), the diff-to-load ratio, the number of changes, and the peak RSS. Ends with one JSON line.
// Usage: npm run bench:diff
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { diffOpenApi, loadSpec } from '@apigov/openapi';

const FIXTURES = new URL('../packages/openapi/test/fixtures/', import.meta.url).pathname;
const RUNS = 5;

const pairs = [
  { name: 'openai-2024-04-23→2026-08-21', base: join(FIXTURES, 'corpus', 'openai__openapi-2024-04-23-dup-anchors.yaml'), revision: join(FIXTURES, 'corpus', 'openai__openapi-2026-08-21.yaml') },
];
for (const dir of readdirSync(join(FIXTURES, 'pairs')).sort()) {
  const files = readdirSync(join(FIXTURES, 'pairs', dir));
  pairs.push({ name: dir, base: join(FIXTURES, 'pairs', dir, files.find((f) => f.startsWith('old.'))), revision: join(FIXTURES, 'pairs', dir, files.find((f) => f.startsWith('new.'))) });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = [];
for (const p of pairs) {
  const texts = [readFileSync(p.base, 'utf8'), readFileSync(p.revision, 'utf8')];
  const t0 = performance.now();
  const [a, b] = [await loadSpec(texts[0]), await loadSpec(texts[1])];
  const loadMs = performance.now() - t0;
  let changes = diffOpenApi(a.document, b.document); // warm-up
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    changes = diffOpenApi(a.document, b.document);
    times.push(performance.now() - t);
  }
  const diffMs = median(times);
  const levels = { breaking: 0, warning: 0, info: 0 };
  for (const c of changes) levels[c.level]++;
  const r = { pair: p.name, bytes: texts[0].length + texts[1].length, loadMs: +loadMs.toFixed(1), diffMs: +diffMs.toFixed(1), diffToLoad: +(diffMs / loadMs).toFixed(3), changes: changes.length, ...levels };
  results.push(r);
  console.log(`${p.name.padEnd(36)} load ${r.loadMs.toFixed(1).padStart(8)} ms  diff ${r.diffMs.toFixed(1).padStart(7)} ms  diff/load ${r.diffToLoad.toFixed(3)}  ${r.changes} changes (${r.breaking} breaking, ${r.warning} warnings)`);
}
const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
const big = results[0];
console.log(`peak RSS ${peakRssMb} MB; the openai diff takes ${big.diffMs} ms (goal < 1000 ms), ${(big.diffToLoad * 100).toFixed(1)}% of loading the two documents`);
console.log(JSON.stringify({ openai_load_ms: big.loadMs, openai_diff_ms: big.diffMs, openai_diff_to_load: big.diffToLoad, peak_rss_mb: peakRssMb, pairs: results }));
if (big.diffMs >= 1000) process.exitCode = 1;
