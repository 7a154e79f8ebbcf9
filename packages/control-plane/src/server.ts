// Starts the control plane on a port over a store opened from options: what `apigov up` and tests run.
import type { SignInLimits } from './sign-in-guard.js';
import type { FastifyInstance } from 'fastify';
import { openStore, type Store } from '@apigov/store';
import { buildControlPlane, catalogStoreOf } from './app.js';

export interface StartOptions {
  port?: number;
  host?: string;
  dataDir?: string;
  databaseUrl?: string;
  /** an already open store (tests); otherwise one is opened from dataDir / databaseUrl */
  store?: Store;
  adminToken?: string;
  gatewayToken?: string;
  logger?: boolean | { level: string; stream?: { write(line: string): void } };
  /** failed sign-ins allowed before a lockout (default 20 a minute per address and per user, then 5 minutes) */
  signInLimits?: SignInLimits;
}

export interface RunningControlPlane {
  url: string;
  port: number;
  app: FastifyInstance;
  store: Store;
  close(): Promise<void>;
}

export async function startControlPlane(options: StartOptions = {}): Promise<RunningControlPlane> {
  const ownStore = options.store === undefined;
  const store = options.store ?? (await openStore({ dataDir: options.dataDir, databaseUrl: options.databaseUrl }));
  const app = await buildControlPlane({ store, adminToken: options.adminToken, gatewayToken: options.gatewayToken, logger: options.logger, ...(options.signInLimits !== undefined && { signInLimits: options.signInLimits }) });
  const host = options.host ?? '127.0.0.1';
  await app.listen({ port: options.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    app,
    store: catalogStoreOf(app),
    async close() {
      await app.close();
      if (ownStore) await store.close();
    },
  };
}
