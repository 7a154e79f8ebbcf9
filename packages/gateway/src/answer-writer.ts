// Writing a complete upstream answer to the client in one go: the status line and headers are joined here
// (the upstream client has already checked every upstream name and value) and handed to node:http as the
// response's head, so the head and a small body leave in one write without node re-validating each header.
import { STATUS_CODES, type ServerResponse } from 'node:http';

/** the traffic server's keep-alive timeout, also announced in Keep-Alive */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const KEEP_ALIVE = `Connection: keep-alive\r\nKeep-Alive: timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}\r\n\r\n`;
const CLOSE = 'Connection: close\r\n\r\n';
/** bodies up to this size go out as a latin1 string (byte for byte) joined to the head: one write */
const ONE_WRITE_BYTES = 16 * 1024;

/** what node:http's ServerResponse keeps of a head it has written (stable since node 12; used by the tests) */
interface ResponseInternals {
  _header: string | null;
  _headerSent: boolean;
  _last: boolean;
}

const statusLines = new Map<number, string>();

function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    statusLines.set(status, line);
  }
  return line;
}

/**
 * Sends `status`, the flat [name, value, …] `headers` (upstream ones checked by the upstream client, the
 * gateway's own made by it) and the whole `body`, and ends the response. The connection header follows what
 * node:http decided for this request (keep-alive, or close with the socket ended after the answer).
 */
export function writeWholeAnswer(res: ServerResponse, status: number, headers: readonly string[], body: Buffer): void {
  let head = statusLine(status);
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  const keepAlive = res.shouldKeepAlive;
  head += keepAlive ? KEEP_ALIVE : CLOSE;
  res.statusCode = status;
  const internals = res as unknown as ResponseInternals;
  internals._header = head;
  internals._headerSent = false;
  internals._last = !keepAlive;
  endWithBody(res, body);
}

/**
 * Ends a response with the last of its body. A small piece goes as a latin1 string (byte for byte): node:http then
 * joins it to a head not sent yet, one write instead of a writev of both.
 */
export function endWithBody(res: ServerResponse, body: Buffer): void {
  if (body.length === 0) res.end();
  else if (body.length <= ONE_WRITE_BYTES) res.end(body.toString('latin1'), 'latin1');
  else res.end(body);
}

