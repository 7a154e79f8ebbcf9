// End-to-end tests of the example payments service over real HTTP on a random port.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { checkResource } from '@apigov/model';
import { startPaymentsService, type PaymentsService } from '../src/index.js';

let svc: PaymentsService;

beforeAll(async () => {
  svc = await startPaymentsService({ port: 0 });
});

afterAll(async () => {
  await svc?.close();
});

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

async function call(method: string, path: string, init: { body?: string; json?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...init.headers };
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${svc.url}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

function expectProblem(r: Reply, status: number): void {
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({ type: 'about:blank', status });
  expect(typeof r.body.title).toBe('string');
  expect(typeof r.body.detail).toBe('string');
}

function fieldsOf(r: Reply): string[] {
  return (r.body.errors as { field: string }[]).map((e) => e.field);
}

describe('startPaymentsService', () => {
  it('listens on a random port and reports its URL', () => {
    expect(svc.port).toBeGreaterThan(0);
    expect(svc.url).toBe(`http://127.0.0.1:${svc.port}`);
  });

  it('gives each instance its own data and closes cleanly', async () => {
    const other = await startPaymentsService({ port: 0 });
    try {
      expect(other.port).not.toBe(svc.port);
      const created = await fetch(`${other.url}/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ amount: 1, currency: 'USD' }),
      });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };
      expect((await call('GET', `/payments/${id}`)).status).toBe(404);
    } finally {
      await other.close();
      await other.close(); // idempotent
    }
    await expect(fetch(`${other.url}/health`)).rejects.toThrow();
  });
});

describe('GET /health', () => {
  it('answers ok', async () => {
    const r = await call('GET', '/health');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body).toEqual({ status: 'ok' });
  });
});

describe('GET /payments', () => {
  it('lists seeded payments newest first with a total', async () => {
    const r = await call('GET', '/payments');
    expect(r.status).toBe(200);
    expect(r.body.total).toBeGreaterThanOrEqual(4);
    expect(r.body.items.length).toBe(Math.min(r.body.total, 20));
    const seeded = r.body.items.find((p: { id: string }) => p.id === 'pay_0001');
    expect(seeded).toEqual({
      id: 'pay_0001',
      amount: 1999,
      currency: 'USD',
      description: 'Monthly subscription',
      status: 'succeeded',
      createdAt: '2025-01-01T10:00:00.000Z',
    });
    const times = r.body.items.map((p: { createdAt: string }) => p.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('honours limit and keeps total as the number of matches', async () => {
    const all = await call('GET', '/payments');
    const r = await call('GET', '/payments?limit=2');
    expect(r.status).toBe(200);
    expect(r.body.items).toHaveLength(2);
    expect(r.body.total).toBe(all.body.total);
    expect(r.body.items).toEqual(all.body.items.slice(0, 2));
    expect((await call('GET', '/payments?limit=1')).body.items).toHaveLength(1);
    expect((await call('GET', '/payments?limit=100')).status).toBe(200);
  });

  it('filters by status', async () => {
    const r = await call('GET', '/payments?status=failed');
    expect(r.status).toBe(200);
    expect(r.body.items.length).toBeGreaterThan(0);
    expect(r.body.total).toBe(r.body.items.length);
    for (const p of r.body.items) expect(p.status).toBe('failed');
    expect(r.body.items.map((p: { id: string }) => p.id)).toContain('pay_0003');
  });

  it.each(['0', '101', 'abc', '1.5', '-1', ''])('rejects limit=%s naming the field', async (limit) => {
    const r = await call('GET', `/payments?limit=${limit}`);
    expectProblem(r, 400);
    expect(fieldsOf(r)).toEqual(['limit']);
    expect(r.body.detail).toContain('limit');
  });

  it('rejects an unknown status naming the field', async () => {
    const r = await call('GET', '/payments?status=lost');
    expectProblem(r, 400);
    expect(fieldsOf(r)).toEqual(['status']);
  });
});

describe('GET /payments/{id}', () => {
  it('returns a payment', async () => {
    const r = await call('GET', '/payments/pay_0002');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: 'pay_0002', amount: 4990, currency: 'EUR', status: 'succeeded' });
  });

  it('answers 404 problem+json for an unknown id', async () => {
    const r = await call('GET', '/payments/pay_9999');
    expectProblem(r, 404);
    expect(r.body.title).toBe('Not Found');
    expect(r.body.detail).toContain('pay_9999');
  });
});

describe('POST /payments', () => {
  it('creates a pending payment that can then be read and listed', async () => {
    const before = Date.now();
    const r = await call('POST', '/payments', { json: { amount: 1250, currency: 'USD', description: 'Coffee beans' } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ amount: 1250, currency: 'USD', description: 'Coffee beans', status: 'pending' });
    expect(r.body.id).toMatch(/^pay_[A-Za-z0-9]+$/);
    expect(Date.parse(r.body.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(r.headers.get('location')).toBe(`/payments/${r.body.id}`);
    expect(Object.keys(r.body).sort()).toEqual(['amount', 'createdAt', 'currency', 'description', 'id', 'status']);

    expect((await call('GET', `/payments/${r.body.id}`)).body).toEqual(r.body);
    const pending = await call('GET', '/payments?status=pending');
    expect(pending.body.items.map((p: { id: string }) => p.id)).toContain(r.body.id);
    const newest = await call('GET', '/payments?limit=1');
    expect(newest.body.items[0].id).toBe(r.body.id);
  });

  it('stores a missing description as null', async () => {
    const r = await call('POST', '/payments', { json: { amount: 5, currency: 'EUR' } });
    expect(r.status).toBe(201);
    expect(r.body.description).toBeNull();
  });

  it('accepts a 200-character description', async () => {
    const r = await call('POST', '/payments', { json: { amount: 5, currency: 'EUR', description: 'x'.repeat(200) } });
    expect(r.status).toBe(201);
  });

  it.each([
    [{ currency: 'USD' }, ['amount']],
    [{ amount: 0, currency: 'USD' }, ['amount']],
    [{ amount: -5, currency: 'USD' }, ['amount']],
    [{ amount: 10.5, currency: 'USD' }, ['amount']],
    [{ amount: '10', currency: 'USD' }, ['amount']],
    [{ amount: 10 }, ['currency']],
    [{ amount: 10, currency: 'usd' }, ['currency']],
    [{ amount: 10, currency: 'USDX' }, ['currency']],
    [{ amount: 10, currency: 'US' }, ['currency']],
    [{ amount: 10, currency: 'USD', description: 'x'.repeat(201) }, ['description']],
    [{ amount: 10, currency: 'USD', description: 42 }, ['description']],
    [{ amount: 10, currency: 'USD', status: 'succeeded' }, ['status']],
    [{ amount: 0, currency: 'eur' }, ['amount', 'currency']],
  ] as [Record<string, unknown>, string[]][])('rejects %j naming %j', async (body, fields) => {
    const r = await call('POST', '/payments', { json: body });
    expectProblem(r, 400);
    expect(r.body.title).toBe('Bad Request');
    expect(fieldsOf(r)).toEqual(fields);
    for (const f of fields) expect(r.body.detail).toContain(f);
  });

  it.each([
    ['not json', '{"amount":'],
    ['an empty body', ''],
    ['an array', '[1,2]'],
    ['a string', '"hello"'],
  ])('rejects %s naming the body', async (_what, raw) => {
    const r = await call('POST', '/payments', { body: raw, headers: { 'content-type': 'application/json' } });
    expectProblem(r, 400);
    expect(fieldsOf(r)).toEqual(['body']);
  });

  it('does not create anything when validation fails', async () => {
    const before = (await call('GET', '/payments')).body.total;
    await call('POST', '/payments', { json: { amount: 0, currency: 'USD' } });
    expect((await call('GET', '/payments')).body.total).toBe(before);
  });
});

describe('GET /invoices', () => {
  it('lists seeded invoices', async () => {
    const r = await call('GET', '/invoices');
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(['items']);
    expect(r.body.items.length).toBeGreaterThanOrEqual(3);
    expect(r.body.items[0]).toEqual({
      id: 'inv_0001',
      customer: 'Acme Corp',
      amount: 1999,
      currency: 'USD',
      status: 'paid',
      dueDate: '2025-01-31',
      paymentId: 'pay_0001',
    });
  });
});

describe('GET /openapi.json', () => {
  const yamlDoc = parseYaml(readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8')) as Record<string, any>;

  it('serves openapi.yaml as JSON', async () => {
    const r = await call('GET', '/openapi.json');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body).toEqual(yamlDoc);
  });

  it('describes exactly the documented endpoints', () => {
    expect(yamlDoc.openapi).toBe('3.0.3');
    expect(yamlDoc.info.version).toBe('1.0.0');
    expect(yamlDoc.info.contact).toEqual({ name: 'Payments team', email: 'payments@example.com' });
    expect(yamlDoc.servers).toEqual([expect.objectContaining({ url: 'http://127.0.0.1:4100' })]);
    expect(yamlDoc.components.securitySchemes.apiKey).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-api-key' });
    expect(yamlDoc.security).toEqual([{ apiKey: [] }]);
    const ops = Object.entries(yamlDoc.paths as Record<string, Record<string, any>>).flatMap(([p, item]) =>
      Object.entries(item).map(([m, op]) => ({ key: `${m.toUpperCase()} ${p}`, op })),
    );
    expect(ops.map((o) => o.key).sort()).toEqual(
      ['GET /health', 'GET /invoices', 'GET /openapi.json', 'GET /payments', 'GET /payments/{id}', 'POST /payments'].sort(),
    );
    for (const { op } of ops) {
      expect(op.operationId).toBeTruthy();
      expect(op.summary).toBeTruthy();
      expect(op.description).toBeTruthy();
      expect(op.tags.length).toBeGreaterThan(0);
    }
  });
});

describe('unknown routes and methods', () => {
  it('answers 404 problem+json for an unknown path', async () => {
    const r = await call('GET', '/nope');
    expectProblem(r, 404);
  });

  it('answers 405 with Allow for a wrong method', async () => {
    const r = await call('DELETE', '/payments');
    expectProblem(r, 405);
    expect(r.headers.get('allow')).toBe('GET, POST');
  });
});

describe('x-request-id', () => {
  it('is echoed on success and on problems', async () => {
    for (const [method, path] of [
      ['GET', '/health'],
      ['GET', '/payments/pay_9999'],
      ['GET', '/payments?limit=0'],
    ] as const) {
      const r = await call(method, path, { headers: { 'x-request-id': 'req-42' } });
      expect(r.headers.get('x-request-id')).toBe('req-42');
    }
    const created = await call('POST', '/payments', { json: { amount: 1, currency: 'USD' }, headers: { 'x-request-id': 'req-43' } });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-request-id')).toBe('req-43');
  });

  it('is absent when not sent', async () => {
    const r = await call('GET', '/health');
    expect(r.headers.get('x-request-id')).toBeNull();
  });
});

describe('GET /__requests (test hook)', () => {
  it('counts every request that reaches the service and records the last 20', async () => {
    const own = await startPaymentsService({ port: 0 });
    try {
      const hook = async () => (await (await fetch(`${own.url}/__requests`)).json()) as { count: number; last: { method: string; path: string; headers: Record<string, string> }[] };
      expect(await hook()).toEqual({ count: 0, last: [] });

      await fetch(`${own.url}/payments?limit=1`, { headers: { 'x-api-key': 'k-1', 'x-forwarded-for': '10.0.0.1' } });
      await fetch(`${own.url}/payments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      await fetch(`${own.url}/nope`);
      let h = await hook();
      expect(h.count).toBe(3);
      expect(h.last.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /payments', 'POST /payments', 'GET /nope']);
      expect(h.last[0]!.headers['x-api-key']).toBe('k-1');
      expect(h.last[0]!.headers['x-forwarded-for']).toBe('10.0.0.1');

      // Reading the hook does not count, so a test can poll it.
      expect((await hook()).count).toBe(3);

      for (let i = 0; i < 25; i++) await fetch(`${own.url}/health`, { headers: { 'x-request-id': `r${i}` } });
      h = await hook();
      expect(h.count).toBe(28);
      expect(h.last).toHaveLength(20);
      expect(h.last.at(-1)!.headers['x-request-id']).toBe('r24');
      expect(h.last[0]!.headers['x-request-id']).toBe('r5');
    } finally {
      await own.close();
    }
  });

  it('is not part of the OpenAPI document', async () => {
    const r = await call('GET', '/openapi.json');
    expect(Object.keys(r.body.paths)).not.toContain('/__requests');
  });
});

describe('apigov.yaml', () => {
  it('registers the payments team and API', () => {
    const docs = parseAllDocuments(readFileSync(new URL('../apigov.yaml', import.meta.url), 'utf8')).map((d) => d.toJS() as Record<string, any>);
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['Team/payments', 'Api/payments']);
    for (const d of docs) expect(d.apiVersion).toBe('apigov.dev/v1');
    const api = docs[1]!.spec;
    expect(api).toMatchObject({ owner: 'payments', tags: ['payments', 'billing'], visibility: 'internal' });
    expect(api.versions).toEqual([
      { name: 'v1', specFile: './openapi.yaml', environments: { dev: { upstream: 'http://127.0.0.1:4100', state: 'published' } } },
    ]);
  });

  it('is valid against the apigov model once `specFile` is replaced by the document, as `apigov apply` does', () => {
    const docs = parseAllDocuments(readFileSync(new URL('../apigov.yaml', import.meta.url), 'utf8')).map((d) => d.toJS() as Record<string, any>);
    const openapi = parseYaml(readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8')) as Record<string, unknown>;
    for (const d of docs) {
      for (const v of d.spec.versions ?? []) {
        v.openapi = openapi;
        delete v.specFile;
      }
      const r = checkResource(d);
      expect(r.ok ? [] : r.errors).toEqual([]);
    }
  });
});
