#!/usr/bin/env node
// bench/snapshot-refresh: what one change costs the control plane at scale. After a commit the control plane
// recompiles every environment's gateway snapshot; this seeds N Apis (published in dev, staging and prod, three
// operations each), N×2.5 applications with two subscriptions each and K API keys into the store, then measures
//   reference  a cold refresh (a new SnapshotService: nothing compiled before), as after a restart
//   change     the refresh after one API key is added (what `apigov keys create` costs), warm
//   no change  a refresh that finds nothing new (the minute clock's)
// each with the longest time the event loop was held (a 1 ms ticker's longest gap: every request to the control
// plane waits that long). Prints the ratios against the cold refresh and ends with one JSON line.
// Usage: npm run bench:snapshot [-- --apis 2000 --keys 20000 --database-url postgres://...]
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openStore } from '@apigov/store';
import { SnapshotService } from '@apigov/control-plane';
import { stallMeter } from './stall-meter.mjs';

const { values } = parseArgs({ options: { apis: { type: 'string', default: '2000' }, keys: { type: 'string', default: '20000' }, 'database-url': { type: 'string' } } });
const N_APIS = Number(values.apis);
const N_KEYS = Number(values.keys);
const N_APPS = Math.max(1, Math.round(N_KEYS / 4));
const ENVS = ['dev', 'staging', 'prod'];

const schema = `bench_refresh_${Date.now()}`;
const store = await openStore(values['database-url'] ? { databaseUrl: values['database-url'], schema } : { dataDir: 'memory://' });
const resource = (kind, name, spec) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name, labels: {}, annotations: {} }, spec });
const keyHash = (k) => createHash('sha256').update(`bench-key-${k}`).digest('hex');

/** an OpenAPI document of three operations whose schema differs per API */
function openapi(i) {
  return {
    openapi: '3.0.3',
    info: { title: `api ${i}`, version: '1.0.0' },
    paths: {
      '/items': {
        get: { operationId: 'listItems', parameters: [{ name: 'limit', in: 'query', required: true, schema: { type: 'integer', minimum: 1, maximum: 100 } }], responses: { 200: { description: 'ok' } } },
        post: { operationId: 'createItem', requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } } }, responses: { 201: { description: 'created' } } },
      },
      '/items/{id}': { get: { operationId: 'getItem', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'ok' } } } },
    },
    components: { schemas: { Item: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 100 + i } } } } },
  };
}

const seedStarted = performance.now();
await store.transaction(async (tx) => {
  await tx.put(resource('Team', 'bench', {}), 'bench');
  for (const env of ENVS) await tx.put(resource('Environment', env, {}), 'bench');
  await tx.put(resource('Plan', 'free', { rateLimit: { perMinute: 60 }, approval: 'auto', environments: [] }), 'bench');
  for (const env of ENVS) await tx.put(resource('Policy', `platform-${env}`, { targetRef: { kind: 'Environment', name: env }, apiKeyAuth: { header: 'x-api-key' }, subscription: { required: true }, requestValidation: {} }), 'bench');
  const upstream = { upstream: 'http://127.0.0.1:4100', state: 'published' };
  for (let i = 0; i < N_APIS; i++) {
    await tx.put(resource('Api', `api-${i}`, { owner: 'bench', title: `API ${i}`, tags: [], visibility: 'internal', versions: [{ name: 'v1', openapi: openapi(i), environments: { dev: upstream, staging: upstream, prod: upstream } }] }), 'bench');
  }
  for (let a = 0; a < N_APPS; a++) {
    await tx.put(resource('Application', `app-${a}`, { owner: 'bench' }), 'bench');
    for (const env of ['dev', 'prod']) await tx.put(resource('Subscription', `sub-${a}-${env}`, { application: `app-${a}`, api: `api-${a % N_APIS}`, version: 'v1', plan: 'free', environment: env, state: 'approved' }), 'bench');
  }
  for (let k = 0; k < N_KEYS; k++) await tx.put(resource('Credential', `cred-${k}`, { application: `app-${k % N_APPS}`, type: 'api-key', keyHash: keyHash(k), prefix: 'agk_bench' }), 'bench');
});
console.log(`seeded ${N_APIS} Apis (3 environments), ${N_APPS} applications (2 subscriptions each), ${N_KEYS} API keys into ${store.dialect} in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

/** runs one refresh; its time and the longest the event loop was held meanwhile */
async function measured(service) {
  const stalls = stallMeter();
  const started = performance.now();
  const changed = await service.refresh();
  const ms = performance.now() - started;
  return { ms, stallMs: await stalls.stop(), changed };
}

const cold = await measured(new SnapshotService(store));
const service = new SnapshotService(store);
await service.refresh();
await store.transaction((tx) => tx.put(resource('Credential', 'cred-new', { application: 'app-0', type: 'api-key', keyHash: keyHash(-1), prefix: 'agk_bench' }), 'bench'));
const change = await measured(service);
const quiet = await measured(service);
const dev = await store.getSnapshot('dev');
await store.close();
if (values['database-url']) {
  // the bench's own schema goes with it
  const client = new pg.Client({ connectionString: values['database-url'] });
  await client.connect();
  await client.query(`DROP SCHEMA "${schema}" CASCADE`);
  await client.end();
}

const fmt = (r) => `${r.ms.toFixed(0)} ms, event loop held at most ${r.stallMs.toFixed(0)} ms (changed: ${r.changed.join(', ') || 'none'})`;
console.log(`snapshot per environment: ${(dev.body.length / 1e6).toFixed(1)} MB of JSON`);
console.log(`  reference, cold refresh:        ${fmt(cold)}`);
console.log(`  after one API key is added:     ${fmt(change)}  → ${(change.ms / cold.ms).toFixed(2)} of the cold refresh`);
console.log(`  nothing changed:                ${fmt(quiet)}  → ${(quiet.ms / cold.ms).toFixed(2)} of the cold refresh`);
process.stdout.write(
  `${JSON.stringify({ apis: N_APIS, keys: N_KEYS, cold_ms: Math.round(cold.ms), change_ms: Math.round(change.ms), change_vs_cold: Number((change.ms / cold.ms).toFixed(2)), change_stall_ms: Math.round(change.stallMs), cold_stall_ms: Math.round(cold.stallMs), quiet_ms: Math.round(quiet.ms) })}\n`,
);
