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
  requestId: string;
  method: string;
  path: string;
  route: string;
  status: number;
  durationMs: number;
  upstreamMs: number | undefined;
  application: string | undefined;
  clientIp: string;
  bytes: number;
  code?: string;
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

export class AccessLog {
  private readonly logger: Logger;
  private readonly stream: DestinationStream & { flushSync(): void; end(): void };

  /** `target`: 'stdout' or a file path */
  constructor(target: string) {
    const dest = pino.destination({ dest: target === 'stdout' ? 1 : target, minLength: 4096, sync: false, mkdir: true });
    this.stream = dest as unknown as DestinationStream & { flushSync(): void; end(): void };
    this.logger = pino({ base: null }, dest);
  }

  write(line: AccessLogLine): void {
    this.logger.info(line);
  }

  /** Writes what is buffered. */
  flush(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.logger.flush(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  async close(): Promise<void> {
    await this.flush();
    try {
      this.stream.end();
    } catch {
      /* already closed */
    }
  }
}
