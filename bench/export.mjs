#!/usr/bin/env node
// bench/export: the model of 1,000 APIs (every policy kind, three environments, subscriptions) exported for Envoy
// Gateway and for Backstage through the real HTTP API on the embedded store, each against the reference measured in
// the same run: apigov's own export of the same resources (GET /v1/export, same reads and visibility checks).
// Prints one JSON line of figures. Usage: npm run bench:export [-- --apis 1000 --rounds 5]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openStore } from '@apigov/store';
import { startControlPlane } from '@apigov/control-plane';

const { values } = parseArgs({ options: { apis: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '5' } } });
const N = Number(values.apis);
const ROUNDS = Number(values.rounds);
const ADMIN = 'bench-admin-token-0123456789';
const res = (kind, name, spec) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });

const POLICY_SETS = [
  { apiKeyAuth: {}, subscription: {}, rateLimit: { perMinute: 100 } },
  { jwtAuth: { issuers: [{ issuer: 'https://idp.example.com', jwksUri: 'https://idp.example.com/jwks', audiences: ['a'] }] }, cors: { allowOrigins: ['https://app.example.com'] } },
  { requestValidation: {}, headers: { request: { add: { 'x-a': '1' } } }, pathRewrite: { replacePrefix: '/api' }, apiKeyAuth: {} },
  { timeouts: {}, retries: {}, circuitBreaker: {}, quota: { perDay: 500 }, ipFilter: { deny: ['203.0.113.0/24'] } },
  { trafficSplit: { targets: [{ upstream: 'http://a.internal:8080', weight: 80 }, { upstream: 'http://b.internal:8080', weight: 20 }] } },
];

function catalog(n) {
  const docs = [res('Team', 'team', {}), res('GovernanceRuleset', 'bench', { gates: [{ environment: '*', blockOn: 'never' }] })];
  for (const env of ['dev', 'staging', 'prod']) docs.push(res('Environment', env, {}));
  docs.push(res('Plan', 'free', { rateLimit: { perMinute: 60 } }));
  for (let i = 0; i < n; i++) {
    const paths = {};
    for (let p = 0; p < 4; p++) paths[`/things-${p}/{id}`] = { get: { operationId: `get${p}`, responses: { 200: { description: 'ok' } } } };
    const environments = { dev: { state: 'published', upstream: `http://svc-${i}.ns.svc:8080` }, staging: { state: 'published', upstream: `https://svc-${i}.example.com/base` }, prod: { state: i % 3 === 0 ? 'draft' : 'published', upstream: `http://10.1.${i % 250}.1:80` } };
    docs.push(res('Api', `api-${i}`, { owner: 'team', title: `API ${i}`, versions: [{ name: 'v1', openapi: { openapi: '3.0.3', info: { title: `API ${i}`, version: '1.0.0' }, paths }, environments }] }));
    docs.push(res('Policy', `api-${i}-policy`, { targetRef: { kind: 'Api', name: `api-${i}` }, ...POLICY_SETS[i % POLICY_SETS.length] }));
  }
  for (let a = 0; a < 200; a++) {
    docs.push(res('Application', `app-${a}`, { owner: 'team' }));
    docs.push(res('Subscription', `app-${a}-dev`, { application: `app-${a}`, api: `api-${a}`, version: 'v1', plan: 'free', environment: 'dev', state: 'approved' }));
  }
  return docs;
}

async function get(url, accept = 'application/json') {
  const t0 = performance.now();
  const r = await fetch(url, { headers: { authorization: `Bearer ${ADMIN}`, accept } });
  const body = await r.text();
  if (r.status !== 200) throw new Error(`${r.status} ${url}: ${body.slice(0, 300)}`);
  return { ms: performance.now() - t0, bytes: body.length, body };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = mkdtempSync(join(tmpdir(), 'apigov-bench-export-'));
const store = await openStore({ dataDir: join(dir, 'data') });
const cp = await startControlPlane({ store, adminToken: ADMIN, gatewayToken: 'bench-gateway-token-0123456789' });
try {
  const t0 = performance.now();
  const docs = catalog(N);
  const applied = await fetch(`${cp.url}/v1/apply`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ documents: docs }) });
  if (applied.status !== 200) throw new Error(`apply: ${applied.status} ${(await applied.text()).slice(0, 500)}`);
  const setupMs = performance.now() - t0;
  const rounds = { apigov: [], envoy: [], envoyYaml: [], backstage: [] };
  let envoyDocs = 0;
  let backstageDocs = 0;
  for (let r = 0; r < ROUNDS; r++) {
    rounds.apigov.push((await get(`${cp.url}/v1/export`, 'application/yaml')).ms);
    const e = await get(`${cp.url}/v1/exports/envoy-gateway`);
    rounds.envoy.push(e.ms);
    envoyDocs = JSON.parse(e.body).documents.length;
    rounds.envoyYaml.push((await get(`${cp.url}/v1/exports/envoy-gateway.yaml`, 'application/yaml')).ms);
    const b = await get(`${cp.url}/v1/exports/backstage`);
    rounds.backstage.push(b.ms);
    backstageDocs = JSON.parse(b.body).documents.length;
  }
  const apigovMs = median(rounds.apigov);
  const envoyMs = median(rounds.envoy);
  const backstageMs = median(rounds.backstage);
  const out = {
    apis: N,
    resources: docs.length,
    setup_ms: Math.round(setupMs),
    apigov_export_ms: Math.round(apigovMs),
    envoy_gateway_export_ms: Math.round(envoyMs),
    envoy_gateway_yaml_ms: Math.round(median(rounds.envoyYaml)),
    envoy_gateway_objects: envoyDocs,
    backstage_export_ms: Math.round(backstageMs),
    backstage_entities: backstageDocs,
    envoy_gateway_vs_apigov_export: Math.round((envoyMs / apigovMs) * 100) / 100,
    envoy_gateway_yaml_vs_apigov_export: Math.round((median(rounds.envoyYaml) / apigovMs) * 100) / 100,
    backstage_vs_apigov_export: Math.round((backstageMs / apigovMs) * 100) / 100,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  await cp.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
