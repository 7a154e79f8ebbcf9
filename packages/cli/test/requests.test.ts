// What each command sends and shows, against a real HTTP peer answering with the shapes in
// docs/rest-api.md: method, path, query, body and headers per command, and the user-visible result.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { FIXTURES, problem, run, startPeer, stderrLines, tempDir, type Peer, type PeerReply, type RecordedRequest } from './helpers.js';

const status = { resourceVersion: 1, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', createdBy: 'admin', updatedBy: 'admin' };
const meta = (name: string) => ({ name, labels: {}, annotations: {} });
const resource = (kind: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: meta(name), spec, status });

function petsApi(environments: Record<string, unknown> = {}) {
  return {
    ...resource('Api', 'pets', {
      owner: 'pets',
      title: 'Pets API',
      description: 'Pets of the shelter.',
      tags: ['animals', 'shelter'],
      visibility: 'internal',
      contact: { name: 'Pets team', email: 'pets@example.com' },
      versions: [
        { name: 'v2', revision: '2.0.0', openapi: {}, environments: { dev: { state: 'deprecated', upstream: 'http://up:1', sunset: '2027-06-30', successor: 'v10' } } },
        { name: 'v10', revision: '10.1.0', openapi: {}, environments },
      ],
    }),
    status: { ...status, gatewayUrls: { v10: { dev: 'http://gw.dev/pets/v10' } } },
  };
}

const FINDINGS = [
  { rule: 'apigov-operation-id', severity: 'error', message: 'Operation has no operationId.', path: 'paths./pets.get', line: 15, column: 9 },
  { rule: 'apigov-owner-contact', severity: 'error', message: 'info.contact is missing.', path: 'info', line: 2, column: 1 },
];

function route(req: RecordedRequest): PeerReply | undefined {
  const key = `${req.method} ${req.path}`;
  switch (key) {
    case 'GET /v1/teams':
      return req.query.cursor === undefined
        ? { body: { items: [resource('Team', 'payments', { displayName: 'Payments team' })], nextCursor: 'c1' } }
        : { body: { items: [resource('Team', 'pets', {})] } };
    case 'POST /v1/teams':
      if ((req.body as { metadata: { name: string } }).metadata.name === 'taken') {
        return problem(422, 'APIGOV_ERR_INPUT_INVALID', 'Invalid resource', { errors: [{ path: 'spec.contact.email', message: 'must be an e-mail address' }] });
      }
      return { status: 201, body: { ...(req.body as object), status } };
    case 'POST /v1/users':
      return { status: 201, body: { ...(req.body as object), status, token: 'agv_secret_once' } };
    case 'POST /v1/environments':
      return { status: 201, body: { ...(req.body as object), status } };
    case 'POST /v1/apis/register':
      return { status: 201, body: { ...petsApi(), findings: [{ ...FINDINGS[0], severity: 'warn' }] } };
    case 'GET /v1/apis/pets':
      return { body: petsApi() };
    case 'POST /v1/apis/pets/versions/v10/publish':
      return { body: petsApi({ dev: { state: 'published', upstream: 'http://up:10' } }) };
    case 'POST /v1/apis/pets/versions/v2/deprecate':
    case 'POST /v1/apis/pets/versions/v2/retire':
      return { body: petsApi() };
    case 'POST /v1/apis/broken/versions/v1/publish':
      return problem(422, 'APIGOV_ERR_GOVERNANCE_BLOCKED', "publishing broken v1 to prod is blocked by 2 lint findings at or above 'error'", { findings: FINDINGS });
    case 'GET /v1/apis/pets/versions':
      return { body: { items: [{ name: 'v2', revision: '2.0.0', environments: { dev: { state: 'deprecated' } } }, { name: 'v10', revision: '10.1.0', environments: {} }] } };
    case 'GET /v1/search':
      return {
        body: {
          items: [{ name: 'pets', title: 'Pets API', owner: 'pets', tags: ['animals'], visibility: 'internal', rank: 1, states: [{ version: 'v2', environment: 'dev', state: 'deprecated' }, { version: 'v10', environment: 'prod', state: 'published' }] }],
          total: 3,
        },
      };
    case 'POST /v1/apply': {
      const docs = (req.body as { documents: Array<{ kind: string; metadata: { name: string } }> }).documents;
      const plan = docs.map((d, i) => ({ action: ['create', 'update', 'unchanged'][i % 3], kind: d.kind, name: d.metadata.name }));
      if (req.query.prune === 'true') plan.push({ action: 'delete', kind: 'Team', name: 'old' });
      const dryRun = req.query.dryRun === 'true';
      return { body: { dryRun, applied: !dryRun, plan } };
    }
    case 'GET /v1/export':
      if (String(req.headers.accept).includes('yaml')) return { type: 'application/yaml', text: '---\napiVersion: apigov.dev/v1\nkind: Team\nmetadata:\n  name: pets\nspec: {}\n' };
      return { body: { documents: [resource('Team', 'pets', {})] } };
    case 'GET /v1/audit':
      return { body: { items: [{ seq: 7, at: '2026-01-02T00:00:00Z', actor: 'alex', action: 'publish', kind: 'Api', name: 'pets', requestId: 'r', hash: 'h', prevHash: 'p' }] } };
    case 'GET /v1/audit/verify':
      return { body: { ok: false, count: 7, seq: 5, reason: 'hash mismatch' } };
    default:
      return undefined;
  }
}

let peer: Peer;
let env: Record<string, string>;

beforeAll(async () => {
  peer = await startPeer(route);
  env = { APIGOV_CONFIG: join(tempDir(), 'config.yaml'), APIGOV_URL: peer.url, APIGOV_TOKEN: 'tok' };
});
afterAll(() => peer.close());
beforeEach(() => {
  peer.requests.length = 0;
});

const only = () => {
  expect(peer.requests).toHaveLength(1);
  return peer.requests[0];
};

describe('teams, users, environments', () => {
  it('teams create POSTs a full Team document with an idempotency key', async () => {
    const r = await run(['teams', 'create', 'payments', '--display-name', 'Payments team'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Team 'payments' created.\n");
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/teams');
    expect(req.headers.authorization).toBe('Bearer tok');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(req.body).toEqual({ apiVersion: 'apigov.dev/v1', kind: 'Team', metadata: { name: 'payments' }, spec: { displayName: 'Payments team' } });
  });

  it('teams list follows nextCursor and prints an aligned table; -o json prints the items', async () => {
    const r = await run(['teams', 'list'], env);
    expect(r.code).toBe(0);
    expect(peer.requests.map((q) => q.query)).toEqual([{ limit: '500' }, { limit: '500', cursor: 'c1' }]);
    expect(r.stdout).toBe(
      'NAME      DISPLAY NAME   CREATED\n' + 'payments  Payments team  2026-01-01T00:00:00Z\n' + 'pets      -              2026-01-01T00:00:00Z\n',
    );
    const json = await run(['teams', 'list', '-o', 'json'], env);
    expect((JSON.parse(json.stdout) as Array<{ metadata: { name: string } }>).map((t) => t.metadata.name)).toEqual(['payments', 'pets']);
    const yaml = await run(['teams', 'list', '-o', 'yaml'], env);
    expect((YAML.parse(yaml.stdout) as Array<{ kind: string }>)[0].kind).toBe('Team');
  });

  it('a field error from the server is one line with the field path (exit 1)', async () => {
    const r = await run(['teams', 'create', 'taken'], env);
    expect(r.code).toBe(1);
    expect(stderrLines(r)).toEqual(['apigov: Invalid resource (at spec.contact.email: must be an e-mail address) [APIGOV_ERR_INPUT_INVALID]']);
  });

  it('users create prints the token once; -o json gives {name, token, ...}', async () => {
    const r = await run(['users', 'create', 'alex', '--team', 'payments', '--role', 'owner', '--email', 'alex@example.com'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("User 'alex' created (owner, team payments)");
    expect(r.stdout).toContain('agv_secret_once');
    expect(only().body).toEqual({ apiVersion: 'apigov.dev/v1', kind: 'User', metadata: { name: 'alex' }, spec: { team: 'payments', role: 'owner', email: 'alex@example.com' } });
    const json = JSON.parse((await run(['users', 'create', 'alex', '--team', 'payments', '--role', 'owner', '-o', 'json'], env)).stdout);
    expect(json).toMatchObject({ name: 'alex', token: 'agv_secret_once', kind: 'User' });
  });

  it('envs create sends production, order and gatewayUrl', async () => {
    const r = await run(['envs', 'create', 'prod', '--production', '--order', '2', '--gateway-url', 'https://gw.example'], env);
    expect(r.code).toBe(0);
    expect(only().body).toEqual({ apiVersion: 'apigov.dev/v1', kind: 'Environment', metadata: { name: 'prod' }, spec: { production: true, order: 2, gatewayUrl: 'https://gw.example' } });
  });
});

describe('register', () => {
  it('sends a single-file spec as text with the options, and reports the lint count', async () => {
    const r = await run(
      ['register', '--spec', join(FIXTURES, 'good.openapi.yaml'), '--name', 'pets', '--team', 'pets', '--upstream', 'dev=http://127.0.0.1:4100', '--upstream', 'prod=https://pets.internal', '--tag', 'animals', '--tag', 'shelter', '--visibility', 'public', '--version', '1.2.0'],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const req = only();
    expect(`${req.method} ${req.path}`).toBe('POST /v1/apis/register');
    const body = req.body as Record<string, unknown>;
    expect(typeof body.spec).toBe('string');
    expect(body.spec).toContain('title: Pets API');
    expect({ ...body, spec: undefined }).toEqual({
      name: 'pets',
      team: 'pets',
      version: 'v1',
      upstreams: { dev: 'http://127.0.0.1:4100', prod: 'https://pets.internal' },
      visibility: 'public',
      tags: ['animals', 'shelter'],
      spec: undefined,
    });
    expect(r.stdout).toContain('Registered pets v1 (revision 1.2.0) for team pets: new API.');
    expect(r.stdout).toContain('Lint: 0 errors, 1 warning');
  });

  it('sends a multi-file spec as {entry, files} with every file its $refs reach', async () => {
    const r = await run(['register', '--spec', join(FIXTURES, 'multifile', 'openapi.yaml'), '--name', 'pets'], env);
    expect(r.code).toBe(0);
    const spec = (only().body as { spec: { entry: string; files: Record<string, string> } }).spec;
    expect(spec.entry).toBe('openapi.yaml');
    expect(Object.keys(spec.files).sort()).toEqual(['openapi.yaml', 'schemas/person.yaml', 'schemas/pet.yaml']);
    expect((only().body as { team?: string }).team).toBeUndefined();
  });

  it('a bundle whose refs climb above the entry directory keys files from their common directory', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'spec'));
    mkdirSync(join(dir, 'common'));
    writeFileSync(join(dir, 'spec', 'api.yaml'), "openapi: 3.0.3\ninfo: {title: T, version: 1.0.0}\npaths: {}\ncomponents:\n  schemas:\n    E: {$ref: '../common/error.yaml#/Error'}\n");
    writeFileSync(join(dir, 'common', 'error.yaml'), 'Error: {type: object}\n');
    const r = await run(['register', '--spec', join(dir, 'spec', 'api.yaml'), '--name', 'pets', '--team', 'pets'], env);
    expect(r.code).toBe(0);
    const spec = (only().body as { spec: { entry: string; files: Record<string, string> } }).spec;
    expect(spec.entry).toBe('spec/api.yaml');
    expect(Object.keys(spec.files).sort()).toEqual(['common/error.yaml', 'spec/api.yaml']);
  });
});

describe('lifecycle', () => {
  it('publish without --version uses the highest major of the API, then POSTs {environment, upstream, routePrefix}', async () => {
    const r = await run(['publish', 'pets', '--env', 'dev', '--upstream', 'http://up:10', '--route-prefix', '/pets/v10'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(peer.requests.map((q) => `${q.method} ${q.path}`)).toEqual(['GET /v1/apis/pets', 'POST /v1/apis/pets/versions/v10/publish']);
    expect(peer.requests[1].body).toEqual({ environment: 'dev', upstream: 'http://up:10', routePrefix: '/pets/v10' });
    expect(r.stdout).toContain('Published pets v10 to dev (state published).');
    expect(r.stdout).toContain('http://gw.dev/pets/v10');
  });

  it('a governance refusal prints the blocking findings, then one error line (exit 1)', async () => {
    const r = await run(['publish', 'broken', '--env', 'prod', '--version', '1'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^SEVERITY\s+LINE:COL\s+RULE/);
    expect(r.stdout).toMatch(/^error\s+15:9\s+apigov-operation-id\s+/m);
    expect(r.stdout).toMatch(/^error\s+2:1\s+apigov-owner-contact\s+/m);
    expect(stderrLines(r)).toEqual([expect.stringMatching(/^apigov: publishing broken v1 to prod is blocked .* \[APIGOV_ERR_GOVERNANCE_BLOCKED\]$/)]);
  });

  it('deprecate and retire send their bodies to the version key', async () => {
    const d = await run(['deprecate', 'pets', '--version', '2.1.0', '--sunset', '2027-06-30', '--successor', 'v10'], env);
    expect(d.code).toBe(0);
    expect(only().path).toBe('/v1/apis/pets/versions/v2/deprecate');
    expect(only().body).toEqual({ sunset: '2027-06-30', successor: 'v10' });
    expect(d.stdout).toBe('Deprecated pets v2 in dev (sunset 2027-06-30, successor v10).\n');
    peer.requests.length = 0;
    const rt = await run(['retire', 'pets', '--version', 'v2', '--env', 'dev'], env);
    expect(rt.code).toBe(0);
    expect(only().path).toBe('/v1/apis/pets/versions/v2/retire');
    expect(only().body).toEqual({ environment: 'dev' });
  });
});

describe('catalog', () => {
  it('search passes q, team, tag, environment, state and limit, and shows states as version:env=state', async () => {
    const r = await run(['search', 'pet', '--team', 'pets', '--tag', 'animals', '--env', 'prod', '--state', 'published', '--limit', '1'], env);
    expect(r.code).toBe(0);
    expect(only().query).toEqual({ q: 'pet', team: 'pets', tag: 'animals', environment: 'prod', state: 'published', limit: '1' });
    expect(r.stdout).toBe(
      'NAME  TITLE     OWNER  TAGS     STATES\n' + 'pets  Pets API  pets   animals  v2:dev=deprecated v10:prod=published\n' + 'showing 1 of 3 (use --limit)\n',
    );
  });

  it('describe shows ownership and, per version and environment, state, sunset, successor, upstream and gateway URL', async () => {
    const r = await run(['describe', 'pets'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^owner:\s+pets$/m);
    expect(r.stdout).toMatch(/^contact:\s+Pets team <pets@example.com>$/m);
    expect(r.stdout).toMatch(/^tags:\s+animals, shelter$/m);
    expect(r.stdout).toMatch(/^v2\s+2\.0\.0\s+dev\s+deprecated\s+2027-06-30\s+v10\s+http:\/\/up:1\s+-$/m);
    expect(r.stdout).toMatch(/^v10\s+10\.1\.0\s+-\s+not in any environment/m);
  });

  it('versions lists each version with its environments', async () => {
    const r = await run(['versions', 'pets'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^v2\s+2\.0\.0\s+dev=deprecated$/m);
  });
});

describe('apply, diff, export', () => {
  function gitopsDir(): string {
    const dir = tempDir();
    mkdirSync(join(dir, 'apis', 'specs'), { recursive: true });
    writeFileSync(
      join(dir, 'teams.yaml'),
      'apiVersion: apigov.dev/v1\nkind: Team\nmetadata: {name: pets}\nspec: {}\n---\napiVersion: apigov.dev/v1\nkind: Team\nmetadata: {name: shelter}\nspec: {}\n',
    );
    writeFileSync(
      join(dir, 'apis', 'pets.yaml'),
      'apiVersion: apigov.dev/v1\nkind: Api\nmetadata: {name: pets}\nspec:\n  owner: pets\n  title: Pets\n  versions:\n    - name: v1\n      specFile: ./specs/pets.yaml\n',
    );
    writeFileSync(join(dir, 'apis', 'specs', 'pets.yaml'), "openapi: 3.0.3\ninfo: {title: Pets, version: 1.0.0}\npaths:\n  /pets:\n    get:\n      responses:\n        '200': {description: ok}\n");
    return dir;
  }

  it('apply -f DIR sends every resource (sorted, recursive), with specFile replaced by the loaded openapi document', async () => {
    const r = await run(['apply', '-f', gitopsDir()], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const req = only();
    expect(`${req.method} ${req.path}`).toBe('POST /v1/apply');
    expect(req.query).toEqual({});
    const docs = (req.body as { documents: Array<{ kind: string; metadata: { name: string }; spec: Record<string, unknown> }> }).documents;
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['Api/pets', 'Team/pets', 'Team/shelter']);
    const version = (docs[0].spec.versions as Array<Record<string, unknown>>)[0];
    expect(version.specFile).toBeUndefined();
    expect(version.openapi).toMatchObject({ openapi: '3.0.3', info: { title: 'Pets' } });
    expect(r.stdout).toBe('ACTION     KIND  NAME\ncreate     Api   pets\nupdate     Team  pets\nunchanged  Team  shelter\n1 created, 1 updated, 1 unchanged, 0 deleted\n');
  });

  it('apply --dry-run --prune passes both flags and says it was a dry run', async () => {
    const r = await run(['apply', '-f', join(gitopsDir(), 'teams.yaml'), '--dry-run', '--prune'], env);
    expect(r.code).toBe(0);
    expect(only().query).toEqual({ dryRun: 'true', prune: 'true' });
    expect(r.stdout.trim().split('\n').at(-1)).toBe('1 created, 1 updated, 0 unchanged, 1 deleted (dry run)');
  });

  it('an invalid local document is a usage error naming the file and field; nothing is sent', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: apigov.dev/v1\nkind: Team\nmetadata: {name: Bad_Name}\nspec: {}\n');
    const r = await run(['apply', '-f', join(dir, 'bad.yaml')], env);
    expect(r.code).toBe(2);
    expect(stderrLines(r)).toEqual([expect.stringMatching(/bad\.yaml \(document 1\): metadata\.name: must be .*\[APIGOV_ERR_INPUT_INVALID\]$/)]);
    expect(peer.requests).toHaveLength(0);
  });

  it('diff shows only changes; exit 0, or 1 with --exit-code when something would change', async () => {
    const dir = gitopsDir();
    const r = await run(['diff', '-f', dir], env);
    expect(r.code).toBe(0);
    expect(only().query).toEqual({ dryRun: 'true' });
    expect(r.stdout).not.toContain('unchanged  Team');
    expect(r.stdout).toContain('create  Api   pets');
    expect((await run(['diff', '-f', dir, '--exit-code'], env)).code).toBe(1);
    const json = await run(['diff', '-f', dir, '-o', 'json'], env);
    expect(JSON.parse(json.stdout)).toEqual([
      { action: 'create', kind: 'Api', name: 'pets' },
      { action: 'update', kind: 'Team', name: 'pets' },
    ]);
  });

  it('export prints YAML (even with the default table output) and JSON with -o json; --kind is sent as the Kind name', async () => {
    const y = await run(['export', '--kind', 'teams'], env);
    expect(y.code).toBe(0);
    expect(y.stdout).toContain('kind: Team');
    expect(only().query).toEqual({ kind: 'Team' });
    expect(only().headers.accept).toBe('application/yaml');
    peer.requests.length = 0;
    const j = await run(['export', '-o', 'json'], env);
    expect(JSON.parse(j.stdout).documents[0].kind).toBe('Team');
    expect(only().headers.accept).toBe('application/json');
  });
});

describe('audit', () => {
  it('audit passes its filters and prints SEQ TIME ACTOR ACTION KIND NAME', async () => {
    const r = await run(['audit', '--limit', '5', '--actor', 'alex', '--kind', 'api', '--name', 'pets'], env);
    expect(r.code).toBe(0);
    expect(only().query).toEqual({ limit: '5', actor: 'alex', kind: 'Api', name: 'pets' });
    expect(r.stdout).toBe('SEQ  TIME                  ACTOR  ACTION   KIND  NAME\n7    2026-01-02T00:00:00Z  alex   publish  Api   pets\n');
  });

  it('audit verify reports a broken chain with exit 1', async () => {
    const r = await run(['audit', 'verify'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('audit chain BROKEN at seq 5: hash mismatch\n');
    expect(only().path).toBe('/v1/audit/verify');
  });

  it('audit verify --anchor passes the anchor; a malformed one is a usage error and sends nothing', async () => {
    const anchor = `5:${'ab'.repeat(32)}`;
    const r = await run(['audit', 'verify', '--anchor', anchor], env);
    expect(r.code).toBe(1);
    expect(only().query).toEqual({ anchor });
    const bad = await run(['audit', 'verify', '--anchor', '5:nothex'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/must be SEQ:HASH/);
    expect(peer.requests).toHaveLength(1); // only the first run's
  });
});
