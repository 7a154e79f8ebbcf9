// The example payments service: a small JSON API on node:http that apigov's demo and end-to-end tests use as an upstream.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
// `yaml` is the only dependency (already used across the workspace); openapi.yaml stays the single source of truth.
import { parse as parseYaml } from 'yaml';
import { PaymentsStore } from './data.js';
import { validateListQuery, validateNewPayment, type FieldError } from './validate.js';

export type { Invoice, InvoiceStatus, NewPayment, Payment, PaymentStatus } from './data.js';
export { PAYMENT_STATUSES, INVOICE_STATUSES } from './data.js';
export type { FieldError } from './validate.js';

export interface PaymentsServiceOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on; defaults to 127.0.0.1. */
  host?: string;
}

export interface PaymentsService {
  /** Base URL, e.g. `http://127.0.0.1:4100`. */
  url: string;
  port: number;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** One entry of the `/__requests` test hook. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, as received (after any gateway rewriting). */
  path: string;
  /** The query string including `?`, or '' when there is none. */
  query: string;
  headers: IncomingHttpHeaders;
}

/** Where the service's OpenAPI document lives (next to src/ and dist/). */
export const OPENAPI_FILE = new URL('../openapi.yaml', import.meta.url);

/** Reads and parses openapi.yaml, the document served at `GET /openapi.json`. */
export async function loadOpenApiDocument(): Promise<Record<string, unknown>> {
  const doc: unknown = parseYaml(await readFile(OPENAPI_FILE, 'utf8'));
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error(`${OPENAPI_FILE.pathname} is not a YAML mapping`);
  return doc as Record<string, unknown>;
}

const MAX_BODY_BYTES = 64 * 1024;
const RECENT_REQUESTS = 20;
const REQUESTS_HOOK = '/__requests';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  500: 'Internal Server Error',
};

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

function badRequest(errors: FieldError[]): HttpProblem {
  return new HttpProblem(400, errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
}

function sendJson(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': `${contentType}; charset=utf-8`,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function sendProblem(res: ServerResponse, problem: HttpProblem, instance: string): void {
  for (const [k, v] of Object.entries(problem.headers)) res.setHeader(k, v);
  const body: Record<string, unknown> = {
    type: 'about:blank',
    title: REASONS[problem.status] ?? 'Error',
    status: problem.status,
    detail: problem.detail,
    instance,
  };
  if (problem.errors !== undefined) body.errors = problem.errors;
  sendJson(res, problem.status, body, 'application/problem+json');
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpProblem(413, `the request body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw badRequest([{ field: 'body', message: 'is required (a JSON object)' }]);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest([{ field: 'body', message: 'is not valid JSON' }]);
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Starts the service; resolves once it is listening. */
export async function startPaymentsService(options: PaymentsServiceOptions = {}): Promise<PaymentsService> {
  const host = options.host ?? '127.0.0.1';
  const openapi = await loadOpenApiDocument();
  const store = new PaymentsStore();

  // Test aid, not part of the API (and not in openapi.yaml): every request except calls to the hook itself is
  // counted and the most recent ones kept, so end-to-end tests can assert via `GET /__requests` whether a gateway
  // forwarded a request, and with which path and headers.
  let requestCount = 0;
  const recent: RecordedRequest[] = [];

  function methodNotAllowed(allowed: string[]): HttpProblem {
    return new HttpProblem(405, `allowed methods: ${allowed.join(', ')}`, undefined, { allow: allowed.join(', ') });
  }

  async function route(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const only = (allowed: string[]): void => {
      if (!allowed.includes(method)) throw methodNotAllowed(allowed);
    };

    if (path === REQUESTS_HOOK) {
      only(['GET']);
      return sendJson(res, 200, { count: requestCount, last: recent });
    }
    if (path === '/health') {
      only(['GET']);
      return sendJson(res, 200, { status: 'ok' });
    }
    if (path === '/openapi.json') {
      only(['GET']);
      return sendJson(res, 200, openapi);
    }
    if (path === '/invoices') {
      only(['GET']);
      return sendJson(res, 200, { items: store.listInvoices() });
    }
    if (path === '/payments') {
      only(['GET', 'POST']);
      if (method === 'GET') {
        const q = validateListQuery(query);
        if (!q.ok) throw badRequest(q.errors);
        return sendJson(res, 200, store.listPayments(q.value));
      }
      const body = validateNewPayment(await readJsonBody(req));
      if (!body.ok) throw badRequest(body.errors);
      const payment = store.createPayment(body.value);
      res.setHeader('location', `/payments/${payment.id}`);
      return sendJson(res, 201, payment);
    }
    const m = /^\/payments\/([^/]+)$/.exec(path);
    if (m !== null) {
      only(['GET']);
      let id: string;
      try {
        id = decodeURIComponent(m[1]!);
      } catch {
        id = m[1]!;
      }
      const payment = store.getPayment(id);
      if (payment === undefined) throw new HttpProblem(404, `payment ${id} does not exist`);
      return sendJson(res, 200, payment);
    }
    throw new HttpProblem(404, `no route for ${path}`);
  }

  const server = createServer((req, res) => {
    const rawUrl = req.url ?? '/';
    let url: URL;
    try {
      url = new URL(rawUrl, 'http://payments.invalid');
    } catch {
      url = new URL('http://payments.invalid/');
    }
    if (url.pathname !== REQUESTS_HOOK) {
      requestCount++;
      recent.push({ method: req.method ?? 'GET', path: url.pathname, query: url.search, headers: { ...req.headers } });
      if (recent.length > RECENT_REQUESTS) recent.shift();
    }
    const requestId = firstHeader(req.headers['x-request-id']);
    if (requestId !== undefined) res.setHeader('x-request-id', requestId);

    route(req, res, url.pathname, url.searchParams).catch((err: unknown) => {
      const problem = err instanceof HttpProblem ? err : new HttpProblem(500, 'an unexpected error occurred');
      if (!(err instanceof HttpProblem)) console.error('payments service: unhandled error', err);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // Stop reading an oversized body; the client gets the 413 and the connection is closed.
      if (problem.status === 413) res.setHeader('connection', 'close');
      sendProblem(res, problem, url.pathname);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
