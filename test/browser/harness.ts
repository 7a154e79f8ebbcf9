// Browser test harness: a real `apigov up --demo` (control plane serving the built portal, the payments service,
// one gateway per environment) on free ports, and Debian's chromium driven through playwright-core.
// With CI=true a missing chromium fails the run; elsewhere the browser suites are skipped.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CHROMIUM = process.env.APIGOV_CHROMIUM ?? '/usr/bin/chromium';
export const RESULTS = join(ROOT, 'test-results');
export const PORTAL_DIST = join(ROOT, 'packages', 'portal', 'dist');

/** Whether the browser suites can run; on CI a missing chromium or portal build is a failure, never a skip. */
export function browserAvailable(): boolean {
  const missing = [!existsSync(CHROMIUM) && `chromium at ${CHROMIUM} (apt-get install chromium)`, !existsSync(join(PORTAL_DIST, 'index.html')) && `the portal build at ${PORTAL_DIST} (npm run build)`].filter(Boolean);
  if (missing.length === 0) return true;
  if (process.env.CI === 'true') throw new Error(`browser tests need ${missing.join(' and ')}`);
  return false;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = createServer();
    s.once('error', () => ok(false));
    s.listen(port, '127.0.0.1', () => s.close(() => ok(true)));
  });
}

/** `count` consecutive free ports on 127.0.0.1. */
async function freePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    let all = true;
    for (let i = 0; i < count && all; i++) all = await portFree(base + i);
    if (all) return base;
  }
  throw new Error('no free ports');
}

export interface DemoTokens {
  alex: string;
  bob: string;
  pooja: string;
  bobAppKey: string;
}

export interface Demo {
  url: string;
  gateways: { dev: string; staging: string; prod: string };
  tokens: DemoTokens;
  dir: string;
  /** the REST API as one of the demo users */
  rest<T = unknown>(user: 'alex' | 'bob' | 'pooja', method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

export async function startDemo(): Promise<Demo> {
  const dir = mkdtempSync(join(tmpdir(), 'apigov-browser-'));
  const cp = await freePorts(2); // control plane, payments
  const gw = await freePorts(4); // dev, staging, prod, admin
  const args = [
    join(ROOT, 'packages', 'control-plane', 'dist', 'up.js'),
    '--demo',
    '--port', String(cp),
    '--payments-port', String(cp + 1),
    '--gateway-port', String(gw),
    '--gateway-admin-port', String(gw + 3),
    '--data-dir', dir,
  ];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, APIGOV_LOG_LEVEL: 'warn' } });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${cp}`;
  const gateways = { dev: `http://127.0.0.1:${gw}`, staging: `http://127.0.0.1:${gw + 1}`, prod: `http://127.0.0.1:${gw + 2}` };
  const deadline = Date.now() + 90_000;
  const tokenFile = join(dir, 'demo-tokens.json');
  for (;;) {
    if (child.exitCode !== null) throw new Error(`apigov up exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`apigov up did not start within 90 s:\n${output}`);
    }
    if (existsSync(tokenFile)) {
      const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
      // the dev gateway answers once it has its snapshot (any HTTP answer will do)
      const gwOk = await fetch(`${gateways.dev}/`).then(() => true, () => false);
      if (ok && gwOk) break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const tokens = JSON.parse(readFileSync(tokenFile, 'utf8')) as DemoTokens;
  return {
    url,
    gateways,
    tokens,
    dir,
    async rest<T>(user: 'alex' | 'bob' | 'pooja', method: string, path: string, body?: unknown) {
      const res = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${tokens[user]}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
    },
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/** A fresh browser context (its own sessionStorage) at a desktop or phone width, with clipboard access. */
export async function newPage(browser: Browser, demo: Demo, width = 1280): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, baseURL: demo.url });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: demo.url });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  return { context, page };
}

/** Signs in through the portal's sign-in form as a person would. */
export async function signIn(page: Page, demo: Demo, user: 'alex' | 'bob' | 'pooja'): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Access token').fill(demo.tokens[user]);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByText(`Signed in as`).waitFor();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS, { recursive: true });
  const path = join(RESULTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; html: string }>;
}

const AXE_SOURCE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** Runs axe-core inside the page (WCAG 2 A and AA rules) and returns its serious and critical violations. */
export async function seriousA11yViolations(page: Page, exclude: string[] = []): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: AXE_SOURCE });
  const violations = (await page.evaluate(
    `axe.run({ include: [document], exclude: ${JSON.stringify(exclude.map((s) => [s]))} }, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, html: n.html.slice(0, 200) })) })))`,
  )) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
