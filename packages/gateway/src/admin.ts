// The admin port (never the traffic port): /metrics (Prometheus), /ready (200 only with a snapshot applied, else
// 503 problem+json APIGOV_ERR_GATEWAY_NOT_READY), /healthz, and /snapshot (what is applied and what was refused).
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { PROBLEM_CONTENT_TYPE, problemDocument } from './problem.js';

export interface SnapshotStatus {
  environment: string;
  /** applied snapshot, if any */
  version: number | undefined;
  hash: string | undefined;
  routes: number | undefined;
  appliedAt: string | undefined;
  compileMs: number | undefined;
  /** whether the applied snapshot took the previous one's compiled routes (only keys, subscriptions or bindings changed) */
  routesReused?: boolean;
  warnings: readonly string[];
  lastRejection: { version: number; reason: string; at: string } | undefined;
  /** in cluster mode, what each worker applied */
  workers?: Array<{ pid: number; version: number | undefined; lastRejection?: { version: number; reason: string } }>;
}

export interface AdminSource {
  ready(): boolean;
  snapshot(): SnapshotStatus;
  metrics(): Promise<{ contentType: string; body: string }>;
}

export function createAdminServer(source: AdminSource): Server {
  return createServer((req, res) => {
    const url = req.url ?? '/';
    const path = url.split('?')[0];
    const send = (status: number, body: string, type: string): void => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const json = (status: number, body: unknown): void => send(status, JSON.stringify(body), 'application/json');
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'GET only' });
    switch (path) {
      case '/metrics':
        source.metrics().then(
          (m) => send(200, m.body, m.contentType),
          (err: unknown) => json(500, { error: err instanceof Error ? err.message : String(err) }),
        );
        return;
      case '/healthz':
        return json(200, { status: 'ok' });
      case '/ready': {
        if (source.ready()) return json(200, { status: 'ready', version: source.snapshot().version });
        const doc = problemDocument('APIGOV_ERR_GATEWAY_NOT_READY', 'no snapshot has been applied yet', randomUUID());
        return send(503, JSON.stringify(doc), PROBLEM_CONTENT_TYPE);
      }
      case '/snapshot':
        return json(200, source.snapshot());
      default:
        return json(404, { error: `no such admin endpoint: ${path}; try /metrics, /ready, /healthz, /snapshot` });
    }
  });
}
