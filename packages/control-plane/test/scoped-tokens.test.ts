// Service-account tokens: a named token does only what both its scopes and its owner's rights allow. A sweep of
// every operation in /v1/openapi.json with a token scoped to one area: every other operation is refused for its
// scope, naming the scope it needs; with `*` none is. Publishing is scoped per environment whichever route tries it
// (lifecycle action, PUT, apply); expired and revoked tokens are refused; the token's last use is listed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type Store } from '@apigov/store';
import { startControlPlane, type RunningControlPlane } from '../src/index.js';
import { requiredScope } from '../src/scopes.js';

let store: Store;
let cp: RunningControlPlane;
const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
const tokens: Record<string, string> = {};
const SPEC = readFileSync(join(import.meta.dirname, '..', '..', '..', 'examples', 'payments', 'openapi.yaml'), 'utf8');
const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });

async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(cp.url + path, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    /* YAML */
  }
  return { status: r.status, body: parsed };
}

beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://' });
  cp = await startControlPlane({ store, adminToken: ADMIN, signInLimits: { maxFailures: 1000, windowSeconds: 60, lockoutSeconds: 1 } });
  const setup = await call(ADMIN, 'POST', '/v1/apply', { documents: [res('Team', 'payments', {}), res('Team', 'orders', {}), res('Environment', 'dev', {}), res('Environment', 'prod', { production: true }), res('GovernanceRuleset', 'open', { gates: [{ environment: '*', blockOn: 'never' }] })] });
  expect(setup.status).toBe(200);
  for (const [name, team, role] of [['alex', 'payments', 'owner'], ['bob', 'orders', 'member']]) tokens[name] = (await call(ADMIN, 'POST', '/v1/users', res('User', name, { team, role }))).body.token;
});

afterAll(async () => {
  await cp?.close();
  await store?.close();
});

describe('named, scoped tokens', () => {
  it('alex creates a CI token: shown once, listed without the token, one per name, no token from a scoped token', async () => {
    const created = await call(tokens.alex!, 'POST', '/v1/tokens', { name: 'ci', scopes: ['apis:write', 'apis:publish:dev'], expiresInDays: 90 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'ci', scopes: ['apis:write', 'apis:publish:dev'], team: 'payments' });
    expect(created.body.token).toMatch(/^agv_/);
    tokens.ci = created.body.token;
    expect((await call(tokens.alex!, 'POST', '/v1/tokens', { name: 'ci', scopes: ['apis:read'] })).status).toBe(409);
    const listed = await call(tokens.alex!, 'GET', '/v1/tokens');
    expect(listed.body.items.find((t: any) => t.name === 'ci')).toMatchObject({ name: 'ci', scopes: ['apis:write', 'apis:publish:dev'], team: 'payments', prefix: tokens.ci!.slice(0, 8) });
    expect(JSON.stringify(listed.body)).not.toContain(tokens.ci);
    const fromScoped = await call(tokens.ci!, 'POST', '/v1/tokens', { name: 'wider', scopes: ['*'] });
    expect(fromScoped.status).toBe(403);
    for (const [body, path] of [
      [{ name: 'x', scopes: ['apis:destroy'] }, 'scopes'],
      [{ name: 'x', scopes: ['planets:read'] }, 'scopes'],
      [{ name: 'x', scopes: [] }, 'scopes'],
      [{ name: 'Bad Name', scopes: ['apis:read'] }, 'name'],
      [{ name: 'x', scopes: ['apis:read'], team: 'orders' }, undefined],
    ] as const) {
      const r = await call(tokens.alex!, 'POST', '/v1/tokens', body);
      if (path === undefined) expect(r.status).toBe(403);
      else expect([r.status, r.body.errors?.[0]?.path]).toEqual([422, path]);
    }
  });

  it('the CI token registers and publishes to dev, but publishing to prod is refused by any route', async () => {
    expect((await call(tokens.ci!, 'POST', '/v1/apis/register', { name: 'payments', team: 'payments', spec: SPEC, upstreams: { dev: 'http://127.0.0.1:9', prod: 'http://127.0.0.1:9' } })).status).toBe(201);
    expect((await call(tokens.ci!, 'POST', '/v1/apis/payments/versions/v1/publish', { environment: 'dev' })).status).toBe(200);
    const prod = await call(tokens.ci!, 'POST', '/v1/apis/payments/versions/v1/publish', { environment: 'prod' });
    expect([prod.status, prod.body.requiredScope]).toEqual([403, 'apis:publish:prod']);
    // the same move through PUT, and through apply
    const api = (await call(tokens.alex!, 'GET', '/v1/apis/payments')).body;
    const moved = { apiVersion: api.apiVersion, kind: 'Api', metadata: api.metadata, spec: { ...api.spec, versions: api.spec.versions.map((v: any) => ({ ...v, environments: { ...v.environments, prod: { ...v.environments.prod, state: 'published' } } })) } };
    const put = await call(tokens.ci!, 'PUT', '/v1/apis/payments', moved);
    expect([put.status, put.body.requiredScope]).toEqual([403, 'apis:publish:prod']);
    const applied = await call(tokens.ci!, 'POST', '/v1/apply', { documents: [moved] });
    expect([applied.status, applied.body.requiredScope]).toEqual([403, 'declarative:write']);
    const wide = await call(tokens.alex!, 'POST', '/v1/tokens', { name: 'deploy', scopes: ['declarative:write', 'apis:write'] });
    const viaApply = await call(wide.body.token, 'POST', '/v1/apply', { documents: [moved] });
    expect([viaApply.status, viaApply.body.requiredScope]).toEqual([403, 'apis:publish:prod']);
    // the token's owner may, as themselves
    expect((await call(tokens.alex!, 'POST', '/v1/apis/payments/versions/v1/publish', { environment: 'prod' })).status).toBe(200);
  });

  it('a sweep of every operation: a token scoped to audit:read is refused everything else, naming the scope; * is refused nothing for its scope', async () => {
    const doc = (await call(ADMIN, 'GET', '/v1/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const narrow = (await call(tokens.alex!, 'POST', '/v1/tokens', { name: 'auditor', scopes: ['audit:read'] })).body.token as string;
    const all = (await call(tokens.alex!, 'POST', '/v1/tokens', { name: 'everything', scopes: ['*'] })).body.token as string;
    let swept = 0;
    let refused = 0;
    for (const [template, methods] of Object.entries(doc.paths)) {
      const path = template.replace(/\{version\}/g, 'v1').replace(/\{[^}]+\}/g, 'x');
      for (const method of Object.keys(methods).map((m) => m.toUpperCase())) {
        const needed = requiredScope(`${method} ${template}`);
        if (needed === undefined) continue;
        const expected = needed === 'apis:publish' ? 'apis:publish:dev' : needed;
        const body = method === 'GET' || method === 'DELETE' ? undefined : { environment: 'dev' };
        const narrowAnswer = await call(narrow, method, path, body);
        const allAnswer = await call(all, method, path, body);
        swept++;
        if (expected === 'audit:read') {
          expect(narrowAnswer.body?.requiredScope, `${method} ${template}`).toBeUndefined();
        } else {
          refused++;
          expect([narrowAnswer.status, narrowAnswer.body?.requiredScope], `${method} ${template}`).toEqual([403, expected]);
        }
        expect(allAnswer.body?.requiredScope, `${method} ${template} with *`).toBeUndefined();
      }
    }
    expect(swept).toBeGreaterThan(70);
    expect(refused).toBe(swept - 2);
  });

  it("a token never exceeds its owner's rights", async () => {
    const bobAll = (await call(tokens.bob!, 'POST', '/v1/tokens', { name: 'bob-all', scopes: ['*'] })).body.token as string;
    const r = await call(bobAll, 'POST', '/v1/apis/payments/versions/v1/deprecate', { environment: 'dev', sunset: '2027-01-01' });
    expect(r.status).toBe(403);
    expect(r.body.requiredScope).toBeUndefined();
  });

  it('expired and revoked tokens are refused; the last use is listed', async () => {
    const short = await call(tokens.alex!, 'POST', '/v1/tokens', { name: 'short', scopes: ['apis:read'], expiresInDays: 0.00002 });
    expect(short.status).toBe(201);
    await new Promise((r) => setTimeout(r, 1900));
    const expired = await call(short.body.token, 'GET', '/v1/apis/payments');
    expect([expired.status, expired.body.code]).toEqual([401, 'APIGOV_ERR_AUTH_EXPIRED_TOKEN']);
    expect((await call(tokens.ci!, 'GET', '/v1/apis/payments')).status).toBe(403); // apis:write does not read
    const listed = (await call(tokens.alex!, 'GET', '/v1/tokens')).body.items as Array<{ name?: string; lastUsedAt?: string }>;
    expect(Date.parse(listed.find((t) => t.name === 'ci')!.lastUsedAt!)).toBeGreaterThan(Date.now() - 60_000);
    expect((await call(tokens.alex!, 'DELETE', '/v1/tokens/ci')).status).toBe(204);
    expect((await call(tokens.alex!, 'DELETE', '/v1/tokens/ci')).status).toBe(404);
    const revoked = await call(tokens.ci!, 'GET', '/v1/whoami');
    expect([revoked.status, revoked.body.code]).toEqual([401, 'APIGOV_ERR_AUTH_INVALID_TOKEN']);
    const audit = (await call(ADMIN, 'GET', '/v1/audit?kind=Token&limit=100')).body.items as Array<{ action: string; name: string; after: unknown }>;
    expect(audit.map((e) => `${e.action} ${e.name}`)).toEqual(expect.arrayContaining(['token.create ci', 'token.revoke ci']));
    expect(JSON.stringify(audit)).not.toContain(tokens.ci);
  });
});
