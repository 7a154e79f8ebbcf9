// Test helpers: run the real built `apigov` executable as a child process with its own config file,
// and a small real HTTP peer (node:http) that records requests and answers like the control plane.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const BIN = join(ROOT, 'packages', 'cli', 'bin', 'apigov.js');
export const FIXTURES = join(import.meta.dirname, 'fixtures');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

const created: string[] = [];
process.on('exit', () => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory (removed when the test process exits) for one test's config file or inputs. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'apigov-cli-'));
  created.push(dir);
  return dir;
}

/**
 * Runs `node bin/apigov.js ...args`. The environment is cleaned of APIGOV_* and XDG_CONFIG_HOME, then
 * `env` is added (pass APIGOV_CONFIG to isolate the config file).
 */
export function run(args: readonly string[], env: Record<string, string | undefined> = {}, cwd: string = ROOT): Promise<RunResult> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('APIGOV_') && k !== 'XDG_CONFIG_HOME') base[k] = v;
  for (const [k, v] of Object.entries(env)) if (v !== undefined) base[k] = v;
  return new Promise((ok) => {
    execFile(process.execPath, [BIN, ...args], { env: base, cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      ok({ code, stdout, stderr });
    });
  });
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: unknown;
  text: string;
}

export interface PeerReply {
  status?: number;
  body?: unknown;
  /** Sent as-is with this content type instead of JSON. */
  text?: string;
  type?: string;
}

export type PeerHandler = (req: RecordedRequest) => PeerReply | undefined;

export interface Peer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export function problem(status: number, code: string, detail: string, extra: Record<string, unknown> = {}): PeerReply {
  return {
    status,
    type: 'application/problem+json',
    text: JSON.stringify({ type: `https://apigov.dev/errors/${code}`, title: code, status, detail, code, requestId: 'req-1', ...extra }),
  };
}

/** A real HTTP server on 127.0.0.1 that records each request and answers with `handler` (404 problem otherwise). */
export async function startPeer(handler: PeerHandler): Promise<Peer> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://peer');
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = undefined;
      }
      const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body, text };
      requests.push(recorded);
      const reply = handler(recorded) ?? problem(404, 'APIGOV_ERR_RESOURCE_NOT_FOUND', `no route ${recorded.method} ${recorded.path}`);
      const payload = reply.text ?? JSON.stringify(reply.body ?? {});
      res.writeHead(reply.status ?? 200, { 'content-type': reply.type ?? 'application/json', 'x-request-id': 'req-1' });
      res.end(payload);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** Asserts nothing; returns the one stderr line (tests check there is exactly one). */
export function stderrLines(r: RunResult): string[] {
  return r.stderr.split('\n').filter((l) => l !== '');
}
