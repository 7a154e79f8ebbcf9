// The upstream stage: an upstream client per origin (keep-alive), the exchange handler that streams the
// upstream's answer back to the client, timeouts, retries within a retry budget, a circuit breaker per
// route + upstream, and the weighted split between trafficSplit targets (smooth weighted round-robin).
import { UpstreamClient, UpstreamError, type UpstreamExchange, type UpstreamHandler } from './upstream-client.js';
import type { PolicyConfigs } from '@apigov/model';
import type { GatewayRequest } from './request-context.js';
import { endWithBody, writeWholeAnswer } from './answer-writer.js';

type TimeoutsConfig = NonNullable<PolicyConfigs['timeouts']>;
type RetriesConfig = NonNullable<PolicyConfigs['retries']>;
type CircuitBreakerConfig = NonNullable<PolicyConfigs['circuitBreaker']>;

export const DEFAULT_CONNECT_MS = 5_000;
/**
 * The upstream client checks timeouts on a coarse sweep (every 500 ms): fine for long timeouts. Shorter ones
 * get a precise timer of their own per attempt.
 */
export const PRECISE_TIMEOUT_BELOW_MS = 5_000;
export const DEFAULT_REQUEST_MS = 30_000;

/** The header that tells the upstream which application called (never taken from the client). */
export const CONSUMER_HEADER = 'x-apigov-application';

/** Request headers never forwarded (hop-by-hop, RFC 9110 §7.6.1), or replaced by the gateway's own. */
const REQUEST_SKIP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect',
  'host', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-request-id', 'traceparent', CONSUMER_HEADER,
]);
/** whether an upstream answer carries its own x-request-id (replaced by the gateway's) */
function hasRequestId(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.length === 12 && headers[i]!.toLowerCase() === 'x-request-id') return true;
  return false;
}

/** One upstream client (its keep-alive connections) per upstream origin and connect timeout, shared by every snapshot. */
export class UpstreamPools {
  private readonly pools = new Map<string, UpstreamClient>();

  get(origin: string, connectMs: number): UpstreamClient {
    const key = `${origin} ${connectMs}`;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new UpstreamClient(origin, { connectMs, keepAliveMs: 10_000 });
      this.pools.set(key, pool);
    }
    return pool;
  }

  get size(): number {
    return this.pools.size;
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    for (const p of all) p.close();
  }
}

/** Consecutive failures open it; after openSeconds one probe goes through (half-open); success closes it. */
export class CircuitBreaker {
  failures = 0;
  openUntil = 0;
  probing = false;
  threshold: number;
  openMs: number;

  constructor(config: CircuitBreakerConfig) {
    this.threshold = config.failureThreshold;
    this.openMs = config.openSeconds * 1000;
  }

  get isOpen(): boolean {
    return this.openUntil !== 0;
  }

  /** whether a request may go to the upstream now */
  allow(now: number): boolean {
    if (this.openUntil === 0) return true;
    if (now < this.openUntil || this.probing) return false;
    this.probing = true;
    return true;
  }

  /** seconds until a probe is let through */
  retryAfterSeconds(now: number): number {
    return Math.max(1, Math.ceil((this.openUntil - now) / 1000));
  }

  success(): void {
    this.failures = 0;
    this.openUntil = 0;
    this.probing = false;
  }

  failure(now: number): void {
    this.failures++;
    if (this.probing || this.failures >= this.threshold) this.openUntil = now + this.openMs;
    this.probing = false;
  }

  /** a request that ended without telling (client gone): let the next probe through */
  release(): void {
    this.probing = false;
  }
}

const BUDGET_WINDOW_SECONDS = 10;
/** a quiet route may still retry this many times per window, so a single failure can be retried */
export const MIN_RETRIES_PER_WINDOW = 3;

/** Retries may add at most budgetPercent of the route's requests over the last 10 s (plus a small floor). */
export class RetryBudget {
  private readonly requests = new Uint32Array(BUDGET_WINDOW_SECONDS);
  private readonly retries = new Uint32Array(BUDGET_WINDOW_SECONDS);
  private second = 0;

  private rotate(): number {
    const now = (Date.now() / 1000) | 0;
    if (now !== this.second) {
      const gap = Math.min(now - this.second, BUDGET_WINDOW_SECONDS);
      for (let i = 1; i <= gap; i++) {
        const slot = (this.second + i) % BUDGET_WINDOW_SECONDS;
        this.requests[slot] = 0;
        this.retries[slot] = 0;
      }
      this.second = now;
    }
    return now % BUDGET_WINDOW_SECONDS;
  }

  noteRequest(): void {
    this.requests[this.rotate()]!++;
  }

  /** takes one retry from the budget if there is one */
  tryRetry(percent: number): boolean {
    if (percent <= 0) return false;
    const slot = this.rotate();
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < BUDGET_WINDOW_SECONDS; i++) {
      requests += this.requests[i]!;
      retries += this.retries[i]!;
    }
    if (retries + 1 > (requests * percent) / 100 + MIN_RETRIES_PER_WINDOW) return false;
    this.retries[slot]!++;
    return true;
  }
}

/** Breakers and budgets live as long as the gateway, keyed by route (and upstream), so snapshot swaps keep them. */
export class UpstreamState {
  readonly pools = new UpstreamPools();
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly budgets = new Map<string, RetryBudget>();

  breaker(routeId: string, origin: string, config: CircuitBreakerConfig): CircuitBreaker {
    const key = `${routeId} ${origin}`;
    let b = this.breakers.get(key);
    if (b === undefined) {
      b = new CircuitBreaker(config);
      this.breakers.set(key, b);
    } else {
      b.threshold = config.failureThreshold;
      b.openMs = config.openSeconds * 1000;
    }
    return b;
  }

  budget(routeId: string): RetryBudget {
    let b = this.budgets.get(routeId);
    if (b === undefined) {
      b = new RetryBudget();
      this.budgets.set(routeId, b);
    }
    return b;
  }

  /** forgets breakers and budgets of routes the applied snapshot no longer has */
  retain(routeIds: ReadonlySet<string>): void {
    for (const key of this.breakers.keys()) if (!routeIds.has(key.slice(0, key.indexOf(' ')))) this.breakers.delete(key);
    for (const key of this.budgets.keys()) if (!routeIds.has(key)) this.budgets.delete(key);
  }

  openCircuits(): number {
    let n = 0;
    for (const b of this.breakers.values()) if (b.isOpen) n++;
    return n;
  }
}

export class UpstreamTarget {
  /** smooth weighted round-robin state */
  current = 0;
  constructor(
    readonly origin: string,
    /** path of the upstream URL without a trailing slash ('' for none) */
    readonly basePath: string,
    readonly pool: UpstreamClient,
    readonly weight: number,
    readonly breaker: CircuitBreaker | undefined,
  ) {}
}

function splitUrl(url: string): { origin: string; basePath: string } {
  const u = new URL(url);
  const basePath = u.pathname.replace(/\/+$/, '');
  return { origin: u.origin, basePath };
}

export class UpstreamStage {
  readonly targets: UpstreamTarget[];
  readonly totalWeight: number;
  readonly requestMs: number;
  /** whether attempts arm their own timer (requestMs too short for the client's coarse sweep) */
  readonly preciseTimeout: boolean;
  readonly retryAttempts: number;
  readonly retryStatuses: ReadonlySet<number>;
  readonly retryOnConnectFailure: boolean;
  readonly retryOnTimeout: boolean;
  readonly retryMethods: ReadonlySet<string>;
  readonly budgetPercent: number;
  readonly budget: RetryBudget | undefined;

  constructor(routeId: string, upstream: string, policies: PolicyConfigs, state: UpstreamState) {
    const timeouts: TimeoutsConfig | undefined = policies.timeouts;
    const connectMs = timeouts?.connectMs ?? DEFAULT_CONNECT_MS;
    this.requestMs = timeouts?.requestMs ?? DEFAULT_REQUEST_MS;
    this.preciseTimeout = this.requestMs < PRECISE_TIMEOUT_BELOW_MS;
    const split = policies.trafficSplit?.targets.filter((t) => t.weight > 0);
    const wanted = split !== undefined && split.length > 0 ? split : [{ upstream, weight: 1 }];
    this.targets = wanted.map((t) => {
      const { origin, basePath } = splitUrl(t.upstream);
      const breaker = policies.circuitBreaker === undefined ? undefined : state.breaker(routeId, t.upstream, policies.circuitBreaker);
      return new UpstreamTarget(origin, basePath, state.pools.get(origin, connectMs), t.weight, breaker);
    });
    this.totalWeight = this.targets.reduce((s, t) => s + t.weight, 0);
    const retries: RetriesConfig | undefined = policies.retries;
    this.retryAttempts = retries?.attempts ?? 0;
    this.retryStatuses = new Set((retries?.on ?? []).filter((x): x is number => typeof x === 'number'));
    this.retryOnConnectFailure = retries?.on.includes('connect-failure') ?? false;
    this.retryOnTimeout = retries?.on.includes('timeout') ?? false;
    this.retryMethods = new Set(retries?.methods ?? []);
    this.budgetPercent = retries?.budgetPercent ?? 0;
    this.budget = this.retryAttempts > 0 ? state.budget(routeId) : undefined;
  }

  /** the next target: smooth weighted round-robin (nginx's), deterministic */
  pick(): UpstreamTarget {
    const targets = this.targets;
    if (targets.length === 1) return targets[0]!;
    let best = targets[0]!;
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i]!;
      t.current += t.weight;
      if (t.current > best.current) best = t;
    }
    best.current -= this.totalWeight;
    return best;
  }
}

type FailureKind = 'connect-failure' | 'timeout' | 'bad-response' | 'other';

class AttemptTimeoutError extends UpstreamError {
  constructor() {
    super('UPSTREAM_TIMEOUT', 'upstream attempt timed out');
  }
}

function onAttemptTimeout(call: UpstreamCall): void {
  call.attemptTimedOut();
}

function failureKind(err: UpstreamError): FailureKind {
  switch (err.code) {
    case 'UPSTREAM_CONNECT_TIMEOUT':
    case 'UPSTREAM_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'UPSTREAM_CLOSED':
      return 'connect-failure';
    case 'UPSTREAM_BAD_RESPONSE':
      return 'bad-response';
    default:
      return 'other';
  }
}

/**
 * One request to the upstream (and its retries): the handler of its exchanges. Streams the answer to the client
 * as it arrives; a retry is only possible before anything was written to the client.
 */
class UpstreamCall implements UpstreamHandler {
  private target!: UpstreamTarget;
  private exchange: UpstreamExchange | undefined = undefined;
  private attempt = 0;
  /** the current answer is being drained because it will be retried */
  private discarding = false;
  /** headers were written to the client: no retry, no problem+json any more */
  private started = false;
  private readonly startedAt = performance.now();
  private timer: NodeJS.Timeout | undefined = undefined;
  private resumeExchange: (() => void) | undefined = undefined;

  constructor(
    private readonly ctx: GatewayRequest,
    private readonly stage: UpstreamStage,
    private readonly method: string,
    private readonly headers: string[],
    private readonly body: Buffer | IncomingBody | null,
    /** content-length of a streamed body; -1: chunked */
    private readonly bodyLength: number,
  ) {}

  start(): void {
    const stage = this.stage;
    const target = stage.pick();
    const breaker = target.breaker;
    if (breaker !== undefined && !breaker.allow(Date.now())) {
      const wait = breaker.retryAfterSeconds(Date.now());
      this.ctx.upstreamMs = performance.now() - this.startedAt;
      this.ctx.reject('APIGOV_ERR_GATEWAY_CIRCUIT_OPEN', `the upstream of ${this.ctx.route.id} is failing; the gateway stopped sending it requests for now`, { headers: { 'retry-after': String(wait) } });
      return;
    }
    this.target = target;
    this.discarding = false;
    if (stage.preciseTimeout) this.timer = setTimeout(onAttemptTimeout, stage.requestMs, this);
    const path = target.basePath + this.ctx.upstreamPath;
    this.exchange = undefined;
    const exchange = target.pool.request(this.method, path, this.headers, this.body, this, stage.preciseTimeout ? 0 : stage.requestMs, this.bodyLength);
    if (!exchange.ended) this.exchange = exchange;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** the precise per-attempt timer fired before the upstream answered */
  attemptTimedOut(): void {
    this.timer = undefined;
    if (this.started) return;
    this.exchange?.abort(new AttemptTimeoutError());
  }

  /** the breaker's view of an answer; true when the answer will be retried instead of passed on */
  private judge(statusCode: number): boolean {
    this.clearTimer();
    const breaker = this.target.breaker;
    if (breaker !== undefined) {
      if (statusCode >= 500) breaker.failure(Date.now());
      else breaker.success();
    }
    return this.stage.retryStatuses.has(statusCode) && this.mayRetry();
  }

  /** the answer's headers for the client: upstream ones (edited as the pipeline says) and the gateway's */
  private clientHeaders(rawHeaders: string[]): string[] {
    const ctx = this.ctx;
    const pipeline = ctx.pipeline!;
    const remove = pipeline.removeResponseHeaders;
    const rename = pipeline.renameResponseHeaders;
    // hop-by-hop headers are gone already (the client keeps them); the upstream's own x-request-id is replaced
    let out = rawHeaders;
    if (remove !== undefined || rename !== undefined || hasRequestId(rawHeaders)) {
      out = [];
      for (let i = 0; i < rawHeaders.length; i += 2) {
        const name = rawHeaders[i]!;
        const lower = name.toLowerCase();
        if (lower === 'x-request-id' || (remove !== undefined && remove.has(lower))) continue;
        out.push(rename !== undefined ? (rename.get(lower) ?? name) : name, rawHeaders[i + 1]!);
      }
    }
    const answerHeaders = pipeline.answerHeaders;
    for (let i = 0; i < answerHeaders.length; i++) out.push(answerHeaders[i]!);
    const collected = ctx.responseHeadersIfAny;
    if (collected !== undefined) for (const [k, v] of collected) out.push(k, v);
    out.push('x-request-id', ctx.requestId);
    return out;
  }

  /** a whole answer at once (the usual small JSON one): head and body in one write */
  onResponse(statusCode: number, rawHeaders: string[], body: Buffer): void {
    this.exchange = undefined;
    if (this.judge(statusCode)) {
      this.attempt++;
      this.start();
      return;
    }
    const ctx = this.ctx;
    ctx.upstreamMs = performance.now() - this.startedAt;
    if (ctx.res.destroyed) {
      ctx.status = 499;
      ctx.finish();
      return;
    }
    ctx.status = statusCode;
    ctx.bytes += body.length;
    this.started = true;
    writeWholeAnswer(ctx.res, statusCode, this.clientHeaders(rawHeaders), body);
    ctx.finish();
  }

  onResponseHead(statusCode: number, rawHeaders: string[], exchange: UpstreamExchange): void {
    if (this.judge(statusCode)) {
      this.discarding = true;
      return;
    }
    const ctx = this.ctx;
    const res = ctx.res;
    if (res.destroyed) {
      exchange.abort();
      return;
    }
    res.sendDate = false;
    try {
      res.writeHead(statusCode, this.clientHeaders(rawHeaders));
    } catch {
      // a header name or value node:http refuses to send (the answer was checked before anything was written)
      exchange.abort(new UpstreamError('UPSTREAM_BAD_RESPONSE', 'the upstream sent a header that cannot be passed on'));
      return;
    }
    ctx.status = statusCode;
    this.started = true;
  }

  onResponseData(chunk: Buffer): boolean {
    if (this.discarding) return true;
    const res = this.ctx.res;
    if (res.destroyed) {
      this.exchange?.abort();
      return false;
    }
    this.ctx.bytes += chunk.length;
    if (res.write(chunk)) return true;
    res.once('drain', (this.resumeExchange ??= () => this.exchange?.resume()));
    return false;
  }

  onResponseEnd(last?: Buffer): void {
    this.clearTimer();
    this.exchange = undefined;
    if (this.discarding) {
      this.attempt++;
      this.start();
      return;
    }
    const ctx = this.ctx;
    ctx.upstreamMs = performance.now() - this.startedAt;
    if (last !== undefined && !ctx.res.destroyed) {
      ctx.bytes += last.length;
      endWithBody(ctx.res, last);
    } else ctx.res.end();
    ctx.finish();
  }

  onError(err: UpstreamError): void {
    this.clearTimer();
    this.exchange = undefined;
    const ctx = this.ctx;
    if (ctx.done && !this.started) return; // answered already
    const kind = failureKind(err);
    const breaker = this.target?.breaker;
    if (breaker !== undefined) {
      if (kind !== 'other' && !this.discarding) breaker.failure(Date.now());
      else breaker.release();
    }
    ctx.upstreamMs = performance.now() - this.startedAt;
    if (this.started) {
      // the client already has a status line: all we can do is cut the answer short
      ctx.code = 'APIGOV_ERR_GATEWAY_UPSTREAM';
      ctx.res.destroy();
      ctx.finish();
      return;
    }
    if (ctx.res.destroyed) {
      ctx.status = 499;
      ctx.finish();
      return;
    }
    const retryable = (kind === 'connect-failure' && this.stage.retryOnConnectFailure) || (kind === 'timeout' && this.stage.retryOnTimeout) || this.discarding;
    if (retryable && (this.discarding || this.mayRetry())) {
      this.attempt++;
      this.start();
      return;
    }
    if (kind === 'timeout') ctx.reject('APIGOV_ERR_GATEWAY_UPSTREAM_TIMEOUT', `the upstream of ${ctx.route.id} did not answer in time`);
    else if (kind === 'bad-response') ctx.reject('APIGOV_ERR_GATEWAY_UPSTREAM', `the upstream of ${ctx.route.id} sent an answer that is not valid HTTP/1.1`);
    else ctx.reject('APIGOV_ERR_GATEWAY_UPSTREAM', `the upstream of ${ctx.route.id} could not be reached`);
  }

  /** whether one more attempt is allowed: attempts left, a retriable method, a replayable body, and budget */
  private mayRetry(): boolean {
    const stage = this.stage;
    if (this.attempt >= stage.retryAttempts) return false;
    if (!stage.retryMethods.has(this.method)) return false;
    if (this.body !== null && !Buffer.isBuffer(this.body)) return false;
    return stage.budget !== undefined && stage.budget.tryRetry(stage.budgetPercent);
  }
}

type IncomingBody = GatewayRequest['req'];

/**
 * Sends the request upstream. Forwarded headers: the client's (one pass over rawHeaders) minus hop-by-hop ones and
 * removeRequestHeaders, plus setRequestHeaders, x-forwarded-for/proto/host, x-request-id, traceparent and the
 * calling application (x-apigov-application, when a credential named one; a client's own is never passed on).
 */
export function forward(ctx: GatewayRequest, stage: UpstreamStage, forwardedProto: string | undefined): void {
  const req = ctx.req;
  const raw = req.rawHeaders;
  const remove = ctx.removeRequestHeadersIfAny;
  const strip = ctx.pipeline!.removeRequestHeaders;
  const set = ctx.setRequestHeadersIfAny;
  const bodyBytes = ctx.body;
  const headers: string[] = [];
  let forwardedFor: string | undefined;
  let host = '';
  let connectionTokens: string | undefined;
  let contentLength: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (REQUEST_SKIP.has(lower)) {
      if (lower === 'host') host = raw[i + 1]!;
      else if (lower === 'x-forwarded-for') forwardedFor = forwardedFor === undefined ? raw[i + 1]! : `${forwardedFor}, ${raw[i + 1]!}`;
      else if (lower === 'connection') connectionTokens = raw[i + 1]!;
      continue;
    }
    if (lower === 'content-length') {
      contentLength = raw[i + 1]!;
      continue;
    }
    if (strip !== undefined && strip.has(lower)) continue;
    if (remove !== undefined && remove.has(lower)) continue;
    if (set !== undefined && set[lower] !== undefined) continue;
    headers.push(name, raw[i + 1]!);
  }
  if (connectionTokens !== undefined) dropConnectionListed(headers, connectionTokens);
  const peer = req.socket.remoteAddress ?? '';
  headers.push(
    'x-forwarded-for', forwardedFor === undefined ? peer : `${forwardedFor}, ${peer}`,
    'x-forwarded-proto', forwardedProto ?? 'http',
    'x-forwarded-host', host,
    'x-request-id', ctx.requestId,
    'traceparent', ctx.traceparent,
  );
  const consumer = ctx.consumer;
  if (consumer !== undefined) headers.push(CONSUMER_HEADER, consumer.application);
  if (set !== undefined) for (const k in set) headers.push(k, set[k]!);
  stage.budget?.noteRequest();
  const body = bodyBytes !== undefined ? bodyBytes : ctx.hasBody ? req : null;
  // the upstream client frames the body: content-length of a Buffer, the client's length for a stream, else chunked
  const streamedLength = body === req && contentLength !== undefined ? Number(contentLength) : -1;
  new UpstreamCall(ctx, stage, req.method ?? 'GET', headers, body, Number.isSafeInteger(streamedLength) ? streamedLength : -1).start();
}

function dropConnectionListed(headers: string[], tokens: string): void {
  if (tokens.length <= 10) {
    const t = tokens.toLowerCase();
    if (t === 'keep-alive' || t === 'close') return;
  }
  const listed = new Set(tokens.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== 'keep-alive' && t !== 'close' && t !== ''));
  if (listed.size === 0) return;
  for (let i = headers.length - 2; i >= 0; i -= 2) if (listed.has(headers[i]!.toLowerCase())) headers.splice(i, 2);
}
