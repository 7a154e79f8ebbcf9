// Consumer self-service through the real built CLI against a real control plane (in this process, over an
// in-memory store): applications, subscriptions with approval, API keys remembered in the config, consumers,
// and the usage errors of `call` (a stand-in HTTP peer plays the dev gateway; the real gateway is end-to-end).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { openStore, type Store } from '@apigov/store';
import { startControlPlane, type RunningControlPlane } from '@apigov/control-plane';
import { ROOT, run, startPeer, stderrLines, tempDir, type Peer, type RunResult } from './helpers.js';

const PAYMENTS_SPEC = join(ROOT, 'examples', 'payments', 'openapi.yaml');
const KEY = /agk_[A-Za-z0-9_-]{43}/g;
const USAGE_LINE = /^apigov: .+ \[APIGOV_ERR_CLI_USAGE\]$/;

let store: Store;
let cp: RunningControlPlane;
let gateway: Peer;
const adminToken = `bootstrap-${randomBytes(16).toString('hex')}`;
const tokens: Record<string, string> = {};
/** bob logged in with `apigov login`: his keys are remembered in the context 'default' of this file */
const bobConfig = join(tempDir(), 'config.yaml');

async function admin(method: string, path: string, body?: unknown, token = adminToken): Promise<unknown> {
  const res = await fetch(cp.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

const doc = (kind: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });

/** The CLI as `who`, with APIGOV_URL/APIGOV_TOKEN and a config file of its own unless one is given. */
function as(who: string, args: string[], config = join(tempDir(), 'config.yaml')): Promise<RunResult> {
  return run(args, { APIGOV_CONFIG: config, APIGOV_URL: cp.url, APIGOV_TOKEN: tokens[who] });
}

/** bob through his saved context (no APIGOV_URL/APIGOV_TOKEN). */
function bob(args: string[]): Promise<RunResult> {
  return run(args, { APIGOV_CONFIG: bobConfig });
}

function bobKeys(): Record<string, string> | undefined {
  const cfg = YAML.parse(readFileSync(bobConfig, 'utf8')) as { contexts: Record<string, { keys?: Record<string, string> }> };
  return cfg.contexts.default.keys;
}

beforeAll(async () => {
  gateway = await startPeer((req) => {
    if (req.headers['x-api-key'] === undefined) return { status: 401, type: 'application/problem+json', text: JSON.stringify({ status: 401, detail: 'no key', code: 'APIGOV_ERR_GATEWAY_MISSING_CREDENTIAL' }) };
    return { body: { path: req.path, method: req.method, key: req.headers['x-api-key'], type: req.headers['content-type'] ?? null, body: req.body ?? null } };
  });
  store = await openStore({ dataDir: 'memory://' });
  cp = await startControlPlane({ store, adminToken });
  await admin('POST', '/v1/apply', {
    documents: [
      doc('Team', 'payments', {}),
      doc('Team', 'orders', {}),
      doc('Environment', 'dev', { order: 0, gatewayUrl: gateway.url }),
      doc('Environment', 'prod', { order: 1, production: true }),
      doc('User', 'alex', { team: 'payments', role: 'owner' }),
      doc('User', 'bob', { team: 'orders', role: 'member' }),
      doc('User', 'pooja', { role: 'platform-admin' }),
      doc('Plan', 'free', { rateLimit: { perMinute: 60 }, approval: 'auto', environments: ['dev'] }),
      doc('Plan', 'gold', { rateLimit: { perMinute: 6000 }, approval: 'manual', environments: [] }),
    ],
  });
  for (const user of ['alex', 'bob', 'pooja']) tokens[user] = ((await admin('POST', `/v1/users/${user}/tokens`, {})) as { token: string }).token;
  await admin('POST', '/v1/apis/register', { name: 'payments', team: 'payments', spec: readFileSync(PAYMENTS_SPEC, 'utf8'), upstreams: { dev: 'http://127.0.0.1:9', prod: 'http://127.0.0.1:9' } }, tokens.alex);
  await admin('POST', '/v1/apis/payments/versions/v1/publish', { environment: 'dev' }, tokens.alex);
  const login = await run(['login', '--url', cp.url, '--token', tokens.bob], { APIGOV_CONFIG: bobConfig });
  expect(login.code, login.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await cp?.close();
  await store?.close();
  await gateway?.close();
});

describe('apps', () => {
  it("apps create makes an application of the caller's team; apps list shows it", async () => {
    const r = await bob(['apps', 'create', 'bob-app', '--display-name', "Bob's order service"]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Application 'bob-app' created for team orders.\n");
    const list = await bob(['apps', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+TEAM\s+DISPLAY NAME\s+CREATED$/m);
    expect(list.stdout).toMatch(/^bob-app\s+orders\s+Bob's order service\s+\d{4}-/m);
    const json = JSON.parse((await bob(['apps', 'list', '-o', 'json'])).stdout) as Array<{ metadata: { name: string }; spec: { owner: string } }>;
    expect(json.map((a) => [a.metadata.name, a.spec.owner])).toEqual([['bob-app', 'orders']]);
  });

  it('a caller without a team must name one (exit 2); with --team it works', async () => {
    const r = await as('pooja', ['apps', 'create', 'ops-app']);
    expect(r.code).toBe(2);
    expect(stderrLines(r)).toEqual([expect.stringMatching(USAGE_LINE)]);
    expect(r.stderr).toContain('--team');
    const ok = await as('pooja', ['apps', 'create', 'ops-app', '--team', 'payments', '-o', 'json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).spec.owner).toBe('payments');
  });
});

describe('subscriptions', () => {
  it('subscribing on an auto-approving plan is approved at once', async () => {
    const r = await bob(['subscribe', 'payments', '--app', 'bob-app', '--plan', 'free', '--env', 'dev']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Subscription bob-app-payments-v1-dev: approved (payments v1 in dev, plan free).\n');
  });

  it('a manual plan leaves it pending, listed as such, until an admin approves it', async () => {
    const r = await bob(['subscribe', 'payments', '--app', 'bob-app', '--plan', 'gold', '--env', 'prod', '--version', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Subscription bob-app-payments-v1-prod: pending');
    expect(r.stdout).toContain('waiting for approval by the owners of payments (team payments) or a platform admin: apigov approve bob-app-payments-v1-prod');

    const pending = await bob(['list-subscriptions', '--state', 'pending']);
    expect(pending.code, pending.stderr).toBe(0);
    expect(pending.stdout).toMatch(/^NAME\s+APP\s+API\s+VERSION\s+ENV\s+PLAN\s+STATE$/m);
    expect(pending.stdout).toMatch(/^bob-app-payments-v1-prod\s+bob-app\s+payments\s+v1\s+prod\s+gold\s+pending$/m);
    expect(pending.stdout).not.toContain('bob-app-payments-v1-dev');
    const all = JSON.parse((await bob(['list-subscriptions', '--app', 'bob-app', '--api', 'payments', '-o', 'json'])).stdout) as Array<{ metadata: { name: string } }>;
    expect(all.map((s) => s.metadata.name).sort()).toEqual(['bob-app-payments-v1-dev', 'bob-app-payments-v1-prod']);
    const inDev = JSON.parse((await bob(['list-subscriptions', '--env', 'dev', '-o', 'json'])).stdout) as Array<{ metadata: { name: string } }>;
    expect(inDev.map((s) => s.metadata.name)).toEqual(['bob-app-payments-v1-dev']);

    // the subscriber cannot approve himself
    const self = await bob(['approve', 'bob-app-payments-v1-prod']);
    expect(self.code).toBe(1);
    expect(stderrLines(self)).toEqual([expect.stringContaining('[APIGOV_ERR_AUTH_FORBIDDEN]')]);

    const approved = await as('pooja', ['approve', 'bob-app-payments-v1-prod']);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toBe('Subscription bob-app-payments-v1-prod approved (payments v1 in prod, plan gold).\n');
    const after = JSON.parse((await bob(['list-subscriptions', '--state', 'pending', '-o', 'json'])).stdout);
    expect(after).toEqual([]);
  });

  it('reject and suspend need --reason (exit 2 before anything is sent); suspend and resume work', async () => {
    for (const action of ['reject', 'suspend']) {
      const r = await as('alex', [action, 'bob-app-payments-v1-prod']);
      expect(r.code, action).toBe(2);
      expect(stderrLines(r)).toEqual([expect.stringMatching(USAGE_LINE)]);
      expect(r.stderr).toContain('--reason');
      const empty = await as('alex', [action, 'bob-app-payments-v1-prod', '--reason', ' ']);
      expect(empty.code, action).toBe(2);
    }
    const suspended = await as('alex', ['suspend', 'bob-app-payments-v1-prod', '--reason', 'too many refunds', '-o', 'json']);
    expect(suspended.code, suspended.stderr).toBe(0);
    expect(JSON.parse(suspended.stdout).spec).toMatchObject({ state: 'suspended', reason: 'too many refunds', decidedBy: 'alex' });
    const resumed = await as('alex', ['resume', 'bob-app-payments-v1-prod']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('resumed: now approved');
  });

  it('a pending subscription can be rejected with a reason', async () => {
    await as('bob', ['apps', 'create', 'bob-batch']);
    const sub = await as('bob', ['subscribe', 'payments', '--app', 'bob-batch', '--plan', 'gold', '--env', 'dev', '-o', 'json']);
    expect(JSON.parse(sub.stdout).spec.state).toBe('pending');
    const r = await as('alex', ['reject', 'bob-batch-payments-v1-dev', '--reason', 'use the free plan']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Subscription bob-batch-payments-v1-dev rejected');
  });

  it('consumers lists who subscribes to an API', async () => {
    const r = await as('alex', ['consumers', 'payments']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^SUBSCRIPTION\s+APP\s+TEAM\s+VERSION\s+ENV\s+PLAN\s+STATE$/m);
    expect(r.stdout).toMatch(/^bob-app-payments-v1-dev\s+bob-app\s+orders\s+v1\s+dev\s+free\s+approved$/m);
    expect(r.stdout).toMatch(/^bob-app-payments-v1-prod\s+bob-app\s+orders\s+v1\s+prod\s+gold\s+approved$/m);
    expect(r.stdout).toMatch(/^bob-batch-payments-v1-dev\s+bob-batch\s+orders\s+v1\s+dev\s+gold\s+rejected$/m);
    const json = JSON.parse((await as('alex', ['consumers', 'payments', '-o', 'json'])).stdout) as Array<{ subscription: string; team: string }>;
    expect(json.find((c) => c.subscription === 'bob-app-payments-v1-dev')?.team).toBe('orders');
  });

  it('subscribing to an unknown API fails (exit 1); a bad --state or --expires is a usage error', async () => {
    const r = await bob(['subscribe', 'nope', '--app', 'bob-app', '--plan', 'free', '--env', 'dev']);
    expect(r.code).toBe(1);
    expect(stderrLines(r)).toEqual([expect.stringContaining('[APIGOV_ERR_RESOURCE_NOT_FOUND]')]);
    for (const args of [
      ['list-subscriptions', '--state', 'sleeping'],
      ['subscribe', 'payments', '--app', 'bob-app', '--plan', 'free', '--env', 'dev', '--expires', 'soon'],
      ['subscribe', 'payments', '--app', 'bob-app', '--plan', 'free'],
    ]) {
      const u = await bob(args);
      expect(u.code, args.join(' ')).toBe(2);
      expect(stderrLines(u), args.join(' ')).toEqual([expect.stringMatching(USAGE_LINE)]);
    }
  });
});

describe('keys', () => {
  let first: string;
  let rotated: string;
  let rotatedName: string;

  it('keys create prints the key once and remembers it in the current context (mode 0600)', async () => {
    const r = await bob(['keys', 'create', '--app', 'bob-app']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const found = r.stdout.match(KEY) ?? [];
    expect(found).toHaveLength(1);
    first = String(found[0]);
    expect(r.stdout).toContain('Save this key now; it will not be shown again.');
    expect(r.stdout).toContain("Remembered in context 'default'");
    expect(bobKeys()).toEqual({ 'bob-app': first });
    expect(statSync(bobConfig).mode & 0o777).toBe(0o600);
    // the rest of the context is untouched
    const cfg = YAML.parse(readFileSync(bobConfig, 'utf8'));
    expect(cfg.current).toBe('default');
    expect(cfg.contexts.default).toMatchObject({ url: cp.url, token: tokens.bob });
  });

  it('keys create -o json gives the key as `key` and the credential', async () => {
    const r = await bob(['keys', 'create', '--app', 'bob-app', '--expires-in-days', '30', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { key: string; credential: { metadata: { name: string }; spec: { application: string; prefix: string; expiresAt: string } } };
    expect(out.key).toMatch(/^agk_[A-Za-z0-9_-]{43}$/);
    expect(out.key).not.toBe(first);
    expect(out.credential.spec.application).toBe('bob-app');
    expect(out.key.startsWith(out.credential.spec.prefix)).toBe(true);
    expect(Date.parse(out.credential.spec.expiresAt)).toBeGreaterThan(Date.now() + 29 * 86400_000);
    expect(bobKeys()).toEqual({ 'bob-app': out.key });
  });

  it('keys list shows name, prefix and expiry, never the key', async () => {
    const r = await bob(['keys', 'list', '--app', 'bob-app']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+PREFIX\s+EXPIRES$/m);
    expect(r.stdout).toMatch(new RegExp(`^bob-app-key-[0-9a-f]{6}\\s+${first.slice(0, 10)}\\s+never$`, 'm'));
    expect(r.stdout.match(KEY)).toBeNull();
  });

  it('keys rotate issues a different key for the newest credential, remembers it and says until when the old one works', async () => {
    const before = bobKeys()?.['bob-app'];
    const r = await bob(['keys', 'rotate', '--app', 'bob-app', '--overlap', '3600', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { key: string; credential: { metadata: { name: string } }; previous: { name: string; expiresAt: string } };
    rotated = out.key;
    rotatedName = out.credential.metadata.name;
    expect(rotated).toMatch(/^agk_/);
    expect(rotated).not.toBe(before);
    expect(rotated).not.toBe(first);
    expect(Math.abs(Date.parse(out.previous.expiresAt) - (Date.now() + 3600_000))).toBeLessThan(60_000);
    expect(bobKeys()).toEqual({ 'bob-app': rotated });

    const table = await bob(['keys', 'rotate', '--app', 'bob-app', '--credential', rotatedName]);
    expect(table.code, table.stderr).toBe(0);
    const keys = table.stdout.match(KEY) ?? [];
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toBe(rotated);
    expect(table.stdout).toContain('Save this key now; it will not be shown again.');
    expect(table.stdout).toMatch(new RegExp(`The old key \\(credential ${rotatedName}\\) keeps working until \\d{4}-`));
    rotated = String(keys[0]);
    rotatedName = /credential (bob-app-key-[0-9a-f]{6}),/.exec(table.stdout)?.[1] ?? '';
    expect(rotatedName).not.toBe('');
  });

  it('keys revoke deletes the credential and forgets the remembered key', async () => {
    expect(bobKeys()).toEqual({ 'bob-app': rotated });
    const r = await bob(['keys', 'revoke', rotatedName]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Credential ${rotatedName} of bob-app revoked`);
    expect(r.stdout).toContain('forgotten');
    expect(bobKeys()).toBeUndefined();
    const list = JSON.parse((await bob(['keys', 'list', '--app', 'bob-app', '-o', 'json'])).stdout) as Array<{ metadata: { name: string } }>;
    expect(list.map((c) => c.metadata.name)).not.toContain(rotatedName);
    const again = await bob(['keys', 'revoke', rotatedName]);
    expect(again.code).toBe(1);
    expect(stderrLines(again)).toEqual([expect.stringContaining('[APIGOV_ERR_RESOURCE_NOT_FOUND]')]);
  });

  it('with APIGOV_URL and no context, keys are remembered in a context for that URL, which is not made current', async () => {
    const config = join(tempDir(), 'config.yaml');
    const r = await as('bob', ['keys', 'create', '--app', 'bob-batch', '-o', 'json'], config);
    expect(r.code, r.stderr).toBe(0);
    const key = JSON.parse(r.stdout).key as string;
    const cfg = YAML.parse(readFileSync(config, 'utf8'));
    const name = new URL(cp.url).host.replace(':', '-');
    expect(cfg).toEqual({ contexts: { [name]: { url: cp.url, keys: { 'bob-batch': key } } } });
    expect(statSync(config).mode & 0o777).toBe(0o600);
    // and `call` finds it there
    const call = await as('bob', ['call', 'payments', '/payments', '-o', 'json'], config);
    expect(call.code, call.stderr).toBe(0);
    expect(JSON.parse(call.stdout).body.key).toBe(key);
  });

  it('bad key options are usage errors', async () => {
    for (const args of [
      ['keys', 'create'],
      ['keys', 'create', '--app', 'bob-app', '--expires-in-days', '0'],
      ['keys', 'rotate', '--app', 'bob-app', '--overlap', '-5'],
      ['keys', 'rotate', '--app', 'bob-app', '--overlap', '99999999'],
      ['keys', 'revoke'],
      ['keys', 'list'],
    ]) {
      const r = await bob(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(stderrLines(r), args.join(' ')).toEqual([expect.stringMatching(USAGE_LINE)]);
    }
  });
});

describe('call', () => {
  it('with no key known, says how to get one (exit 2)', async () => {
    const sent = gateway.requests.length;
    const r = await bob(['call', 'payments', '/payments']);
    expect(r.code).toBe(2);
    expect(stderrLines(r)).toEqual([expect.stringMatching(USAGE_LINE)]);
    expect(r.stderr).toContain('apigov keys create --app');
    const forApp = await bob(['call', 'payments', '/payments', '--app', 'bob-app']);
    expect(forApp.code).toBe(2);
    expect(forApp.stderr).toContain('apigov keys create --app bob-app');
    expect(gateway.requests).toHaveLength(sent);
  });

  it('an unknown API fails (exit 1); so does an environment it is not published in', async () => {
    const r = await bob(['call', 'nope', '/x', '--key', 'agk_x']);
    expect(r.code).toBe(1);
    expect(stderrLines(r)).toEqual([expect.stringContaining('[APIGOV_ERR_RESOURCE_NOT_FOUND]')]);
    const prod = await bob(['call', 'payments', '/payments', '--key', 'agk_x', '--env', 'prod']);
    expect(prod.code).toBe(1);
    expect(stderrLines(prod)).toEqual([expect.stringContaining('not published in prod')]);
  });

  it('bad call options are usage errors', async () => {
    for (const args of [
      ['call', 'payments'],
      ['call', 'payments', 'http://elsewhere/payments', '--key', 'k'],
      ['call', 'payments', '/payments', '--key', 'k', '-H', 'no colon'],
      ['call', 'payments', '/payments', '--key', 'k', '-X', 'GET POST'],
      ['call', 'payments', '/payments', '--key', 'k', '-d', '@/no/such/file'],
    ]) {
      const r = await bob(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(stderrLines(r), args.join(' ')).toHaveLength(1);
    }
  });

  it("sends the remembered key to the environment's gateway URL; 4xx exits 1 with the body printed", async () => {
    const created = JSON.parse((await bob(['keys', 'create', '--app', 'bob-app', '-o', 'json'])).stdout) as { key: string };
    gateway.requests.length = 0;
    const r = await bob(['call', 'payments', '/payments?limit=1', '-d', '{"amount":1}', '-H', 'X-Trace: t1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('HTTP 200 OK');
    expect(gateway.requests).toHaveLength(1);
    const req = gateway.requests[0];
    expect(req).toMatchObject({ method: 'POST', path: '/payments/v1/payments', query: { limit: '1' }, body: { amount: 1 } });
    expect(req.headers['x-api-key']).toBe(created.key);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['x-trace']).toBe('t1');
    expect(JSON.parse(r.stdout.slice(r.stdout.indexOf('\n') + 1))).toMatchObject({ method: 'POST', key: created.key });

    const included = await bob(['call', 'payments', '/payments', '-i']);
    expect(included.stdout).toMatch(/^HTTP 200 OK\n([a-z-]+: .*\n)*content-type: application\/json\n([a-z-]+: .*\n)*x-request-id: req-1\n\n\{\n/);

    // with its own x-api-key header and no --app/--key, nothing is added: the stand-in answers 401 without one
    const refused = await bob(['call', 'payments', '/payments', '-H', 'Authorization: Bearer x', '-o', 'json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ status: 401, body: { code: 'APIGOV_ERR_GATEWAY_MISSING_CREDENTIAL' } });
    expect(stderrLines(refused)).toEqual([expect.stringMatching(/answered 401 Unauthorized: no key \[APIGOV_ERR_GATEWAY_MISSING_CREDENTIAL\]$/)]);
  });
});

describe('traffic', () => {
  it('stats, health, errors and logs read an API with no traffic yet', async () => {
    const stats = await as('alex', ['stats', 'payments', '--env', 'dev', '--minutes', '5']);
    expect(stats.code, stats.stderr).toBe(0);
    expect(stats.stdout).toBe('payments, dev, last 5 minutes: no requests.\n');
    const health = await as('alex', ['health', 'payments']);
    expect(health.code, health.stderr).toBe(0);
    expect(health.stdout).toMatch(/^dev\s+no-gateway\s+\S+\s+0\/0\s+0\s+0%\s+-\s+v1:published$/m);
    for (const which of ['errors', 'logs']) {
      const r = await as('alex', [which, 'payments', '--limit', '5']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^No .*recorded for payments\.\n$/);
    }
    const bad = await as('alex', ['stats', 'payments', '--minutes', '0']);
    expect(bad.code).toBe(2);
  });

  it("stats and logs show what a gateway reported", async () => {
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
    const buckets = { '5': 9, '50': 1 };
    await admin('POST', '/v1/gateway/reports', {
      gateway: 'gw-test',
      environment: 'dev',
      appliedVersion: 1,
      startedAt: new Date().toISOString(),
      usage: [
        { minute, api: 'payments', version: 'v1', route: 'GET /payments', application: 'bob-app', statusClass: '2xx', count: 10, latencySumMs: 40, latencyBuckets: buckets },
        { minute, api: 'payments', version: 'v1', route: 'GET /payments', application: 'bob-app', statusClass: '4xx', count: 2, latencySumMs: 2, latencyBuckets: { '1': 2 } },
      ],
      errors: [{ at: new Date().toISOString(), api: 'payments', version: 'v1', status: 429, code: 'APIGOV_ERR_GATEWAY_RATE_LIMITED', requestId: 'req-429', application: 'bob-app', method: 'GET', path: '/payments/v1/payments' }],
      requests: [{ at: new Date().toISOString(), api: 'payments', version: 'v1', status: 200, requestId: 'req-200', application: 'bob-app', method: 'GET', path: '/payments/v1/payments', durationMs: 3 }],
    });
    const stats = await as('bob', ['stats', 'payments']);
    expect(stats.code, stats.stderr).toBe(0);
    expect(stats.stdout).toMatch(/^payments, all environments, last 60 minutes: 12 requests, 2 4xx \(16\.7%\), 0 5xx \(0%\)/);
    expect(stats.stdout).toMatch(/^bob-app\s+12\s+2\s+0\s+3\.5 ms\s+50 ms$/m);
    expect(stats.stdout).toMatch(new RegExp(`^${minute.slice(11, 16)}\\s+12\\s+2\\s+0\\s+50 ms$`, 'm'));
    const errors = await as('bob', ['errors', 'payments']);
    expect(errors.stdout).toMatch(/^TIME\s+STATUS\s+CODE\s+METHOD\s+PATH\s+APP\s+REQUEST-ID$/m);
    expect(errors.stdout).toMatch(/\s429\s+APIGOV_ERR_GATEWAY_RATE_LIMITED\s+GET\s+\/payments\/v1\/payments\s+bob-app\s+req-429$/m);
    const logs = JSON.parse((await as('bob', ['logs', 'payments', '--env', 'dev', '-o', 'json'])).stdout) as Array<{ requestId: string }>;
    expect(logs.map((l) => l.requestId)).toContain('req-200');
    const health = await as('alex', ['health', 'payments']);
    expect(health.stdout).toMatch(/^dev\s+(ok|drift)\s+\S+\s+[01]\/1\s+12\s+0%/m);
  });
});
