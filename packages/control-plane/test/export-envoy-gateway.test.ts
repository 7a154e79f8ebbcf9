// --format envoy-gateway: resources compiled per environment by the snapshot compiler, then mapped by
// @apigov/exporters. Golden files (packages/exporters/test/testdata/envoy-gateway) cover every policy kind; every
// object of the goldens and of a generated 200-API catalog with every policy kind is admitted by the Gateway API and
// Envoy Gateway CRDs (schema and CEL rules); an API with more operations than one HTTPRoute holds is split.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { POLICY_IDS, parseResource, type AnyResource } from '@apigov/model';
import { MAX_MATCHES_PER_ROUTE, MAX_RULES_PER_ROUTE, operationPathRegex } from '@apigov/exporters';
import { exportModel } from '../src/catalog/exports.js';
import { caseOptions, goldenCases, readResources, TESTDATA } from '../../exporters/test/golden.js';
import { KubernetesSchemas } from '../../exporters/test/kubernetes-schemas.js';

const BASE = 'https://apigov.example.com';
const schemas = new KubernetesSchemas();
const envoy = (resources: AnyResource[], options: Record<string, string> = {}) => exportModel('envoy-gateway', resources, options, BASE);

function admitted(documents: Array<Record<string, any>>): string[] {
  return documents.flatMap((d) => schemas.validate(d).map((p) => `${d.kind}/${d.metadata?.name}: ${p}`));
}

const r = (kind: string, name: string, spec: unknown) => parseResource({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec }) as AnyResource;

/** 200 APIs over three environments, each API version with a different mix of every policy kind */
function generatedCatalog(apis: number): AnyResource[] {
  const out: AnyResource[] = [r('Team', 'team', {}), r('Environment', 'dev', {}), r('Environment', 'staging', {}), r('Environment', 'prod', { production: true })];
  out.push(r('Plan', 'free', { rateLimit: { perMinute: 60 }, quota: { perDay: 1000 } }), r('Plan', 'gold', { rateLimit: { perSecond: 100 }, quota: { perMonth: 100000 } }));
  out.push(r('Policy', 'platform-prod', { targetRef: { kind: 'Environment', name: 'prod' }, apiKeyAuth: {}, subscription: {}, ipFilter: { deny: ['203.0.113.0/24'] } }));
  const policySets: Array<Record<string, unknown>> = [
    { apiKeyAuth: { query: 'key' }, subscription: {}, rateLimit: { perMinute: 100 } },
    { jwtAuth: { issuers: [{ issuer: 'https://idp.example.com', jwksUri: 'https://idp.example.com/jwks', audiences: ['a'] }], claimsToHeaders: [{ claim: 'sub', header: 'x-sub' }] }, cors: { allowOrigins: ['https://app.example.com'] } },
    { requestValidation: {}, headers: { request: { add: { 'x-a': '1' } }, response: { remove: ['server'] } }, pathRewrite: { replacePrefix: '/api' } },
    { timeouts: {}, retries: {}, circuitBreaker: {}, quota: { perDay: 500 } },
    { trafficSplit: { targets: [{ upstream: 'http://a.internal:8080', weight: 80 }, { upstream: 'http://b.internal:8080', weight: 20 }] }, ipFilter: { allow: ['10.0.0.0/8'] } },
  ];
  for (let i = 0; i < apis; i++) {
    const name = `api-${i}`;
    const paths: Record<string, unknown> = {};
    for (let p = 0; p < 3; p++) paths[`/things-${p}/{id}`] = { get: { operationId: `get${p}`, responses: { '200': { description: 'ok' } } }, put: { operationId: `put${p}`, responses: { '200': { description: 'ok' } } } };
    out.push(
      r('Api', name, {
        owner: 'team',
        title: `API ${i}`,
        versions: [1, 2].map((m) => ({
          name: `v${m}`,
          openapi: { openapi: '3.0.3', info: { title: `API ${i}`, version: `${m}.0.0` }, paths },
          environments: {
            dev: { state: m === 1 && i % 7 === 0 ? 'deprecated' : 'published', upstream: `http://svc-${i}.ns.svc:8080`, ...(m === 1 && i % 7 === 0 && { sunset: '2027-01-31', successor: 'v2' }) },
            staging: { state: m === 1 && i % 11 === 0 ? 'retired' : 'published', upstream: `https://svc-${i}.staging.example.com/base` },
            prod: { state: 'published', upstream: `http://10.1.${i % 250}.${m}:80` },
          },
        })),
      }),
    );
    out.push(r('Policy', `${name}-a`, { targetRef: { kind: 'Api', name }, ...policySets[i % policySets.length] }));
    out.push(r('Policy', `${name}-b`, { targetRef: { kind: 'Api', name, version: 'v2' }, ...policySets[(i + 2) % policySets.length] }));
    if (i % 4 === 0) out.push(r('Policy', `${name}-op`, { targetRef: { kind: 'Api', name, operation: 'put1' }, timeouts: { requestMs: 60000 }, rateLimit: { perSecond: 5 } }));
  }
  for (let a = 0; a < 40; a++) {
    out.push(r('Application', `app-${a}`, { owner: 'team' }));
    for (const env of ['dev', 'prod']) out.push(r('Subscription', `app-${a}-${env}`, { application: `app-${a}`, api: `api-${a}`, version: 'v2', plan: a % 2 ? 'gold' : 'free', environment: env, state: 'approved' }));
  }
  return out;
}

describe('envoy-gateway export', () => {
  const cases = goldenCases('envoy-gateway', (resources, options) => envoy(resources, options));

  it('has golden cases that together configure every policy kind', () => {
    expect(cases.length).toBeGreaterThanOrEqual(3);
    const configured = new Set<string>();
    for (const name of cases) for (const res of readResources(join(TESTDATA, 'envoy-gateway', `${name}.in.yaml`))) if (res.kind === 'Policy') for (const id of POLICY_IDS) if ((res.spec as Record<string, unknown>)[id] !== undefined) configured.add(id);
    expect([...configured].sort()).toEqual([...POLICY_IDS].sort());
  });

  it('the schemas cover every kind the export writes (a missing schema fails)', () => {
    const kinds = schemas.kinds();
    for (const k of ['gateway.networking.k8s.io/v1 Gateway', 'gateway.networking.k8s.io/v1 HTTPRoute', 'gateway.envoyproxy.io/v1alpha1 Backend', 'gateway.envoyproxy.io/v1alpha1 SecurityPolicy', 'gateway.envoyproxy.io/v1alpha1 BackendTrafficPolicy', 'gateway.envoyproxy.io/v1alpha1 ClientTrafficPolicy', 'gateway.envoyproxy.io/v1alpha1 HTTPRouteFilter']) expect(kinds).toContain(k);
    expect(schemas.validate({ apiVersion: 'gateway.envoyproxy.io/v1alpha1', kind: 'EnvoyPatchPolicy', metadata: { name: 'x' } })).toEqual(['no CRD in test/schemas defines gateway.envoyproxy.io/v1alpha1 EnvoyPatchPolicy']);
  });

  it('the validator refuses what the API server refuses: a schema violation and a CEL rule', () => {
    const route = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { rules: [{ matches: [{ path: { type: 'Exact', value: '/a' } }], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }] }] } };
    expect(schemas.validate(route).join('\n')).toMatch(/PathPrefix/);
    expect(schemas.validate({ ...route, spec: { rules: [{ matches: [{ path: { type: 'Sometimes', value: '/a' } }] }] } }).join('\n')).toMatch(/schema:/);
    expect(schemas.validate({ ...route, metadata: { name: 'Not_A_Name' } }).join('\n')).toMatch(/DNS subdomain/);
  });

  it('every object of every golden case is admitted by the CRDs', () => {
    for (const name of cases) {
      const input = join(TESTDATA, 'envoy-gateway', `${name}.in.yaml`);
      const { documents } = envoy(readResources(input), caseOptions(input));
      expect(documents.length).toBeGreaterThan(3);
      expect(admitted(documents), name).toEqual([]);
    }
    expect(schemas.celEvaluations).toBeGreaterThan(100);
    expect([...schemas.unevaluated]).toEqual([]);
  });

  it('a generated 200-API catalog with every policy kind exports objects the CRDs all admit, in under 2 s', () => {
    const resources = generatedCatalog(200);
    const t0 = performance.now();
    const result = envoy(resources);
    const ms = performance.now() - t0;
    const kinds = new Map<string, number>();
    for (const d of result.documents) kinds.set(String(d.kind), (kinds.get(String(d.kind)) ?? 0) + 1);
    expect(kinds.get('Gateway')).toBe(3);
    expect(kinds.get('ClientTrafficPolicy')).toBe(3);
    // 200 APIs × 2 versions × 3 environments, one of them retired in staging for every 11th API
    expect(kinds.get('HTTPRoute')).toBe(1200);
    for (const k of ['Backend', 'SecurityPolicy', 'BackendTrafficPolicy', 'HTTPRouteFilter']) expect(kinds.get(k) ?? 0, k).toBeGreaterThan(0);
    expect(admitted(result.documents)).toEqual([]);
    expect([...schemas.unevaluated]).toEqual([]);
    const policies = new Set((result.unsupported ?? []).map((u) => u.policy));
    for (const p of ['requestValidation', 'apiKeyAuth', 'retries', 'circuitBreaker']) expect(policies).toContain(p);
    expect(ms).toBeLessThan(2000);
  });

  it('an API with more operations than one HTTPRoute holds is split into HTTPRoutes within Gateway API limits', () => {
    const paths: Record<string, unknown> = {};
    for (let p = 0; p < 100; p++) paths[`/items-${p}/{id}`] = { get: { operationId: `get${p}`, responses: { '200': { description: 'ok' } } }, delete: { operationId: `delete${p}`, responses: { '204': { description: 'gone' } } } };
    const resources = [
      r('Team', 'team', {}),
      r('Environment', 'dev', {}),
      r('Api', 'big', { owner: 'team', title: 'Big', versions: [{ name: 'v1', openapi: { openapi: '3.0.3', info: { title: 'Big', version: '1' }, paths }, environments: { dev: { state: 'published', upstream: 'http://big:80' } } }] }),
      r('Policy', 'big-validation', { targetRef: { kind: 'Api', name: 'big' }, requestValidation: {}, apiKeyAuth: {}, subscription: {} }),
      // 20 operations with policies of their own: a named rule each, more than 16 rules
      ...Array.from({ length: 20 }, (_x, i) => r('Policy', `big-op-${i}`, { targetRef: { kind: 'Api', name: 'big', operation: `get${i}` }, timeouts: { requestMs: 1000 + i } })),
    ];
    const result = envoy(resources);
    const routes = result.documents.filter((d) => d.kind === 'HTTPRoute') as Array<Record<string, any>>;
    expect(routes.length).toBeGreaterThan(1);
    let matches = 0;
    for (const route of routes) {
      expect(route.spec.rules.length).toBeLessThanOrEqual(MAX_RULES_PER_ROUTE);
      const n = route.spec.rules.reduce((s: number, rule: any) => s + rule.matches.length, 0);
      expect(n).toBeLessThanOrEqual(MAX_MATCHES_PER_ROUTE);
      matches += n;
    }
    expect(matches).toBe(200);
    expect(routes.map((x) => x.metadata.name)).toEqual(routes.map((_x, i) => (i === 0 ? 'big-v1-dev' : `big-v1-dev-${i + 1}`)));
    // the route's SecurityPolicy covers every part; each operation's BackendTrafficPolicy targets its own rule
    const security = result.documents.find((d) => d.kind === 'SecurityPolicy' && (d.metadata as any).name === 'big-v1-dev') as any;
    expect(security.spec.targetRefs.map((t: any) => t.name)).toEqual(routes.map((x) => x.metadata.name));
    const op7 = result.documents.find((d) => d.kind === 'BackendTrafficPolicy' && (d.metadata as any).name === 'big-v1-dev-op-get7') as any;
    expect(op7.spec.timeout.http.requestTimeout).toBe('1007ms');
    const part = routes.find((x) => x.metadata.name === op7.spec.targetRefs[0].name)!;
    expect(part.spec.rules.map((rule: any) => rule.name)).toContain(op7.spec.targetRefs[0].sectionName);
    expect(result.warnings.some((w) => w.what === 'HTTPRoute' && /split into \d+ HTTPRoutes/.test(w.message))).toBe(true);
    expect(admitted(result.documents)).toEqual([]);
  });

  it('operation matches are regular expressions of the path template, as Envoy (RE2) reads them', () => {
    const re = new RegExp(operationPathRegex('/payments/v1', '/payments/{id}/refunds.csv'));
    expect(re.test('/payments/v1/payments/p_1/refunds.csv')).toBe(true);
    expect(re.test('/payments/v1/payments/p_1/refunds.csv/')).toBe(true);
    expect(re.test('/payments/v1/payments/p_1/refundsXcsv')).toBe(false);
    expect(re.test('/payments/v1/payments/a/b/refunds.csv')).toBe(false);
  });

  it('bad export options are refused with the parameter named, before anything is compiled', () => {
    const resources = [r('Team', 'team', {}), r('Environment', 'dev', {})];
    expect(() => envoy(resources, { limits: 'sometimes' })).toThrow(/limits: must be ext-authz/);
    expect(() => envoy(resources, { namespace: 'Bad_NS' })).toThrow(/namespace/);
    expect(() => envoy(resources, { env: 'nope' })).toThrow(/env: no environment nope/);
    expect(() => envoy(resources, { trustedProxies: '10.0.0.0/8,foo' })).toThrow(/trustedProxies: 'foo'/);
    expect(() => envoy(resources, { extAuthzUrl: 'ftp://x' })).toThrow(/extAuthzUrl/);
  });
});
