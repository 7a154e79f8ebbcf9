// The per-request state of one request through the gateway (the RequestContext policies see), and how the
// gateway itself answers: problem+json rejections, the headers every answer carries, and the end-of-request hook.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode, SnapshotOperation, SnapshotRoute } from '@apigov/model';
import type { Consumer, RejectOptions, RequestContext } from './policy.js';
import { PROBLEM_CONTENT_TYPE, problemDocument, statusOf } from './problem.js';
import type { CompiledPipeline, CompiledRoute, CompiledSnapshot, RouteMatch } from './compile.js';
import type { SnapshotAuthTables } from './auth/consumers.js';

/** methods probed for an Allow header */
const PROBED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** What the request path provides to a request: where it reports its end. */
export interface RequestRuntime {
  readonly bodyLimitBytes: number;
  requestFinished(ctx: GatewayRequest): void;
}

const EMPTY_PARAMS: Readonly<Record<string, string | undefined>> = Object.freeze({});

export class BodyTooLargeError extends Error {
  constructor(limit: number) {
    super(`the request body exceeds ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export class GatewayRequest implements RequestContext {
  route!: SnapshotRoute;
  operation: SnapshotOperation | undefined = undefined;
  clientIp = '';
  upstreamPath = '/';
  params: Readonly<Record<string, string | undefined>> = EMPTY_PARAMS;
  consumer: Consumer | undefined = undefined;
  plan: string | undefined = undefined;
  body: Buffer | undefined = undefined;

  /** the snapshot captured at the request's start, and the compiled route and pipeline from it serving this request */
  snapshot: CompiledSnapshot | undefined = undefined;
  compiled: CompiledRoute | undefined = undefined;
  pipeline: CompiledPipeline | undefined = undefined;
  /** the W3C traceparent sent upstream */
  traceparent = '';
  /** path without the query string */
  path = '/';
  /** status and bytes of the answer, once known */
  status = 0;
  bytes = 0;
  /** ms spent on the upstream; -1 when not forwarded */
  upstreamMs = -1;
  /** the gateway error code of the answer, when the gateway answered an error */
  code: ErrorCode | undefined = undefined;
  /** whether the request arrives with a body (content-length > 0 or transfer-encoding) */
  hasBody = false;
  private answered = false;
  private finished = false;
  private setHeaders: Record<string, string> | undefined = undefined;
  private removeHeaders: Set<string> | undefined = undefined;
  private extraResponseHeaders: Array<[string, string]> | undefined = undefined;
  private parsedQuery: URLSearchParams | undefined = undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly requestId: string,
    readonly startedAt: number,
    readonly runtime: RequestRuntime,
  ) {}

  /** policies run only once a snapshot serves the request */
  get auth(): SnapshotAuthTables {
    return this.snapshot!.auth;
  }

  get setRequestHeaders(): Record<string, string> {
    return (this.setHeaders ??= {});
  }

  get removeRequestHeaders(): Set<string> {
    return (this.removeHeaders ??= new Set());
  }

  get responseHeaders(): Array<[string, string]> {
    return (this.extraResponseHeaders ??= []);
  }

  get setRequestHeadersIfAny(): Record<string, string> | undefined {
    return this.setHeaders;
  }

  get removeRequestHeadersIfAny(): Set<string> | undefined {
    return this.removeHeaders;
  }

  get responseHeadersIfAny(): Array<[string, string]> | undefined {
    return this.extraResponseHeaders;
  }

  allowedMethods(): string[] {
    const snapshot = this.snapshot;
    const compiled = this.compiled;
    if (snapshot === undefined || compiled === undefined) return [];
    const allowed: string[] = [];
    for (const method of PROBED_METHODS) {
      const found = snapshot.router.find(method, this.path);
      if (found !== null && (found.store as RouteMatch).compiled === compiled) allowed.push(method);
    }
    return allowed;
  }

  query(): URLSearchParams {
    if (this.parsedQuery === undefined) {
      const url = this.req.url ?? '';
      const q = url.indexOf('?');
      this.parsedQuery = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    }
    return this.parsedQuery;
  }

  get done(): boolean {
    return this.answered || this.res.headersSent;
  }

  readBody(): Promise<Buffer> {
    if (this.body !== undefined) return Promise.resolve(this.body);
    const limit = this.runtime.bodyLimitBytes;
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const req = this.req;
      const onData = (chunk: Buffer): void => {
        size += chunk.length;
        if (size > limit) {
          cleanup();
          req.resume();
          this.reject('APIGOV_ERR_GATEWAY_BODY_TOO_LARGE', `the request body exceeds ${limit} bytes`, { headers: { connection: 'close' } });
          reject(new BodyTooLargeError(limit));
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = (): void => {
        cleanup();
        this.body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        resolve(this.body);
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(err);
      };
      const cleanup = (): void => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
      };
      if (req.readableEnded) {
        this.body = Buffer.alloc(0);
        resolve(this.body);
        return;
      }
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
    });
  }

  reject(code: ErrorCode, detail: string, options?: RejectOptions): void {
    if (this.done) return;
    const doc = problemDocument(code, detail, this.requestId, options?.errors);
    this.code = code;
    this.answer(statusOf(code), JSON.stringify(doc), PROBLEM_CONTENT_TYPE, options?.headers);
  }

  /**
   * Answers from the gateway itself with a complete body, adding x-request-id, the route's answer headers
   * (lifecycle, configured response headers) and the headers policies collected.
   */
  answer(status: number, body: string, contentType: string, extra?: Record<string, string>): void {
    if (this.done) return;
    this.answered = true;
    const res = this.res;
    const headers: string[] = ['content-type', contentType, 'content-length', String(Buffer.byteLength(body)), 'x-request-id', this.requestId];
    const pipeline = this.pipeline;
    if (pipeline !== undefined) for (const h of pipeline.answerHeaders) headers.push(h);
    const collected = this.extraResponseHeaders;
    if (collected !== undefined) for (const [k, v] of collected) headers.push(k, v);
    if (extra !== undefined) for (const k in extra) headers.push(k, extra[k]!);
    this.status = status;
    this.bytes = body.length;
    res.writeHead(status, headers);
    res.end(body);
    this.finish();
  }

  /** ext-authz mode: every policy let the request through; 200 without a body, with the headers for Envoy */
  answerAllowed(headers: Record<string, string>): void {
    if (this.done) return;
    this.answered = true;
    const out: string[] = ['content-length', '0', 'x-request-id', this.requestId];
    for (const k in headers) out.push(k, headers[k]!);
    this.status = 200;
    this.bytes = 0;
    this.res.writeHead(200, out);
    this.res.end();
    this.finish();
  }

  /** the upstream (or a policy) has written the answer; records metrics, usage and the access log once */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.answered = true;
    if (this.status === 0) this.status = this.res.statusCode;
    this.runtime.requestFinished(this);
  }
}
