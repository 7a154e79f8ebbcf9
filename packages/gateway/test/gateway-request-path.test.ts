// What a client of the gateway sees on the request path, against the real payments service: routing and prefix
// stripping, request id and traceparent, problem+json errors, validation, CORS, header transforms, path rewrite,
// IP filter, lifecycle headers, retired routes, readiness and metrics on the admin port only.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startPaymentsService, type PaymentsService } from '../../../examples/payments/src/index.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { buildSnapshot, paymentsRoute } from './snapshot-fixture.js';

interface Recorded {
  count: number;
  last: Array<{ method: string; path: string; query: string; headers: Record<string, string> }>;
}

async function upstreamRequests(service: PaymentsService): Promise<Recorded> {
  const res = await request(`${service.url}/__requests`);
  return (await res.body.json()) as Recorded;
}

async function call(gw: Gateway, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const res = await request(`${gw.url}${path}`, { method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

const KEYED_KEY = 'agk_request-path-test-key-0123456789abcdefghij';

describe('gateway request path', () => {
  let service: PaymentsService;
  let gw: Gateway;

  beforeAll(async () => {
    service = await startPaymentsService();
    const routes = [
      await paymentsRoute(service.url, {
        policies: {
          requestValidation: { enabled: true, body: true, parameters: true, rejectUnknownOperations: true },
          cors: { allowOrigins: ['https://app.example.com'], allowMethods: ['GET', 'POST'], allowHeaders: ['x-api-key', 'content-type'], exposeHeaders: ['x-request-id'], allowCredentials: false, maxAgeSeconds: 600 },
          headers: { request: { add: { 'x-added': 'yes' }, remove: ['x-secret'], rename: { 'x-old': 'x-new' } }, response: { add: { 'x-served-by': 'apigov' }, remove: ['cache-control'], rename: {} } },
        },
      }),
      await paymentsRoute(service.url, {
        id: 'payments/v0',
        state: 'deprecated',
        deprecation: { deprecated: true, sunset: '2030-01-01T00:00:00Z', successorPrefix: '/payments/v1' },
        withoutOperations: true,
      }),
      await paymentsRoute(service.url, { id: 'legacy/v1', state: 'retired' }),
      await paymentsRoute(service.url, {
        id: 'browned/v0',
        state: 'deprecated',
        deprecation: { deprecated: true, sunset: '2030-01-01T00:00:00Z', successorPrefix: '/payments/v1', brownouts: [{ start: new Date(Date.now() - 60_000).toISOString(), end: new Date(Date.now() + 2_000).toISOString() }, { start: '2020-01-01T00:00:00Z', end: '2020-01-01T01:00:00Z' }] },
        withoutOperations: true,
      }),
      await paymentsRoute(service.url, { id: 'rewritten/v1', withoutOperations: true, policies: { pathRewrite: { replacePrefix: '/payments' } } }),
      await paymentsRoute(service.url, { id: 'private/v1', withoutOperations: true, policies: { ipFilter: { allow: ['10.0.0.0/8'], deny: [] } } }),
      await paymentsRoute(service.url, { id: 'keyed/v1', withoutOperations: true, policies: { apiKeyAuth: { header: 'X-Api-Key' } } }),
    ];
    const apiKeys = { [createHash('sha256').update(KEYED_KEY).digest('hex')]: { credential: 'keyed-1', application: 'keyed-app' } };
    const consumers = { 'keyed-app': { application: 'keyed-app', team: 'keyed-team', subscriptions: {} } };
    gw = await startGateway({ environment: 'dev', port: 0, adminPort: 0, accessLog: 'off', snapshot: buildSnapshot({ routes, apiKeys, consumers }) });
  });

  afterAll(async () => {
    await gw?.close();
    await service?.close();
  });

  it('routes by prefix and strips it before forwarding', async () => {
    const r = await call(gw, '/payments/v1/payments?limit=2');
    expect(r.status).toBe(200);
    expect((r.json().items as unknown[]).length).toBeLessThanOrEqual(2);
    const seen = await upstreamRequests(service);
    const last = seen.last.at(-1)!;
    expect(last.path).toBe('/payments');
    expect(last.query).toBe('?limit=2');
    expect(last.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(last.headers['x-forwarded-host']).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('never forwards the API key: not on the first request of a key, nor when it is presented again', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await call(gw, '/keyed/v1/payments', { headers: { 'x-api-key': KEYED_KEY, 'x-other': 'kept' } });
      expect(r.status).toBe(200);
      const last = (await upstreamRequests(service)).last.at(-1)!;
      expect(last.headers['x-api-key']).toBeUndefined();
      expect(last.headers['x-other']).toBe('kept');
    }
    expect((await call(gw, '/keyed/v1/payments', { headers: { 'x-api-key': 'not-a-key' } })).status).toBe(401);
  });

  it('passes path parameters through operations with {id} templates', async () => {
    const r = await call(gw, '/payments/v1/payments/pay_0001');
    expect(r.status).toBe(200);
    expect(r.json().id).toBe('pay_0001');
  });

  it('echoes a sane x-request-id, makes one otherwise, and propagates traceparent with a new span', async () => {
    const given = await call(gw, '/payments/v1/payments', { headers: { 'x-request-id': 'abc-123', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
    expect(given.headers['x-request-id']).toBe('abc-123');
    const up = (await upstreamRequests(service)).last.at(-1)!;
    expect(up.headers['x-request-id']).toBe('abc-123');
    expect(up.headers.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(up.headers.traceparent).not.toContain('b7ad6b7169203331');

    const insane = await call(gw, '/payments/v1/payments', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(insane.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const fresh = (await upstreamRequests(service)).last.at(-1)!;
    expect(fresh.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('answers 405 with Allow when the path is an operation but the method is not, and the upstream never sees it', async () => {
    const before = (await upstreamRequests(service)).count;
    const r = await call(gw, '/payments/v1/payments', { method: 'DELETE' });
    expect(r.status).toBe(405);
    expect(r.headers['content-type']).toBe('application/problem+json');
    const allow = String(r.headers.allow).split(', ');
    expect(allow).toEqual(expect.arrayContaining(['GET', 'POST']));
    expect(allow).not.toContain('DELETE');
    expect(r.json()).toMatchObject({ status: 405, code: 'APIGOV_ERR_GATEWAY_METHOD_NOT_ALLOWED' });
    expect(String(r.json().detail)).toContain('not DELETE');
    expect((await upstreamRequests(service)).count).toBe(before);
  });

  it('answers 431 problem+json to a request with more headers than the gateway takes, and closes the connection', async () => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 120; i++) headers[`x-h${i}`] = String(i);
    const r = await call(gw, '/payments/v1/payments', { headers });
    expect(r.status).toBe(431);
    expect(r.json()).toMatchObject({ status: 431, code: 'APIGOV_ERR_GATEWAY_HEADERS_TOO_LARGE' });
    expect(r.headers.connection).toBe('close');
  });

  it('answers unknown paths with 404 problem+json, both outside any route and inside one with rejectUnknownOperations', async () => {
    for (const path of ['/nothing/here', '/payments/v1/refunds']) {
      const r = await call(gw, path, { headers: { 'x-request-id': 'req-404' } });
      expect(r.status).toBe(404);
      expect(r.headers['content-type']).toBe('application/problem+json');
      const doc = r.json();
      expect(doc).toMatchObject({ type: 'https://apigov.dev/errors/APIGOV_ERR_GATEWAY_NO_ROUTE', status: 404, code: 'APIGOV_ERR_GATEWAY_NO_ROUTE', requestId: 'req-404' });
      expect(typeof doc.title).toBe('string');
    }
  });

  it('refuses an invalid body with 400 naming body.amount, and the upstream never sees it', async () => {
    const before = (await upstreamRequests(service)).count;
    const r = await call(gw, '/payments/v1/payments', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: -5, currency: 'USD' }) });
    expect(r.status).toBe(400);
    const doc = r.json();
    expect(doc.code).toBe('APIGOV_ERR_GATEWAY_VALIDATION');
    expect(doc.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'body.amount' })]));
    expect((await upstreamRequests(service)).count).toBe(before);
  });

  it('forwards a valid body byte for byte', async () => {
    const r = await call(gw, '/payments/v1/payments', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: 1250, currency: 'USD', description: 'beans' }) });
    expect(r.status).toBe(201);
    expect(r.json()).toMatchObject({ amount: 1250, currency: 'USD', description: 'beans' });
  });

  it('validates query parameters with coercion and names the field', async () => {
    const bad = await call(gw, '/payments/v1/payments?limit=abc');
    expect(bad.status).toBe(400);
    expect(bad.json().errors).toEqual([expect.objectContaining({ path: 'query.limit' })]);
    const badEnum = await call(gw, '/payments/v1/payments?status=lost');
    expect(badEnum.status).toBe(400);
    expect(badEnum.json().errors).toEqual([expect.objectContaining({ path: 'query.status' })]);
    const badPath = await call(gw, '/payments/v1/payments/nope');
    expect(badPath.status).toBe(400);
    expect(badPath.json().errors).toEqual([expect.objectContaining({ path: 'path.id' })]);
  });

  it('answers CORS preflights itself and refuses unknown origins', async () => {
    const ok = await call(gw, '/payments/v1/payments', { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(ok.headers['access-control-allow-methods']).toBe('GET, POST');
    expect(ok.headers['access-control-allow-headers']).toBe('x-api-key, content-type');
    expect(String(ok.headers.vary)).toContain('Origin');
    const denied = await call(gw, '/payments/v1/payments', { method: 'OPTIONS', headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' } });
    expect(denied.status).toBe(403);
    expect(denied.json().code).toBe('APIGOV_ERR_GATEWAY_CORS_ORIGIN');
    const actual = await call(gw, '/payments/v1/payments', { headers: { origin: 'https://app.example.com' } });
    expect(actual.status).toBe(200);
    expect(actual.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(actual.headers['access-control-expose-headers']).toBe('x-request-id');
    expect(actual.headers.vary).toBe('Origin');
  });

  it('applies request and response header transforms', async () => {
    const r = await call(gw, '/payments/v1/payments', { headers: { 'x-secret': 's3cr3t', 'x-old': 'renamed-value' } });
    expect(r.status).toBe(200);
    expect(r.headers['x-served-by']).toBe('apigov');
    expect(r.headers['cache-control']).toBeUndefined();
    const up = (await upstreamRequests(service)).last.at(-1)!;
    expect(up.headers['x-added']).toBe('yes');
    expect(up.headers['x-secret']).toBeUndefined();
    expect(up.headers['x-old']).toBeUndefined();
    expect(up.headers['x-new']).toBe('renamed-value');
  });

  it('rewrites the prefix when pathRewrite says so', async () => {
    const r = await call(gw, '/rewritten/v1/pay_0001');
    expect(r.status).toBe(200);
    expect((await upstreamRequests(service)).last.at(-1)!.path).toBe('/payments/pay_0001');
  });

  it('filters client addresses', async () => {
    const r = await call(gw, '/private/v1/payments');
    expect(r.status).toBe(403);
    expect(r.json().code).toBe('APIGOV_ERR_GATEWAY_IP_DENIED');
  });

  it('marks deprecated versions with Deprecation, Sunset and Link, and answers 410 for retired ones', async () => {
    const dep = await call(gw, '/payments/v0/payments');
    expect(dep.status).toBe(200);
    expect(dep.headers.deprecation).toMatch(/^@\d+$/);
    expect(dep.headers.sunset).toBe('Tue, 01 Jan 2030 00:00:00 GMT');
    expect(dep.headers.link).toBe('</payments/v1>; rel="successor-version"');
    const gone = await call(gw, '/legacy/v1/payments');
    expect(gone.status).toBe(410);
    expect(gone.json().code).toBe('APIGOV_ERR_GATEWAY_RETIRED');
  });

  it('answers 410 with the Link to the successor during a planned brownout, and serves again after it', async () => {
    const during = await call(gw, '/browned/v0/payments');
    expect(during.status).toBe(410);
    expect(during.json()).toMatchObject({ code: 'APIGOV_ERR_GATEWAY_BROWNOUT', detail: 'browned/v0 is in a planned brownout before its sunset (2030-01-01T00:00:00Z); move to its successor' });
    expect(during.headers.link).toBe('</payments/v1>; rel="successor-version"');
    expect(during.headers.sunset).toBe('Tue, 01 Jan 2030 00:00:00 GMT');
    await new Promise((r) => setTimeout(r, 2_200));
    const after = await call(gw, '/browned/v0/payments');
    expect(after.status).toBe(200);
    expect(after.headers.deprecation).toMatch(/^@\d+$/);
  });

  it('exposes metrics, readiness and the snapshot on the admin port only', async () => {
    const metrics = await request(`${gw.adminUrl}/metrics`);
    const text = await metrics.body.text();
    expect(metrics.statusCode).toBe(200);
    expect(text).toMatch(/apigov_requests_total\{api="payments",version="v1",route="payments\/v1",status_class="2xx"\} \d+/);
    expect(text).toContain('apigov_request_duration_seconds_bucket');
    expect(text).toContain('apigov_upstream_duration_seconds_bucket');
    expect(text).toMatch(/apigov_snapshot_version 1/);
    expect(text).not.toContain('refunds');
    const traffic = await call(gw, '/metrics');
    expect(traffic.status).toBe(404);
    expect((await request(`${gw.adminUrl}/ready`)).statusCode).toBe(200);
    const snap = (await (await request(`${gw.adminUrl}/snapshot`)).body.json()) as { version: number; routes: number };
    expect(snap).toMatchObject({ version: 1, routes: 7 });
  });
});

describe('a gateway without a snapshot', () => {
  it('is not ready: 503 problem+json on both ports, never 404', async () => {
    const gw = await startGateway({ environment: 'dev', port: 0, adminPort: 0, accessLog: 'off' });
    try {
      const traffic = await call(gw, '/payments/v1/payments');
      expect(traffic.status).toBe(503);
      expect(traffic.json().code).toBe('APIGOV_ERR_GATEWAY_NOT_READY');
      const ready = await request(`${gw.adminUrl}/ready`);
      expect(ready.statusCode).toBe(503);
      expect(ready.headers['content-type']).toBe('application/problem+json');
      expect(((await ready.body.json()) as { code: string }).code).toBe('APIGOV_ERR_GATEWAY_NOT_READY');
    } finally {
      await gw.close();
    }
  });
});
