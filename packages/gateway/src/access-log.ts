// The JSON access log: one line per request, written asynchronously (buffered pino destination) to stdout or a
// file. Credentials never reach it: headers are not logged, and the values of sensitive query parameters
// (the route's API-key parameter, `--redact` names) are replaced by [REDACTED].
import pino from 'pino';
type Logger = pino.Logger;
type DestinationStream = pino.DestinationStream;

export const REDACTED = '[REDACTED]';
/** always redacted, whatever the configuration */
export const ALWAYS_REDACTED = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'api_key', 'apikey', 'access_token', 'token'];

export interface AccessLogLine {
  /** JSON-safe: generated, or a client's id that matched the sane-id pattern */
  requestId: string;
  /** an HTTP method token */
  method: string;
  path: string;
  route: string;
  status: number;
  durationMs: number;
  upstreamMs: number | undefined;
  application: string | undefined;
  clientIp: string;
  bytes: number;
  code?: string | undefined;
  /** epoch ms of the line (default: now) */
  time?: number;
}

/** A quick test for "this query string may carry one of `names`" (encoded names always take the slow path). */
export function redactionProbe(names: Iterable<string>): RegExp {
  const alternatives = [...names].map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return new RegExp(`(?:^|[?&;])(?:${alternatives})(?:=|&|$)|%`, 'i');
}

/** The request path with the values of redacted query parameters replaced; `names` are lower-case. */
export function redactedPath(url: string, names: ReadonlySet<string>): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const pairs = url.slice(q + 1).split('&');
  let changed = false;
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i]!;
    const eq = pair.indexOf('=');
    const raw = eq === -1 ? pair : pair.slice(0, eq);
    let name: string;
    try {
      name = decodeURIComponent(raw.replace(/\+/g, ' ')).toLowerCase();
    } catch {
      name = raw.toLowerCase();
    }
    if (names.has(name)) {
      pairs[i] = `${raw}=${REDACTED}`;
      changed = true;
    }
  }
  return changed ? `${url.slice(0, q)}?${pairs.join('&')}` : url;
}

/** Characters that make a string unsafe to embed in JSON without escaping. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;

function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** lines are handed to the destination in batches of about this many characters */
const BATCH_CHARS = 64 * 1024;
/** and at least this often */
const FLUSH_EVERY_MS = 200;

/**
 * Lines are built directly in pino's JSON shape (`level`, `time`, then the fields) and written through
 * pino.destination (sonic-boom, asynchronous). They are batched here first: the generic serializer cost more than
 * everything else a request does, and sonic-boom measures its whole pending buffer on every write (O(buffer) per
 * line), so one write per 64 KB keeps a log line under a microsecond.
 */
export class AccessLog {
  private readonly stream: DestinationStream & { flushSync(): void; end(): void; flush(cb?: (err?: Error) => void): void };
  /** pino's logger on the same destination, for anything that is not an access line */
  readonly logger: Logger;

  /** `target`: 'stdout' or a file path */
  constructor(target: string) {
    const dest = pino.destination({ dest: target === 'stdout' ? 1 : target, minLength: 0, maxWrite: 256 * 1024, sync: false, mkdir: true });
    this.stream = dest as unknown as AccessLog['stream'];
    this.logger = pino({ base: null }, dest);
    this.timer = setInterval(() => this.drain(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  private pending = '';
  private readonly timer: NodeJS.Timeout;

  private drain(): void {
    if (this.pending === '') return;
    const chunk = this.pending;
    this.pending = '';
    this.stream.write(chunk);
  }

  write(l: AccessLogLine): void {
    // requestId and method go in as they are: the request path only lets sane ids through and node:http only parses
    // token methods
    let line = `{"level":30,"time":${l.time ?? Date.now()},"requestId":"${l.requestId}","method":"${l.method}","path":${jsonString(l.path)},"route":${jsonString(l.route)},"status":${l.status},"durationMs":${l.durationMs}`;
    if (l.upstreamMs !== undefined) line += `,"upstreamMs":${l.upstreamMs}`;
    if (l.application !== undefined) line += `,"application":${jsonString(l.application)}`;
    line += `,"clientIp":${jsonString(l.clientIp)},"bytes":${l.bytes}`;
    if (l.code !== undefined) line += `,"code":"${l.code}"`;
    this.pending += `${line}}\n`;
    if (this.pending.length >= BATCH_CHARS) this.drain();
  }

  /** Writes what is buffered. */
  flush(): Promise<void> {
    this.drain();
    return new Promise((resolve) => {
      try {
        this.stream.flush(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  /** Writes what is buffered and resolves once the destination has closed (its file may still be opening). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.drain();
    const stream = this.stream as unknown as NodeJS.EventEmitter & { end(): void; destroyed?: boolean };
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(guard);
        resolve();
      };
      // never hang a shutdown on a log file
      const guard = setTimeout(done, 5000);
      stream.once('close', done);
      stream.once('error', done);
      try {
        stream.end();
      } catch {
        done();
      }
    });
  }
}
