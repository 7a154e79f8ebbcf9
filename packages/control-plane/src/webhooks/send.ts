// One webhook request: a POST of the signed body with a time limit, to an address the SSRF rules allow at connect
// time; the answer's status and Retry-After, or the network error.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { guardedLookup, refusedAddress } from './destination.js';

export interface SendResult {
  status?: number;
  retryAfterSeconds?: number;
  error?: string;
  /** the destination is not one webhooks may reach (no point retrying) */
  refused?: boolean;
  /** delivered (an SMTP server's 250); for HTTP, a 2xx status says so */
  ok?: boolean;
}

/** Whether the receiver took it. */
export function accepted(r: SendResult): boolean {
  return r.ok ?? (r.status !== undefined && r.status >= 200 && r.status < 300);
}

export function send(url: string, body: string, headers: Record<string, string>, timeoutMs = 10_000, allow: readonly string[] = []): Promise<SendResult> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  // an address in the URL is never looked up, so it is checked here; names are checked by the lookup
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(host) === 0 ? undefined : refusedAddress(host, allow);
  if (literal !== undefined) return Promise.resolve({ error: `refused destination: ${literal}`, refused: true });
  return new Promise((done) => {
    const req = request(u, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup: guardedLookup(allow) as never, timeout: timeoutMs }, (res) => {
      res.resume();
      const ra = res.headers['retry-after'];
      const seconds = ra === undefined ? undefined : /^\d+$/.test(ra) ? Number(ra) : Math.max(0, Math.ceil((Date.parse(ra) - Date.now()) / 1000));
      res.on('end', () => done({ status: res.statusCode ?? 0, ...(seconds !== undefined && Number.isFinite(seconds) && { retryAfterSeconds: seconds }) }));
      res.on('error', (e) => done({ status: res.statusCode ?? 0, error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => done({ error: e.message, ...((e as NodeJS.ErrnoException).code === 'APIGOV_REFUSED_DESTINATION' && { refused: true }) }));
    req.end(body);
  });
}
