// A tiny real control plane for the gateway tests (node:http on 127.0.0.1): serves GET /v1/gateway/snapshot with
// long-poll (since, wait) and collects POST /v1/gateway/reports. It can be stopped and restarted on the same port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayReport } from '@apigov/model';

export interface ControlPlaneStandIn {
  url: string;
  port: number;
  /** makes this the snapshot gateways get (object, or raw text to send a broken one) */
  publish(snapshot: { version: number } | string): void;
  reports: GatewayReport[];
  snapshotRequests: Array<{ environment: string | null; since: string | null; wait: string | null; authorization: string | undefined }>;
  stop(): Promise<void>;
  /** listens again on the same port */
  restart(): Promise<void>;
}

export async function startControlPlaneStandIn(options: { token?: string; port?: number } = {}): Promise<ControlPlaneStandIn> {
  let current: { version: number; text: string } | undefined;
  const waiters = new Set<() => void>();
  const reports: GatewayReport[] = [];
  const snapshotRequests: ControlPlaneStandIn['snapshotRequests'] = [];

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"token"}');
      return;
    }
    if (req.method === 'GET' && url.pathname === '/v1/gateway/snapshot') {
      snapshotRequests.push({ environment: url.searchParams.get('environment'), since: url.searchParams.get('since'), wait: url.searchParams.get('wait'), authorization: req.headers.authorization });
      const since = Number(url.searchParams.get('since') ?? '0');
      const wait = Number(url.searchParams.get('wait') ?? '0');
      const answer = (): boolean => {
        if (current !== undefined && current.version > since) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(current.text);
          return true;
        }
        return false;
      };
      if (answer()) return;
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (!res.writableEnded) res.writeHead(304).end();
      };
      const wake = (): void => {
        if (answer()) {
          clearTimeout(timer);
          waiters.delete(wake);
        }
      };
      const timer = setTimeout(done, wait * 1000);
      waiters.add(wake);
      res.on('close', () => {
        clearTimeout(timer);
        waiters.delete(wake);
      });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/v1/gateway/reports') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        reports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as GatewayReport);
        res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
      });
      return;
    }
    res.writeHead(404).end();
  };

  let server: Server = createServer(handler);
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  const port = await listen(options.port ?? 0);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    reports,
    snapshotRequests,
    publish(snapshot) {
      const text = typeof snapshot === 'string' ? snapshot : JSON.stringify(snapshot);
      const version = typeof snapshot === 'string' ? (JSON.parse(snapshot) as { version: number }).version : snapshot.version;
      current = { version, text };
      for (const w of [...waiters]) w();
    },
    async stop() {
      for (const w of [...waiters]) w();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    async restart() {
      server = createServer(handler);
      await listen(port);
    },
  };
}
