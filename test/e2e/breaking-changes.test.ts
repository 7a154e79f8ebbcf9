// The breaking-change engine end to end: alex publishes payments v1 to dev, bob's app calls GET /payments through a
// real gateway, alex's new revision of v1 (a query parameter made required, a response field removed) is refused with
// every breaking change and bob-app's calls listed; registered as v2 it is accepted, its changelog lists the same
// changes, and the portal (Debian's chromium) shows that changelog.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { chromium, type Browser } from 'playwright-core';
import { startGateway, type Gateway } from '@apigov/gateway';
import { startPaymentsService } from '../../examples/payments/src/index.js';
import { cli, ROOT, startHarness, type Harness } from './harness.js';

const PAYMENTS_SPEC = readFileSync(join(ROOT, 'examples', 'payments', 'openapi.yaml'), 'utf8');
const CHROMIUM = process.env.APIGOV_CHROMIUM ?? '/usr/bin/chromium';
const PORTAL_BUILT = existsSync(join(ROOT, 'packages', 'portal', 'dist', 'index.html'));

let h: Harness;
let payments: Awaited<ReturnType<typeof startPaymentsService>>;
let dev: Gateway;
const tokens: Record<string, string> = {};
let revisionFile = '';
let bobKey = '';

const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });

async function api(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const r = await fetch(h.cp.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text === '' ? {} : JSON.parse(text) };
}

async function ok(token: string, method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const r = await api(token, method, path, body);
  if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function until(probe: () => Promise<boolean>, limitMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!(await probe())) {
    if (Date.now() - t0 > limitMs) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** v1's next revision: `status` on GET /payments becomes required and Payment loses `description`. */
function breakingRevision(): string {
  const doc = YAML.parse(PAYMENTS_SPEC);
  doc.info.version = '1.1.0';
  const status = (doc.paths['/payments'].get.parameters as Array<Record<string, unknown>>).find((p) => p.name === 'status');
  if (status === undefined) throw new Error('the payments example has no status parameter on GET /payments');
  status.required = true;
  delete doc.components.schemas.Payment.properties.description;
  doc.components.schemas.Payment.required = (doc.components.schemas.Payment.required as string[]).filter((r) => r !== 'description');
  return YAML.stringify(doc);
}

beforeAll(async () => {
  h = await startHarness('pglite');
  payments = await startPaymentsService({ port: 0 });
  await ok(h.adminToken, 'POST', '/v1/apply', {
    documents: [
      res('Team', 'payments', {}),
      res('Team', 'orders', {}),
      res('Environment', 'dev', { order: 0 }),
      res('Plan', 'free', { rateLimit: { perMinute: 600 }, approval: 'auto' }),
      res('Policy', 'platform-dev', { targetRef: { kind: 'Environment', name: 'dev' }, apiKeyAuth: {}, subscription: {} }),
    ],
  });
  for (const [name, team, role] of [
    ['alex', 'payments', 'owner'],
    ['bob', 'orders', 'member'],
  ]) {
    tokens[name] = (await ok(h.adminToken, 'POST', '/v1/users', res('User', name, { team, role }))).token;
  }
  dev = await startGateway({ controlPlaneUrl: h.cp.url, token: h.gatewayToken, environment: 'dev', port: 0, adminPort: 0, accessLog: 'off', reportIntervalMs: 300, cacheDir: join(h.dir, 'gw-dev') });
  revisionFile = join(h.dir, 'payments-1.1.0.yaml');
  writeFileSync(revisionFile, breakingRevision());
}, 120_000);

afterAll(async () => {
  await dev?.close();
  await payments?.close();
  await h?.close();
});

const alex = (...args: string[]) => cli(h, tokens.alex, args);
const bob = (...args: string[]) => cli(h, tokens.bob, args);

describe('a breaking revision of a published version', () => {
  it('alex publishes payments v1 to dev; bob-app calls GET /payments three times through the gateway', async () => {
    await ok(tokens.alex, 'POST', '/v1/apis/register', { name: 'payments', team: 'payments', spec: PAYMENTS_SPEC, upstreams: { dev: payments.url } });
    await ok(tokens.alex, 'POST', '/v1/apis/payments/versions/v1/publish', { environment: 'dev' });
    expect((await bob('apps', 'create', 'bob-app')).code).toBe(0);
    expect((await bob('subscribe', 'payments', '--app', 'bob-app', '--plan', 'free', '--env', 'dev')).code).toBe(0);
    bobKey = JSON.parse((await bob('keys', 'create', '--app', 'bob-app', '-o', 'json')).stdout).key;
    await until(async () => (await fetch(`${dev.url}/payments/v1/payments`, { headers: { 'x-api-key': bobKey } })).status === 200);
    // the probe above made the first call; two more
    for (let i = 0; i < 2; i++) expect((await fetch(`${dev.url}/payments/v1/payments?limit=5`, { headers: { 'x-api-key': bobKey } })).status).toBe(200);
    // the gateway reports usage per operation within a second
    await until(async () => {
      const rows = await h.sql(`SELECT sum(count)::int AS n FROM usage_minutes WHERE api = 'payments' AND operation = 'GET /payments' AND application = 'bob-app'`);
      return Number(rows[0]?.n ?? 0) >= 3;
    });
  });

  it('the new revision of v1 is refused, listing every breaking change with bob-app and its calls; nothing is stored', async () => {
    const before = await ok(tokens.alex, 'GET', '/v1/apis/payments/versions/v1/openapi');
    const r = await alex('register', '--spec', revisionFile, '--name', 'payments', '--version', '1');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/APIGOV_ERR_SPEC_BREAKING_CHANGE/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/payments v1 is published in dev; this revision breaks it in \d+ places: 1\) /);
    expect(r.stderr).toMatch(/GET \/payments: query parameter 'status' became required \(affects bob-app: 3 calls\)/);
    expect(r.stderr).toMatch(/response property 'items\[\]\.description' \(200, application\/json\) removed/);
    expect(r.stdout).toMatch(/Breaking changes \(\d+\):/);
    expect(r.stdout).toMatch(/migration: Send the query parameter 'status' in every request\./);
    expect(r.stdout).toMatch(/affects: bob-app \(orders\): 3 calls in 30 days, subscribed in dev/);

    // the same refusal over REST, as problem+json
    const rest = await api(tokens.alex, 'POST', '/v1/apis/register', { name: 'payments', version: '1', spec: readFileSync(revisionFile, 'utf8') });
    expect(rest.status).toBe(409);
    expect(rest.body.code).toBe('APIGOV_ERR_SPEC_BREAKING_CHANGE');
    const changes = rest.body.breakingChanges as Array<Record<string, any>>;
    const ids = changes.map((c) => `${c.id} ${c.operation}`);
    expect(ids).toContain('request-parameter-became-required GET /payments');
    expect(ids).toContain('response-property-removed GET /payments');
    expect(changes.every((c) => c.level === 'breaking')).toBe(true);
    expect(rest.body.errors).toHaveLength(changes.length);
    const required = changes.find((c) => c.id === 'request-parameter-became-required')!;
    expect(required.affectedConsumers).toEqual([{ application: 'bob-app', team: 'orders', environments: ['dev'], subscribed: true, requests: 3 }]);
    // an operation bob never called lists him as subscribed, with no calls
    const other = changes.find((c) => c.operation !== 'GET /payments');
    if (other) expect(other.affectedConsumers).toEqual([{ application: 'bob-app', team: 'orders', environments: ['dev'], subscribed: true, requests: 0 }]);

    expect(await ok(tokens.alex, 'GET', '/v1/apis/payments/versions/v1/openapi')).toEqual(before);
    const versions = JSON.parse((await alex('versions', 'payments', '-o', 'json')).stdout) as Array<{ name: string; revision: string }>;
    expect(versions.map((v) => `${v.name} ${v.revision}`)).toEqual(['v1 1.0.0']);
  });

  it('registered as v2 it is accepted, and its changelog lists the same changes', async () => {
    const refused = (await api(tokens.alex, 'POST', '/v1/apis/register', { name: 'payments', version: '1', spec: readFileSync(revisionFile, 'utf8') })).body.breakingChanges as Array<{ id: string; operation?: string; fingerprint: string }>;
    const r = await alex('register', '--spec', revisionFile, '--name', 'payments', '--version', '2', '--upstream', `dev=${payments.url}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Changes from v1 to v2 \(revision 1\.1\.0\): \d+ breaking/);
    expect(r.stdout).toMatch(/\[breaking\] GET \/payments: query parameter 'status' became required/);

    const log = JSON.parse((await alex('changelog', 'payments', '-o', 'json')).stdout) as { from: string; to: string; changes: Array<{ id: string; operation?: string; fingerprint: string; level: string; affectedConsumers?: unknown[] }> };
    expect([log.from, log.to]).toEqual(['v1', 'v2']);
    const breaking = log.changes.filter((c) => c.level === 'breaking');
    expect(breaking.map((c) => `${c.id} ${c.operation} ${c.fingerprint}`).sort()).toEqual(refused.map((c) => `${c.id} ${c.operation} ${c.fingerprint}`).sort());
    expect(breaking.find((c) => c.id === 'request-parameter-became-required')!.affectedConsumers).toEqual([{ application: 'bob-app', team: 'orders', environments: ['dev'], subscribed: true, requests: 3 }]);

    const md = await alex('changelog', 'payments');
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/^# payments: v1 → v2$/m);
    expect(md.stdout).toMatch(/^## `GET \/payments`$/m);
    expect(md.stdout).toMatch(/- \*\*breaking\*\* query parameter 'status' became required/);
    expect(md.stdout).toMatch(/Affects: bob-app \(orders\): 3 calls in 30 days, subscribed in dev/);
    const html = await alex('changelog', 'payments', '--from', 'v1', '--to', 'v2', '-o', 'html');
    expect(html.stdout).toMatch(/^<!doctype html>/);
    expect(html.stdout).toContain('query parameter &#39;status&#39; became required'.replace(/&#39;/g, "'"));

    // bob sees the changelog too, with only his own team's applications named
    const bobs = JSON.parse((await bob('changelog', 'payments', '-o', 'json')).stdout) as typeof log;
    expect(bobs.changes.find((c) => c.id === 'request-parameter-became-required')!.affectedConsumers).toEqual([{ application: 'bob-app', team: 'orders', environments: ['dev'], subscribed: true, requests: 3 }]);
  });

  it('bad input to the diff is a clear error and changes nothing', async () => {
    expect((await api(tokens.alex, 'POST', '/v1/apis/nope/diff', {})).status).toBe(404);
    const unknown = await api(tokens.alex, 'POST', '/v1/apis/payments/diff', { from: 'v7' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors[0].path).toBe('from');
    const bad = await api(tokens.alex, 'POST', '/v1/apis/payments/diff', { spec: 'openapi: 3.0.0\ninfo: [' });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toMatch(/^APIGOV_ERR_SPEC_/);
    const remote = await api(tokens.alex, 'POST', '/v1/apis/payments/diff', { spec: PAYMENTS_SPEC.replace("$ref: '#/components/schemas/Payment'", "$ref: 'https://example.com/payment.yaml'") });
    expect(remote.status).toBe(422);
    const extra = await api(tokens.alex, 'POST', '/v1/apis/payments/diff', { nope: 1 });
    expect(extra.status).toBe(422);
    const cliUnknown = await alex('breaking', 'payments@v9', revisionFile);
    expect(cliUnknown.code).toBe(2);
    expect(cliUnknown.stderr).toMatch(/^apigov: base payments@v9: /);
    // a registered version against a file, fetched over REST
    const against = await alex('breaking', 'payments@v1', revisionFile, '-o', 'json');
    expect(against.code).toBe(1);
    expect((JSON.parse(against.stdout) as { changes: Array<{ id: string }> }).changes.map((c) => c.id)).toContain('request-parameter-became-required');
  });

  it('the portal shows that changelog on the API page', async () => {
    if (process.env.CI !== 'true' && (!existsSync(CHROMIUM) || !PORTAL_BUILT)) return;
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
      const page = await (await browser.newContext({ baseURL: h.cp.url })).newPage();
      page.setDefaultTimeout(20_000);
      await page.goto('/');
      await page.getByLabel('Access token').fill(tokens.alex);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByText('Signed in as').waitFor();
      await page.goto('/apis/payments');
      await page.getByRole('heading', { name: 'Changes between versions' }).waitFor();
      const section = page.getByRole('region', { name: 'Changes to GET /payments', exact: true });
      await section.waitFor();
      await expect.poll(() => section.innerText()).toMatch(/breaking\s+query parameter 'status' became required/);
      const text = await section.innerText();
      expect(text).toMatch(/Migration: Send the query parameter 'status' in every request\./);
      expect(text).toMatch(/Affects: bob-app \(orders\): 3 calls in 30 days/);
      expect(await page.getByText(/\d+ breaking, \d+ warnings, \d+ other changes from v1 to v2\./).count()).toBe(1);
    } finally {
      await browser?.close();
    }
  });
});
