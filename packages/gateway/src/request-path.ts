// The gateway's request path on the traffic port: request id and traceparent, client IP, size limits, route
// match on the snapshot captured at the request's start, the policy pipeline, then the upstream stage; and what
// every finished request records (metrics, usage, access log).
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { matchPrefix, type CompiledSnapshot, type RouteMatch } from './compile.js';
import { GatewayRequest, type RequestRuntime } from './request-context.js';
import { forward } from './upstream.js';
import { ClientAddressResolver, plainAddress } from './addresses.js';
import type { GatewayMetrics } from './metrics.js';
import type { UsageRecorder } from './usage.js';
import { ALWAYS_REDACTED, redactedPath, redactionProbe, type AccessLog } from './access-log.js';
import type { CompiledPolicy } from './policy.js';
import { allow, type GatewayMode } from './ext-authz.js';

export interface RequestPathOptions {
  bodyLimitBytes: number;
  /** more request headers than this → 431 */
  maxHeaders: number;
  trustedProxies: readonly string[];
  metrics: GatewayMetrics;
  usage: UsageRecorder;
  accessLog: AccessLog | undefined;
  /** proxy (default), or answer Envoy's authorization checks instead of forwarding (ext-authz.ts) */
  mode?: GatewayMode;
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,200}$/;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/** Random hex ids from a pooled buffer: one randomBytes call per 512 span ids. */
class RandomHex {
  private pool = randomBytes(4096);
  private offset = 0;

  take(bytes: number): string {
    if (this.offset + bytes > this.pool.length) {
      this.pool = randomBytes(4096);
      this.offset = 0;
    }
    const s = this.pool.toString('hex', this.offset, this.offset + bytes);
    this.offset += bytes;
    return s;
  }
}

export class RequestPath implements RequestRuntime {
  /** the snapshot new requests are served from; replaced as a whole by a swap */
  current: CompiledSnapshot | undefined = undefined;
  readonly bodyLimitBytes: number;
  private readonly maxHeaders: number;
  private readonly clients: ClientAddressResolver;
  private readonly trustedProxies: boolean;
  private readonly metrics: GatewayMetrics;
  private readonly usage: UsageRecorder;
  private readonly accessLog: AccessLog | undefined;
  private readonly random = new RandomHex();
  private readonly extAuthz: boolean;
  inFlight = 0;
  served = 0;

  constructor(options: RequestPathOptions) {
    this.bodyLimitBytes = options.bodyLimitBytes;
    this.maxHeaders = options.maxHeaders;
    this.clients = new ClientAddressResolver(options.trustedProxies);
    this.trustedProxies = options.trustedProxies.length > 0;
    this.metrics = options.metrics;
    this.usage = options.usage;
    this.accessLog = options.accessLog;
    this.extAuthz = options.mode === 'ext-authz';
  }

  /** the node:http 'request' listener */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const startedAt = performance.now();
    const snapshot = this.current; // the one snapshot this request is served from
    const headers = req.headers;
    const given = headers['x-request-id'];
    const requestId = typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
    const ctx = new GatewayRequest(req, res, requestId, startedAt, this);
    ctx.snapshot = snapshot;
    this.inFlight++;
    ctx.clientIp = this.trustedProxies ? this.clients.resolve(req.socket.remoteAddress, headers['x-forwarded-for']) : (req.socket.remoteAddress ?? '');
    ctx.traceparent = this.traceparent(headers.traceparent);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    ctx.path = path;
    if (snapshot === undefined) {
      ctx.reject('APIGOV_ERR_GATEWAY_NOT_READY', 'the gateway has not received its configuration yet; retry shortly', { headers: { 'retry-after': '1' } });
      return;
    }
    if (req.rawHeaders.length > this.maxHeaders * 2) {
      ctx.reject('APIGOV_ERR_GATEWAY_HEADERS_TOO_LARGE', `a request may carry at most ${this.maxHeaders} headers`, { headers: { connection: 'close' } });
      return;
    }
    const length = headers['content-length'];
    if (length !== undefined) {
      if (length !== '0') {
        ctx.hasBody = true;
        if (Number(length) > this.bodyLimitBytes) {
          ctx.reject('APIGOV_ERR_GATEWAY_BODY_TOO_LARGE', `the request body exceeds ${this.bodyLimitBytes} bytes`, { headers: { connection: 'close' } });
          return;
        }
      }
    } else if (headers['transfer-encoding'] !== undefined) {
      ctx.hasBody = true;
      this.limitStreamedBody(ctx);
    }
    if (path.includes('/.') && hasDotSegment(path)) {
      ctx.reject('APIGOV_ERR_GATEWAY_NO_ROUTE', `no API is served at ${path}`);
      return;
    }
    const found = snapshot.router.find(req.method as 'GET', path);
    let match: RouteMatch | undefined;
    if (found !== null) {
      match = found.store as RouteMatch;
      ctx.params = found.params;
    } else {
      match = matchPrefix(snapshot.prefixes, path);
      if (match === undefined) {
        ctx.reject('APIGOV_ERR_GATEWAY_NO_ROUTE', `no API is served at ${path}`);
        return;
      }
    }
    const compiled = match.compiled;
    ctx.compiled = compiled;
    ctx.route = compiled.route;
    ctx.pipeline = match.pipeline;
    if (compiled.retired) {
      ctx.reject('APIGOV_ERR_GATEWAY_RETIRED', `${compiled.route.id} has been retired`);
      return;
    }
    if (compiled.brownouts.length > 0 && inBrownout(compiled.brownouts, Date.now())) {
      // a planned window before the sunset: answered as if retired, with the Link to the successor
      ctx.reject('APIGOV_ERR_GATEWAY_BROWNOUT', `${compiled.route.id} is in a planned brownout before its sunset${compiled.route.deprecation?.sunset ? ` (${compiled.route.deprecation.sunset})` : ''}; move to its successor`);
      return;
    }
    ctx.operation = match.operation;
    const rest = url.slice(compiled.route.prefix.length);
    ctx.upstreamPath = rest === '' ? '/' : rest.charCodeAt(0) === 47 /* / */ ? rest : `/${rest}`;
    const handlers = match.pipeline.handlers;
    if (handlers.length === 0) this.forward(ctx);
    else this.runPipeline(ctx, handlers, 0);
  };

  /** the index loop over the route's handlers; awaits only a handler that returned a promise */
  private runPipeline(ctx: GatewayRequest, handlers: ReadonlyArray<CompiledPolicy>, from: number): void {
    for (let i = from; i < handlers.length; i++) {
      let result: void | Promise<void>;
      try {
        result = handlers[i]!.handle(ctx);
      } catch (err) {
        this.policyFailed(ctx, err);
        return;
      }
      if (result !== undefined) {
        result.then(
          () => {
            if (ctx.done) ctx.finish();
            else this.runPipeline(ctx, handlers, i + 1);
          },
          (err: unknown) => this.policyFailed(ctx, err),
        );
        return;
      }
      if (ctx.done) {
        ctx.finish();
        return;
      }
    }
    this.forward(ctx);
  }

  private forward(ctx: GatewayRequest): void {
    if (this.extAuthz) {
      allow(ctx);
      return;
    }
    const pipeline = ctx.pipeline!;
    const respond = pipeline.respond;
    for (let i = 0; i < respond.length; i++) void respond[i]!.handle(ctx);
    const peer = ctx.req.socket.remoteAddress;
    const proto = this.trustedProxies && peer !== undefined && this.clients.isTrusted(plainAddress(peer)) ? (ctx.req.headers['x-forwarded-proto'] as string | undefined) : undefined;
    forward(ctx, pipeline.upstream, proto);
  }

  private policyFailed(ctx: GatewayRequest, err: unknown): void {
    if (ctx.done) {
      ctx.finish();
      return;
    }
    process.emitWarning(`apigov gateway: a policy failed on ${ctx.route?.id ?? '?'} (request ${ctx.requestId}): ${err instanceof Error ? err.message : String(err)}`);
    ctx.reject('APIGOV_ERR_INTERNAL', 'the gateway could not process this request');
  }

  private traceparent(given: string | string[] | undefined): string {
    if (typeof given === 'string') {
      const m = TRACEPARENT.exec(given.trim().toLowerCase());
      if (m !== null && m[1] !== 'ff' && m[2] !== ZERO_TRACE && m[3] !== ZERO_SPAN) return `00-${m[2]}-${this.random.take(8)}-${m[4]}`;
    }
    return `00-${this.random.take(16)}-${this.random.take(8)}-01`;
  }

  /** chunked bodies have no length up front: count while they stream and cut them at the limit */
  private limitStreamedBody(ctx: GatewayRequest): void {
    let size = 0;
    const limit = this.bodyLimitBytes;
    const req = ctx.req;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        if (!ctx.done) ctx.reject('APIGOV_ERR_GATEWAY_BODY_TOO_LARGE', `the request body exceeds ${limit} bytes`, { headers: { connection: 'close' } });
        req.destroy();
      }
    };
    req.on('data', onData);
    req.pause();
  }

  /** the URL as logged: values of sensitive query parameters replaced (a regex probe first, the split only on a hit) */
  private loggedPath(url: string, pathLength: number, compiled: GatewayRequest['compiled']): string {
    const probe = compiled === undefined ? UNROUTED_PROBE : compiled.redactProbe;
    if (!probe.test(url.slice(pathLength))) return url;
    return redactedPath(url, compiled === undefined ? UNROUTED_REDACT : compiled.redact);
  }

  requestFinished(ctx: GatewayRequest): void {
    this.inFlight--;
    this.served++;
    const durationMs = performance.now() - ctx.startedAt;
    const compiled = ctx.compiled;
    const traffic = compiled === undefined ? this.metrics.unrouted : compiled.traffic;
    const status = ctx.status;
    const upstreamMs = ctx.upstreamMs;
    traffic.record(status, durationMs / 1000, upstreamMs < 0 ? -1 : upstreamMs / 1000);
    const application = ctx.consumer?.application;
    const now = Date.now();
    if (compiled !== undefined) {
      this.usage.record(traffic, ctx.operation, application, status, durationMs, now);
      if (this.usage.wantsRequestSample(now)) {
        this.usage.recordRequest({
          at: new Date(now).toISOString(),
          api: traffic.api,
          version: traffic.version,
          status,
          requestId: ctx.requestId,
          ...(application !== undefined && { application }),
          method: ctx.req.method ?? 'GET',
          path: ctx.path,
          durationMs: Math.round(durationMs * 1000) / 1000,
        });
      }
      if (status >= 500 || ctx.code !== undefined) {
        this.usage.recordError({
          at: new Date(now).toISOString(),
          api: traffic.api,
          version: traffic.version,
          status,
          code: ctx.code ?? `UPSTREAM_${status}`,
          requestId: ctx.requestId,
          ...(application !== undefined && { application }),
          method: ctx.req.method ?? 'GET',
          path: ctx.path,
        });
      }
    }
    const log = this.accessLog;
    if (log !== undefined) {
      const url = ctx.req.url ?? '/';
      log.write({
        requestId: ctx.requestId,
        method: ctx.req.method ?? 'GET',
        path: url.length === ctx.path.length ? url : this.loggedPath(url, ctx.path.length, compiled),
        route: compiled === undefined ? '' : compiled.route.id,
        status,
        durationMs: Math.round(durationMs * 1000) / 1000,
        upstreamMs: upstreamMs < 0 ? undefined : Math.round(upstreamMs * 1000) / 1000,
        application,
        clientIp: ctx.clientIp,
        bytes: ctx.bytes,
        code: ctx.code,
        time: now,
      });
    }
  }
}

const UNROUTED_REDACT: ReadonlySet<string> = new Set(ALWAYS_REDACTED);
const UNROUTED_PROBE = redactionProbe(UNROUTED_REDACT);

function hasDotSegment(path: string): boolean {
  for (const seg of path.split('/')) {
    if (seg === '.' || seg === '..' || seg === '%2e' || seg === '%2E' || seg === '%2e%2e' || seg === '%2E%2E' || seg === '.%2e' || seg === '%2e.') return true;
  }
  return false;
}

function inBrownout(windows: ReadonlyArray<readonly [number, number]>, now: number): boolean {
  for (const [start, end] of windows) if (now >= start && now < end) return true;
  return false;
}
