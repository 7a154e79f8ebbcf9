// Every kind of bad input gets a precise problem+json (stable code, field path) and leaves the store exactly as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as YAMLparse } from 'yaml';
import { openStore } from '@apigov/store';
import { startControlPlane, type RunningControlPlane } from '../src/index.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const PAYMENTS = readFileSync(join(ROOT, 'examples', 'payments', 'openapi.yaml'), 'utf8');
const ADMIN = 'test-admin-token-0123456789';

let cp: RunningControlPlane;
const tokens: Record<string, string> = {};

async function call(method: string, path: string, options: { token?: string; body?: unknown; yaml?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.yaml !== undefined) {
    headers['content-type'] = 'application/yaml';
    body = options.yaml;
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const res = await fetch(cp.url + path, { method, headers, body });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', etag: res.headers.get('etag'), json, text };
}

/**
 * Everything a user could observe of the store: the export and the audit chain length, not counting the audit
 * events of refused credentials (a failed sign-in is recorded on purpose, and written a moment later in a batch).
 */
async function observe(): Promise<string> {
  const exp = await call('GET', '/v1/export', { token: ADMIN });
  const audit = await call('GET', '/v1/audit?limit=500', { token: ADMIN });
  const changes = (audit.json.items as Array<{ action: string }>).filter((e) => !e.action.startsWith('auth.'));
  return exp.text + '\n#audit=' + changes.length;
}

function res(kind: string, name: string, spec: unknown) {
  return { apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec };
}

beforeAll(async () => {
  cp = await startControlPlane({ store: await openStore({ dataDir: 'memory://' }), adminToken: ADMIN });
  const setup = [
    res('Team', 'payments', {}),
    res('Team', 'orders', {}),
    res('Environment', 'dev', {}),
    res('Environment', 'prod', { production: true }),
  ];
  const r = await call('POST', '/v1/apply', { token: ADMIN, body: { documents: setup } });
  expect(r.status, r.text).toBe(200);
  for (const [name, team, role] of [
    ['alex', 'payments', 'owner'],
    ['mia', 'payments', 'member'],
    ['bob', 'orders', 'member'],
    ['carol', 'orders', 'consumer'],
  ]) {
    const u = await call('POST', '/v1/users', { token: ADMIN, body: res('User', name, { team, role }) });
    expect(u.status, u.text).toBe(201);
    tokens[name] = u.json.token as string;
  }
  const reg = await call('POST', '/v1/apis/register', { token: tokens.alex, body: { name: 'payments', team: 'payments', spec: PAYMENTS, upstreams: { dev: 'http://127.0.0.1:4100' } } });
  expect(reg.status, reg.text).toBe(201);
  const hidden = await call('POST', '/v1/apis/register', { token: tokens.alex, body: { name: 'vault', team: 'payments', spec: PAYMENTS, visibility: 'team-only' } });
  expect(hidden.status, hidden.text).toBe(201);
});

afterAll(async () => {
  await cp?.close();
});

interface Case {
  name: string;
  send: () => ReturnType<typeof call>;
  status: number;
  code: string;
  path?: RegExp;
  detail?: RegExp;
}

const apiDoc = (over: Record<string, unknown> = {}) =>
  res('Api', 'ledger', { owner: 'payments', title: 'Ledger', versions: [{ name: 'v1', openapi: { openapi: '3.0.3', info: { title: 'L', version: '1' }, paths: {} } }], ...over });

const cases: Case[] = [
  { name: 'malformed JSON', send: () => call('POST', '/v1/teams', { token: ADMIN, body: '{"kind": "Team",' }), status: 400, code: 'APIGOV_ERR_INPUT_MALFORMED' },
  { name: 'malformed YAML bundle', send: () => call('POST', '/v1/apply', { token: ADMIN, yaml: 'kind: Team\nmetadata: {name: x\n' }), status: 400, code: 'APIGOV_ERR_INPUT_MALFORMED', detail: /line/ },
  { name: 'unknown kind', send: () => call('POST', '/v1/apply', { token: ADMIN, body: { documents: [res('Gizmo', 'x', {})] } }), status: 422, code: 'APIGOV_ERR_INPUT_INVALID', path: /^documents\[0\]\.kind$/ },
  { name: 'unknown field', send: () => call('POST', '/v1/teams', { token: ADMIN, body: res('Team', 'ops', { colour: 'red' }) }), status: 422, code: 'APIGOV_ERR_INPUT_INVALID', path: /^spec$/, detail: /colour/ },
  { name: 'name with a slash', send: () => call('POST', '/v1/teams', { token: ADMIN, body: res('Team', 'a/b', {}) }), status: 422, code: 'APIGOV_ERR_INPUT_INVALID', path: /^metadata\.name$/ },
  { name: 'name with ..', send: () => call('POST', '/v1/teams', { token: ADMIN, body: res('Team', '..', {}) }), status: 422, code: 'APIGOV_ERR_INPUT_INVALID', path: /^metadata\.name$/ },
  { name: 'name with spaces', send: () => call('POST', '/v1/teams', { token: ADMIN, body: res('Team', 'my team', {}) }), status: 422, code: 'APIGOV_ERR_INPUT_INVALID', path: /^metadata\.name$/ },
  { name: 'unknown team', send: () => call('POST', '/v1/apis', { token: ADMIN, body: apiDoc({ owner: 'nobody' }) }), status: 422, code: 'APIGOV_ERR_RESOURCE_REFERENCE', path: /^spec\.owner$/ },
  { name: 'duplicate', send: () => call('POST', '/v1/teams', { token: ADMIN, body: res('Team', 'payments', {}) }), status: 409, code: 'APIGOV_ERR_RESOURCE_CONFLICT' },
  {
    name: 'stale If-Match',
    send: () => call('PUT', '/v1/teams/payments', { token: ADMIN, body: res('Team', 'payments', { displayName: 'P' }), headers: { 'if-match': '"999"' } }),
    status: 412,
    code: 'APIGOV_ERR_RESOURCE_PRECONDITION',
  },
  { name: 'missing token on a write', send: () => call('POST', '/v1/teams', { body: res('Team', 'ops', {}) }), status: 401, code: 'APIGOV_ERR_AUTH_MISSING_TOKEN' },
  { name: 'wrong token', send: () => call('GET', '/v1/teams', { token: 'agv_not-a-real-token' }), status: 401, code: 'APIGOV_ERR_AUTH_INVALID_TOKEN' },
  { name: 'member publishing another team’s API', send: () => call('POST', '/v1/apis/payments/versions/v1/publish', { token: tokens.bob, body: { environment: 'dev' } }), status: 403, code: 'APIGOV_ERR_AUTH_FORBIDDEN' },
  { name: 'consumer registering', send: () => call('POST', '/v1/apis/register', { token: tokens.carol, body: { name: 'orders-api', team: 'orders', spec: PAYMENTS } }), status: 403, code: 'APIGOV_ERR_AUTH_FORBIDDEN' },
  { name: 'member deleting an API (owners do)', send: () => call('DELETE', '/v1/apis/payments', { token: tokens.mia }), status: 403, code: 'APIGOV_ERR_AUTH_FORBIDDEN' },
  { name: 'member creating a team', send: () => call('POST', '/v1/teams', { token: tokens.mia, body: res('Team', 'ops', {}) }), status: 403, code: 'APIGOV_ERR_AUTH_FORBIDDEN' },
  { name: 'owner making a platform admin', send: () => call('POST', '/v1/users', { token: tokens.alex, body: res('User', 'eve', { role: 'platform-admin' }) }), status: 403, code: 'APIGOV_ERR_AUTH_FORBIDDEN' },
  { name: 'team-only API is a 404 to others', send: () => call('GET', '/v1/apis/vault', { token: tokens.bob }), status: 404, code: 'APIGOV_ERR_RESOURCE_NOT_FOUND' },
  { name: 'team-only API cannot be written by others (404, not 403)', send: () => call('POST', '/v1/apis/vault/versions/v1/publish', { token: tokens.bob, body: { environment: 'dev', upstream: 'http://127.0.0.1:1' } }), status: 404, code: 'APIGOV_ERR_RESOURCE_NOT_FOUND' },
  { name: 'spec that is not OpenAPI', send: () => call('POST', '/v1/apis/register', { token: tokens.alex, body: { name: 'x1', team: 'payments', spec: 'hello: world\n' } }), status: 422, code: 'APIGOV_ERR_SPEC_INVALID' },
  { name: 'unparseable spec', send: () => call('POST', '/v1/apis/register', { token: tokens.alex, body: { name: 'x2', team: 'payments', spec: 'openapi: 3.0.3\ninfo: [\n' } }), status: 422, code: 'APIGOV_ERR_SPEC_PARSE' },
  {
    name: 'unresolvable $ref',
    send: () => call('POST', '/v1/apis/register', { token: tokens.alex, body: { name: 'x3', team: 'payments', spec: PAYMENTS.replace("$ref: '#/components/schemas/PaymentList'", "$ref: './missing.yaml#/PaymentList'") } }),
    status: 422,
    code: 'APIGOV_ERR_SPEC_UNRESOLVED_REF',
  },
  {
    name: 'remote $ref',
    send: () => call('POST', '/v1/apis/register', { token: tokens.alex, body: { name: 'x4', team: 'payments', spec: PAYMENTS.replace("$ref: '#/components/schemas/PaymentList'", "$ref: 'https://example.com/schemas.yaml#/PaymentList'") } }),
    status: 422,
    code: 'APIGOV_ERR_SPEC_REMOTE_REF',
  },
  {
    name: '20 MB spec',
    send: () => call('POST', '/v1/apis/register', { token: tokens.alex, body: { name: 'x5', team: 'payments', spec: PAYMENTS + '\n# ' + 'x'.repeat(20 * 1024 * 1024) } }),
    status: 413,
    code: 'APIGOV_ERR_SPEC_TOO_LARGE',
  },
  {
    name: 'apply bundle whose 100th document is invalid',
    send: () => {
      const docs: unknown[] = Array.from({ length: 99 }, (_, i) => res('Team', `team-${i}`, {}));
      docs.push(res('Team', 'team-99', { displayName: 42 }));
      return call('POST', '/v1/apply', { token: ADMIN, body: { documents: docs } });
    },
    status: 422,
    code: 'APIGOV_ERR_INPUT_INVALID',
    path: /^documents\[99\]\.spec\.displayName$/,
  },
  {
    name: 'apply bundle whose 100th document fails in the transaction (unknown team)',
    send: () => {
      const docs: unknown[] = Array.from({ length: 99 }, (_, i) => res('Team', `team-${i}`, {}));
      docs.push(res('User', 'zed', { team: 'no-such-team', role: 'member' }));
      return call('POST', '/v1/apply', { token: ADMIN, body: { documents: docs } });
    },
    status: 422,
    code: 'APIGOV_ERR_RESOURCE_REFERENCE',
    path: /^documents\[99\]\.spec\.team$/,
  },
  { name: 'lifecycle skip: retire a draft', send: () => call('POST', '/v1/apis/vault/versions/v1/retire', { token: tokens.alex, body: {} }), status: 409, code: 'APIGOV_ERR_LIFECYCLE_TRANSITION' },
  { name: 'deprecate without a sunset', send: () => call('POST', '/v1/apis/payments/versions/v1/deprecate', { token: tokens.alex, body: {} }), status: 422, code: 'APIGOV_ERR_INPUT_INVALID', path: /^sunset$/ },
  { name: 'audit anchor that is not SEQ:HASH', send: () => call('GET', '/v1/audit/verify?anchor=12:not-a-hash', { token: ADMIN }), status: 422, code: 'APIGOV_ERR_INPUT_INVALID', path: /^anchor$/, detail: /SEQ:HASH/ },
  { name: 'deprecate with a bad date', send: () => call('POST', '/v1/apis/payments/versions/v1/deprecate', { token: tokens.alex, body: { environment: 'dev', sunset: '2027-02-31' } }), status: 422, code: 'APIGOV_ERR_INPUT_INVALID' },
];

describe('bad input is refused precisely and changes nothing', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const before = await observe();
      const r = await c.send();
      expect(r.status, r.text.slice(0, 500)).toBe(c.status);
      expect(r.type).toMatch(/application\/problem\+json/);
      expect(r.json.code).toBe(c.code);
      expect(r.json.type).toBe(`https://apigov.dev/errors/${c.code}`);
      expect(typeof r.json.requestId).toBe('string');
      expect(String(r.json.detail)).not.toMatch(/at .*\.js:\d+/); // no stack traces
      if (c.path) expect((r.json.errors as Array<{ path: string }>).map((e) => e.path)).toEqual(expect.arrayContaining([expect.stringMatching(c.path)]));
      if (c.detail) expect(String(r.json.detail)).toMatch(c.detail);
      expect(await observe()).toBe(before);
    });
  }

  it('an expired token is refused with its own code', async () => {
    const t = await call('POST', '/v1/users/bob/tokens', { token: ADMIN, body: { expiresInSeconds: 1 } });
    expect(t.status).toBe(201);
    await new Promise((r) => setTimeout(r, 1100));
    const r = await call('GET', '/v1/whoami', { token: t.json.token as string });
    expect(r.status).toBe(401);
    expect(r.json.code).toBe('APIGOV_ERR_AUTH_EXPIRED_TOKEN');
  });
});

describe('documents that break the official OpenAPI schema', () => {
  const INVALID = join(ROOT, 'packages', 'openapi', 'test', 'fixtures', 'invalid');
  const expected: Record<string, RegExp> = {
    'example-examples.yaml': /^spec\.versions\[0\]\.openapi\/components\/parameters\/animal$/,
    'invalid_schema_types.yaml': /^spec\.versions\[0\]\.openapi\/components\/schemas\/invalid_(null|number|array)$/,
    'parameter-object-header-allowReserved.yaml': /^spec\.versions\[0\]\.openapi\/components\/parameters\/header$/,
    'server_enum_empty.yaml': /^spec\.versions\[0\]\.openapi\/servers\/0\/variables\/var\/enum$/,
    'no_containers.yaml': /./,
    'unknown_container.yaml': /./,
  };
  for (const [file, pointer] of Object.entries(expected)) {
    it(`${file}: register is refused, naming where, and nothing is stored`, async () => {
      const before = await observe();
      const r = await call('POST', '/v1/apis/register', { token: ADMIN, body: { name: 'must-fail', team: 'payments', version: '1', spec: readFileSync(join(INVALID, file), 'utf8') } });
      expect(r.status, r.text).toBe(422);
      expect(r.type).toMatch(/application\/problem\+json/);
      expect(r.json.code).toBe('APIGOV_ERR_SPEC_INVALID');
      const errors = r.json.errors as Array<{ path: string; message: string }>;
      expect(errors.length).toBeGreaterThan(0);
      for (const e of errors) expect(e.path).toMatch(pointer);
      expect(await observe()).toBe(before);
    });
  }

  it('an Api applied with such a document is refused the same way', async () => {
    const doc = YAMLparse(readFileSync(join(INVALID, 'server_enum_empty.yaml'), 'utf8'));
    const r = await call('POST', '/v1/apply', { token: ADMIN, body: { documents: [res('Api', 'must-fail', { owner: 'payments', title: 'T', versions: [{ name: 'v1', openapi: doc }] })] } });
    expect(r.status).toBe(422);
    expect((r.json.errors as Array<{ path: string }>)[0].path).toMatch(/openapi\/servers\/0\/variables\/var\/enum$/);
  });
});
