// Single sign-on against a real OpenID Connect provider (oidc-provider on 127.0.0.1): bob signs in to the portal in
// Debian's chromium and lands as bob of team orders, seeing only what bob may see; his groups change at the IdP and
// his teams change at his next sign-in. The CLI signs in with the device flow and its token is refreshed. A
// production publish from a session without a second factor gets the sign-in-again problem; with one it passes.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR_MFA, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';
import { CLI, cli, ROOT, startHarness, type Harness } from './harness.js';

const CHROMIUM = process.env.APIGOV_CHROMIUM ?? '/usr/bin/chromium';
const PORTAL_BUILT = existsSync(join(ROOT, 'packages', 'portal', 'dist', 'index.html'));
const SPEC = readFileSync(join(ROOT, 'examples', 'payments', 'openapi.yaml'), 'utf8');
const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });
const SECRET_ENV = 'APIGOV_TEST_IDP_CLIENT_SECRET';

let h: Harness;
let idp: TestIdentityProvider;
let browser: Browser | undefined;

async function call(token: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(h.cp.url + path, {
    method,
    redirect: 'manual',
    headers: { ...(token !== undefined && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, body: parsed, headers: r.headers };
}

function needBrowser(): boolean {
  if (existsSync(CHROMIUM) && PORTAL_BUILT) return true;
  if (process.env.CI === 'true') throw new Error(`chromium (${CHROMIUM}) and the built portal are required on CI`);
  return false;
}

/** Signs in at the test IdP's own page (the control plane redirected the browser there). */
async function signInAtIdp(page: Page, user: string, mfa = false): Promise<void> {
  await page.getByRole('heading', { name: 'Sign in to the test IdP' }).waitFor();
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill('any password');
  if (mfa) await page.getByLabel('Use my second factor').check();
  await page.getByRole('button', { name: 'Sign in' }).click();
}

beforeAll(async () => {
  h = await startHarness('pglite', { sso: { lifetimes: { cliSeconds: 33 } } });
  idp = await startIdentityProvider(h.cp.url);
  process.env[SECRET_ENV] = idp.clientSecret;
  idp.people.set('bob', { name: 'Bob Consumer', groups: ['orders-devs'] });
  idp.people.set('alex', { name: 'Alex Producer', groups: ['payments-owners'] });
  const docs = [
    res('Team', 'orders', {}),
    res('Team', 'payments', {}),
    res('Environment', 'dev', {}),
    res('Environment', 'prod', { production: true }),
    res('GovernanceRuleset', 'open', { gates: [{ environment: '*', blockOn: 'never' }] }),
    res('AccessPolicy', 'mfa-for-prod', { stepUp: { actions: ['publish-production'], maxAgeMinutes: 10 } }),
    res('IdentityProvider', 'corp', {
      displayName: 'Corp SSO',
      issuer: idp.issuer,
      clientId: idp.clientId,
      clientSecret: { fromEnv: SECRET_ENV },
      groupMappings: [
        { group: 'orders-devs', team: 'orders', role: 'member' },
        { group: 'payments-owners', team: 'payments', role: 'owner' },
        { group: 'platform', role: 'platform-admin' },
      ],
      mfa: { acrValues: [ACR_MFA] },
    }),
  ];
  const applied = await call(h.adminToken, 'POST', '/v1/apply', { documents: docs });
  expect(applied.status, JSON.stringify(applied.body)).toBe(200);
  for (const [name, team] of [
    ['orders-api', 'orders'],
    ['payments-api', 'payments'],
    ['ledger-api', 'payments'],
  ]) {
    const r = await call(h.adminToken, 'POST', '/v1/apis/register', { name, team, title: name, spec: SPEC, visibility: 'team-only', upstreams: { dev: 'http://127.0.0.1:9', prod: 'http://127.0.0.1:9' } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
  if (needBrowser()) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await idp?.close();
  await h?.close();
  delete process.env[SECRET_ENV];
});

describe('the identity provider is configured as a resource', () => {
  it('is advertised in /v1/openapi.json and refused when insecure', async () => {
    const doc = (await call(undefined, 'GET', '/v1/openapi.json')).body;
    expect(doc.components.securitySchemes['oidc-corp']).toMatchObject({ type: 'openIdConnect', openIdConnectUrl: `${idp.issuer}/.well-known/openid-configuration`, 'x-apigov-sign-in': '/v1/auth/oidc/corp/login' });
    const insecure = await call(h.adminToken, 'PUT', '/v1/identity-providers/plain', res('IdentityProvider', 'plain', { issuer: 'http://idp.example.com', clientId: 'x' }));
    expect(insecure.status).toBe(422);
    expect(insecure.body.errors).toEqual([{ path: 'spec.issuer', message: 'must be an https URL (http only on a loopback address)' }]);
    expect((await call(h.adminToken, 'GET', '/v1/identity-providers/plain')).status).toBe(404);
  });

  it('an identity provider that does not offer PKCE with S256 is refused at sign-in', async () => {
    // a provider's discovery document that lists no code_challenge_methods_supported (as some older IdPs do)
    const legacy = createServer((req, rsp) => {
      const base = `http://127.0.0.1:${(legacy.address() as AddressInfo).port}`;
      if (req.url !== '/.well-known/openid-configuration') return void rsp.writeHead(404).end();
      rsp.setHeader('content-type', 'application/json');
      rsp.end(JSON.stringify({ issuer: base, authorization_endpoint: `${base}/auth`, token_endpoint: `${base}/token`, jwks_uri: `${base}/jwks`, response_types_supported: ['code'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'] }));
    });
    await new Promise<void>((r) => legacy.listen(0, '127.0.0.1', r));
    try {
      const issuer = `http://127.0.0.1:${(legacy.address() as AddressInfo).port}`;
      expect((await call(h.adminToken, 'PUT', '/v1/identity-providers/legacy', res('IdentityProvider', 'legacy', { issuer, clientId: 'apigov' }))).status).toBe(201);
      const refused = await call(undefined, 'GET', '/v1/auth/oidc/legacy/login');
      expect(refused.status).toBe(502);
      expect(refused.body).toMatchObject({ code: 'APIGOV_ERR_AUTH_SSO_CONFIG', detail: `IdentityProvider legacy: ${issuer} does not offer PKCE with S256 (code_challenge_methods_supported); apigov signs in only with PKCE` });
      expect(refused.headers.get('location')).toBeNull();
    } finally {
      await call(h.adminToken, 'DELETE', '/v1/identity-providers/legacy');
      await new Promise((r) => legacy.close(r));
    }
  });

  it('the sign-in starts with PKCE S256, state and nonce, and a callback without its browser is refused', async () => {
    const start = await call(undefined, 'GET', '/v1/auth/oidc/corp/login?return=/apps');
    expect(start.status).toBe(302);
    const to = new URL(start.headers.get('location')!);
    expect(to.origin).toBe(idp.issuer);
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(to.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(to.searchParams.get('state')).toMatch(/.{20,}/);
    expect(to.searchParams.get('nonce')).toMatch(/.{20,}/);
    expect(to.searchParams.get('redirect_uri')).toBe(`${h.cp.url}/v1/auth/oidc/callback`);
    const cookie = start.headers.get('set-cookie')!;
    expect(cookie).toMatch(/apigov_sso_flow=[^;]+; Max-Age=600; Path=\/v1\/auth\/oidc; HttpOnly; SameSite=Lax/);
    // the same state from another browser (no flow cookie): refused, back to the portal with the reason
    const forged = await call(undefined, 'GET', `/v1/auth/oidc/callback?code=abc&state=${to.searchParams.get('state')}`);
    expect(forged.status).toBe(302);
    expect(decodeURIComponent(forged.headers.get('location')!)).toBe('/?sso_error=this sign-in was not started in this browser, or took longer than 10 minutes; start it again');
    await new Promise((r) => setTimeout(r, 400)); // failed sign-ins are audited in batches every 200 ms
    const audit = await call(h.adminToken, 'GET', '/v1/audit?action=auth.failed&limit=5');
    expect(audit.body.items[0].after).toMatchObject({ method: 'oidc', result: 'refused', address: '127.0.0.1' });
  });
});

describe('bob signs in to the portal through the IdP', () => {
  it('lands as bob of team orders, sees only his team-only API, and his teams follow his groups', async () => {
    if (!browser) return;
    const context = await browser.newContext({ baseURL: h.cp.url });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto('/');
    await page.getByRole('link', { name: 'Sign in with Corp SSO' }).click();
    await signInAtIdp(page, 'bob');
    await page.getByText('Signed in as').waitFor();
    expect(await page.locator('.who').innerText()).toContain('Signed in as bob (orders)');
    expect(new URL(page.url()).origin).toBe(h.cp.url);
    // the session is an httpOnly cookie: the page's script cannot read it
    expect(await page.evaluate('document.cookie')).not.toContain('apigov_session');
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'apigov_session')).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false });
    // only what bob may see: his team's team-only API, not payments'
    await page.getByRole('link', { name: 'orders-api' }).first().waitFor();
    expect(await page.getByRole('link', { name: 'payments-api' }).count()).toBe(0);
    const whoami = await page.evaluate(async () => (await fetch('/v1/whoami')).json());
    expect(whoami).toMatchObject({ name: 'bob', role: 'member', team: 'orders', teams: [{ team: 'orders', role: 'member' }], admin: false, session: { provider: 'corp' } });
    // a change with the cookie but without the CSRF header is refused
    const noCsrf = await page.evaluate(async () => (await fetch('/v1/applications', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status);
    expect(noCsrf).toBe(403);

    // at the IdP, bob leaves orders-devs and joins payments-owners; he signs out and in again
    idp.people.set('bob', { name: 'Bob Consumer', groups: ['payments-owners'] });
    await page.getByRole('button', { name: 'Sign out' }).click();
    // RP-initiated logout: the IdP asks, then sends him back to the portal
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in with Corp SSO' }).click();
    await signInAtIdp(page, 'bob');
    await page.getByText('Signed in as').waitFor();
    expect(await page.locator('.who').innerText()).toContain('Signed in as bob (payments)');
    await page.getByRole('link', { name: 'payments-api' }).first().waitFor();
    expect(await page.getByRole('link', { name: 'orders-api' }).count()).toBe(0);
    await context.close();

    const user = await call(h.adminToken, 'GET', '/v1/users/bob');
    expect(user.body.spec).toMatchObject({ role: 'owner', team: 'payments', groups: ['payments-owners'], identity: { provider: 'corp', subject: 'bob' } });
    expect(user.body.spec.teams).toBeUndefined();
    const signIns = await call(h.adminToken, 'GET', '/v1/audit?action=auth.sign-in&actor=bob');
    expect(signIns.body.items).toHaveLength(2);
    expect(signIns.body.items[0].after).toMatchObject({ method: 'oidc-code', provider: 'corp', address: '127.0.0.1', result: 'ok' });
    const changes = await call(h.adminToken, 'GET', '/v1/audit?kind=User&name=bob&action=user.sync');
    expect(changes.body.items[0].before.spec).toMatchObject({ role: 'member', team: 'orders' });
    expect(changes.body.items[0].after.spec).toMatchObject({ role: 'owner', team: 'payments' });
  });

  it('a person in several groups is in several teams', async () => {
    if (!browser) return;
    idp.people.set('carol', { groups: ['orders-devs', 'payments-owners'] });
    const context = await browser.newContext({ baseURL: h.cp.url });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto('/');
    await page.getByRole('link', { name: 'Sign in with Corp SSO' }).click();
    await signInAtIdp(page, 'carol');
    await page.getByText('Signed in as').waitFor();
    expect(await page.locator('.who').innerText()).toContain('Signed in as carol (orders, payments)');
    await page.getByRole('link', { name: 'payments-api' }).first().waitFor();
    await page.getByRole('link', { name: 'orders-api' }).first().waitFor();
    await context.close();
  });
});

describe('step-up in the portal', () => {
  it("a production publish sends alex to sign in again with his second factor, and back; then it passes", async () => {
    if (!browser) return;
    const context = await browser.newContext({ baseURL: h.cp.url });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto('/team?api=ledger-api');
    await page.getByRole('link', { name: 'Sign in with Corp SSO' }).click();
    await signInAtIdp(page, 'alex');
    await page.getByRole('heading', { name: /ledger-api/ }).waitFor();
    await page.getByRole('button', { name: 'Publish v1 in prod' }).click();
    // the IdP asks again (prompt=login, acr_values, max_age); this time with the second factor
    await signInAtIdp(page, 'alex', true);
    await page.getByRole('heading', { name: /ledger-api/ }).waitFor();
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/team?api=ledger-api');
    await page.getByRole('button', { name: 'Publish v1 in prod' }).click();
    await page.getByText('Published v1 in prod.').waitFor();
    await context.close();
    expect((await call(h.adminToken, 'GET', '/v1/apis/ledger-api')).body.spec.versions[0].environments.prod.state).toBe('published');
  });
});

describe('the CLI signs in with the device flow', () => {
  it('apigov login --sso, then apigov config shows alex; the token is refreshed when it expires', async () => {
    if (!browser) return;
    const config = join(h.dir, 'sso-config.yaml');
    const env = { APIGOV_CONFIG: config, APIGOV_URL: '', APIGOV_TOKEN: '' };
    const login = spawnCli(['login', '--sso', '--url', h.cp.url], env);
    const line = await login.waitFor(/open (\S+) and confirm the code (\S+)\./);
    const [, url, code] = line;
    expect(code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    await approveDevice(url!, 'alex');
    const result = await login.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Signed in to ${h.cp.url} as alex (owner of payments) through Corp SSO.`);
    expect(statSync(config).mode & 0o777).toBe(0o600);
    const first = readFileSync(config, 'utf8');
    expect(first).toMatch(/refreshToken: agv_/);
    const who = await cli(h, undefined, ['config', '-o', 'json'], env);
    expect(who.code, who.stderr).toBe(0);
    expect(JSON.parse(who.stdout).whoami).toMatchObject({ name: 'alex', role: 'owner', team: 'payments', session: { provider: 'corp' } });
    expect((await call(h.adminToken, 'GET', '/v1/audit?action=auth.refresh&actor=alex')).body.items).toHaveLength(0);
    // the CLI token lives 33 s here, and the CLI renews a token 30 s before it expires: after 3.5 s it does, and goes on
    await new Promise((r) => setTimeout(r, 3500));
    const again = await cli(h, undefined, ['config', '-o', 'json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).whoami.name).toBe('alex');
    const second = readFileSync(config, 'utf8');
    const token = (s: string) => /\btoken: (agv_\S+)/.exec(s)?.[1];
    expect(token(second)).toBeDefined();
    expect(token(second)).not.toBe(token(first));
    expect((await call(h.adminToken, 'GET', '/v1/audit?action=auth.refresh&actor=alex')).body.items).toHaveLength(1);
    // a refresh token works once
    const reused = await call(undefined, 'POST', '/v1/auth/refresh', { refreshToken: /refreshToken: (agv_\S+)/.exec(first)![1] });
    expect(reused.status).toBe(401);
  });

  it('step-up: a prod publish from a session without a second factor is told to sign in again; with one it passes', async () => {
    if (!browser) return;
    const config = join(h.dir, 'sso-config.yaml');
    const env = { APIGOV_CONFIG: config, APIGOV_URL: '', APIGOV_TOKEN: '' };
    // alex's session from the device flow above was a password-only sign-in
    const dev = await cli(h, undefined, ['publish', 'payments-api', '--env', 'dev'], env);
    expect(dev.code, dev.stderr).toBe(0);
    const refused = await cli(h, undefined, ['publish', 'payments-api', '--env', 'prod'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `apigov: publish-production needs a recent multi-factor sign-in: your sign-in was not multi-factor; sign in again: apigov login --sso --url ${h.cp.url} --acr-values '${ACR_MFA}' --max-age 600 [APIGOV_ERR_AUTH_STEP_UP]\n`,
    );
    // over REST: 401 with the RFC 9470 challenge
    const token = /\btoken: (agv_\S+)/.exec(readFileSync(config, 'utf8'))![1]!;
    const problem = await call(token, 'POST', '/v1/apis/payments-api/versions/v1/publish', { environment: 'prod' });
    expect(problem.status).toBe(401);
    expect(problem.body).toMatchObject({ code: 'APIGOV_ERR_AUTH_STEP_UP', acr_values: ACR_MFA, max_age: 600, signIn: `/v1/auth/oidc/corp/login?acr_values=${encodeURIComponent(ACR_MFA)}&max_age=600` });
    expect(problem.headers.get('www-authenticate')).toBe(`Bearer error="insufficient_user_authentication", error_description="publish-production needs a recent multi-factor sign-in: your sign-in was not multi-factor; sign in again", acr_values="${ACR_MFA}", max_age=600`);
    expect((await call(h.adminToken, 'GET', '/v1/apis/payments-api')).body.spec.versions[0].environments.prod.state).toBe('draft');
    // alex signs in again as told, with his second factor
    const login = spawnCli(['login', '--sso', '--url', h.cp.url, '--acr-values', ACR_MFA, '--max-age', '600'], env);
    const [, url] = await login.waitFor(/open (\S+) and confirm the code (\S+)\./);
    await approveDevice(url!, 'alex', true);
    expect((await login.done).code).toBe(0);
    const published = await cli(h, undefined, ['publish', 'payments-api', '--env', 'prod'], env);
    expect(published.code, published.stderr).toBe(0);
    expect((await call(h.adminToken, 'GET', '/v1/apis/payments-api')).body.spec.versions[0].environments.prod.state).toBe('published');
    const signIn = (await call(h.adminToken, 'GET', '/v1/audit?action=auth.sign-in&actor=alex')).body.items[0];
    expect(signIn.after).toMatchObject({ method: 'oidc-device', acr: ACR_MFA });
  });
});

describe('SCIM deactivation ends single sign-on sessions', () => {
  it("alex's CLI session stops working within a second, and its refresh token with it", async () => {
    if (!browser) return;
    const config = join(h.dir, 'sso-config.yaml');
    const env = { APIGOV_CONFIG: config, APIGOV_URL: '', APIGOV_TOKEN: '' };
    const saved = readFileSync(config, 'utf8');
    const token = /\btoken: (agv_\S+)/.exec(saved)![1]!;
    const refreshToken = /refreshToken: (agv_\S+)/.exec(saved)![1]!;
    expect((await call(token, 'GET', '/v1/whoami')).status).toBe(200);
    const pooja = (await call(h.adminToken, 'POST', '/v1/users', res('User', 'pooja', { role: 'platform-admin' }))).body.token;
    const scim = (await call(pooja, 'POST', '/v1/tokens', { name: 'idp', scopes: ['scim:write'] })).body.token;
    const started = Date.now();
    const off = await call(scim, 'PATCH', '/scim/v2/Users/alex', { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect((await call(token, 'GET', '/v1/whoami')).status).toBe(401);
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await call(undefined, 'POST', '/v1/auth/refresh', { refreshToken })).status).toBe(401);
    const cliAfter = await cli(h, undefined, ['config'], env);
    expect(cliAfter.code).toBe(1);
    // no session token, refresh token or client secret is in the audit log
    const audit = JSON.stringify((await call(h.adminToken, 'GET', '/v1/audit?limit=500')).body);
    for (const secret of [token, refreshToken, idp.clientSecret, scim, pooja]) expect(audit).not.toContain(secret);
  });
});

interface Spawned {
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  done: Promise<{ code: number; stdout: string; stderr: string }>;
}

/** The real CLI as a child process whose output a test reads while it runs. */
function spawnCli(args: string[], extraEnv: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', HOME: h.dir, NO_COLOR: '1', ...extraEnv }, cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((ok) => child.on('close', (code) => ok({ code: code ?? 1, stdout, stderr })));
  return {
    done,
    async waitFor(pattern) {
      for (let i = 0; i < 200; i++) {
        const m = pattern.exec(stdout);
        if (m) return m;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`the CLI did not print ${pattern}: ${stdout} ${stderr}`);
    },
  };
}

/** A person confirms the device code at the IdP in chromium and signs in there. */
async function approveDevice(url: string, user: string, mfa = false): Promise<void> {
  const context = await browser!.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await page.goto(url);
  await page.getByRole('heading', { name: 'Confirm the device' }).waitFor();
  await page.getByRole('button', { name: 'Continue' }).click();
  await signInAtIdp(page, user, mfa);
  await page.getByRole('heading', { name: 'Device signed in' }).waitFor();
  await context.close();
}
