// Nothing lost, nothing doubled: two control planes (`apigov up`, real processes) on one PostgreSQL database run the
// webhook worker side by side and deliver each event once; then 1,000 changes are made while one of them is killed
// with SIGKILL at random moments and restarted, and every committed change has exactly one event, every event is
// delivered, and each event travels under one webhook-id (a resend after a crash reuses it, as receivers expect).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, PG_URL, postgresAvailable, ROOT } from './harness.js';

const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
const DB = `apigov_durability_${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'apigov-durability-'));
const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });

interface Plane {
  child: ChildProcess;
  url: string;
}

let available = false;
let dbUrl = '';
let receiver: Server;
let receiverUrl = '';
/** webhook-id → the event ids that came under it; event id → webhook-ids */
const byMessage = new Map<string, Set<string>>();
const byEvent = new Map<string, Set<string>>();
let requests = 0;

async function startPlane(): Promise<Plane> {
  const child = spawn(process.execPath, [CLI, 'up', '--port', '0', '--database-url', dbUrl, '--data-dir', join(dir, 'unused'), '--', '--no-gateways'], {
    cwd: ROOT,
    env: { ...process.env, APIGOV_ADMIN_TOKEN: ADMIN, APIGOV_WEBHOOK_ALLOW_CIDRS: '127.0.0.0/8', APIGOV_WEBHOOK_RETRY_DELAYS_MS: '0,200,400,800,1600', APIGOV_WEBHOOK_LEASE_SECONDS: '2', APIGOV_WEBHOOK_INTERVAL_MS: '50', APIGOV_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((ok, ko) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /apigov control plane listening on (\S+)/.exec(out);
      if (m) ok(m[1]!);
    });
    child.on('exit', (code) => ko(new Error(`apigov up exited with ${code}: ${out}`)));
  });
  return { child, url };
}

function kill(p: Plane): Promise<void> {
  return new Promise((r) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return r();
    p.child.on('exit', () => r());
    p.child.kill('SIGKILL');
  });
}

async function call(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(url + path, { method, headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text === '' ? null : JSON.parse(text) };
}

async function sql<T extends Record<string, unknown>>(text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

async function until(ok: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return ok();
}

beforeAll(async () => {
  available = await postgresAvailable();
  if (!available) return;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${DB}`);
  await admin.end();
  dbUrl = PG_URL.replace(/\/[^/]*$/, `/${DB}`);
  receiver = createServer((req, rsp) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      requests++;
      const id = String(req.headers['webhook-id']);
      const event = (JSON.parse(body) as { id: string }).id;
      (byMessage.get(id) ?? byMessage.set(id, new Set()).get(id)!).add(event);
      (byEvent.get(event) ?? byEvent.set(event, new Set()).get(event)!).add(id);
      rsp.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
}, 60_000);

afterAll(async () => {
  await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
  if (available) {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await admin.end();
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('webhook delivery across control planes and crashes', () => {
  it('two control planes deliver each event once; with SIGKILLs, every committed change has one event and every event arrives', async () => {
    if (!available) return;
    let a = await startPlane();
    const b = await startPlane();
    try {
      const setup = await call(a.url, 'POST', '/v1/apply', { documents: [res('Team', 'payments', {}), res('Application', 'checkout', { owner: 'payments' }), res('Webhook', 'everything', { url: receiverUrl, events: ['key.created'] })] });
      expect(setup.status, JSON.stringify(setup.body)).toBe(200);

      // both planes take changes and both run the worker: each event arrives once
      for (let i = 0; i < 200; i++) expect((await call(i % 2 === 0 ? a.url : b.url, 'POST', '/v1/applications/checkout/keys', {})).status).toBe(201);
      expect(await until(async () => byEvent.size === 200, 30_000)).toBe(true);
      expect(requests).toBe(200);
      expect([...byEvent.values()].every((ids) => ids.size === 1)).toBe(true);

      // 1,000 more while plane A is killed at random moments (a change in flight may or may not have committed)
      let made = 0;
      let killedTimes = 0;
      let nextKill = 50 + Math.floor(Math.random() * 150);
      while (made < 1000) {
        if (made >= nextKill) {
          // a change in flight on A when it dies: committed or not, never half
          const inFlight = call(a.url, 'POST', '/v1/applications/checkout/keys', {}).catch(() => undefined);
          await new Promise((r) => setTimeout(r, Math.random() * 5));
          await kill(a);
          await inFlight;
          killedTimes++;
          made++;
          a = await startPlane();
          nextKill = made + 50 + Math.floor(Math.random() * 200);
          continue;
        }
        try {
          await call(made % 3 === 0 ? b.url : a.url, 'POST', '/v1/applications/checkout/keys', {});
        } catch {
          /* cannot happen between kills; counted from the database anyway */
        }
        made++;
      }
      expect(killedTimes).toBeGreaterThanOrEqual(3);

      const [{ n: committed }] = await sql<{ n: string }>(`SELECT count(*) AS n FROM resources WHERE kind = 'Credential'`);
      const [{ n: events }] = await sql<{ n: string }>(`SELECT count(*) AS n FROM events WHERE type = 'key.created'`);
      const [{ n: distinct }] = await sql<{ n: string }>(`SELECT count(DISTINCT subject->>'name') AS n FROM events WHERE type = 'key.created'`);
      // every committed change has exactly one event
      expect(Number(events)).toBe(Number(committed));
      expect(Number(distinct)).toBe(Number(committed));
      // every event is delivered, each under one webhook-id
      expect(await until(async () => byEvent.size === Number(events), 60_000)).toBe(true);
      expect([...byEvent.values()].every((ids) => ids.size === 1)).toBe(true);
      expect([...byMessage.values()].every((evts) => evts.size === 1)).toBe(true);
      // a delivery sent just before its plane died is sent again once its lease ends (same webhook-id), then recorded
      const settled = async () => Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM deliveries WHERE state <> 'delivered'`))[0]!.n) === 0;
      expect(await until(settled, 20_000)).toBe(true);
      const [{ n: deliveries }] = await sql<{ n: string }>(`SELECT count(*) AS n FROM deliveries`);
      expect(Number(deliveries)).toBe(Number(events));
      console.log(`durability: ${made} changes, ${killedTimes} SIGKILLs, ${committed} committed, ${events} events, ${byEvent.size} delivered, ${requests - byEvent.size} resent after a crash`);
    } finally {
      await kill(a);
      await kill(b);
    }
  }, 300_000);
});
