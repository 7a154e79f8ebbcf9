// The gateway's HTTP/1.1 client to its upstreams: keep-alive connections per origin (newest idle one reused
// first), one exchange per connection at a time, the request head written in one write, and the answer's head
// and framing (content-length, chunked, until close) parsed here, so a proxied request costs a few object fields.
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Readable } from 'node:stream';

/** What an exchange reports to the one who sent it. Every exchange ends with exactly one onEnd or onError. */
export interface UpstreamHandler {
  /** status and end-to-end headers (name, value, … as received; content-length kept, hop-by-hop ones and transfer-encoding dropped); the body follows */
  onResponseHead(status: number, headers: string[], exchange: UpstreamExchange): void;
  /** a piece of the (de-chunked) body; false pauses the connection until exchange.resume() */
  onResponseData(chunk: Buffer): boolean;
  /** the answer is complete; `last`: its final piece of body, when it came with the end (not given to onResponseData) */
  onResponseEnd(last?: Buffer): void;
  onError(err: UpstreamError): void;
  /**
   * When given: a length-framed answer (or one without a body) that arrived whole in one read comes here instead
   * of onResponseHead + onResponseEnd; its connection is already free again.
   */
  onResponse?(status: number, headers: string[], body: Buffer, exchange: UpstreamExchange): void;
}

export type UpstreamErrorCode =
  | 'UPSTREAM_CONNECT_TIMEOUT'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_CLOSED'
  | 'UPSTREAM_BAD_RESPONSE'
  | 'UPSTREAM_ABORTED'
  | 'UPSTREAM_REQUEST_BODY';

export class UpstreamError extends Error {
  constructor(
    readonly code: UpstreamErrorCode | string,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

export interface UpstreamClientOptions {
  connectMs: number;
  /** an idle connection older than this is closed (default 10 s; a shorter Keep-Alive: timeout from the upstream wins) */
  keepAliveMs?: number;
}

/** answers longer than this before the blank line are refused */
const MAX_HEAD_BYTES = 64 * 1024;
/** a chunk-size line (with extensions) longer than this is refused */
const MAX_CHUNK_LINE = 4096;
/** how often timeouts of 5 s and more and idle connections are checked */
export const SWEEP_MS = 500;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
/** hop-by-hop response headers not handed on (connection, keep-alive and transfer-encoding are read, then dropped) */
const HOP_BY_HOP = new Set(['te', 'trailer', 'upgrade', 'proxy-connection', 'proxy-authenticate']);
/** header names are tokens (RFC 9110 §5.6.2): 1 for each character allowed */
const TOKEN_CHARS = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN_CHARS[c.charCodeAt(0)] = 1;
/** no control characters in a head but tab, CR and LF (a CR anywhere but before LF is refused line by line) */
const BAD_HEAD_CHAR = /[\0-\x08\x0b\x0c\x0e-\x1f\x7f]/;

function isToken(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c > 127 || TOKEN_CHARS[c] === 0) return false;
  }
  return true;
}
/** methods whose request the client replays once when a reused connection turns out to be closed */
const REPLAYABLE = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** methods that carry a body, so `content-length: 0` is sent when they have none */
const EXPECTS_BODY = new Set(['POST', 'PUT', 'PATCH']);

const enum Phase {
  Idle,
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
}

/**
 * One request on one connection (a replay after a stale keep-alive connection moves it to a new one).
 * `timeoutMs` > 0 makes the coarse sweep end it when nothing arrives for that long.
 */
export class UpstreamExchange {
  connection: UpstreamConnection | undefined = undefined;
  /** bytes of the answer arrived (no replay after that) */
  answered = false;
  bodySent = false;
  replayed = false;
  ended = false;
  /** sweep tick of the last activity */
  activeAt = 0;

  constructor(
    readonly client: UpstreamClient,
    readonly method: string,
    readonly head: string,
    readonly body: Buffer | Readable | null,
    /** chunked request framing (a streamed body without content-length) */
    readonly chunked: boolean,
    readonly handler: UpstreamHandler,
    readonly timeoutMs: number,
  ) {}

  /** stops reading the answer and closes the connection; the handler hears onError(err) */
  abort(err?: UpstreamError): void {
    if (this.ended) return;
    const conn = this.connection;
    this.connection = undefined;
    if (conn !== undefined) conn.drop(this);
    this.fail(err ?? new UpstreamError('UPSTREAM_ABORTED', 'the upstream request was aborted'));
  }

  /** continues reading after onResponseData returned false */
  resume(): void {
    this.connection?.socket.resume();
  }

  fail(err: UpstreamError): void {
    if (this.ended) return;
    this.ended = true;
    unpipeBody(this);
    this.handler.onError(err);
  }
}

/** one TCP (or TLS) connection to an origin */
export class UpstreamConnection {
  exchange: UpstreamExchange | undefined = undefined;
  connected = false;
  dead = false;
  /** exchanges completed on it */
  served = 0;
  idleSince = 0;
  keepAliveMs: number;
  private phase = Phase.Idle;
  private partial: Buffer | undefined = undefined;
  private remaining = 0;
  private chunkLine = '';
  private keepAlive = true;
  private noBody = false;
  private socketError: Error | undefined = undefined;
  private connectTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly client: UpstreamClient,
    readonly socket: Socket,
  ) {
    this.keepAliveMs = client.keepAliveMs;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err: Error) => {
      this.socketError = err;
    });
    socket.on('close', () => this.onClose());
    socket.on('drain', () => {
      const body = this.exchange?.body;
      if (body !== undefined && body !== null && !Buffer.isBuffer(body)) body.resume();
    });
    this.connectTimer = setTimeout(() => {
      this.connectTimer = undefined;
      if (this.connected) return;
      const ex = this.exchange;
      this.exchange = undefined;
      this.destroy();
      ex?.fail(new UpstreamError('UPSTREAM_CONNECT_TIMEOUT', `could not connect to ${client.origin} within ${client.connectMs} ms`));
    }, client.connectMs);
    socket.once(client.tls ? 'secureConnect' : 'connect', () => {
      this.connected = true;
      if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
      const ex = this.exchange;
      if (ex !== undefined) this.writeRequest(ex);
    });
  }

  /** takes an exchange (connected or not yet) */
  assign(ex: UpstreamExchange): void {
    this.exchange = ex;
    ex.connection = this;
    ex.activeAt = this.client.tick;
    this.phase = Phase.Head;
    this.noBody = ex.method === 'HEAD';
    if (this.connected) this.writeRequest(ex);
  }

  private writeRequest(ex: UpstreamExchange): void {
    const socket = this.socket;
    const body = ex.body;
    if (body === null) {
      socket.write(ex.head, 'latin1');
      ex.bodySent = true;
    } else if (Buffer.isBuffer(body)) {
      socket.cork();
      socket.write(ex.head, 'latin1');
      if (body.length > 0) socket.write(body);
      socket.uncork();
      ex.bodySent = true;
    } else {
      socket.write(ex.head, 'latin1');
      pipeBody(ex, body, socket);
    }
  }

  /** the exchange is given up: the connection cannot be reused */
  drop(ex: UpstreamExchange): void {
    if (this.exchange === ex) this.exchange = undefined;
    this.destroy();
  }

  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.socket.destroy();
    this.client.forget(this);
  }

  private onData(chunk: Buffer): void {
    const ex = this.exchange;
    if (ex === undefined || this.phase === Phase.Idle) {
      // bytes nobody asked for: the connection is out of step
      this.destroy();
      return;
    }
    ex.answered = true;
    ex.activeAt = this.client.tick;
    let data = chunk;
    let at = 0;
    while (at < data.length || this.phase === Phase.Head) {
      switch (this.phase) {
        case Phase.Head: {
          if (this.partial !== undefined) {
            const from = Math.max(0, this.partial.length - 3);
            data = Buffer.concat([this.partial, data.subarray(at)]);
            at = 0;
            this.partial = undefined;
            const end = data.indexOf(CRLFCRLF, from);
            if (end === -1) return this.keepPartial(data);
            if (!this.parseHead(ex, data, end)) return;
            at = end + 4;
          } else {
            const end = data.indexOf(CRLFCRLF, at);
            if (end === -1) return this.keepPartial(at === 0 ? data : data.subarray(at));
            if (!this.parseHead(ex, data, end, at)) return;
            at = end + 4;
          }
          if (this.exchange !== ex) return; // ended (no body) or failed inside
          break;
        }
        case Phase.Length: {
          const n = Math.min(this.remaining, data.length - at);
          this.remaining -= n;
          const piece = at === 0 && n === data.length ? data : data.subarray(at, at + n);
          at += n;
          if (this.remaining === 0) {
            this.phase = Phase.Idle;
            if (at < data.length) this.keepAlive = false;
            this.complete(ex, n > 0 ? piece : undefined); // the last piece goes with the end
            return;
          }
          this.deliver(ex, piece);
          break;
        }
        case Phase.UntilClose: {
          this.deliver(ex, at === 0 ? data : data.subarray(at));
          return;
        }
        case Phase.ChunkSize: {
          const line = this.readLine(ex, data, at, 'chunk size');
          if (line === undefined) return;
          at = this.lineNext;
          const size = parseChunkSize(line);
          if (size < 0) return void this.badResponse(ex, 'an invalid chunk size');
          if (size === 0) this.phase = Phase.Trailers;
          else {
            this.remaining = size;
            this.phase = Phase.ChunkData;
          }
          break;
        }
        case Phase.ChunkData: {
          const n = Math.min(this.remaining, data.length - at);
          this.remaining -= n;
          const piece = data.subarray(at, at + n);
          at += n;
          if (this.remaining === 0) {
            this.phase = Phase.ChunkDataEnd;
            this.remaining = 2;
          }
          this.deliver(ex, piece); // paused or not, the rest of this buffer is still parsed
          break;
        }
        case Phase.ChunkDataEnd: {
          // the CRLF after a chunk's data (a bare LF is tolerated)
          const c = data[at]!;
          if (this.remaining === 2 && c === 13) {
            this.remaining = 1;
            at++;
          } else if (c === 10) {
            at++;
            this.phase = Phase.ChunkSize;
          } else return void this.badResponse(ex, 'a chunk is longer than its size');
          break;
        }
        case Phase.Trailers: {
          // trailer lines end at an empty line; they are not passed on
          const line = this.readLine(ex, data, at, 'trailer');
          if (line === undefined) return;
          at = this.lineNext;
          if (line === '' || line === '\r') {
            this.phase = Phase.Idle;
            if (at < data.length) this.keepAlive = false;
            this.complete(ex);
            return;
          }
          break;
        }
        default:
          return;
      }
      if (this.exchange !== ex) return;
    }
  }

  /** where the line readLine returned ended (the byte after its LF) */
  private lineNext = 0;

  /** a chunk-size or trailer line from data[at…]; undefined when it goes on in the next read (or was too long) */
  private readLine(ex: UpstreamExchange, data: Buffer, at: number, what: string): string | undefined {
    const nl = data.indexOf(10, at);
    const line = this.chunkLine + data.toString('latin1', at, nl === -1 ? data.length : nl);
    if (nl === -1) {
      if (line.length > MAX_CHUNK_LINE) this.badResponse(ex, `a ${what} line that is too long`);
      else this.chunkLine = line;
      return undefined;
    }
    this.chunkLine = '';
    this.lineNext = nl + 1;
    return line;
  }

  private keepPartial(data: Buffer): void {
    if (data.length > MAX_HEAD_BYTES) {
      this.badResponse(this.exchange!, `an answer head over ${MAX_HEAD_BYTES} bytes`);
      return;
    }
    this.partial = Buffer.from(data); // a copy: the socket's buffer is not ours to keep
  }

  /** parses the head in data[from, end); false when the exchange failed */
  private parseHead(ex: UpstreamExchange, data: Buffer, end: number, from = 0): boolean {
    if (end - from > MAX_HEAD_BYTES) return this.badResponse(ex, `an answer head over ${MAX_HEAD_BYTES} bytes`);
    const text = data.toString('latin1', from, end);
    // status line: HTTP/1.x SSS [reason]
    if (text.length < 12 || !text.startsWith('HTTP/1.') || text.charCodeAt(8) !== 32) return this.badResponse(ex, 'not an HTTP/1.x status line');
    const status = statusCode(text);
    if (status < 0) return this.badResponse(ex, 'an invalid status code');
    if (BAD_HEAD_CHAR.test(text)) return this.badResponse(ex, 'a control character in its head');
    const http10 = text.charCodeAt(7) === 48; /* 0 */
    const headers: string[] = [];
    let length = -1;
    let chunked = false;
    let close = http10;
    let pos = text.indexOf('\n') + 1;
    const size = text.length;
    while (pos > 0 && pos < size) {
      let eol = text.indexOf('\n', pos);
      if (eol === -1) eol = size;
      const lineEnd = text.charCodeAt(eol - 1) === 13 ? eol - 1 : eol;
      const first = text.charCodeAt(pos);
      if (first === 32 || first === 9) return this.badResponse(ex, 'a folded header line');
      const colon = text.indexOf(':', pos);
      if (colon === -1 || colon > lineEnd || colon === pos) return this.badResponse(ex, 'a header line without a name');
      if (!isToken(text, pos, colon)) return this.badResponse(ex, 'an invalid header name');
      const cr = text.indexOf('\r', colon);
      if (cr !== -1 && cr < lineEnd) return this.badResponse(ex, 'a CR inside a header line');
      // the value without the optional whitespace around it
      let from = colon + 1;
      let to = lineEnd;
      while (from < to && (text.charCodeAt(from) === 32 || text.charCodeAt(from) === 9)) from++;
      while (to > from && (text.charCodeAt(to - 1) === 32 || text.charCodeAt(to - 1) === 9)) to--;
      const name = text.slice(pos, colon);
      const value = text.slice(from, to);
      const nameLength = colon - pos;
      pos = eol + 1;
      // framing headers are read here; hop-by-hop ones (RFC 9110 §7.6.1) stay with this connection
      switch (nameLength) {
        case 2:
        case 7:
        case 16:
        case 18:
          if (HOP_BY_HOP.has(name.toLowerCase())) continue;
          break;
        case 10: {
          const lower = name.toLowerCase();
          if (lower === 'connection') {
            const v = value.toLowerCase();
            if (v.includes('close')) close = true;
            else if (http10 && v.includes('keep-alive')) close = false;
            continue;
          }
          if (lower === 'keep-alive') {
            this.keepAliveHint(value);
            continue;
          }
          break;
        }
        case 14:
          if (name.toLowerCase() === 'content-length') {
            const n = decimal(value);
            if (n < 0) return this.badResponse(ex, 'an invalid content-length');
            if (length !== -1 && length !== n) return this.badResponse(ex, 'conflicting content-length headers');
            length = n;
          }
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') {
            const v = value.toLowerCase();
            chunked = v === 'chunked' || /(^|,)\s*chunked\s*$/.test(v);
            if (!chunked) close = true; // another coding last: the body runs until the connection closes
            continue;
          }
          break;
      }
      headers.push(name, value);
    }
    if (status < 200) {
      if (status === 101) return this.badResponse(ex, 'an upgrade the gateway did not ask for');
      // an interim answer (100 Continue, 103 Early Hints): the final one follows
      this.phase = Phase.Head;
      return true;
    }
    this.keepAlive = !close && !(chunked && length >= 0); // both framings: answer it, but do not trust the connection after
    if (this.noBody || status === 204 || status === 304) {
      this.phase = Phase.Idle;
    } else if (chunked) {
      this.phase = Phase.ChunkSize;
      this.chunkLine = '';
    } else if (length >= 0) {
      this.phase = length === 0 ? Phase.Idle : Phase.Length;
      this.remaining = length;
    } else {
      this.phase = Phase.UntilClose;
      this.keepAlive = false;
    }
    const handler = ex.handler;
    if (handler.onResponse !== undefined && (this.phase === Phase.Idle || (this.phase === Phase.Length && data.length - (end + 4) >= this.remaining))) {
      // the whole answer is here: one call, the connection free before it
      const start = end + 4;
      const bodyEnd = this.phase === Phase.Length ? start + this.remaining : start;
      if (bodyEnd < data.length) this.keepAlive = false; // bytes after the answer: out of step
      this.phase = Phase.Idle;
      this.remaining = 0;
      this.settle(ex);
      handler.onResponse(status, headers, data.subarray(start, bodyEnd), ex);
      return false;
    }
    handler.onResponseHead(status, headers, ex);
    if (this.exchange !== ex || ex.ended) return false;
    if (this.phase === Phase.Idle) {
      if (end + 4 < data.length) this.keepAlive = false;
      this.complete(ex);
      return false;
    }
    return true;
  }

  private keepAliveHint(value: string): void {
    const m = /timeout\s*=\s*(\d+)/i.exec(value);
    if (m !== null) this.keepAliveMs = Math.min(this.client.keepAliveMs, Math.max(0, Number(m[1]) * 1000 - 1000));
  }

  /** false when the handler paused the connection */
  private deliver(ex: UpstreamExchange, piece: Buffer): boolean {
    if (ex.handler.onResponseData(piece)) return true;
    if (this.exchange === ex) this.socket.pause();
    return false;
  }

  private complete(ex: UpstreamExchange, last?: Buffer): void {
    this.settle(ex);
    ex.handler.onResponseEnd(last);
  }

  /** the exchange is over: the connection goes back to the idle list, or is closed */
  private settle(ex: UpstreamExchange): void {
    this.exchange = undefined;
    ex.connection = undefined;
    ex.ended = true;
    unpipeBody(ex);
    this.served++;
    if (this.keepAlive && ex.bodySent && this.keepAliveMs > 0 && !this.dead) {
      this.phase = Phase.Idle;
      this.idleSince = this.client.tick;
      if (this.socket.isPaused()) this.socket.resume();
      this.client.release(this);
    } else this.destroy();
  }

  private badResponse(ex: UpstreamExchange, why: string): false {
    this.exchange = undefined;
    ex.connection = undefined;
    this.destroy();
    ex.fail(new UpstreamError('UPSTREAM_BAD_RESPONSE', `the upstream ${this.client.origin} sent ${why}`));
    return false;
  }

  private onEnd(): void {
    const ex = this.exchange;
    if (ex !== undefined && this.phase === Phase.UntilClose) {
      this.phase = Phase.Idle;
      this.keepAlive = false;
      this.complete(ex);
    }
  }

  private onClose(): void {
    this.dead = true;
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.client.forget(this);
    const ex = this.exchange;
    this.exchange = undefined;
    if (ex === undefined || ex.ended) return;
    ex.connection = undefined;
    if (this.phase === Phase.UntilClose) {
      this.keepAlive = false;
      this.complete(ex);
      return;
    }
    // a reused connection the upstream had closed: the request most likely never reached it, replay it once
    if (!ex.answered && this.served > 0 && !ex.replayed && REPLAYABLE.has(ex.method) && (ex.body === null || Buffer.isBuffer(ex.body))) {
      ex.replayed = true;
      ex.bodySent = false;
      this.client.send(ex, true);
      return;
    }
    const err = this.socketError as (Error & { code?: string }) | undefined;
    ex.fail(
      err !== undefined
        ? new UpstreamError(err.code ?? 'UPSTREAM_CLOSED', `${this.client.origin}: ${err.message}`)
        : new UpstreamError('UPSTREAM_CLOSED', `${this.client.origin} closed the connection before the answer was complete`),
    );
  }

  /** called by the sweep */
  expired(tick: number): boolean {
    const ex = this.exchange;
    if (ex === undefined) return this.connected && tick - this.idleSince >= Math.ceil(this.keepAliveMs / SWEEP_MS);
    if (ex.timeoutMs > 0 && (tick - ex.activeAt) * SWEEP_MS >= ex.timeoutMs) {
      this.exchange = undefined;
      ex.connection = undefined;
      this.destroy();
      ex.fail(new UpstreamError('UPSTREAM_TIMEOUT', `${this.client.origin} did not answer within ${ex.timeoutMs} ms`));
    }
    return false;
  }
}

/** The connections to one origin (scheme, host and port) with one connect timeout. */
export class UpstreamClient {
  readonly tls: boolean;
  readonly host: string;
  readonly port: number;
  /** the Host header sent */
  readonly authority: string;
  readonly connectMs: number;
  readonly keepAliveMs: number;
  /** sweep ticks since the client started */
  tick = 0;
  private readonly idle: UpstreamConnection[] = [];
  private readonly all = new Set<UpstreamConnection>();
  private sweeper: NodeJS.Timeout | undefined = undefined;
  private closed = false;

  constructor(
    readonly origin: string,
    options: UpstreamClientOptions,
  ) {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`an upstream must be http or https: ${origin}`);
    this.tls = u.protocol === 'https:';
    this.host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    this.port = u.port === '' ? (this.tls ? 443 : 80) : Number(u.port);
    this.authority = u.host;
    this.connectMs = options.connectMs;
    this.keepAliveMs = options.keepAliveMs ?? 10_000;
  }

  /**
   * Sends a request. `headers` are name/value pairs already fit to forward (no hop-by-hop ones, no host); the
   * client adds host and the body's framing. `timeoutMs` > 0: fail with UPSTREAM_TIMEOUT after that long without
   * anything arriving (checked every SWEEP_MS; shorter timeouts need a timer of their own).
   */
  request(method: string, path: string, headers: readonly string[], body: Buffer | Readable | null, handler: UpstreamHandler, timeoutMs = 0, bodyLength = -1): UpstreamExchange {
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.authority}\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    let chunked = false;
    if (body === null) {
      if (EXPECTS_BODY.has(method)) head += 'content-length: 0\r\n';
    } else if (Buffer.isBuffer(body)) head += `content-length: ${body.length}\r\n`;
    else if (bodyLength >= 0) head += `content-length: ${bodyLength}\r\n`;
    else {
      head += 'transfer-encoding: chunked\r\n';
      chunked = true;
    }
    head += '\r\n';
    const ex = new UpstreamExchange(this, method, head, body, chunked, handler, timeoutMs);
    this.send(ex, false);
    return ex;
  }

  /** puts an exchange on a connection: the newest idle one, or a new one (`fresh`: always a new one) */
  send(ex: UpstreamExchange, fresh: boolean): void {
    if (this.closed) {
      ex.fail(new UpstreamError('UPSTREAM_CLOSED', 'the gateway is shutting down'));
      return;
    }
    let conn: UpstreamConnection | undefined;
    if (!fresh) {
      while ((conn = this.idle.pop()) !== undefined && conn.dead);
    }
    if (conn === undefined) conn = this.open();
    conn.assign(ex);
  }

  private open(): UpstreamConnection {
    const socket = this.tls
      ? tlsConnect({ host: this.host, port: this.port, servername: isIP(this.host) === 0 ? this.host : undefined, ALPNProtocols: ['http/1.1'] })
      : netConnect({ host: this.host, port: this.port });
    const conn = new UpstreamConnection(this, socket);
    this.all.add(conn);
    if (this.sweeper === undefined) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
      this.sweeper.unref();
    }
    return conn;
  }

  release(conn: UpstreamConnection): void {
    this.idle.push(conn);
  }

  forget(conn: UpstreamConnection): void {
    if (!this.all.delete(conn)) return;
    const i = this.idle.indexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
  }

  private sweep(): void {
    const tick = ++this.tick;
    for (const conn of [...this.all]) if (conn.expired(tick)) conn.destroy();
    if (this.all.size === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** open connections (busy and idle) */
  get connections(): number {
    return this.all.size;
  }

  close(): void {
    this.closed = true;
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const conn of [...this.all]) {
      const ex = conn.exchange;
      conn.destroy();
      ex?.fail(new UpstreamError('UPSTREAM_CLOSED', 'the gateway is shutting down'));
    }
  }
}

/** the hex size of a chunk-size line (extensions after ';' ignored); -1 when it is not one */
function parseChunkSize(line: string): number {
  let end = line.length;
  if (end > 0 && line.charCodeAt(end - 1) === 13) end--;
  const semi = line.indexOf(';');
  if (semi !== -1 && semi < end) end = semi;
  let n = 0;
  let digits = 0;
  for (let i = 0; i < end; i++) {
    const c = line.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else if ((c === 32 || c === 9) && digits > 0) {
      // whitespace before extensions
      for (let j = i; j < end; j++) if (line.charCodeAt(j) !== 32 && line.charCodeAt(j) !== 9) return -1;
      break;
    } else return -1;
    if (++digits > 12) return -1;
    n = n * 16 + d;
  }
  return digits === 0 ? -1 : n;
}

/** a content-length value (1 to 15 digits), or -1 */
function decimal(value: string): number {
  const n = value.length;
  if (n === 0 || n > 15) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** the three-digit status code of a status line, or -1 */
function statusCode(text: string): number {
  const a = text.charCodeAt(9) - 48;
  const b = text.charCodeAt(10) - 48;
  const c = text.charCodeAt(11) - 48;
  if (a < 1 || a > 5 || b < 0 || b > 9 || c < 0 || c > 9) return -1;
  const after = text.charCodeAt(12);
  if (text.length > 12 && after !== 32 && after !== 13 && after !== 10) return -1;
  return a * 100 + b * 10 + c;
}

// ── a streamed request body (the client's IncomingMessage), written as it arrives ──

interface BodyPipe {
  onData: (chunk: Buffer) => void;
  onEnd: () => void;
  onError: (err: Error) => void;
}

const pipes = new WeakMap<UpstreamExchange, BodyPipe>();

function pipeBody(ex: UpstreamExchange, body: Readable, socket: Socket): void {
  const pipe: BodyPipe = {
    onData: (chunk) => {
      if (chunk.length === 0) return;
      let ok: boolean;
      if (ex.chunked) {
        socket.cork();
        socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
        socket.write(chunk);
        ok = socket.write('\r\n', 'latin1');
        socket.uncork();
      } else ok = socket.write(chunk);
      if (!ok) body.pause();
    },
    onEnd: () => {
      unpipeBody(ex);
      if (ex.chunked) socket.write('0\r\n\r\n', 'latin1');
      ex.bodySent = true;
    },
    onError: () => {
      unpipeBody(ex);
      ex.abort(new UpstreamError('UPSTREAM_REQUEST_BODY', 'the client stopped sending the request body'));
    },
  };
  pipes.set(ex, pipe);
  body.on('data', pipe.onData);
  body.on('end', pipe.onEnd);
  body.on('error', pipe.onError);
  body.on('aborted', pipe.onError);
  if ((body as Readable & { readableEnded?: boolean }).readableEnded) pipe.onEnd();
  else body.resume();
}

function unpipeBody(ex: UpstreamExchange): void {
  const pipe = pipes.get(ex);
  if (pipe === undefined) return;
  pipes.delete(ex);
  const body = ex.body as Readable;
  body.off('data', pipe.onData);
  body.off('end', pipe.onEnd);
  body.off('error', pipe.onError);
  body.off('aborted', pipe.onError);
}
