// The CLI's events and webhooks, end to end: alex creates his team's webhook (the secret printed once), a publish
// reaches a receiver that verifies it with `standardwebhooks`, the deliveries are listed, a dead letter is replayed
// by id and by time, the secret is rotated, `apigov events` lists what happened; a private destination is exit 2.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { spawn } from 'node:child_process';
import { CLI, cli, ROOT, startHarness, type Harness } from './harness.js';

const SPEC = readFileSync(join(ROOT, 'examples', 'payments', 'openapi.yaml'), 'utf8');
const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });

let h: Harness;
let alex = '';
let server: Server;
let url = '';
let secret = '';
let up = true;
const got: Array<{ id: string; type: string }> = [];

async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(h.cp.url + path, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text === '' ? null : JSON.parse(text) };
}

async function until<T>(what: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  process.env.APIGOV_WEBHOOK_ALLOW_CIDRS = '127.0.0.0/8';
  h = await startHarness('pglite', { webhooks: { retryDelaysMs: [0, 50], intervalMs: 50 } });
  server = createServer((req, rsp) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      try {
        const e = new Webhook(secret).verify(body, req.headers as Record<string, string>) as { type: string };
        if (up) got.push({ id: String(req.headers['webhook-id']), type: e.type });
        rsp.writeHead(up ? 200 : 500).end();
      } catch {
        rsp.writeHead(401).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  const docs = [res('Team', 'payments', {}), res('Environment', 'dev', {}), res('GovernanceRuleset', 'open', { gates: [{ environment: '*', blockOn: 'never' }] })];
  expect((await call(h.adminToken, 'POST', '/v1/apply', { documents: docs })).status).toBe(200);
  alex = (await call(h.adminToken, 'POST', '/v1/users', res('User', 'alex', { team: 'payments', role: 'owner' }))).body.token;
  expect((await call(alex, 'POST', '/v1/apis/register', { name: 'payments', team: 'payments', spec: SPEC, upstreams: { dev: 'http://127.0.0.1:9' } })).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await h?.close();
  await new Promise((r) => server?.close(r));
  delete process.env.APIGOV_WEBHOOK_ALLOW_CIDRS;
});

describe('apigov webhooks and apigov events', () => {
  it('create prints the secret once; a publish arrives signed; deliveries, test, replay, rotate-secret, list, delete', async () => {
    const created = await cli(h, alex, ['webhooks', 'create', 'payments-events', '--url', url, '--events', 'api.version.published,api.version.deprecated']);
    expect(created.code, created.stderr).toBe(0);
    secret = created.stdout.trim();
    expect(secret).toMatch(/^whsec_/);
    expect(created.stderr).toBe(`webhook payments-events sends api.version.published, api.version.deprecated of team payments to ${url}; its signing secret is shown once: keep it with the receiver\n`);
    expect((await cli(h, alex, ['publish', 'payments', '--env', 'dev'])).code).toBe(0);
    await until(async () => got, (g) => g.length === 1);
    expect(got.map((g) => g.type)).toEqual(['api.version.published']);
    const deliveries = await cli(h, alex, ['webhooks', 'deliveries', 'payments-events', '-o', 'json']);
    expect(JSON.parse(deliveries.stdout).map((d: any) => [d.eventType, d.state, d.attempts, d.lastStatus])).toEqual([['api.version.published', 'delivered', 1, 200]]);
    const test = await cli(h, alex, ['webhooks', 'test', 'payments-events']);
    expect(test.code, test.stderr).toBe(0);
    expect(test.stdout).toBe('delivered: the receiver answered 200\n');

    // the receiver is down: the deprecation ends in the dead letters
    up = false;
    expect((await cli(h, alex, ['deprecate', 'payments', '--version', 'v1', '--env', 'dev', '--sunset', '2027-06-30'])).code).toBe(0);
    const failed = await until(async () => JSON.parse((await cli(h, alex, ['webhooks', 'deliveries', 'payments-events', '--failed', '-o', 'json'])).stdout), (items: any[]) => items.length === 1);
    expect(failed[0]).toMatchObject({ eventType: 'api.version.deprecated', state: 'failed', attempts: 2, lastStatus: 500 });
    const table = await cli(h, alex, ['webhooks', 'deliveries', 'payments-events', '--failed']);
    expect(table.stdout).toContain(failed[0].id);
    up = true;
    const replay = await cli(h, alex, ['webhooks', 'replay', failed[0].id]);
    expect(replay.stdout).toBe(`replaying ${failed[0].id}\n`);
    const events = async () => got.filter((g) => g.type !== 'webhook.test');
    await until(events, (g) => g.length === 2);
    expect((await events())[1]).toEqual({ id: failed[0].id, type: 'api.version.deprecated' });
    const bySince = await cli(h, alex, ['webhooks', 'replay', '--webhook', 'payments-events', '--since', '1h']);
    expect(bySince.stdout).toBe('replaying 0 failed deliveries of payments-events\n');
    const everyWebhook = await cli(h, alex, ['webhooks', 'replay', '--since', '1h']);
    expect(everyWebhook.stdout).toBe('replaying 0 failed deliveries of payments-events\n');

    // a new secret: the old one still signs for the overlap, so the receiver keeps verifying with either
    const rotated = await cli(h, alex, ['webhooks', 'rotate-secret', 'payments-events', '--overlap', '1h']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout.trim()).toMatch(/^whsec_/);
    expect(rotated.stdout.trim()).not.toBe(secret);
    expect((await cli(h, alex, ['webhooks', 'test', 'payments-events'])).code).toBe(0);
    secret = rotated.stdout.trim();
    expect((await cli(h, alex, ['webhooks', 'test', 'payments-events'])).code).toBe(0);

    const listed = await cli(h, alex, ['events', '--type', 'api.version.published,api.version.deprecated', '-o', 'json']);
    expect(JSON.parse(listed.stdout).map((e: any) => [e.type, e.subject.name, e.actor])).toEqual([
      ['api.version.published', 'payments', 'alex'],
      ['api.version.deprecated', 'payments', 'alex'],
    ]);
    const list = await cli(h, alex, ['webhooks', 'list']);
    expect(list.stdout).toContain(`payments-events  ${url}`);
    expect((await cli(h, alex, ['webhooks', 'delete', 'payments-events'])).stdout).toBe('deleted webhook payments-events\n');
    expect((await cli(h, alex, ['webhooks', 'list'])).stdout).toBe('No webhooks.\n');
  });

  it('apigov events --follow prints each new event as it is committed', async () => {
    const child = spawn(process.execPath, [CLI, 'events', '--follow', '--type', 'api.version.retired', '-o', 'json'], { env: { PATH: process.env.PATH ?? '', HOME: h.dir, APIGOV_URL: h.cp.url, APIGOV_TOKEN: alex, APIGOV_CONFIG: join(h.dir, 'follow.yaml'), NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await new Promise((r) => setTimeout(r, 1000));
      expect(out).toBe('');
      expect((await cli(h, alex, ['retire', 'payments', '--version', 'v1', '--env', 'dev'])).code).toBe(0);
      await until(async () => out, (o) => o.includes('\n'));
      const e = JSON.parse(out.trim().split('\n')[0]!);
      expect(e).toMatchObject({ type: 'api.version.retired', actor: 'alex', subject: { kind: 'Api', name: 'payments', version: 'v1', environment: 'dev' } });
    } finally {
      child.kill('SIGINT');
    }
  });

  it('a private destination is refused with exit 2 and nothing is created', async () => {
    const r = await cli(h, alex, ['webhooks', 'create', 'inside', '--url', 'http://10.0.0.1/hook', '--events', '*']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^apigov: spec\.url: webhooks may not send to http:\/\/10\.0\.0\.1\/hook: 10\.0\.0\.1 is a private address/);
    expect((await cli(h, alex, ['webhooks', 'list'])).stdout).toBe('No webhooks.\n');
  });
});
