// The control plane in production position: serving HTTPS itself (`apigov up --tls-cert --tls-key`, TLS 1.2 or
// later; single sign-on cookies Secure) or behind a proxy it trusts (`--trusted-proxies`: the client's address,
// https and host come from X-Forwarded-*, so redirect URIs and cookies are right), and not believing anyone else's.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '@apigov/store';
import { startControlPlane, type RunningControlPlane } from '@apigov/control-plane';
import { startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';
import { CLI, ROOT } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'apigov-tls-'));
const CERT = join(dir, 'cert.pem');
const KEY = join(dir, 'key.pem');
const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });

let up: ChildProcess | undefined;
let upUrl = '';
let behind: RunningControlPlane;
let store: Store;
let idp: TestIdentityProvider;

function get(url: string, options: { minVersion?: 'TLSv1' | 'TLSv1.2'; maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' } = {}): Promise<{ status: number; body: string; protocol: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((ok, ko) => {
    const req = request(url, { ca: readFileSync(CERT), ...options }, (res) => {
      const protocol = (res.socket as unknown as { getProtocol(): string }).getProtocol();
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body, protocol, headers: res.headers }));
    });
    req.on('error', ko);
    req.end();
  });
}

beforeAll(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', KEY, '-out', CERT, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  up = spawn(process.execPath, [CLI, 'up', '--port', '0', '--data-dir', join(dir, 'data'), '--tls-cert', CERT, '--tls-key', KEY, '--', '--no-gateways'], { cwd: ROOT, env: { ...process.env, APIGOV_ADMIN_TOKEN: ADMIN } });
  let out = '';
  upUrl = await new Promise<string>((ok, ko) => {
    up!.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /apigov control plane listening on (\S+)/.exec(out);
      if (m) ok(m[1]!);
    });
    up!.on('exit', (code) => ko(new Error(`apigov up exited with ${code}: ${out}`)));
  });
  store = await openStore({ dataDir: 'memory://' });
  behind = await startControlPlane({ store, adminToken: ADMIN, trustedProxies: ['127.0.0.1'] });
  idp = await startIdentityProvider('https://apigov.example.com');
  process.env.APIGOV_TLS_TEST_SECRET = idp.clientSecret;
  const applied = await fetch(`${behind.url}/v1/apply`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ documents: [res('IdentityProvider', 'corp', { issuer: idp.issuer, clientId: idp.clientId, clientSecret: { fromEnv: 'APIGOV_TLS_TEST_SECRET' } })] }),
  });
  expect(applied.status).toBe(200);
}, 120_000);

afterAll(async () => {
  up?.kill('SIGINT');
  await new Promise((r) => (up && up.exitCode === null ? up.on('exit', r) : r(undefined)));
  await behind?.close();
  await store?.close();
  await idp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('apigov up --tls-cert --tls-key', () => {
  it('serves HTTPS with TLS 1.2 or later, and refuses older protocols', async () => {
    expect(upUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await get(`${upUrl}/healthz`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ status: 'ok' });
    expect(r.protocol).toBe('TLSv1.3');
    expect((await get(`${upUrl}/healthz`, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' })).protocol).toBe('TLSv1.2');
    await expect(get(`${upUrl}/healthz`, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1' })).rejects.toThrow();
  });

  it('a half-given TLS pair is a usage error', () => {
    let code = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, [CLI, 'up', '--port', '0', '--data-dir', join(dir, 'data2'), '--tls-cert', CERT, '--', '--no-gateways'], { cwd: ROOT, stdio: 'pipe' });
    } catch (e) {
      code = (e as { status: number }).status;
      stderr = String((e as { stderr: Buffer }).stderr);
    }
    expect(code).toBe(2);
    expect(stderr).toBe('apigov up: --tls-cert and --tls-key go together\n');
  });
});

describe('behind a trusted proxy (--trusted-proxies)', () => {
  it("believes the proxy's X-Forwarded-Proto/-Host/-For: redirect URI, Secure cookie and audited address", async () => {
    const r = await fetch(`${behind.url}/v1/auth/oidc/corp/login`, { redirect: 'manual', headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'apigov.example.com', 'x-forwarded-for': '203.0.113.7' } });
    expect(r.status).toBe(302);
    expect(new URL(r.headers.get('location')!).searchParams.get('redirect_uri')).toBe('https://apigov.example.com/v1/auth/oidc/callback');
    expect(r.headers.get('set-cookie')).toMatch(/apigov_sso_flow=[^;]+;.*HttpOnly; Secure; SameSite=Lax/);
    const forged = await fetch(`${behind.url}/v1/auth/oidc/callback?code=x&state=y`, { redirect: 'manual', headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(forged.status).toBe(302);
    await new Promise((r2) => setTimeout(r2, 400));
    const audit = (await (await fetch(`${behind.url}/v1/audit?action=auth.failed&limit=1`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { items: Array<{ after: { address: string } }> };
    expect(audit.items[0]!.after.address).toBe('203.0.113.7');
  });

  it('failed sign-ins at the login endpoints are throttled per address: 429 with Retry-After, then the lockout', async () => {
    const from = { 'x-forwarded-for': '198.51.100.23' };
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) statuses.push((await fetch(`${behind.url}/v1/auth/oidc/callback?code=x&state=${i}`, { redirect: 'manual', headers: from })).status);
    expect(statuses.slice(0, 19).every((s) => s === 302)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429]);
    const start = await fetch(`${behind.url}/v1/auth/oidc/corp/login`, { redirect: 'manual', headers: from });
    expect(start.status).toBe(429);
    expect(Number(start.headers.get('retry-after'))).toBeGreaterThan(200);
    const device = await fetch(`${behind.url}/v1/auth/oidc/corp/device`, { method: 'POST', headers: from });
    expect(device.status).toBe(429);
    // another address is not locked out
    expect((await fetch(`${behind.url}/v1/auth/oidc/corp/login`, { redirect: 'manual', headers: { 'x-forwarded-for': '198.51.100.24' } })).status).toBe(302);
  });

  it("without the setting, a client's X-Forwarded-* headers are not believed", async () => {
    const plain = await startControlPlane({ store, adminToken: ADMIN });
    try {
      const r = await fetch(`${plain.url}/v1/auth/oidc/corp/login`, { redirect: 'manual', headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example.com' } });
      expect(new URL(r.headers.get('location')!).searchParams.get('redirect_uri')).toBe(`${plain.url}/v1/auth/oidc/callback`);
      expect(r.headers.get('set-cookie')).not.toContain('Secure');
    } finally {
      await plain.close();
    }
  });
});
