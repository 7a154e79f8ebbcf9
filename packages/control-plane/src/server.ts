// Starts the control plane on a port over a store opened from options: what `apigov up` and tests run.
import type { SignInLimits } from './sign-in-guard.js';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { ApigovError } from '@apigov/model';
import type { SsoOptions } from './routes/auth.js';
import type { WebhookWorkerOptions } from './webhooks/worker.js';
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
  /** single sign-on: public URL and session lifetimes */
  sso?: SsoOptions;
  /** proxies whose X-Forwarded-* headers are believed (addresses or CIDRs) */
  trustedProxies?: string[];
  /** serve HTTPS with these PEM files (certificate chain, private key) */
  tlsCert?: string;
  tlsKey?: string;
  /** publish every event to NATS JetStream at this URL */
  eventsNats?: string;
  /** how often the subscription clock runs (default a minute) */
  subscriptionClockMs?: number;
  /** the webhook worker's retry schedule and interval, or false for none */
  webhooks?: WebhookWorkerOptions | false;
}

export interface RunningControlPlane {
  url: string;
  port: number;
  app: FastifyInstance;
  store: Store;
  close(): Promise<void>;
}

export async function startControlPlane(options: StartOptions = {}): Promise<RunningControlPlane> {
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new ApigovError('APIGOV_ERR_INPUT_INVALID', '--tls-cert and --tls-key go together');
  const tls = options.tlsCert === undefined || options.tlsKey === undefined ? undefined : { cert: readPem(options.tlsCert, '--tls-cert'), key: readPem(options.tlsKey, '--tls-key') };
  const ownStore = options.store === undefined;
  const store = options.store ?? (await openStore({ dataDir: options.dataDir, databaseUrl: options.databaseUrl }));
  const app = await buildControlPlane({
    store,
    adminToken: options.adminToken,
    gatewayToken: options.gatewayToken,
    logger: options.logger,
    ...(options.signInLimits !== undefined && { signInLimits: options.signInLimits }),
    ...(options.sso !== undefined && { sso: options.sso }),
    ...(options.trustedProxies !== undefined && { trustedProxies: options.trustedProxies }),
    ...(tls !== undefined && { tls }),
    ...(options.webhooks !== undefined && { webhooks: options.webhooks }),
    ...(options.eventsNats !== undefined && { eventsNats: options.eventsNats }),
    ...(options.subscriptionClockMs !== undefined && { subscriptionClockMs: options.subscriptionClockMs }),
  });
  const host = options.host ?? '127.0.0.1';
  await app.listen({ port: options.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  return {
    url: `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    app,
    store: catalogStoreOf(app),
    async close() {
      await app.close();
      if (ownStore) await store.close();
    },
  };
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch {
    throw new ApigovError('APIGOV_ERR_INPUT_INVALID', `${flag}: cannot read ${path}`);
  }
}
