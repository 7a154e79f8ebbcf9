// The portal's golden path in a real browser against a real `apigov up --demo`, as the three personas:
// what each person sees (text, roles, labels), with a screenshot of every page asserted on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { browserAvailable, launchBrowser, newPage, ROOT, screenshot, seriousA11yViolations, signIn, startDemo, type Demo } from './harness.js';

const run = browserAvailable();

/** A small spec of the payments team; `broken` leaves out an operationId, which the platform's rules call an error. */
function refundsSpec(broken: boolean): string {
  return `openapi: 3.0.3
info:
  title: Refunds API
  version: 1.0.0
  description: Refunds of card payments.
  contact:
    name: Payments team
    email: payments@example.com
servers:
  - url: http://127.0.0.1:4100
tags:
  - name: refunds
    description: Refunds.
security:
  - apiKey: []
paths:
  /refunds:
    get:
${broken ? '' : '      operationId: listRefunds\n'}      summary: List refunds
      description: Every refund, newest first.
      tags: [refunds]
      responses:
        '200':
          description: The refunds.
          content:
            application/json:
              schema:
                type: object
                properties:
                  items:
                    type: array
                    items:
                      type: object
                      properties:
                        id:
                          type: string
        '400':
          description: Bad request.
        '500':
          description: Server error.
components:
  securitySchemes:
    apiKey:
      type: apiKey
      in: header
      name: x-api-key
`;
}

describe.skipIf(!run).sequential('portal golden path', () => {
  let demo: Demo;
  let browser: Browser;

  beforeAll(async () => {
    [demo, browser] = await Promise.all([startDemo(), launchBrowser()]);
    // a team-only API of the payments team: only its owners and the platform team may see it
    const spec = readFileSync(join(ROOT, 'examples', 'payments', 'openapi.yaml'), 'utf8').replace('title: Payments API', 'title: Ledger API');
    const r = await demo.rest('alex', 'POST', '/v1/apis/register', { name: 'ledger', team: 'payments', version: '1.0.0', spec, visibility: 'team-only', title: 'Ledger', description: 'Internal ledger of the payments team.', tags: ['ledger'] });
    expect(r.status).toBe(201);
  }, 120_000);

  let bobKey = '';

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });

  it('pooja signs in and sees every API, team-only ones included; the catalog has no serious accessibility violations', async () => {
    const { context, page } = await newPage(browser, demo);
    await signIn(page, demo, 'pooja');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'found' }).textContent()).toMatch(/2 APIs found/);
    const list = page.getByRole('list', { name: 'APIs' });
    await expect.poll(() => list.getByRole('link', { name: 'Ledger' }).count()).toBe(1);
    expect(await list.getByRole('link', { name: 'Payments' }).count()).toBe(1);
    expect(await list.getByText('team-only').count()).toBe(1);
    await screenshot(page, 'catalog-pooja');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await context.close();
  });

  it('bob searches the catalog (no team-only APIs for him), opens the API page with its rendered reference; the renderer loads only there', async () => {
    const { context, page } = await newPage(browser, demo);
    const scripts: string[] = [];
    page.on('request', (r) => {
      if (r.resourceType() === 'script') scripts.push(new URL(r.url()).pathname);
    });
    await signIn(page, demo, 'bob');
    await page.getByLabel('Search APIs').fill('invoices');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'found' }).textContent()).toMatch(/1 API found/);
    const list = page.getByRole('list', { name: 'APIs' });
    expect(await list.getByRole('link', { name: 'Ledger' }).count()).toBe(0);
    await screenshot(page, 'catalog-bob-search');
    expect(scripts.some((s) => /Reference-/.test(s))).toBe(false);

    await list.getByRole('link', { name: 'Payments' }).click();
    await page.getByRole('heading', { level: 1, name: 'Payments' }).waitFor();
    await page.getByRole('heading', { name: 'API reference' }).waitFor();
    // the reference is rendered: the operations of the payments document appear as a reader sees them
    await page.locator('.reference').getByText('List invoices').first().waitFor({ timeout: 30_000 });
    expect(await page.getByText('Payments team').count()).toBeGreaterThan(0);
    const versions = page.getByRole('table', { name: 'Versions and environments' });
    expect(await versions.getByText(`${demo.gateways.dev}/payments/v1`).count()).toBe(1);
    expect(await versions.getByText('published').count()).toBe(1);
    expect(scripts.some((s) => /Reference-/.test(s))).toBe(true);
    await screenshot(page, 'api-page-bob');
    // the whole page, the renderer's region included (Reference.tsx configures and fixes up Scalar for this)
    expect(await seriousA11yViolations(page)).toEqual([]);
    await context.close();
  });

  it('alex uploads a spec with a lint error, sees it with its location, uploads the fixed one, registers it and publishes it to dev', async () => {
    const { context, page } = await newPage(browser, demo);
    await signIn(page, demo, 'alex');
    await page.getByRole('link', { name: "My team's APIs" }).click();
    await page.getByRole('heading', { level: 1, name: "My team's APIs" }).waitFor();
    await page.getByLabel('OpenAPI file').setInputFiles({ name: 'refunds.yaml', mimeType: 'application/yaml', buffer: Buffer.from(refundsSpec(true)) });
    const findings = page.getByRole('table', { name: 'Lint findings by severity' });
    const row = findings.getByRole('row').filter({ hasText: 'apigov-operation-id' });
    await row.waitFor();
    await screenshot(page, 'producer-lint-error');
    expect(await row.getByText('Error', { exact: true }).count()).toBe(1);
    expect(await row.textContent()).toMatch(/line \d+, column \d+/);
    expect(await page.getByRole('button', { name: 'Register', exact: true }).isDisabled()).toBe(true);
    await screenshot(page, 'producer-lint-error');
    // nothing was saved
    expect((await demo.rest('alex', 'GET', '/v1/apis/refunds')).status).toBe(404);

    await page.getByLabel('OpenAPI file').setInputFiles({ name: 'refunds.yaml', mimeType: 'application/yaml', buffer: Buffer.from(refundsSpec(false)) });
    await page.getByRole('status').filter({ hasText: /^(0 errors|No lint findings)/ }).waitFor();
    await page.getByLabel('API name').fill('refunds');
    await page.getByLabel('Upstream URL in dev').fill('http://127.0.0.1:4100');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await page.getByRole('heading', { name: /Refunds API/ }).waitFor();
    await page.getByRole('button', { name: 'Publish v1 in dev' }).click();
    await page.getByText('Published v1 in dev.').waitFor();
    const lifecycle = page.getByRole('table', { name: 'Lifecycle of refunds per environment' });
    await lifecycle.getByRole('row').filter({ hasText: /^v1dev/ }).getByText('published', { exact: true }).waitFor();
    await screenshot(page, 'producer-published');
    await context.close();
  });

  it("bob subscribes his app, copies his new key, runs try-it through the gateway (200 from payments) and sees the call in his usage chart", async () => {
    // the demo's platform policies set no CORS: the browser needs the gateway to allow the portal's origin
    const cors = await demo.rest('pooja', 'POST', '/v1/policies', {
      apiVersion: 'apigov.dev/v1',
      kind: 'Policy',
      metadata: { name: 'portal-cors-dev' },
      spec: { description: 'Let the developer portal call dev APIs from the browser.', targetRef: { kind: 'Environment', name: 'dev' }, cors: { allowOrigins: [demo.url], allowHeaders: ['x-api-key', 'content-type'], exposeHeaders: ['x-request-id', 'ratelimit', 'ratelimit-policy'] } },
    });
    expect(cors.status).toBe(201);
    const { context, page } = await newPage(browser, demo);
    await signIn(page, demo, 'bob');
    await page.getByRole('link', { name: 'My applications' }).click();
    const app = page.getByRole('region', { name: /Bob's order service/ });
    await app.waitFor();
    await app.getByLabel('API', { exact: true }).selectOption('payments');
    await app.getByLabel('Version', { exact: true }).selectOption('v1');
    await app.getByLabel('Environment', { exact: true }).selectOption('prod');
    await app.getByLabel('Plan', { exact: true }).selectOption('gold');
    await app.getByRole('button', { name: 'Subscribe' }).click();
    await app.getByText(/is pending: the payments team .* or a platform admin must approve it/).waitFor();
    const subs = app.getByRole('table', { name: 'Subscriptions of bob-app' });
    await subs.getByRole('row').filter({ hasText: 'prod' }).getByText('pending').waitFor();

    await app.getByRole('button', { name: 'Create key' }).click();
    const shown = app.getByRole('region', { name: 'New API key' });
    await shown.getByText('shown once').waitFor();
    bobKey = ((await shown.getByLabel('API key value').textContent()) ?? '').trim();
    expect(bobKey).toMatch(/^agk_/);
    await shown.getByRole('button', { name: 'Copy key' }).click();
    await shown.getByText('Copied to the clipboard').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(bobKey);
    await screenshot(page, 'apps-bob');
    expect(await seriousA11yViolations(page)).toEqual([]);

    // try it: the key from this session is offered; the request goes through the dev gateway to the payments service
    await page.getByRole('link', { name: 'Catalog' }).click();
    await page.getByLabel('Search APIs').fill('payments');
    await page.getByRole('list', { name: 'APIs' }).getByRole('link', { name: 'Payments' }).click();
    await page.getByRole('heading', { name: 'Try it' }).waitFor();
    await page.getByLabel('Operation').selectOption('GET /payments');
    expect(await page.getByLabel('Key from this session').inputValue()).toBe(bobKey);
    const response = page.getByRole('region', { name: 'Response' });
    // the CORS policy reaches the gateway with the next snapshot: try until the browser may read the answer
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Send request' }).click();
          await page.getByRole('button', { name: 'Send request' }).waitFor();
          return (await response.count()) > 0 ? ((await response.getByText(/^Status \d+/).textContent()) ?? '') : 'no response';
        },
        { timeout: 20_000, interval: 1000 },
      )
      .toMatch(/^Status 200/);
    expect(await response.getByLabel('Response body').textContent()).toContain('pay_');
    expect(await response.getByText('x-request-id').count()).toBe(1);
    await screenshot(page, 'tryit-bob');

    // usage reports arrive every 5 s: the call shows in bob's usage chart
    await page.getByRole('link', { name: 'My applications' }).click();
    const usage = page.getByRole('region', { name: 'Usage of payments' });
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Refresh usage' }).click();
          await page.waitForTimeout(500);
          return (await usage.count()) > 0 ? ((await usage.getByText(/requests?, \d+ errors/).textContent()) ?? '') : '';
        },
        { timeout: 30_000, interval: 2000 },
      )
      .toMatch(/^[1-9]\d* requests?/);
    expect(await usage.getByRole('img', { name: /Requests per minute/ }).count()).toBe(1);
    expect(await usage.getByText(/Quota used/).count()).toBe(1);
    await usage.scrollIntoViewIfNeeded();
    await screenshot(page, 'usage-bob');
    await context.close();
  });

  it("pooja approves bob's prod subscription and finds all of it in the audit log, whose chain verifies", async () => {
    const { context, page } = await newPage(browser, demo);
    await signIn(page, demo, 'pooja');
    await page.getByRole('link', { name: 'Platform' }).click();
    const queue = page.getByRole('table', { name: 'Subscriptions waiting for approval' });
    await queue.getByRole('row').filter({ hasText: 'bob-app-payments-v1-prod' }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Approve bob-app-payments-v1-prod' }).click();
    await page.getByText('Approved bob-app-payments-v1-prod.').waitFor();
    await page.getByText('No subscription is waiting for approval.').waitFor();
    // every API with owner and policies, team-only ones too
    const every = page.getByRole('table', { name: 'Every API with its owner, environments and policies' });
    await every.getByRole('row').filter({ hasText: /^Ledger/ }).waitFor();
    expect(await every.getByRole('row').filter({ hasText: /^Payments/ }).getByText('platform-dev').count()).toBe(1);
    // the audit log: the whole golden path, newest first
    const audit = page.getByRole('table', { name: 'Audit events, newest first' });
    const rowWith = (...texts: string[]) => texts.reduce((rows, t) => rows.filter({ hasText: t }), audit.getByRole('row'));
    await page.getByRole('button', { name: 'Filter' }).click();
    await rowWith('pooja', 'approve', 'bob-app-payments-v1-prod').waitFor();
    expect(await rowWith('bob', 'bob-app-payments-v1-prod').count()).toBeGreaterThan(0);
    expect(await rowWith('bob', 'key.create').count()).toBeGreaterThan(0);
    expect(await rowWith('alex', 'publish', 'refunds').count()).toBe(1);
    expect(await rowWith('alex', 'register', 'refunds').count()).toBeGreaterThan(0);
    expect(await rowWith('pooja', 'portal-cors-dev').count()).toBe(1);
    // filters narrow it to one actor
    await page.getByLabel('Actor').fill('alex');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(async () => (await audit.getByRole('row').allTextContents()).slice(1).every((t) => t.includes('alex'))).toBe(true);
    await page.getByRole('button', { name: 'Verify the audit chain' }).click();
    await page.getByText(/Audit chain intact: \d+ events verified/).waitFor();
    await screenshot(page, 'platform-pooja');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await context.close();
  });

  it('works on a phone: the catalog and an API page fit 360 px without sideways scrolling, and the keyboard reaches the skip link first', async () => {
    const { context, page } = await newPage(browser, demo, 360);
    await signIn(page, demo, 'bob');
    await page.getByRole('list', { name: 'APIs' }).getByRole('link', { name: 'Payments' }).waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    await screenshot(page, 'catalog-phone');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('Skip to content');
    await page.getByRole('list', { name: 'APIs' }).getByRole('link', { name: 'Payments' }).click();
    await page.getByRole('heading', { name: 'Try it' }).waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    await screenshot(page, 'api-page-phone');
    await context.close();
  });
});
