// The gateway's HTTP/1.1 upstream client against real servers on 127.0.0.1: node:http ones, and raw TCP ones
// that answer exactly the bytes a test writes (framings node:http would not produce, broken answers).
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { UpstreamClient, type UpstreamError, type UpstreamExchange, type UpstreamHandler } from '../src/upstream-client.js';

interface Answer {
  status: number;
  headers: string[];
  body: Buffer;
}

/** collects one exchange's answer; `pauseAfter` pauses on the first piece and resumes later */
function collect(client: UpstreamClient, method: string, path: string, options: { headers?: string[]; body?: Buffer | Readable | null; bodyLength?: number; timeoutMs?: number; slowReader?: boolean } = {}): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    let status = 0;
    let headers: string[] = [];
    const chunks: Buffer[] = [];
    let exchange: UpstreamExchange | undefined;
    const handler: UpstreamHandler = {
      onResponseHead(s, h) {
        status = s;
        headers = h;
      },
      onResponseData(chunk) {
        chunks.push(Buffer.from(chunk));
        if (options.slowReader === true) {
          setTimeout(() => exchange?.resume(), 1);
          return false;
        }
        return true;
      },
      onResponseEnd(last) {
        if (last !== undefined) chunks.push(Buffer.from(last));
        resolve({ status, headers, body: Buffer.concat(chunks) });
      },
      onError(err: UpstreamError) {
        reject(err);
      },
    };
    exchange = client.request(method, path, options.headers ?? [], options.body ?? null, handler, options.timeoutMs ?? 0, options.bodyLength ?? -1);
  });
}

function header(a: Answer, name: string): string | undefined {
  for (let i = 0; i < a.headers.length; i += 2) if (a.headers[i]!.toLowerCase() === name) return a.headers[i + 1];
  return undefined;
}

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void, setup?: (s: Server) => void): Promise<{ url: string; server: Server; connections: () => number }> {
  const server = createServer(handler);
  setup?.(server);
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, connections: () => connections };
}

/** a TCP server that, for each request head it reads, writes what `answer` returns (and closes when told) */
async function rawServer(answer: (head: string, socket: Socket) => string | Buffer | null): Promise<{ url: string; server: TcpServer }> {
  const server = createTcpServer((socket) => {
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) !== -1) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const out = answer(head, socket);
        if (out !== null) socket.write(out);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function client(url: string, connectMs = 2000): UpstreamClient {
  const c = new UpstreamClient(url, { connectMs });
  closers.push(() => c.close());
  return c;
}

describe('upstream client', () => {
  it('sends the head with host and framing, and reuses one keep-alive connection', async () => {
    const seen: Array<{ method: string; url: string; host: string; length: string | undefined; body: string; custom: string | undefined }> = [];
    const up = await httpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, host: req.headers.host!, length: req.headers['content-length'], body: Buffer.concat(chunks).toString(), custom: req.headers['x-custom'] as string | undefined });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ n: seen.length }));
      });
    });
    const c = client(up.url);
    const a = await collect(c, 'GET', '/a?x=1', { headers: ['x-custom', 'yes'] });
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body.toString())).toEqual({ n: 1 });
    expect(header(a, 'content-type')).toBe('application/json');
    const b = await collect(c, 'POST', '/b', { body: Buffer.from('{"amount":1}') });
    const empty = await collect(c, 'POST', '/c');
    expect(b.status).toBe(200);
    expect(empty.status).toBe(200);
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/a?x=1', host: up.url.slice(7), length: undefined, custom: 'yes' });
    expect(seen[1]).toMatchObject({ method: 'POST', url: '/b', length: '12', body: '{"amount":1}' });
    expect(seen[2]).toMatchObject({ method: 'POST', url: '/c', length: '0', body: '' });
    expect(up.connections()).toBe(1);
    expect(c.connections).toBe(1);
  });

  it('decodes chunked answers, with extensions and trailers, split at every byte', async () => {
    const body = '4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nx-trailer: t\r\n\r\n';
    const wire = `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-a: b\r\n\r\n${body}`;
    const up = await rawServer((_head, socket) => {
      // one byte per write: every boundary of the parser is crossed
      const bytes = Buffer.from(wire, 'latin1');
      let i = 0;
      const next = (): void => {
        if (i < bytes.length) socket.write(bytes.subarray(i, ++i), next);
      };
      next();
      return null;
    });
    const c = client(up.url);
    const a = await collect(c, 'GET', '/');
    expect(a.status).toBe(200);
    expect(a.body.toString()).toBe('Wikipedia in\r\n\r\nchunks.');
    expect(header(a, 'x-a')).toBe('b');
    // the connection is reusable after the trailers
    const again = await collect(c, 'GET', '/');
    expect(again.body.toString()).toBe('Wikipedia in\r\n\r\nchunks.');
    expect(c.connections).toBe(1);
  });

  it('reads a body without length until the upstream closes, and never reuses that connection', async () => {
    const up = await rawServer((_head, socket) => {
      socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nall of it');
      return null;
    });
    const c = client(up.url);
    const a = await collect(c, 'GET', '/');
    expect(a.body.toString()).toBe('all of it');
    const b = await collect(c, 'GET', '/');
    expect(b.body.toString()).toBe('all of it');
  });

  it('knows answers without a body: HEAD, 204, 304, and skips interim 1xx answers', async () => {
    const up = await httpServer((req, res) => {
      if (req.url === '/204') return void res.writeHead(204).end();
      if (req.url === '/304') return void res.writeHead(304, { etag: '"x"' }).end();
      if (req.url === '/hints') res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' }).end('hello');
    });
    const c = client(up.url);
    const head = await collect(c, 'HEAD', '/');
    expect(head.status).toBe(200);
    expect(header(head, 'content-length')).toBe('5');
    expect(head.body.length).toBe(0);
    expect((await collect(c, 'GET', '/204')).status).toBe(204);
    expect((await collect(c, 'GET', '/304')).status).toBe(304);
    const hinted = await collect(c, 'GET', '/hints');
    expect(hinted.status).toBe(200);
    expect(hinted.body.toString()).toBe('hello');
    expect(up.connections()).toBe(1);
  });

  it('streams a large answer to a slow reader without losing a byte', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    const up = await httpServer((req, res) => {
      if (req.url === '/chunked') {
        res.writeHead(200);
        for (let i = 0; i < big.length; i += 100_000) res.write(big.subarray(i, i + 100_000));
        res.end();
      } else res.writeHead(200, { 'content-length': String(big.length) }).end(big);
    });
    const c = client(up.url);
    const a = await collect(c, 'GET', '/', { slowReader: true });
    expect(a.body.equals(big)).toBe(true);
    const b = await collect(c, 'GET', '/chunked', { slowReader: true });
    expect(b.body.equals(big)).toBe(true);
  });

  it('streams a request body: with the client’s length, or chunked without one', async () => {
    const up = await httpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => res.end(JSON.stringify({ te: req.headers['transfer-encoding'] ?? null, length: req.headers['content-length'] ?? null, body: Buffer.concat(chunks).toString() })));
    });
    const c = client(up.url);
    const chunked = await collect(c, 'POST', '/', { body: Readable.from([Buffer.from('ab'), Buffer.from('cd')]) });
    expect(JSON.parse(chunked.body.toString())).toEqual({ te: 'chunked', length: null, body: 'abcd' });
    const sized = await collect(c, 'PUT', '/', { body: Readable.from([Buffer.from('xyz')]), bodyLength: 3 });
    expect(JSON.parse(sized.body.toString())).toEqual({ te: null, length: '3', body: 'xyz' });
  });

  it('replays an idempotent request once when a reused connection turns out to be closed', async () => {
    let answered = 0;
    const up = await rawServer((_head, socket) => {
      answered++;
      // answers, then closes the connection right away without saying so
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      setImmediate(() => socket.destroy());
      return null;
    });
    const c = client(up.url);
    expect((await collect(c, 'GET', '/')).body.toString()).toBe('ok');
    await new Promise((r) => setTimeout(r, 50));
    expect((await collect(c, 'GET', '/')).body.toString()).toBe('ok');
    expect(answered).toBe(2);
  });

  it('refuses broken answers with UPSTREAM_BAD_RESPONSE', async () => {
    const answers: Record<string, string> = {
      '/garbage': 'SMTP ready\r\n\r\n',
      '/status': 'HTTP/1.1 20x OK\r\n\r\n',
      '/length': 'HTTP/1.1 200 OK\r\ncontent-length: 1x\r\n\r\n',
      '/lengths': 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab',
      '/folded': 'HTTP/1.1 200 OK\r\nx-a: 1\r\n  folded\r\ncontent-length: 0\r\n\r\n',
      '/chunk': 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
      '/upgrade': 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n',
      '/name': 'HTTP/1.1 200 OK\r\nbad name: x\r\ncontent-length: 0\r\n\r\n',
      '/cr': 'HTTP/1.1 200 OK\r\nx-a: one\rtwo\r\ncontent-length: 0\r\n\r\n',
      '/control': 'HTTP/1.1 200 OK\r\nx-a: \u0000\r\ncontent-length: 0\r\n\r\n',
    };
    const up = await rawServer((head) => answers[head.split(' ')[1]!]!);
    const c = client(up.url);
    for (const path of Object.keys(answers)) {
      const err = await collect(c, 'GET', path).then(
        () => undefined,
        (e: UpstreamError) => e,
      );
      expect(err?.code, path).toBe('UPSTREAM_BAD_RESPONSE');
    }
  });

  it('refuses a head larger than 64 KB', { timeout: 10_000 }, async () => {
    const up = await rawServer(() => `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(70_000)}\r\n\r\n`);
    const err = await collect(client(up.url), 'GET', '/').catch((e: UpstreamError) => e);
    expect((err as UpstreamError).code).toBe('UPSTREAM_BAD_RESPONSE');
  });

  it('reports a refused connection, an early close and a timeout with their codes', async () => {
    const dead = await httpServer(() => {});
    const deadUrl = dead.url;
    await new Promise<void>((r) => dead.server.close(() => r()));
    const refused = await collect(client(deadUrl), 'GET', '/').catch((e: UpstreamError) => e);
    expect((refused as UpstreamError).code).toBe('ECONNREFUSED');

    const closing = await rawServer((_h, socket) => {
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort');
      return null;
    });
    const early = await collect(client(closing.url), 'GET', '/').catch((e: UpstreamError) => e);
    expect((early as UpstreamError).code).toBe('UPSTREAM_CLOSED');

    const silent = await rawServer(() => null);
    const started = Date.now();
    const timeout = await collect(client(silent.url), 'GET', '/', { timeoutMs: 600 }).catch((e: UpstreamError) => e);
    expect((timeout as UpstreamError).code).toBe('UPSTREAM_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('gives a handler that takes whole answers each answer that arrived in one read in one call, and the rest piece by piece', async () => {
    const up = await rawServer((head, socket) => {
      const path = head.split(' ')[1]!;
      if (path === '/whole') return 'HTTP/1.1 201 Created\r\ncontent-length: 5\r\nx-a: 1\r\n\r\nhello';
      if (path === '/empty') return 'HTTP/1.1 204 No Content\r\nx-b: 2\r\n\r\n';
      // the body comes later, in a second write
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhe');
      setTimeout(() => socket.write('llo'), 20);
      return null;
    });
    const c = client(up.url);
    const calls: string[] = [];
    const run = (path: string) =>
      new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        c.request('GET', path, [], null, {
          onResponse(status, headers, body) {
            calls.push(`whole ${path} ${status} ${headers.join(',')}`);
            resolve(body.toString());
          },
          onResponseHead(status) {
            calls.push(`head ${path} ${status}`);
          },
          onResponseData(chunk) {
            chunks.push(Buffer.from(chunk));
            return true;
          },
          onResponseEnd(last) {
            if (last !== undefined) chunks.push(Buffer.from(last));
            calls.push(`end ${path}`);
            resolve(Buffer.concat(chunks).toString());
          },
          onError: reject,
        });
      });
    expect(await run('/whole')).toBe('hello');
    expect(await run('/empty')).toBe('');
    expect(await run('/split')).toBe('hello');
    expect(calls).toEqual(['whole /whole 201 content-length,5,x-a,1', 'whole /empty 204 x-b,2', 'head /split 200', 'end /split']);
    expect(c.connections).toBe(1);
  });

  it('closes idle connections after the keep-alive time the upstream announces', async () => {
    const up = await httpServer((_req, res) => res.writeHead(200, { 'keep-alive': 'timeout=2', 'content-length': '1' }).end('k'));
    const c = client(up.url);
    await collect(c, 'GET', '/');
    expect(c.connections).toBe(1);
    await new Promise((r) => setTimeout(r, 1700));
    expect(c.connections).toBe(0);
  });
});
