// Snapshots from the control plane as operators see them: long-poll contract, propagation, refusal of invalid
// snapshots (last good kept, reported), restart from the cache dir with the control plane down, 50 swaps under
// keep-alive load with zero failed requests, a large snapshot loading while the applied one serves, usage reports
// with correct counts, and the redacted access log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import type { GatewaySnapshot } from '@apigov/model';
import { startPaymentsService, type PaymentsService } from '../../../examples/payments/src/index.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { computeSnapshotHash } from '../src/snapshot.js';
import { buildSnapshot, paymentsRoute } from './snapshot-fixture.js';
import { startControlPlaneStandIn, type ControlPlaneStandIn } from './control-plane-stand-in.js';

let service: PaymentsService;
let dir: string;

beforeAll(async () => {
  service = await startPaymentsService();
  dir = await mkdtemp(join(tmpdir(), 'apigov-gw-'));
});
afterAll(async () => {
  await service.close();
  await rm(dir, { recursive: true, force: true });
});

async function status(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await request(url, { headers });
  await res.body.dump();
  return res.statusCode;
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<number> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - t0;
}

async function snapshotV(version: number, extra: { prefix?: string } = {}): Promise<GatewaySnapshot> {
  return buildSnapshot({ version, routes: [await paymentsRoute(service.url, { ...(extra.prefix !== undefined && { prefix: extra.prefix }) })] });
}

describe('snapshots from the control plane', () => {
  let cp: ControlPlaneStandIn;
  let gw: Gateway;
  const cacheDir = () => join(dir, 'cache-dev');

  beforeAll(async () => {
    cp = await startControlPlaneStandIn({ token: 't0ken' });
    cp.publish(await snapshotV(1));
    gw = await startGateway({ environment: 'dev', port: 0, adminPort: 0, accessLog: 'off', controlPlaneUrl: cp.url, token: 't0ken', cacheDir: cacheDir(), reportIntervalMs: 200, snapshotWaitSeconds: 5 });
  });
  afterAll(async () => {
    await gw?.close();
    await cp?.stop();
  });

  it('starts with the control plane snapshot, long-polling with environment, since, wait and the token', async () => {
    expect(gw.status().version).toBe(1);
    expect(await status(`${gw.url}/payments/v1/payments`)).toBe(200);
    await until(() => cp.snapshotRequests.some((r) => r.since === '1'));
    const poll = cp.snapshotRequests.find((r) => r.since === '1')!;
    expect(poll).toMatchObject({ environment: 'dev', wait: '5', authorization: 'Bearer t0ken' });
  });

  it('enforces a published change in well under a second', async () => {
    cp.publish(await snapshotV(2, { prefix: '/pay/v1' }));
    const ms = await until(async () => (await status(`${gw.url}/pay/v1/payments`)) === 200);
    expect(ms).toBeLessThan(1000);
    expect(await status(`${gw.url}/payments/v1/payments`)).toBe(404);
  });

  it('refuses a snapshot whose hash does not match, keeps the last good one and reports the refusal', async () => {
    const bad = { ...(await snapshotV(3)), hash: 'f'.repeat(64) };
    cp.publish(bad);
    await until(() => gw.status().lastRejection?.version === 3);
    expect(gw.status().version).toBe(2);
    expect(gw.status().lastRejection?.reason).toMatch(/hash mismatch/);
    expect(await status(`${gw.url}/pay/v1/payments`)).toBe(200);
    const metrics = await (await request(`${gw.adminUrl}/metrics`)).body.text();
    expect(metrics).toMatch(/apigov_snapshot_rejected_total 1/);
    await until(() => cp.reports.some((r) => r.rejected?.version === 3 && r.appliedVersion === 2));
    const snap = (await (await request(`${gw.adminUrl}/snapshot`)).body.json()) as { version: number; lastRejection: { version: number } };
    expect(snap).toMatchObject({ version: 2, lastRejection: { version: 3 } });
  });

  it('refuses a snapshot a policy cannot compile', async () => {
    const route = await paymentsRoute(service.url, { policies: { ipFilter: { allow: ['999.1.2.3/8'], deny: [] } } });
    cp.publish(buildSnapshot({ version: 4, routes: [route] }));
    await until(() => gw.status().lastRejection?.version === 4);
    expect(gw.status().lastRejection?.reason).toMatch(/ipFilter/);
    expect(gw.status().version).toBe(2);
  });

  it('reports usage per route and status class with the right counts', async () => {
    const before = cp.reports.length;
    for (let i = 0; i < 7; i++) expect(await status(`${gw.url}/pay/v1/payments`)).toBe(200);
    expect(await status(`${gw.url}/pay/v1/payments/nope`)).toBe(404);
    const sum = (cls: string) =>
      cp.reports
        .slice(before)
        .flatMap((r) => r.usage)
        .filter((u) => u.route === 'payments/v1' && u.statusClass === cls)
        .reduce((s, u) => s + u.count, 0);
    await until(() => sum('2xx') === 7 && sum('4xx') === 1);
    const entry = cp.reports.slice(before).flatMap((r) => r.usage).find((u) => u.statusClass === '2xx')!;
    expect(entry).toMatchObject({ api: 'payments', version: 'v1' });
    expect(Object.keys(entry.latencyBuckets)).toEqual(['1', '2', '5', '10', '25', '50', '100', '250', '500', '1000', '2500', '5000', '10000', '+Inf']);
    expect(cp.reports.at(-1)!.gateway).toMatch(/:\d+:\d+$/);
  });

  it('restarts from its cache dir while the control plane is down, and still serves', async () => {
    await gw.close();
    await cp.stop();
    const cached = JSON.parse(await readFile(join(cacheDir(), 'snapshot.json'), 'utf8')) as { version: number };
    expect(cached.version).toBe(2);
    const again = await startGateway({ environment: 'dev', port: 0, adminPort: 0, accessLog: 'off', controlPlaneUrl: cp.url, cacheDir: cacheDir(), snapshotWaitSeconds: 1 });
    try {
      expect(again.status().version).toBe(2);
      expect(await status(`${again.url}/pay/v1/payments`)).toBe(200);
      expect(await status(`${again.adminUrl}/ready`)).toBe(200);
    } finally {
      await again.close();
    }
  });
});

describe('snapshot swaps under load', () => {
  it('applies 50 snapshot changes while a client sends requests on keep-alive connections, with zero failures', async () => {
    const gw = await startGateway({ environment: 'dev', port: 0, adminPort: null, accessLog: 'off', snapshot: await snapshotV(1) });
    const agent = new Agent({ connections: 4, pipelining: 1 });
    let ok = 0;
    const failures: string[] = [];
    let stop = false;
    const client = async (): Promise<void> => {
      while (!stop || ok < 2000) {
        try {
          const res = await request(`${gw.url}/payments/v1/payments?limit=1`, { dispatcher: agent });
          await res.body.dump();
          if (res.statusCode === 200) ok++;
          else failures.push(String(res.statusCode));
        } catch (err) {
          failures.push(String(err));
        }
        if (failures.length > 20) return;
      }
    };
    const clients = [client(), client(), client(), client()];
    const prefixes = ['/payments/v1', '/payments/v1'];
    for (let v = 2; v <= 51; v++) {
      // every snapshot keeps the route (with different policies), so every request must succeed
      const route = await paymentsRoute(service.url, { prefix: prefixes[v % 2]!, policies: v % 3 === 0 ? { headers: { request: { add: { 'x-v': String(v) }, remove: [], rename: {} } } } : { requestValidation: { enabled: true, body: true, parameters: true, rejectUnknownOperations: v % 2 === 0 } } });
      await gw.applySnapshot(buildSnapshot({ version: v, routes: [route] }));
      await new Promise((r) => setTimeout(r, 10));
    }
    stop = true;
    await Promise.all(clients);
    await agent.close();
    expect(gw.stats().snapshotsApplied).toBe(51);
    await gw.close();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThanOrEqual(2000);
  });
});

describe('large snapshots load between requests', () => {
  /** 3,000 copies of the payments API (each under its own prefix) and 30,000 API keys: a load of many slices */
  async function largeSnapshot(version: number): Promise<{ snapshot: GatewaySnapshot; text: string }> {
    const routes = [await paymentsRoute(service.url)];
    for (let i = 0; i < 3000; i++) routes.push(await paymentsRoute(service.url, { id: `copy-${i}/v1` }));
    const apiKeys: GatewaySnapshot['apiKeys'] = {};
    for (let i = 0; i < 30_000; i++) apiKeys[createHash('sha256').update(`key-${i}`).digest('hex')] = { credential: `cred-${i}`, application: `app-${i % 100}` };
    const snapshot = buildSnapshot({ version, routes, apiKeys });
    return { snapshot, text: JSON.stringify(snapshot) };
  }

  it('keeps serving from the applied snapshot while a large one loads, then swaps it in', async () => {
    const gw = await startGateway({ environment: 'dev', port: 0, adminPort: null, accessLog: 'off', snapshot: await snapshotV(1) });
    const { text } = await largeSnapshot(2);
    const agent = new Agent({ connections: 1, pipelining: 1 });
    expect(await status(`${gw.url}/payments/v1/payments?limit=1`)).toBe(200);
    let swapped = false;
    const loading = gw.applySnapshot(text).then(() => {
      swapped = true;
    });
    // answered while the load goes on: served by version 1, before the swap
    const servedMeanwhile: number[] = [];
    while (!swapped) {
      const res = await request(`${gw.url}/payments/v1/payments?limit=1`, { dispatcher: agent });
      await res.body.dump();
      if (!swapped) servedMeanwhile.push(res.statusCode * 10 + gw.stats().snapshotVersion);
    }
    await loading;
    await agent.close();
    expect(servedMeanwhile.length).toBeGreaterThanOrEqual(3);
    expect(new Set(servedMeanwhile)).toEqual(new Set([2001])); // 200 from snapshot version 1
    expect(gw.stats().snapshotVersion).toBe(2);
    expect(gw.status().routes).toBe(3001);
    expect(await status(`${gw.url}/copy-2999/v1/payments?limit=1`)).toBe(200);
    await gw.close();
  });

  it('refuses a large snapshot with one bad entry, naming it, and keeps the applied one', async () => {
    const gw = await startGateway({ environment: 'dev', port: 0, adminPort: null, accessLog: 'off', snapshot: await snapshotV(1) });
    const { snapshot } = await largeSnapshot(2);
    const badRoute = structuredClone(snapshot) as unknown as { routes: Array<Record<string, unknown>>; hash: string };
    badRoute.routes[2500]!.upstream = 'not a url';
    badRoute.hash = computeSnapshotHash(badRoute as unknown as Record<string, unknown>);
    await expect(gw.applySnapshot(JSON.stringify(badRoute))).rejects.toThrow(/^snapshot does not match the format: routes\.2500\.upstream: /);
    const badKey = structuredClone(snapshot) as unknown as { apiKeys: Record<string, unknown>; hash: string };
    badKey.apiKeys['not-a-digest'] = { credential: 'c', application: 'a' };
    badKey.apiKeys[Object.keys(badKey.apiKeys)[20_000]!] = { credential: 'c' };
    badKey.hash = computeSnapshotHash(badKey as unknown as Record<string, unknown>);
    await expect(gw.applySnapshot(JSON.stringify(badKey))).rejects.toThrow(/^snapshot does not match the format: apiKeys\.[0-9a-f]{64}\.application: .* \(and 1 more\)$/);
    const badHash = { ...snapshot, warnings: ['changed after hashing'] };
    await expect(gw.applySnapshot(JSON.stringify(badHash))).rejects.toThrow(/^snapshot hash mismatch/);
    expect(gw.stats()).toMatchObject({ snapshotVersion: 1, snapshotsRefused: 3 });
    expect(await status(`${gw.url}/payments/v1/payments?limit=1`)).toBe(200);
    await gw.close();
  });
});

describe('a snapshot that changes only keys and subscriptions', () => {
  const key = (i: number): string => `agk_test_key_${i}_0123456789abcdef0123456789abcdef`;
  const digest = (k: string): string => createHash('sha256').update(k).digest('hex');
  const policies = { apiKeyAuth: { header: 'x-api-key' }, subscription: { required: true } };

  /** 2,000 routes behind key auth and subscriptions; applications app-0..app-9 hold keys 0..9, app-i subscribed as `subscribed` says */
  async function keyedSnapshot(version: number, parts: { keys: number[]; subscribed: number[]; upstreamOf?: (i: number) => string; plans?: GatewaySnapshot['plans'] }): Promise<string> {
    const routes = [await paymentsRoute(service.url, { policies })];
    for (let i = 0; i < 2000; i++) routes.push(await paymentsRoute(parts.upstreamOf?.(i) ?? service.url, { id: `copy-${i}/v1`, policies }));
    const apiKeys: GatewaySnapshot['apiKeys'] = {};
    for (const i of parts.keys) apiKeys[digest(key(i))] = { credential: `cred-${i}`, application: `app-${i}` };
    const consumers: GatewaySnapshot['consumers'] = {};
    for (let i = 0; i < 10; i++) consumers[`app-${i}`] = { application: `app-${i}`, team: 'orders', subscriptions: parts.subscribed.includes(i) ? { 'payments/v1': { plan: 'free' } } : {} };
    return JSON.stringify(buildSnapshot({ version, routes, apiKeys, consumers, plans: parts.plans ?? { free: { rateLimit: { perMinute: 1000 } } } }));
  }

  it('keeps its compiled routes and swaps in the new keys and subscriptions; a route or plan change compiles them again', async () => {
    const gw = await startGateway({ environment: 'dev', port: 0, adminPort: null, accessLog: 'off', snapshot: await snapshotV(1) });
    const call = (i: number): Promise<number> => status(`${gw.url}/payments/v1/payments?limit=1`, { 'x-api-key': key(i) });
    await gw.applySnapshot(await keyedSnapshot(2, { keys: [0, 1, 2], subscribed: [0, 1] }));
    expect(gw.status()).toMatchObject({ version: 2, routes: 2001, routesReused: false });
    expect([await call(0), await call(1), await call(2), await call(3)]).toEqual([200, 200, 403, 401]);
    const fullCompileMs = gw.status().compileMs!;

    // key 1 revoked, key 3 created, app-2 subscribed: the same routes, text for text
    await gw.applySnapshot(await keyedSnapshot(3, { keys: [0, 2, 3], subscribed: [0, 1, 2] }));
    expect(gw.status()).toMatchObject({ version: 3, routes: 2001, routesReused: true });
    expect(gw.status().compileMs!).toBeLessThan(fullCompileMs);
    expect([await call(0), await call(1), await call(2), await call(3)]).toEqual([200, 401, 200, 403]);

    // one route's upstream moves: everything is compiled again, and served from the new snapshot
    await gw.applySnapshot(await keyedSnapshot(4, { keys: [0, 2, 3], subscribed: [0, 1, 2], upstreamOf: (i) => (i === 7 ? 'http://127.0.0.1:9/' : service.url) }));
    expect(gw.status()).toMatchObject({ version: 4, routesReused: false });
    expect(await call(0)).toBe(200);
    // plans change the limits compiled into the routes: compiled again too
    // (counters outlive snapshots: a fresh application shows the new limit)
    await gw.applySnapshot(await keyedSnapshot(5, { keys: [0, 2, 3, 5], subscribed: [0, 1, 2, 5], upstreamOf: (i) => (i === 7 ? 'http://127.0.0.1:9/' : service.url), plans: { free: { rateLimit: { perMinute: 1 } } } }));
    expect(gw.status()).toMatchObject({ version: 5, routesReused: false });
    expect([await call(5), await call(5)]).toEqual([200, 429]);
    // and the next key-only change reuses these routes, limits included
    await gw.applySnapshot(await keyedSnapshot(6, { keys: [0, 4], subscribed: [0, 4], upstreamOf: (i) => (i === 7 ? 'http://127.0.0.1:9/' : service.url), plans: { free: { rateLimit: { perMinute: 1 } } } }));
    expect(gw.status()).toMatchObject({ version: 6, routesReused: true });
    expect([await call(4), await call(4), await call(2)]).toEqual([200, 429, 401]);
    // the same routes do not excuse the rest from the hash: a key slipped in after hashing is refused
    const forged = JSON.parse(await keyedSnapshot(7, { keys: [0, 4], subscribed: [0, 4], upstreamOf: (i) => (i === 7 ? 'http://127.0.0.1:9/' : service.url), plans: { free: { rateLimit: { perMinute: 1 } } } })) as GatewaySnapshot;
    forged.apiKeys[digest(key(9))] = { credential: 'cred-9', application: 'app-0' };
    await expect(gw.applySnapshot(JSON.stringify(forged))).rejects.toThrow(/^snapshot hash mismatch/);
    expect(gw.status()).toMatchObject({ version: 6 });
    expect(await call(9)).toBe(401);
    await gw.close();
  });
});

describe('access log', () => {
  it('writes one JSON line per request with credentials redacted', async () => {
    const file = join(dir, 'access.log');
    const route = await paymentsRoute(service.url, { withoutOperations: true, policies: {} });
    const gw = await startGateway({ environment: 'dev', port: 0, adminPort: null, accessLog: file, redact: ['card'], snapshot: buildSnapshot({ routes: [route] }) });
    await status(`${gw.url}/payments/v1/payments?api_key=QUERYSECRET&card=4111111111111111&limit=1`, { 'x-api-key': 'HEADERSECRET', authorization: 'Bearer TOKENSECRET', cookie: 'session=COOKIESECRET', 'x-request-id': 'log-1' });
    await status(`${gw.url}/nowhere`);
    await gw.close();
    const text = await readFile(file, 'utf8');
    for (const secret of ['QUERYSECRET', '4111111111111111', 'HEADERSECRET', 'TOKENSECRET', 'COOKIESECRET']) expect(text).not.toContain(secret);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ requestId: 'log-1', method: 'GET', path: '/payments/v1/payments?api_key=[REDACTED]&card=[REDACTED]&limit=1', route: 'payments/v1', status: 200, clientIp: '127.0.0.1' });
    expect(typeof lines[0]!.time).toBe('number');
    expect(typeof lines[0]!.durationMs).toBe('number');
    expect(typeof lines[0]!.upstreamMs).toBe('number');
    expect(lines[0]!.bytes).toBeGreaterThan(0);
    expect(lines[1]).toMatchObject({ path: '/nowhere', status: 404, code: 'APIGOV_ERR_GATEWAY_NO_ROUTE' });
  });
});
