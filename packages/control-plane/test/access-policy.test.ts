// Rights per environment: a member of the owning team publishes to dev but not to prod (an environment marked
// production takes owners, by default), whichever route tries it (lifecycle action, PUT, apply); an AccessPolicy
// written by a platform admin changes that, validated and audited like any resource; nobody else may write one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type Store } from '@apigov/store';
import { startControlPlane, type RunningControlPlane } from '../src/index.js';

let store: Store;
let cp: RunningControlPlane;
const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
const tokens: Record<string, string> = {};
const SPEC = readFileSync(join(import.meta.dirname, '..', '..', '..', 'examples', 'payments', 'openapi.yaml'), 'utf8');
const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });

async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(cp.url + path, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text === '' ? null : JSON.parse(text) };
}

beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://' });
  cp = await startControlPlane({ store, adminToken: ADMIN });
  const docs = [res('Team', 'payments', {}), res('Environment', 'dev', {}), res('Environment', 'staging', {}), res('Environment', 'prod', { production: true }), res('GovernanceRuleset', 'open', { gates: [{ environment: '*', blockOn: 'never' }] })];
  expect((await call(ADMIN, 'POST', '/v1/apply', { documents: docs })).status).toBe(200);
  for (const [name, role] of [['alex', 'owner'], ['mia', 'member']]) tokens[name] = (await call(ADMIN, 'POST', '/v1/users', res('User', name, { team: 'payments', role }))).body.token;
  const upstreams = { dev: 'http://127.0.0.1:9', staging: 'http://127.0.0.1:9', prod: 'http://127.0.0.1:9' };
  expect((await call(tokens.alex!, 'POST', '/v1/apis/register', { name: 'payments', team: 'payments', spec: SPEC, upstreams })).status).toBe(201);
});

afterAll(async () => {
  await cp?.close();
  await store?.close();
});

const publish = (who: string, env: string) => call(tokens[who]!, 'POST', '/v1/apis/payments/versions/v1/publish', { environment: env });

describe('rights per environment', () => {
  it('by default a member publishes to dev but not to prod; the owner does', async () => {
    expect((await publish('mia', 'dev')).status).toBe(200);
    const prod = await publish('mia', 'prod');
    expect(prod.status).toBe(403);
    expect(prod.body).toMatchObject({ code: 'APIGOV_ERR_AUTH_FORBIDDEN', environment: 'prod', allowedRoles: ['owner'], rule: 'default' });
    expect(prod.body.detail).toBe('mia (member) may not publish payments v1 in prod: a production environment takes owners (default)');
    // the same move by PUT and by apply is refused the same way
    const api = (await call(tokens.mia!, 'GET', '/v1/apis/payments')).body;
    const moved = { apiVersion: api.apiVersion, kind: 'Api', metadata: api.metadata, spec: { ...api.spec, versions: api.spec.versions.map((v: any) => ({ ...v, environments: { ...v.environments, prod: { ...v.environments.prod, state: 'published' } } })) } };
    expect((await call(tokens.mia!, 'PUT', '/v1/apis/payments', moved)).body.rule).toBe('default');
    expect((await call(tokens.mia!, 'POST', '/v1/apply', { documents: [moved] })).status).toBe(403);
    expect((await publish('alex', 'prod')).status).toBe(200);
    // deprecating in production is the owner's too
    const dep = await call(tokens.mia!, 'POST', '/v1/apis/payments/versions/v1/deprecate', { environment: 'prod', sunset: '2027-06-30' });
    expect([dep.status, dep.body.detail]).toEqual([403, 'mia (member) may not deprecate payments v1 in prod: a production environment takes owners (default)']);
  });

  it('an AccessPolicy changes the rights: members may publish to prod, nobody but admins retires in staging', async () => {
    const policy = res('AccessPolicy', 'payments-rights', {
      description: 'members ship to production; staging retirements go through the platform team',
      rules: [
        { actions: ['publish'], environments: 'production', roles: ['owner', 'member'] },
        { actions: ['retire'], environments: ['staging'], roles: [] },
      ],
    });
    // only platform admins write AccessPolicy resources
    expect((await call(tokens.alex!, 'POST', '/v1/access-policies', policy)).status).toBe(403);
    const bad = await call(ADMIN, 'POST', '/v1/access-policies', res('AccessPolicy', 'bad', { rules: [{ actions: ['launch'], environments: '*', roles: ['owner'] }] }));
    expect([bad.status, bad.body.errors[0].path]).toEqual([422, 'spec.rules[0].actions[0]']);
    expect((await call(ADMIN, 'POST', '/v1/access-policies', policy)).status).toBe(201);
    // another version to publish
    await call(tokens.alex!, 'POST', '/v1/apis/payments/versions/v1/retire', { environment: 'prod' });
    const v2registered = await call(tokens.alex!, 'POST', '/v1/apis/register', { name: 'payments', team: 'payments', spec: SPEC.replace('version: 1.0.0', 'version: 2.0.0'), upstreams: { dev: 'http://127.0.0.1:9', staging: 'http://127.0.0.1:9', prod: 'http://127.0.0.1:9' } });
    expect(v2registered.status, JSON.stringify(v2registered.body)).toBe(200); // a new version of an API registered before
    expect(v2registered.body.spec.versions.map((v: any) => v.name)).toEqual(['v1', 'v2']);
    const v2 = await call(tokens.mia!, 'POST', '/v1/apis/payments/versions/v2/publish', { environment: 'prod' });
    expect(v2.status).toBe(200);
    expect((await call(tokens.mia!, 'POST', '/v1/apis/payments/versions/v2/publish', { environment: 'staging' })).status).toBe(200);
    const retire = await call(tokens.alex!, 'POST', '/v1/apis/payments/versions/v2/retire', { environment: 'staging' });
    expect([retire.status, retire.body.detail]).toEqual([403, 'alex (owner) may not retire payments v2 in staging: this environment takes platform admins (AccessPolicy payments-rights)']);
    expect((await call(ADMIN, 'POST', '/v1/apis/payments/versions/v2/retire', { environment: 'staging' })).status).toBe(200);
    const audit = (await call(ADMIN, 'GET', '/v1/audit?kind=AccessPolicy')).body.items;
    expect(audit.map((e: any) => `${e.action} ${e.name}`)).toEqual(['create payments-rights']);
    const exported = await fetch(`${cp.url}/v1/export?kind=AccessPolicy`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(await exported.text()).toContain('kind: AccessPolicy');
  });

  it("with productionPublishApproval an owner's prod publish waits for a platform admin, who approves or rejects it", async () => {
    expect((await call(ADMIN, 'POST', '/v1/access-policies', res('AccessPolicy', 'approvals', { productionPublishApproval: true }))).status).toBe(201);
    const upstreams = { dev: 'http://127.0.0.1:9', prod: 'http://127.0.0.1:9' };
    expect((await call(tokens.alex!, 'POST', '/v1/apis/register', { name: 'ledger', team: 'payments', spec: SPEC.replace('title: Payments API', 'title: Ledger'), upstreams })).status).toBe(201);
    // dev is not production: published at once
    expect((await call(tokens.alex!, 'POST', '/v1/apis/ledger/versions/v1/publish', { environment: 'dev' })).status).toBe(200);
    const filed = await call(tokens.alex!, 'POST', '/v1/apis/ledger/versions/v1/publish', { environment: 'prod' });
    expect(filed.status).toBe(202);
    expect(filed.body.publishRequest).toMatchObject({ kind: 'PublishRequest', metadata: { name: 'ledger-v1-prod' }, spec: { api: 'ledger', version: 'v1', environment: 'prod', requestedBy: 'alex', state: 'pending' } });
    expect(filed.body.detail).toBe("publishing ledger v1 to prod waits for a platform admin's approval (PublishRequest ledger-v1-prod)");
    const before = (await call(tokens.alex!, 'GET', '/v1/apis/ledger')).body.spec.versions[0].environments.prod.state;
    expect(before).toBe('draft');
    // the queue, and who may decide
    const queue = (await call(ADMIN, 'GET', '/v1/publish-requests')).body.items.filter((r: any) => r.spec.state === 'pending');
    expect(queue.map((r: any) => r.metadata.name)).toEqual(['ledger-v1-prod']);
    expect((await call(tokens.alex!, 'POST', '/v1/publish-requests/ledger-v1-prod/approve')).status).toBe(403);
    // PUT cannot go round the approval either
    const api = (await call(tokens.alex!, 'GET', '/v1/apis/ledger')).body;
    const moved = { apiVersion: api.apiVersion, kind: 'Api', metadata: api.metadata, spec: { ...api.spec, versions: api.spec.versions.map((v: any) => ({ ...v, environments: { ...v.environments, prod: { ...v.environments.prod, state: 'published' } } })) } };
    expect((await call(tokens.alex!, 'PUT', '/v1/apis/ledger', moved)).body.code).toBe('APIGOV_ERR_APPROVAL_REQUIRED');
    const approved = await call(ADMIN, 'POST', '/v1/publish-requests/ledger-v1-prod/approve');
    expect(approved.status).toBe(200);
    expect(approved.body.publishRequest.spec).toMatchObject({ state: 'approved', decidedBy: 'admin' });
    expect(approved.body.api.spec.versions[0].environments.prod.state).toBe('published');
    expect((await call(ADMIN, 'POST', '/v1/publish-requests/ledger-v1-prod/approve')).status).toBe(409);
    // a rejection says why, and publishes nothing
    expect((await call(tokens.alex!, 'POST', '/v1/apis/register', { name: 'vault', team: 'payments', spec: SPEC.replace('title: Payments API', 'title: Vault'), upstreams })).status).toBe(201);
    expect((await call(tokens.alex!, 'POST', '/v1/apis/vault/versions/v1/publish', { environment: 'prod' })).status).toBe(202);
    expect((await call(ADMIN, 'POST', '/v1/publish-requests/vault-v1-prod/reject', {})).status).toBe(422);
    const rejected = await call(ADMIN, 'POST', '/v1/publish-requests/vault-v1-prod/reject', { reason: 'no security review yet' });
    expect(rejected.body.publishRequest.spec).toMatchObject({ state: 'rejected', decidedBy: 'admin', reason: 'no security review yet' });
    expect((await call(tokens.alex!, 'GET', '/v1/apis/vault')).body.spec.versions[0].environments.prod.state).toBe('draft');
    const audit = (await call(ADMIN, 'GET', '/v1/audit?kind=PublishRequest')).body.items.map((e: any) => `${e.actor} ${e.action} ${e.name}`);
    expect(audit).toEqual(['admin publish.reject vault-v1-prod', 'alex publish.request vault-v1-prod', 'admin publish.approve ledger-v1-prod', 'alex publish.request ledger-v1-prod']);
  });
});
