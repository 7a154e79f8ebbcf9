// The demo's model exported for Kubernetes and Backstage over REST and the CLI: every object of
// `--format envoy-gateway` is admitted by the Gateway API and Envoy Gateway CRDs (schema, defaults, CEL), every
// entity of `--format backstage` validates against Backstage's schemas once its definition URL is read, and each
// caller sees only what they may see (a team-only API reaches neither export for another team).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadDemo } from '@apigov/control-plane';
import { KubernetesSchemas } from '../../packages/exporters/test/kubernetes-schemas.js';
import { backstageProblems } from '../../packages/exporters/test/backstage-schemas.js';
import { cli, ROOT, startHarness, type Harness } from './harness.js';

let h: Harness;
let tokens: Record<string, string>;
const schemas = new KubernetesSchemas();

async function call(user: string, path: string, accept = 'application/json') {
  const r = await fetch(h.cp.url + path, { headers: { authorization: `Bearer ${tokens[user]}`, accept } });
  return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
}

beforeAll(async () => {
  h = await startHarness('pglite');
  tokens = (await loadDemo(h.store, { dataDir: h.dir, paymentsSpecPath: join(ROOT, 'examples', 'payments', 'openapi.yaml'), paymentsUpstream: 'http://payments.payments.svc.cluster.local:4100' })) as unknown as Record<string, string>;
  // a team-only API of the payments team: Bob (orders) must not see it in any export
  const r = await fetch(`${h.cp.url}/v1/apis/register`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens.alex}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'ledger', team: 'payments', visibility: 'team-only', spec: (await import('node:fs')).readFileSync(join(ROOT, 'examples', 'payments', 'openapi.yaml'), 'utf8').replace('title: Payments API', 'title: Ledger'), upstreams: { dev: 'http://ledger:80' } }),
  });
  expect(r.status).toBe(201);
  const pub = await fetch(`${h.cp.url}/v1/apis/ledger/versions/v1/publish`, { method: 'POST', headers: { authorization: `Bearer ${tokens.alex}`, 'content-type': 'application/json' }, body: JSON.stringify({ environment: 'dev' }) });
  expect(pub.status).toBe(200);
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('the demo exported for Envoy Gateway', () => {
  it('every object is admitted by the Gateway API and Envoy Gateway CRDs', async () => {
    const r = await call('pooja', '/v1/exports/envoy-gateway');
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text) as { documents: Array<Record<string, any>>; unsupported: Array<{ resource: string; policy: string }> };
    const kinds = new Set(body.documents.map((d) => d.kind));
    for (const k of ['Gateway', 'ClientTrafficPolicy', 'Backend', 'HTTPRoute', 'SecurityPolicy']) expect(kinds).toContain(k);
    expect(body.documents.filter((d) => d.kind === 'Gateway').map((d) => d.metadata.name)).toEqual(['apigov-dev', 'apigov-prod', 'apigov-staging']);
    const problems = body.documents.flatMap((d) => schemas.validate(d).map((p) => `${d.kind}/${d.metadata.name}: ${p}`));
    expect(problems).toEqual([]);
    expect([...schemas.unevaluated]).toEqual([]);
    // the demo's platform policies validate requests: Envoy cannot, and says so
    expect(body.unsupported.some((u) => u.resource === 'Api/payments' && u.policy === 'requestValidation')).toBe(true);
  });

  it('each caller sees only what they may see', async () => {
    const routesOf = async (user: string) => ((JSON.parse((await call(user, '/v1/exports/envoy-gateway?env=dev')).text) as { documents: Array<Record<string, any>> }).documents.filter((d) => d.kind === 'HTTPRoute').map((d) => d.metadata.name));
    expect(await routesOf('alex')).toEqual(expect.arrayContaining(['ledger-v1-dev', 'payments-v1-dev']));
    expect(await routesOf('bob')).not.toContain('ledger-v1-dev');
    expect(await routesOf('bob')).toContain('payments-v1-dev');
  });

  it('apigov export --format envoy-gateway writes YAML for kubectl apply, -o json lists unsupported[], bad options exit 2', async () => {
    const yaml = await cli(h, tokens.pooja, ['export', '--format', 'envoy-gateway', '--env', 'dev', '--namespace', 'edge', '--gateway-class', 'envoy']);
    expect(yaml.code, yaml.stderr).toBe(0);
    const docs = parseAllDocuments(yaml.stdout).map((d) => d.toJS() as Record<string, any>).filter((d) => d !== null);
    expect(docs.every((d) => d.metadata.namespace === 'edge')).toBe(true);
    expect(docs.find((d) => d.kind === 'Gateway')!.spec.gatewayClassName).toBe('envoy');
    expect(yaml.stdout).toMatch(/^# warning: Api\/payments requestValidation: v1 in dev: /m);
    const json = await cli(h, tokens.pooja, ['export', '--format', 'envoy-gateway', '--limits', 'envoy', '-o', 'json']);
    expect(json.code, json.stderr).toBe(0);
    const body = JSON.parse(json.stdout) as { format: string; unsupported: unknown[]; documents: Array<Record<string, any>> };
    expect(body.format).toBe('envoy-gateway');
    expect(body.unsupported.length).toBeGreaterThan(0);
    expect(body.documents.some((d) => d.kind === 'BackendTrafficPolicy' && d.spec.rateLimit?.type === 'Global')).toBe(true);
    const bad = await cli(h, tokens.pooja, ['export', '--format', 'envoy-gateway', '--limits', 'sometimes']);
    expect(bad.code).toBe(2);
    const noEnv = await cli(h, tokens.pooja, ['export', '--format', 'envoy-gateway', '--env', 'qa']);
    expect(noEnv.code).toBe(2);
    expect(noEnv.stderr).toMatch(/env: no environment qa/);
    const misplaced = await cli(h, tokens.pooja, ['export', '--namespace', 'edge']);
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toMatch(/--namespace applies to --format envoy-gateway only/);
  });
});

describe('the demo exported for Backstage', () => {
  it('every entity validates against the Backstage schemas once its definition URL is read', async () => {
    const yaml = await call('pooja', '/v1/exports/backstage.yaml', '*/*');
    expect(yaml.type).toMatch(/application\/yaml/);
    const entities = parseAllDocuments(yaml.text).map((d) => d.toJS() as Record<string, any>);
    expect(entities.filter((e) => e.kind === 'API').map((e) => e.metadata.name)).toEqual(['ledger', 'payments']);
    for (const e of entities) {
      const text = e.spec?.definition?.$text as string | undefined;
      const definition = text === undefined ? undefined : (await call('pooja', text.slice(text.indexOf('/v1/')))).text;
      expect(backstageProblems(e, definition), `${e.kind} ${e.metadata.name}`).toEqual([]);
    }
    const bob = parseAllDocuments((await call('bob', '/v1/exports/backstage.yaml', '*/*')).text).map((d) => d.toJS() as Record<string, any>);
    expect(bob.filter((e) => e.kind === 'API').map((e) => e.metadata.name)).toEqual(['payments']);
  });
});
