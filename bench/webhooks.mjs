#!/usr/bin/env node
// bench/webhooks: event-to-delivery latency at 100 events a second (key creations, each one event, delivered by the
// control plane's own worker with its default interval to a receiver on 127.0.0.1), against the reference measured
// in the same run: the round trip of the write that caused each event. And what the outbox and fan-out cost a write:
// `POST /v1/apply` of 1,000 auto-approved subscriptions (2,000 events) with a webhook taking every event, against
// the same apply without any webhook. Embedded store (PGlite). Prints one JSON line.
// Usage: npm run bench:webhooks [-- --rate 100 --seconds 10 --resources 1000]
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openStore } from '@apigov/store';
import { startControlPlane } from '@apigov/control-plane';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '100' }, seconds: { type: 'string', default: '10' }, resources: { type: 'string', default: '1000' } } });
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const RESOURCES = Number(values.resources);
const ADMIN = 'bench-admin-token-0123456789';
const res = (kind, name, spec) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });
process.env.APIGOV_WEBHOOK_ALLOW_CIDRS = '127.0.0.0/8';
const work = mkdtempSync(join(tmpdir(), 'apigov-bench-webhooks-'));

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const round = (x) => Math.round(x * 10) / 10;

async function controlPlane(name) {
  const store = await openStore({ dataDir: join(work, name) });
  const cp = await startControlPlane({ store, adminToken: ADMIN });
  const call = async (method, path, body) => {
    const r = await fetch(cp.url + path, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text === '' ? null : JSON.parse(text);
  };
  return { cp, call, close: async () => { await cp.close(); await store.close(); } };
}

/** a receiver that notes when each event arrived */
async function receiver() {
  const arrived = new Map();
  const server = createServer((req, rsp) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const e = JSON.parse(body);
      if (!arrived.has(e.id)) arrived.set(e.id, { at: Date.now(), event: e });
      rsp.writeHead(204).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/hook`, arrived, close: () => new Promise((r) => server.close(r)) };
}

const base = [res('Team', 'payments', {}), res('Environment', 'dev', {}), res('Plan', 'free', { approval: 'auto' }), res('GovernanceRuleset', 'open', { gates: [{ environment: '*', blockOn: 'never' }] })];
const spec = { openapi: '3.0.3', info: { title: 'Bench', version: '1.0.0' }, paths: { '/x': { get: { responses: { 200: { description: 'ok' } } } } } };

// 1. latency at RATE events a second
const recv = await receiver();
const one = await controlPlane('latency');
await one.call('POST', '/v1/apply', { documents: [...base, res('Application', 'app', { owner: 'payments' }), res('Webhook', 'bench', { url: recv.url, events: ['key.created'] })] });
const writes = [];
const started = performance.now();
const total = RATE * SECONDS;
const pending = [];
for (let i = 0; i < total; i++) {
  const due = started + (i * 1000) / RATE;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const t0 = performance.now();
  pending.push(one.call('POST', '/v1/applications/app/keys', {}).then(() => writes.push(performance.now() - t0)));
}
await Promise.all(pending);
const achieved = total / ((performance.now() - started) / 1000);
const deadline = Date.now() + 30_000;
while (recv.arrived.size < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
const latencies = [...recv.arrived.values()].map((a) => a.at - Date.parse(a.event.time));
// every event must have arrived: the benchmark checks what it measures
const evs = (await one.call('GET', `/v1/events?type=key.created&limit=500`)).items.length + (await one.call('GET', `/v1/events?type=key.created&limit=500&after=500`)).items.length;
await one.close();
await recv.close();

// 2. what the outbox and fan-out cost an apply of RESOURCES subscriptions
async function applyRun(name, withWebhook) {
  const r = withWebhook ? await receiver() : undefined;
  const p = await controlPlane(name);
  await p.call('POST', '/v1/apply', { documents: [...base, res('Api', 'bench', { owner: 'payments', title: 'Bench', versions: [{ name: 'v1', openapi: spec, environments: { dev: { state: 'published', upstream: 'http://127.0.0.1:9' } } }] }), ...(r ? [res('Webhook', 'all', { url: r.url, events: ['*'] })] : [])] });
  const apps = Array.from({ length: RESOURCES / 2 }, (_, i) => res('Application', `app-${i}`, { owner: 'payments' }));
  await p.call('POST', '/v1/apply', { documents: apps });
  const subs = Array.from({ length: RESOURCES }, (_, i) => res('Subscription', `sub-${i}`, { application: `app-${i % (RESOURCES / 2)}`, api: 'bench', version: 'v1', environment: 'dev', plan: 'free' }));
  const t0 = performance.now();
  await p.call('POST', '/v1/apply', { documents: subs });
  const ms = performance.now() - t0;
  await p.close();
  await r?.close();
  return ms;
}
const without = await applyRun('without', false);
const withHook = await applyRun('with', true);
rmSync(work, { recursive: true, force: true });

console.log(
  JSON.stringify({
    events: total,
    events_recorded: Math.min(evs, total),
    delivered: recv.arrived.size,
    rate_per_second: round(achieved),
    delivery_p50_ms: round(pct(latencies, 50)),
    delivery_p95_ms: round(pct(latencies, 95)),
    write_p95_ms: round(pct(writes, 95)),
    delivery_p95_vs_write_p95: round(pct(latencies, 95) / pct(writes, 95)),
    apply_resources: RESOURCES,
    apply_without_webhook_ms: Math.round(without),
    apply_with_webhook_ms: Math.round(withHook),
    apply_with_vs_without: Math.round((withHook / without) * 100) / 100,
  }),
);
process.exit(0);
