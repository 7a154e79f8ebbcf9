// Small real upstreams for failure cases the payments service does not have: one that sleeps, one whose answers
// (status per call) the test scripts; both count what reached them. node:http on 127.0.0.1.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedUpstream {
  url: string;
  /** requests that reached it */
  count: number;
  /** status for the next calls (shifted per call); `fallback` afterwards */
  script: number[];
  fallback: number;
  /** ms to wait before answering */
  delayMs: number;
  close(): Promise<void>;
}

export async function startScriptedUpstream(fallback = 200): Promise<ScriptedUpstream> {
  const state = { count: 0, script: [] as number[], fallback, delayMs: 0 };
  const server: Server = createServer((req, res) => {
    state.count++;
    req.resume();
    const status = state.script.shift() ?? state.fallback;
    const answer = (): void => {
      if (res.destroyed) return;
      const body = JSON.stringify({ status, path: req.url });
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    };
    if (state.delayMs > 0) setTimeout(answer, state.delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  }) as ScriptedUpstream;
}
