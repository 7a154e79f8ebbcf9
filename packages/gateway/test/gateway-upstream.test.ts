// The upstream stage as a client sees it: timeouts → 504, unreachable → 502, retries on configured statuses within
// a retry budget, the circuit breaker opening and closing, and the weighted split between two real upstreams.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { connect, createServer as createTcpServer, type AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import type { PolicyConfigs } from '@apigov/model';
import { startPaymentsService, type PaymentsService } from '../../../examples/payments/src/index.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { verifySnapshot } from '../src/snapshot.js';
import { buildSnapshot, paymentsRoute } from './snapshot-fixture.js';
import { startScriptedUpstream, type ScriptedUpstream } from './upstream-fixture.js';

async function get(gw: Gateway, path: string, method = 'GET') {
  const res = await request(`${gw.url}${path}`, { method: method as 'GET' });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: () => JSON.parse(text) as Record<string, unknown> };
}

let up: ScriptedUpstream;
let gw: Gateway | undefined;

async function gatewayFor(policies: PolicyConfigs, upstream = up.url): Promise<Gateway> {
  const route = await paymentsRoute(upstream, { id: 'flaky/v1', withoutOperations: true, policies });
  gw = await startGateway({ environment: 'dev', port: 0, adminPort: null, accessLog: 'off', snapshot: buildSnapshot({ routes: [route] }) });
  return gw;
}

beforeAll(async () => {
  up = await startScriptedUpstream();
});
afterEach(async () => {
  await gw?.close();
  gw = undefined;
  up.script = [];
  up.fallback = 200;
  up.delayMs = 0;
  up.count = 0;
});
afterAll(async () => {
  await up.close();
});

describe('upstream timeouts and errors', () => {
  it('answers 504 when the upstream is slower than requestMs', async () => {
    up.delayMs = 1500;
    const g = await gatewayFor({ timeouts: { connectMs: 1000, requestMs: 200 } });
    const t0 = Date.now();
    const r = await get(g, '/flaky/v1/slow');
    expect(r.status).toBe(504);
    expect(r.json().code).toBe('APIGOV_ERR_GATEWAY_UPSTREAM_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(700);
  });

  it('answers 502 when the upstream cannot be reached', async () => {
    const closed = await startScriptedUpstream();
    await closed.close();
    const g = await gatewayFor({}, closed.url);
    const r = await get(g, '/flaky/v1/x');
    expect(r.status).toBe(502);
    expect(r.json().code).toBe('APIGOV_ERR_GATEWAY_UPSTREAM');
  });

  it('answers 502 naming an invalid answer when the upstream breaks HTTP, and the client gets nothing of it', async () => {
    const raw = createTcpServer((socket) => {
      socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\nx-bad: a\u0001b\r\ncontent-length: 2\r\n\r\nok'));
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', () => r()));
    try {
      const g = await gatewayFor({}, `http://127.0.0.1:${(raw.address() as AddressInfo).port}`);
      const r = await get(g, '/flaky/v1/x');
      expect(r.status).toBe(502);
      expect(r.headers['x-bad']).toBeUndefined();
      expect(r.json()).toMatchObject({ code: 'APIGOV_ERR_GATEWAY_UPSTREAM' });
      expect(String(r.json().detail)).toContain('not valid HTTP/1.1');
    } finally {
      await new Promise<void>((r) => raw.close(() => r()));
    }
  });

  it('answers 504 when a slow upstream passes a long requestMs (the coarse timeout sweep)', async () => {
    up.delayMs = 8000;
    const g = await gatewayFor({ timeouts: { connectMs: 1000, requestMs: 5000 } });
    const t0 = Date.now();
    const r = await get(g, '/flaky/v1/slow');
    expect(r.status).toBe(504);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(5000);
    expect(Date.now() - t0).toBeLessThan(6500);
  }, 15_000);
});

describe('answers passed through', () => {
  it('passes small and large, length-framed and chunked answers byte for byte', async () => {
    const small = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const large = Buffer.alloc(300_000);
    for (let i = 0; i < large.length; i++) large[i] = (i * 7) % 256;
    const server = createHttpServer((req, res) => {
      if (req.url === '/small') res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': small.length }).end(small);
      else if (req.url === '/large') res.writeHead(200, { 'content-length': large.length }).end(large);
      else {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write(small);
        res.end(large);
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const g = await gatewayFor({}, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      for (const [path, expected] of [['/small', small], ['/large', large], ['/chunked', Buffer.concat([small, large])]] as const) {
        const res = await request(`${g.url}/flaky/v1${path}`);
        const got = Buffer.from(await res.body.arrayBuffer());
        expect(res.statusCode).toBe(200);
        expect(got.equals(expected), path).toBe(true);
      }
      const head = await request(`${g.url}/flaky/v1/small`, { method: 'HEAD' });
      expect(head.headers['content-length']).toBe('256');
      expect((await head.body.arrayBuffer()).byteLength).toBe(0);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('configured answer headers', () => {
  it('refuses a snapshot whose configured header value could split the answer head', async () => {
    const route = await paymentsRoute(up.url, { id: 'split/v1', withoutOperations: true, policies: { headers: { response: { add: { 'x-ok': 'fine' }, remove: [], rename: {} } } } });
    expect(() => verifySnapshot(buildSnapshot({ routes: [route] }))).not.toThrow();
    const bad = await paymentsRoute(up.url, { id: 'split/v1', withoutOperations: true, policies: { headers: { response: { add: { 'x-bad': 'a\r\nset-cookie: stolen=1' }, remove: [], rename: {} } } } });
    expect(() => verifySnapshot(buildSnapshot({ routes: [bad] }))).toThrow(/control characters/);
  });
});

describe('client connections', () => {
  /** raw HTTP/1.1 over one socket: what the client sees, bytes and all */
  async function rawExchange(port: number, requests: string[]): Promise<{ text: string; closed: boolean }> {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('close', () => (closed = true));
    await new Promise<void>((r) => socket.once('connect', () => r()));
    for (const r of requests) {
      const before = (text.match(/HTTP\/1\.1 /g) ?? []).length;
      socket.write(r);
      const deadline = Date.now() + 3000;
      while ((text.match(/HTTP\/1\.1 /g) ?? []).length === before && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    }
    await new Promise((res) => setTimeout(res, 100));
    socket.destroy();
    return { text, closed };
  }

  it('keeps a client connection alive across answers, and closes it after the answer when the client asks', async () => {
    const g = await gatewayFor({});
    const port = Number(new URL(g.url).port);
    const kept = await rawExchange(port, ['GET /flaky/v1/a HTTP/1.1\r\nhost: x\r\n\r\n', 'GET /flaky/v1/b HTTP/1.1\r\nhost: x\r\n\r\n']);
    expect(kept.text.match(/HTTP\/1\.1 200 OK\r\n/g)).toHaveLength(2);
    expect(kept.text).toMatch(/\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n/);
    expect(kept.text).toContain('"path":"/a"');
    expect(kept.text).toContain('"path":"/b"');
    expect(kept.closed).toBe(false);
    const closing = await rawExchange(port, ['GET /flaky/v1/c HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n']);
    expect(closing.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(closing.text).toContain('\r\nConnection: close\r\n');
    expect(closing.text).toContain('"path":"/c"');
    expect(closing.closed).toBe(true);
    // an HTTP/1.0 client without keep-alive: one answer, then the gateway closes
    const old = await rawExchange(port, ['GET /flaky/v1/d HTTP/1.0\r\nhost: x\r\n\r\n']);
    expect(old.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(old.text).toContain('\r\nConnection: close\r\n');
    expect(old.text).toContain('"path":"/d"');
    expect(old.closed).toBe(true);
  });
});

describe('retries', () => {
  it('retries configured statuses on allowed methods and the client sees the success', async () => {
    const g = await gatewayFor({ retries: { attempts: 2, on: [503], budgetPercent: 50, methods: ['GET'] } });
    up.script = [503, 503];
    const r = await get(g, '/flaky/v1/x');
    expect(r.status).toBe(200);
    expect(up.count).toBe(3);
  });

  it('never retries methods that are not listed', async () => {
    const g = await gatewayFor({ retries: { attempts: 2, on: [503], budgetPercent: 50, methods: ['GET'] } });
    up.script = [503];
    const r = await get(g, '/flaky/v1/x', 'POST');
    expect(r.status).toBe(503);
    expect(up.count).toBe(1);
  });

  it('keeps retries within the budget when the upstream keeps failing', async () => {
    const g = await gatewayFor({ retries: { attempts: 2, on: [503], budgetPercent: 20, methods: ['GET'] } });
    up.fallback = 503;
    const n = 40;
    for (let i = 0; i < n; i++) expect((await get(g, '/flaky/v1/x')).status).toBe(503);
    const retries = up.count - n;
    // without a budget: 80 retries; with it: 20 % of the requests plus a floor of 3
    expect(retries).toBeGreaterThan(0);
    expect(retries).toBeLessThanOrEqual(Math.ceil(n * 0.2) + 3);
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, answers 503 without calling the upstream, and closes after openSeconds', async () => {
    const g = await gatewayFor({ circuitBreaker: { failureThreshold: 3, openSeconds: 1 } });
    up.fallback = 500;
    for (let i = 0; i < 3; i++) expect((await get(g, '/flaky/v1/x')).status).toBe(500);
    const open = await get(g, '/flaky/v1/x');
    expect(open.status).toBe(503);
    expect(open.json().code).toBe('APIGOV_ERR_GATEWAY_CIRCUIT_OPEN');
    expect(open.headers['retry-after']).toBe('1');
    expect(up.count).toBe(3);
    expect(g.stats().openCircuits).toBe(1);
    up.fallback = 200;
    await new Promise((r) => setTimeout(r, 1100));
    expect((await get(g, '/flaky/v1/x')).status).toBe(200); // the half-open probe
    expect((await get(g, '/flaky/v1/x')).status).toBe(200);
    expect(up.count).toBe(5);
    expect(g.stats().openCircuits).toBe(0);
  });
});

describe('weighted split', () => {
  let a: PaymentsService;
  let b: PaymentsService;
  beforeAll(async () => {
    [a, b] = await Promise.all([startPaymentsService(), startPaymentsService()]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('sends traffic to the targets in proportion to their weights', async () => {
    const g = await gatewayFor({ trafficSplit: { targets: [{ upstream: a.url, weight: 80 }, { upstream: b.url, weight: 20 }] } }, a.url);
    const n = 1000;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n) {
        next++;
        expect((await get(g, '/flaky/v1/health')).status).toBe(200);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    const count = async (s: PaymentsService) => ((await (await request(`${s.url}/__requests`)).body.json()) as { count: number }).count;
    const [ca, cb] = [await count(a), await count(b)];
    expect(ca + cb).toBe(n);
    expect(ca / n).toBeGreaterThan(0.77);
    expect(ca / n).toBeLessThan(0.83);
  });
});
