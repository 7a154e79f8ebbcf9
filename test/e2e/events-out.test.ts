// Events out beyond plain webhooks, with real receivers: an SMTP server (smtp-server) gets the email format, a Slack-
// shaped receiver gets a message with blocks, a Jira-shaped one an issue body with the Authorization header read from
// the environment, and NATS JetStream on 127.0.0.1:4222 gets every event on apigov.events.<type> (`--events-nats`).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { connect, DeliverPolicy, StringCodec, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startHarness, type Harness } from './harness.js';

const SPEC = readFileSync(join(ROOT, 'examples', 'payments', 'openapi.yaml'), 'utf8');
const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });
const NATS_URL = process.env.APIGOV_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const API = `orders-${randomBytes(3).toString('hex')}`;

let h: Harness;
let smtp: SMTPServer;
let http: Server;
let nc: NatsConnection | undefined;
const mails: Array<{ to: string[]; raw: string }> = [];
const posts: Array<{ path: string; authorization?: string; body: any }> = [];

async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(h.cp.url + path, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text === '' ? null : JSON.parse(text) };
}

async function until(ok: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return ok();
}

async function natsAvailable(): Promise<boolean> {
  try {
    const c = await connect({ servers: NATS_URL, timeout: 2000 });
    await c.close();
    return true;
  } catch (e) {
    if (process.env.CI === 'true') throw new Error(`NATS with JetStream is required on CI at ${NATS_URL}: ${(e as Error).message}`);
    return false;
  }
}

let withNats = false;

beforeAll(async () => {
  process.env.APIGOV_WEBHOOK_ALLOW_CIDRS = '127.0.0.0/8';
  process.env.APIGOV_TEST_JIRA_AUTH = 'Basic YWxleEBleGFtcGxlLmNvbTp0b2tlbg==';
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, done) {
      let raw = '';
      stream.on('data', (d: Buffer) => (raw += d.toString()));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        done();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  process.env.APIGOV_SMTP_URL = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
  http = createServer((req, rsp) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      posts.push({ path: req.url ?? '', ...(req.headers.authorization !== undefined && { authorization: req.headers.authorization }), body: JSON.parse(body) });
      rsp.writeHead(req.url === '/jira' ? 201 : 200).end();
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  withNats = await natsAvailable();
  h = await startHarness('pglite', { webhooks: { intervalMs: 50 }, ...(withNats && { eventsNats: NATS_URL }) });
  const docs = [res('Team', 'orders', {}), res('Environment', 'dev', {}), res('GovernanceRuleset', 'open', { gates: [{ environment: '*', blockOn: 'never' }] })];
  expect((await call(h.adminToken, 'POST', '/v1/apply', { documents: docs })).status).toBe(200);
  if (withNats) nc = await connect({ servers: NATS_URL });
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await h?.close();
  await new Promise((r) => smtp?.close(() => r(undefined)));
  await new Promise((r) => http?.close(r));
  for (const v of ['APIGOV_WEBHOOK_ALLOW_CIDRS', 'APIGOV_SMTP_URL', 'APIGOV_TEST_JIRA_AUTH']) delete process.env[v];
});

describe('events out: email, Slack, Jira and NATS', () => {
  it('a publish reaches the mailbox, the Slack and Jira receivers and the NATS subject', async () => {
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const hooks = [
      res('Webhook', 'mail', { team: 'orders', url: 'mailto:orders-team@example.com,oncall@example.com', events: ['api.version.published'], format: 'email' }),
      res('Webhook', 'slack', { team: 'orders', url: `${base}/slack`, events: ['api.version.published'], format: 'slack' }),
      res('Webhook', 'jira', { team: 'orders', url: `${base}/jira`, events: ['api.version.published'], format: 'jira', jira: { project: 'OPS', issueType: 'Task' }, authorization: { fromEnv: 'APIGOV_TEST_JIRA_AUTH' } }),
    ];
    for (const w of hooks) expect((await call(h.adminToken, 'POST', '/v1/webhooks', w)).status).toBe(201);
    // an email webhook without mailto, and a jira one without its project, are refused
    expect((await call(h.adminToken, 'POST', '/v1/webhooks', res('Webhook', 'bad-mail', { team: 'orders', url: `${base}/x`, events: ['*'], format: 'email' }))).status).toBe(422);
    expect((await call(h.adminToken, 'POST', '/v1/webhooks', res('Webhook', 'bad-jira', { team: 'orders', url: `${base}/x`, events: ['*'], format: 'jira' }))).status).toBe(422);

    const consumer = withNats ? await nc!.jetstream().consumers.get('APIGOV_EVENTS', { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(Date.now() - 1000).toISOString() }) : undefined;
    expect((await call(h.adminToken, 'POST', '/v1/apis/register', { name: API, team: 'orders', spec: SPEC, upstreams: { dev: 'http://127.0.0.1:9' } })).status).toBe(201);
    expect((await call(h.adminToken, 'POST', `/v1/apis/${API}/versions/v1/publish`, { environment: 'dev' })).status).toBe(200);

    expect(await until(() => mails.length === 1 && posts.length === 2)).toBe(true);
    expect(mails[0]!.to).toEqual(['orders-team@example.com', 'oncall@example.com']);
    expect(mails[0]!.raw).toContain(`Subject: [apigov] Api ${API} v1 was published in dev by admin.`);
    expect(mails[0]!.raw).toContain('Content-Type: text/html');
    expect(mails[0]!.raw).toContain('Content-Type: text/plain');
    const slack = posts.find((p) => p.path === '/slack')!;
    expect(slack.body.text).toBe(`Api ${API} v1 was published in dev by admin.`);
    expect(slack.body.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'api.version.published' } });
    const jira = posts.find((p) => p.path === '/jira')!;
    expect(jira.authorization).toBe('Basic YWxleEBleGFtcGxlLmNvbTp0b2tlbg==');
    expect(jira.body.fields).toMatchObject({ project: { key: 'OPS' }, issuetype: { name: 'Task' }, summary: `Api ${API} v1 was published in dev by admin.` });
    const deliveries = (await call(h.adminToken, 'GET', '/v1/webhooks/mail/deliveries')).body.items;
    expect(deliveries[0]).toMatchObject({ state: 'delivered', lastStatus: 250 });
    // the Authorization value is never stored in the resource
    expect(JSON.stringify((await call(h.adminToken, 'GET', '/v1/webhooks/jira')).body)).not.toContain('YWxleE');

    if (consumer !== undefined) {
      const codec = StringCodec();
      let found: any;
      const end = Date.now() + 10_000;
      while (found === undefined && Date.now() < end) {
        const m = await consumer.next({ expires: 1000 });
        if (m === null) continue;
        const e = JSON.parse(codec.decode(m.data));
        if (e.subject.name === API && e.type === 'api.version.published') found = { subject: m.subject, event: e, msgId: m.headers?.get('Nats-Msg-Id') };
      }
      expect(found).toBeDefined();
      expect(found.subject).toBe('apigov.events.api.version.published');
      expect(found.event).toMatchObject({ type: 'api.version.published', subject: { kind: 'Api', name: API, version: 'v1', environment: 'dev' } });
      expect(found.msgId).toBe(found.event.id);
    }
  }, 60_000);
});
