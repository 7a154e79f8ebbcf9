// A production publish held for approval, in the portal: with an AccessPolicy's productionPublishApproval, alex's
// publish to prod is filed (CLI: exit 0, "waits for a platform admin's approval"), and pooja approves it from the
// platform console in Debian's chromium; the version is then published in prod.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT, startHarness, type Harness } from './harness.js';

const CHROMIUM = process.env.APIGOV_CHROMIUM ?? '/usr/bin/chromium';
const PORTAL_BUILT = existsSync(join(ROOT, 'packages', 'portal', 'dist', 'index.html'));
const SPEC = readFileSync(join(ROOT, 'examples', 'payments', 'openapi.yaml'), 'utf8');
const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });

let h: Harness;
let alex = '';

async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(h.cp.url + path, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text === '' ? null : JSON.parse(text) };
}

beforeAll(async () => {
  h = await startHarness('pglite');
  const docs = [res('Team', 'payments', {}), res('Environment', 'dev', {}), res('Environment', 'prod', { production: true }), res('GovernanceRuleset', 'open', { gates: [{ environment: '*', blockOn: 'never' }] }), res('AccessPolicy', 'approvals', { productionPublishApproval: true })];
  expect((await call(h.adminToken, 'POST', '/v1/apply', { documents: docs })).status).toBe(200);
  alex = (await call(h.adminToken, 'POST', '/v1/users', res('User', 'alex', { team: 'payments', role: 'owner' }))).body.token;
  expect((await call(alex, 'POST', '/v1/apis/register', { name: 'payments', team: 'payments', spec: SPEC, upstreams: { dev: 'http://127.0.0.1:9', prod: 'http://127.0.0.1:9' } })).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('a production publish waits for pooja', () => {
  it('the CLI files it; the platform console approves it; then it is published', async () => {
    const filed = await cli(h, alex, ['publish', 'payments', '--env', 'prod']);
    expect(filed.code, filed.stderr).toBe(0);
    expect(filed.stdout).toBe("publishing payments v1 to prod waits for a platform admin's approval (PublishRequest payments-v1-prod).\n");
    expect((await call(alex, 'GET', '/v1/apis/payments')).body.spec.versions[0].environments.prod.state).toBe('draft');
    if (process.env.CI !== 'true' && (!existsSync(CHROMIUM) || !PORTAL_BUILT)) return;
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
      const page = await (await browser.newContext({ baseURL: h.cp.url })).newPage();
      page.setDefaultTimeout(20_000);
      await page.goto('/');
      await page.getByLabel('Access token').fill(h.adminToken);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByText('Signed in as').waitFor();
      await page.goto('/platform');
      const section = page.getByRole('region', { name: 'Production publishes waiting for approval' });
      const row = section.getByRole('row').filter({ hasText: 'payments v1' });
      expect((await row.innerText()).split('\t').map((c) => c.trim()).slice(0, 3)).toEqual(['payments v1', 'prod', 'alex']);
      await section.getByRole('button', { name: 'Approve payments-v1-prod' }).click();
      await section.getByText('Approved and published payments-v1-prod.').waitFor();
      await section.getByText('No production publish is waiting for approval.').waitFor();
    } finally {
      await browser?.close();
    }
    expect((await call(alex, 'GET', '/v1/apis/payments')).body.spec.versions[0].environments.prod.state).toBe('published');
  });
});
