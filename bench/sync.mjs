#!/usr/bin/env node
// bench/sync: `apigov sync --once` of a 1,000-resource Git repository into a control plane on the embedded store
// (PGlite), then the same commit again (which must change nothing), against the reference measured in the same
// run: `apigov apply -f` of the same directory into a second, empty control plane. The CLI runs as a child process,
// as a user runs it. Prints one JSON line. Usage: npm run bench:sync [-- --resources 1000]
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { openStore } from '@apigov/store';
import { startControlPlane } from '@apigov/control-plane';

const { values } = parseArgs({ options: { resources: { type: 'string', default: '1000' } } });
const TOTAL = Number(values.resources);
const ADMIN = 'bench-admin-token-0123456789';
const CLI = resolve(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'apigov.js');
const res = (kind, name, spec) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });

/** `total` resources in one file each: environments, teams, plans, then Apis with a Policy each, then applications */
function writeRepository(dir, total) {
  const files = [];
  const add = (path, doc) => files.push([path, doc]);
  add('governance/bench.yaml', res('GovernanceRuleset', 'bench', { gates: [{ environment: '*', blockOn: 'never' }] }));
  for (const env of ['dev', 'staging', 'prod']) add(`environments/${env}.yaml`, res('Environment', env, {}));
  for (let t = 0; t < 20; t++) add(`teams/team-${t}.yaml`, res('Team', `team-${t}`, { displayName: `Team ${t}` }));
  for (let p = 0; p < 16; p++) add(`plans/plan-${p}.yaml`, res('Plan', `plan-${p}`, { rateLimit: { perMinute: 60 * (p + 1) } }));
  const apis = Math.floor((total - files.length) * 0.42);
  for (let i = 0; i < apis; i++) {
    const paths = { [`/things-${i}`]: { get: { operationId: `list${i}`, responses: { 200: { description: 'ok' } } } } };
    add(`apis/api-${i}/api.yaml`, res('Api', `api-${i}`, { owner: `team-${i % 20}`, title: `API ${i}`, versions: [{ name: 'v1', openapi: { openapi: '3.0.3', info: { title: `API ${i}`, version: '1.0.0' }, paths }, environments: { dev: { state: 'published', upstream: `http://svc-${i}:8080` } } }] }));
    add(`apis/api-${i}/policy.yaml`, res('Policy', `api-${i}-limits`, { targetRef: { kind: 'Api', name: `api-${i}` }, rateLimit: { perMinute: 100 + i } }));
  }
  for (let a = 0; files.length < total; a++) add(`applications/app-${a}.yaml`, res('Application', `app-${a}`, { owner: `team-${a % 20}` }));
  for (const [path, doc] of files) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), stringify(doc));
  }
  return files.length;
}

function cli(cp, args) {
  const t0 = performance.now();
  return new Promise((ok, fail) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, HOME: tmpdir(), APIGOV_URL: cp.url, APIGOV_TOKEN: ADMIN, APIGOV_CONFIG: join(tmpdir(), 'apigov-bench-sync.yaml'), APIGOV_HOME: join(work, 'home'), NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`apigov ${args.join(' ')}: ${stderr || err.message}`));
      else ok({ ms: performance.now() - t0, stdout });
    });
  });
}

async function controlPlane(name) {
  const store = await openStore({ dataDir: join(work, name) });
  const cp = await startControlPlane({ store, adminToken: ADMIN, gatewayToken: 'bench-gateway-token-0123456789' });
  return { cp, close: async () => { await cp.close(); await store.close(); } };
}

const work = mkdtempSync(join(tmpdir(), 'apigov-bench-sync-'));
const repo = join(work, 'repo');
mkdirSync(repo);
try {
  const count = writeRepository(repo, TOTAL);
  const git = (...args) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', 'commit', '-q', '-m', 'bench');

  const synced = await controlPlane('synced');
  const first = await cli(synced.cp, ['sync', '--repo', repo, '--once', '-o', 'json']);
  const again = await cli(synced.cp, ['sync', '--repo', repo, '--once', '-o', 'json']);
  await synced.close();
  const firstResult = JSON.parse(first.stdout);
  const againResult = JSON.parse(again.stdout);

  const applied = await controlPlane('applied');
  const apply = await cli(applied.cp, ['apply', '-f', repo]);
  await applied.close();

  const out = {
    resources: count,
    sync_ms: Math.round(first.ms),
    sync_created: firstResult.created,
    resync_ms: Math.round(again.ms),
    resync_changes: againResult.created + againResult.updated + againResult.deleted,
    apply_ms: Math.round(apply.ms),
    sync_vs_apply: Math.round((first.ms / apply.ms) * 100) / 100,
    resync_vs_apply: Math.round((again.ms / apply.ms) * 100) / 100,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
