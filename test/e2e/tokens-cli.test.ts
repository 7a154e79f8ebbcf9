// `apigov tokens create|list|revoke` with the real CLI against a real control plane: the token is printed once, it
// works for what its scopes allow and is refused (naming the scope) for the rest, it is listed with its last use,
// and once revoked it stops working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { cli, ROOT, startHarness, type Harness } from './harness.js';

let h: Harness;
let alex = '';
const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });

beforeAll(async () => {
  h = await startHarness('pglite');
  const post = (path: string, body: unknown) => fetch(h.cp.url + path, { method: 'POST', headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<any>);
  await post('/v1/apply', { documents: [res('Team', 'payments', {}), res('Environment', 'dev', {})] });
  alex = (await post('/v1/users', res('User', 'alex', { team: 'payments', role: 'owner' }))).token;
  const spec = (await import('node:fs')).readFileSync(join(ROOT, 'examples', 'payments', 'openapi.yaml'), 'utf8');
  const r = await fetch(`${h.cp.url}/v1/apis/register`, { method: 'POST', headers: { authorization: `Bearer ${alex}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'payments', team: 'payments', spec }) });
  expect(r.status).toBe(201);
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('apigov tokens', () => {
  it('creates, uses, lists and revokes a scoped token', async () => {
    const created = await cli(h, alex, ['tokens', 'create', '--name', 'ci', '--scopes', 'apis:read,apis:write', '--expires', '30d']);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^agv_\S+$/);
    expect(created.stderr).toMatch(/^token ci \(apis:read, apis:write, team payments\) expires \S+; it is shown once/);
    const allowed = await cli(h, token, ['versions', 'payments']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toMatch(/v1/);
    const refused = await cli(h, token, ['search', 'payments']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/the token ci has the scopes apis:read, apis:write; this needs catalog:read \[APIGOV_ERR_AUTH_FORBIDDEN\]/);
    const listed = await cli(h, alex, ['tokens', 'list', '-o', 'json']);
    const item = (JSON.parse(listed.stdout) as { items: Array<{ name?: string; lastUsedAt?: string; scopes?: string[] }> }).items.find((t) => t.name === 'ci')!;
    expect(item.scopes).toEqual(['apis:read', 'apis:write']);
    expect(item.lastUsedAt).toBeDefined();
    const table = await cli(h, alex, ['tokens', 'list']);
    expect(table.stdout).toMatch(/^ci\s+agv_\S+\s+apis:read,apis:write\s+payments/m);
    expect(table.stdout).not.toContain(token);
    expect((await cli(h, alex, ['tokens', 'revoke', 'ci'])).stdout).toBe('revoked token ci\n');
    const after = await cli(h, token, ['search', 'payments']);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/APIGOV_ERR_AUTH_INVALID_TOKEN/);
  });

  it('bad flags exit 2 with one line', async () => {
    const expires = await cli(h, alex, ['tokens', 'create', '--name', 'x', '--scopes', 'apis:read', '--expires', 'forever']);
    expect(expires.code).toBe(2);
    expect(expires.stderr.trim().split('\n')).toHaveLength(1);
    const scopes = await cli(h, alex, ['tokens', 'create', '--name', 'x', '--scopes', 'planets:read']);
    expect(scopes.code).not.toBe(0);
    expect(scopes.stderr).toMatch(/unknown area 'planets'/);
  });

  it("the portal's sign-in hint names only commands the CLI has", async () => {
    const source = (await import('node:fs')).readFileSync(join(ROOT, 'packages', 'portal', 'src', 'main.tsx'), 'utf8');
    const hint = /<p className="hint">([\s\S]*?)<\/p>/.exec(source)![1]!;
    const commands = [...hint.matchAll(/<code>apigov ([a-z-]+(?: [a-z-]+)?)<\/code>/g)].map((m) => m[1]!);
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      const r = await cli(h, undefined, [...command.split(' '), '--help']);
      expect(r.code, `apigov ${command} --help: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: apigov ${command}`, 'm'));
    }
  });
});
