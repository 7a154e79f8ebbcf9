// SCIM 2.0 provisioning as an identity provider's client drives it: discovery documents, users created, filtered
// and paged, PATCH in both casings of `op` (Entra's "Replace", "active": "False", enterprise-extension paths),
// groups that map to teams through the IdentityProvider's groupMappings, and a deactivation that stops the user's
// session and tokens within a second. Every change is audited; bad input is a SCIM error and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { openStore, type Store } from '@apigov/store';
import { startControlPlane, type RunningControlPlane } from '../src/index.js';

let store: Store;
let cp: RunningControlPlane;
const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
let scim = '';
let pooja = '';
const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any; type: string }> {
  const r = await fetch(cp.url + path, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': path.startsWith('/scim') ? 'application/scim+json' : 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text === '' ? null : JSON.parse(text), type: r.headers.get('content-type') ?? '' };
}

const patch = (...Operations: unknown[]) => ({ schemas: [PATCH], Operations });

beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://' });
  cp = await startControlPlane({ store, adminToken: ADMIN });
  const setup = await call(ADMIN, 'POST', '/v1/apply', {
    documents: [
      res('Team', 'orders', {}),
      res('Team', 'payments', {}),
      res('IdentityProvider', 'entra', {
        issuer: 'https://login.microsoftonline.com/tenant/v2.0',
        clientId: 'apigov',
        groupMappings: [
          { group: 'Orders Developers', team: 'orders', role: 'member' },
          { group: 'Payments Owners', team: 'payments', role: 'owner' },
        ],
      }),
    ],
  });
  expect(setup.status, JSON.stringify(setup.body)).toBe(200);
  pooja = (await call(ADMIN, 'POST', '/v1/users', res('User', 'pooja', { role: 'platform-admin' }))).body.token;
  const token = await call(pooja, 'POST', '/v1/tokens', { name: 'entra-provisioning', scopes: ['scim:read', 'scim:write'] });
  expect(token.status).toBe(201);
  scim = token.body.token;
});

afterAll(async () => {
  await cp?.close();
  await store?.close();
});

describe('SCIM discovery', () => {
  it('ServiceProviderConfig, ResourceTypes and Schemas', async () => {
    const spc = await call(scim, 'GET', '/scim/v2/ServiceProviderConfig');
    expect(spc.status).toBe(200);
    expect(spc.type).toContain('application/scim+json');
    expect(spc.body).toMatchObject({ patch: { supported: true }, filter: { supported: true, maxResults: 1000 }, bulk: { supported: false } });
    expect((await call(scim, 'GET', '/scim/v2/ResourceTypes')).body.Resources.map((r: any) => r.endpoint)).toEqual(['/Users', '/Groups']);
    expect((await call(scim, 'GET', '/scim/v2/Schemas')).body.Resources.map((r: any) => r.id)).toEqual([USER, GROUP, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']);
  });

  it('only a platform admin provisions; a token without the scim scope is refused', async () => {
    const alex = (await call(ADMIN, 'POST', '/v1/users', res('User', 'alex', { team: 'payments', role: 'owner' }))).body.token;
    const refused = await call(alex, 'GET', '/scim/v2/Users');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ schemas: [ERROR], status: '403' });
    const narrow = (await call(pooja, 'POST', '/v1/tokens', { name: 'audit-only', scopes: ['audit:read'] })).body.token;
    const unscoped = await call(narrow, 'GET', '/scim/v2/Users');
    expect(unscoped.status).toBe(403);
    expect(unscoped.body.detail).toContain('this needs scim:read');
  });
});

describe('SCIM users', () => {
  it('creates users, finds them by filter (case-insensitively for userName, exactly for externalId), pages', async () => {
    for (const [userName, externalId, given] of [
      ['Bob@Contoso.com', 'ext-bob', 'Bob'],
      ['carol@contoso.com', 'ext-carol', 'Carol'],
      ['dave@contoso.com', 'ext-dave', 'Dave'],
    ] as const) {
      const created = await call(scim, 'POST', '/scim/v2/Users', {
        schemas: [USER, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
        userName,
        externalId,
        active: true,
        name: { givenName: given, familyName: 'Example' },
        emails: [{ value: userName.toLowerCase(), type: 'work', primary: true }],
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Sales' },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
    }
    const bob = await call(scim, 'GET', '/scim/v2/Users/bob');
    expect(bob.body).toMatchObject({ schemas: [USER], id: 'bob', userName: 'Bob@Contoso.com', externalId: 'ext-bob', displayName: 'Bob Example', active: true, emails: [{ value: 'bob@contoso.com', primary: true }], groups: [] });
    expect((await call(ADMIN, 'GET', '/v1/users/bob')).body.spec).toMatchObject({ role: 'consumer', userName: 'Bob@Contoso.com', externalId: 'ext-bob' });
    const dup = await call(scim, 'POST', '/scim/v2/Users', { schemas: [USER], userName: 'bob@contoso.com' });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ schemas: [ERROR], scimType: 'uniqueness' });

    const byName = await call(scim, 'GET', `/scim/v2/Users?filter=${encodeURIComponent('userName eq "bob@contoso.com"')}`);
    expect(byName.body).toMatchObject({ totalResults: 1, Resources: [{ id: 'bob' }] });
    expect((await call(scim, 'GET', `/scim/v2/Users?filter=${encodeURIComponent('externalId eq "EXT-BOB"')}`)).body.totalResults).toBe(0);
    const or = await call(scim, 'GET', `/scim/v2/Users?filter=${encodeURIComponent('externalId eq "ext-carol" or emails.value sw "dave"')}`);
    expect(or.body.Resources.map((u: any) => u.id)).toEqual(['carol', 'dave']);
    const page = await call(scim, 'GET', '/scim/v2/Users?startIndex=2&count=2&filter=' + encodeURIComponent('userName co "contoso"'));
    expect(page.body).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 2 });
    expect(page.body.Resources.map((u: any) => u.id)).toEqual(['carol', 'dave']);
    const badFilter = await call(scim, 'GET', `/scim/v2/Users?filter=${encodeURIComponent('userName equals "x"')}`);
    expect(badFilter.status).toBe(400);
    expect(badFilter.body).toMatchObject({ schemas: [ERROR], scimType: 'invalidFilter', detail: "unknown operator 'equals'" });
    expect((await call(scim, 'GET', '/scim/v2/Users/nobody')).status).toBe(404);
  });

  it('PATCH: lower-case and Entra casing, paths and value objects, enterprise-extension paths', async () => {
    const lower = await call(scim, 'PATCH', '/scim/v2/Users/carol', patch({ op: 'replace', path: 'displayName', value: 'Carol C.' }));
    expect(lower.status, JSON.stringify(lower.body)).toBe(200);
    expect(lower.body.displayName).toBe('Carol C.');
    const entra = await call(
      scim,
      'PATCH',
      '/scim/v2/Users/carol',
      patch(
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'carol.c@contoso.com' },
        { op: 'Add', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: 'Finance' },
        { op: 'Replace', value: { 'name.formatted': 'ignored: displayName is set', externalId: 'ext-carol-2' } },
      ),
    );
    expect(entra.status, JSON.stringify(entra.body)).toBe(200);
    expect(entra.body).toMatchObject({ displayName: 'Carol C.', externalId: 'ext-carol-2', emails: [{ value: 'carol.c@contoso.com' }] });
    // a bad operation changes nothing
    const bad = await call(scim, 'PATCH', '/scim/v2/Users/carol', patch({ op: 'replace', path: 'displayName', value: 'X' }, { op: 'upsert', path: 'active', value: false }));
    expect(bad.status).toBe(400);
    expect(bad.body.scimType).toBe('invalidSyntax');
    const notEmail = await call(scim, 'PATCH', '/scim/v2/Users/carol', patch({ op: 'replace', path: 'displayName', value: 'X' }, { op: 'replace', path: 'emails[type eq "work"].value', value: 'not-an-address' }));
    expect(notEmail.status).toBe(400);
    expect((await call(scim, 'GET', '/scim/v2/Users/carol')).body.displayName).toBe('Carol C.');
  });
});

describe('SCIM groups map to teams', () => {
  it('a group created with members gives them its team; PATCH adds and removes members (both casings)', async () => {
    const orders = await call(scim, 'POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Orders Developers', externalId: 'g-orders', members: [{ value: 'bob' }] });
    expect(orders.status, JSON.stringify(orders.body)).toBe(201);
    expect(orders.body).toMatchObject({ displayName: 'Orders Developers', members: [{ value: 'bob' }] });
    const id = orders.body.id as string;
    expect((await call(ADMIN, 'GET', '/v1/users/bob')).body.spec).toMatchObject({ role: 'member', team: 'orders', groups: ['Orders Developers'] });
    expect((await call(scim, 'GET', '/scim/v2/Users/bob')).body.groups).toEqual([{ value: id, display: 'Orders Developers', $ref: `${cp.url}/scim/v2/Groups/${id}` }]);

    const payments = (await call(scim, 'POST', '/scim/v2/Groups', { schemas: [GROUP], displayName: 'Payments Owners' })).body.id as string;
    const add = await call(scim, 'PATCH', `/scim/v2/Groups/${payments}`, patch({ op: 'Add', path: 'members', value: [{ value: 'bob' }, { value: 'dave' }] }));
    expect(add.status, JSON.stringify(add.body)).toBe(200);
    // bob is in two teams now; the stronger membership is listed too
    const bob = (await call(ADMIN, 'GET', '/v1/users/bob')).body.spec;
    expect(bob).toMatchObject({ role: 'member', team: 'orders', teams: [{ team: 'payments', role: 'owner' }] });
    expect((await call(ADMIN, 'GET', '/v1/users/dave')).body.spec).toMatchObject({ role: 'owner', team: 'payments' });
    const filtered = await call(scim, 'GET', `/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "payments owners" and members[value eq "dave"]')}`);
    expect(filtered.body.Resources.map((g: any) => g.id)).toEqual([payments]);

    const removed = await call(scim, 'PATCH', `/scim/v2/Groups/${id}`, patch({ op: 'remove', path: 'members[value eq "bob"]' }));
    expect(removed.status).toBe(200);
    expect((await call(ADMIN, 'GET', '/v1/users/bob')).body.spec).toMatchObject({ role: 'owner', team: 'payments', groups: ['Payments Owners'] });
    // Entra's way of removing: the members in the value
    expect((await call(scim, 'PATCH', `/scim/v2/Groups/${payments}`, patch({ op: 'Remove', path: 'members', value: [{ value: 'dave' }] }))).status).toBe(200);
    expect((await call(ADMIN, 'GET', '/v1/users/dave')).body.spec.role).toBe('consumer');
    expect((await call(ADMIN, 'GET', '/v1/users/dave')).body.spec.team).toBeUndefined();
    const unknownMember = await call(scim, 'PATCH', `/scim/v2/Groups/${payments}`, patch({ op: 'add', path: 'members', value: [{ value: 'nobody' }] }));
    expect(unknownMember.status).toBe(400);
    const renamed = await call(scim, 'PATCH', `/scim/v2/Groups/${id}`, patch({ op: 'Replace', value: { id, displayName: 'Orders Devs (old)' } }));
    expect(renamed.body.displayName).toBe('Orders Devs (old)');
    expect((await call(scim, 'DELETE', `/scim/v2/Groups/${payments}`)).status).toBe(204);
    expect((await call(ADMIN, 'GET', '/v1/users/bob')).body.spec.role).toBe('consumer');
  });
});

describe('deactivation', () => {
  it('active "False" (Entra) ends the user\'s token at once, and every SCIM change is audited', async () => {
    const made = await call(ADMIN, 'POST', '/v1/users/bob/tokens');
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const bobToken = made.body.token as string;
    expect((await call(bobToken, 'GET', '/v1/whoami')).status).toBe(200);
    const started = Date.now();
    const off = await call(scim, 'PATCH', '/scim/v2/Users/bob', patch({ op: 'Replace', path: 'active', value: 'False' }));
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(off.body.active).toBe(false);
    const after = await call(bobToken, 'GET', '/v1/whoami');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(after.status).toBe(401);
    expect((await call(ADMIN, 'GET', '/v1/users/bob')).body.spec.active).toBe(false);
    // a token made while deactivated does not work either
    const late = await call(ADMIN, 'POST', '/v1/users/bob/tokens');
    expect((await call(late.body.token, 'GET', '/v1/whoami')).status).toBe(401);
    // reactivated: a new token works again
    expect((await call(scim, 'PATCH', '/scim/v2/Users/bob', patch({ op: 'replace', value: { active: true } }))).body.active).toBe(true);
    expect((await call((await call(ADMIN, 'POST', '/v1/users/bob/tokens')).body.token, 'GET', '/v1/whoami')).status).toBe(200);

    const audit = (await call(ADMIN, 'GET', '/v1/audit?limit=200')).body.items as Array<{ actor: string; action: string; kind: string; name: string }>;
    const scimActions = new Set(audit.filter((e) => e.action.startsWith('scim.')).map((e) => e.action));
    expect([...scimActions].sort()).toEqual(['scim.group.create', 'scim.group.delete', 'scim.group.patch', 'scim.user.create', 'scim.user.deactivate', 'scim.user.groups', 'scim.user.patch'].sort());
    expect(audit.filter((e) => e.action.startsWith('scim.')).every((e) => e.actor === 'pooja')).toBe(true);
    expect(JSON.stringify(audit)).not.toContain(scim);
  });
});
