// Shared by the auth policy tests: a snapshot builder, a RequestContext that records what policies do, and
// a real JWKS endpoint (node:http on 127.0.0.1) serving key sets that tests can rotate or take down.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import type { ErrorCode, GatewaySnapshot, PolicyConfigs, SnapshotRoute } from '@apigov/model';
import type { CompiledPolicy, Consumer, PolicyDefinition, PolicyDeps, RejectOptions, RequestContext } from '../src/policy.js';
import type { CounterStore } from '../src/counters/types.js';
import { authTables, hashApiKey, type SnapshotAuthTables } from '../src/auth/consumers.js';

export function route(policies: PolicyConfigs, id = 'payments/v1'): SnapshotRoute {
  const [api, version] = id.split('/');
  return { id, api, version, prefix: `/${api}/${version}`, state: 'published', upstream: 'http://127.0.0.1:9/', policies, schemas: {}, operations: [] };
}

export function snapshot(parts: Partial<GatewaySnapshot> = {}): GatewaySnapshot {
  return {
    schemaVersion: 1,
    environment: 'dev',
    version: 1,
    hash: '0'.repeat(64),
    generatedAt: new Date().toISOString(),
    routes: [],
    consumers: {},
    apiKeys: {},
    jwtBindings: [],
    plans: {},
    warnings: [],
    ...parts,
  };
}

/** apiKeys entries from plain keys */
export function keys(entries: Record<string, { credential: string; application: string; expiresAt?: string }>): GatewaySnapshot['apiKeys'] {
  return Object.fromEntries(Object.entries(entries).map(([k, v]) => [hashApiKey(k), v]));
}

const counters: CounterStore = {
  kind: 'memory',
  hit: () => {
    throw new Error('auth policies use no counters');
  },
  close: async () => {},
};

export function deps(snap: GatewaySnapshot, warnings: string[] = []): PolicyDeps {
  return { snapshot: snap, counters, warn: (m) => warnings.push(m) };
}

/**
 * Compiles `policy` for the route in `snap`, as the gateway does; the result serves requests as if `snap` served them
 * (it hands them snap's auth tables, which the gateway's request takes from its snapshot).
 */
export function compile<K extends keyof PolicyConfigs>(policy: PolicyDefinition<K>, r: SnapshotRoute, snap: GatewaySnapshot, warnings?: string[]): CompiledPolicy {
  const config = r.policies[policy.id];
  if (config === undefined) throw new Error(`route has no ${policy.id} config`);
  const d = deps(snap, warnings);
  const tables = authTables(snap, d.warn);
  const compiled = policy.compile(config as NonNullable<PolicyConfigs[K]>, r, undefined, d);
  if (compiled === null) throw new Error(`${policy.id} compiled to a no-op`);
  return {
    ...compiled,
    handle(ctx) {
      (ctx as TestContext).auth = tables;
      return compiled.handle(ctx);
    },
  };
}

export interface Rejection {
  code: ErrorCode;
  detail: string;
  options: RejectOptions | undefined;
}

/** A RequestContext that implements the interface with plain state and records rejections. */
export class TestContext implements RequestContext {
  readonly req: IncomingMessage;
  readonly res = {} as ServerResponse;
  readonly operation = undefined;
  readonly requestId = 'req-test';
  readonly clientIp = '127.0.0.1';
  readonly startedAt = performance.now();
  readonly params = {};
  consumer: Consumer | undefined = undefined;
  plan: string | undefined = undefined;
  readonly setRequestHeaders: Record<string, string> = {};
  readonly removeRequestHeaders = new Set<string>();
  readonly responseHeaders: Array<[string, string]> = [];
  body: Buffer | undefined = undefined;
  rejection: Rejection | undefined = undefined;
  /** set by the compiled policy (see compile) */
  auth!: SnapshotAuthTables;
  private parsedQuery: URLSearchParams | undefined;

  constructor(
    readonly route: SnapshotRoute,
    headers: Record<string, string> = {},
    public upstreamPath = '/payments',
  ) {
    this.req = { headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])), method: 'GET', url: route.prefix + upstreamPath } as unknown as IncomingMessage;
  }

  get done(): boolean {
    return this.rejection !== undefined;
  }

  allowedMethods(): string[] {
    return [];
  }

  query(): URLSearchParams {
    if (this.parsedQuery === undefined) {
      const q = this.upstreamPath.indexOf('?');
      this.parsedQuery = new URLSearchParams(q === -1 ? '' : this.upstreamPath.slice(q + 1));
    }
    return this.parsedQuery;
  }

  readBody(): Promise<Buffer> {
    return Promise.resolve((this.body ??= Buffer.alloc(0)));
  }

  reject(code: ErrorCode, detail: string, options?: RejectOptions): void {
    if (this.rejection !== undefined) throw new Error('rejected twice');
    this.rejection = { code, detail, options };
  }
}

/** Runs compiled policies in order, as the pipeline does: stop once one has answered. */
/** runs the policies as the request path does; headers a policy always strips count as removed, as the upstream stage treats them */
export async function run(ctx: RequestContext, ...policies: CompiledPolicy[]): Promise<void> {
  for (const p of policies) {
    for (const h of p.stripRequestHeaders ?? []) ctx.removeRequestHeaders.add(h);
    const r = p.handle(ctx);
    if (r !== undefined) await r;
    if (ctx.done) return;
  }
}

export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

export async function signingKey(alg: 'RS256' | 'ES256', kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, jwk };
}

/** One JWKS document served at /jwks/{name}; tests change `keys` or set `failing` and read `fetches`. */
export interface JwksDoc {
  keys: JWK[];
  failing: boolean;
  fetches: number;
}

export class JwksServer {
  private server: Server | undefined;
  readonly docs = new Map<string, JwksDoc>();
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const name = (req.url ?? '').replace(/^\/jwks\//, '');
      const doc = this.docs.get(name);
      if (doc === undefined) {
        res.writeHead(404).end();
        return;
      }
      doc.fetches++;
      if (doc.failing) {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: doc.keys }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  /** a new document; returns its URL */
  serve(name: string, keys: JWK[]): { url: string; doc: JwksDoc } {
    const doc: JwksDoc = { keys, failing: false, fetches: 0 };
    this.docs.set(name, doc);
    return { url: `http://127.0.0.1:${this.port}/jwks/${name}`, doc };
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s === undefined) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** waits until `check` holds (background fetches), polling */
export async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = performance.now() + ms; // not Date: tests fake it
  while (!check()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
