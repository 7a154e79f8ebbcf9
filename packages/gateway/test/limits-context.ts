// Shared by the limit policy tests: a snapshot and route builder, a RequestContext that implements the interface
// with plain state and records rejections (the gateway core is tested end to end elsewhere), and a compile helper.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode, GatewaySnapshot, PolicyConfigs, SnapshotOperation, SnapshotRoute } from '@apigov/model';
import type { CompiledPolicy, Consumer, PolicyDefinition, RejectOptions, RequestContext } from '../src/policy.js';
import type { CounterStore } from '../src/counters/types.js';
import { authTables } from '../src/auth/consumers.js';

export function limitRoute(policies: PolicyConfigs, id = 'payments/v1'): SnapshotRoute {
  const [api, version] = id.split('/') as [string, string];
  return { id, api, version, prefix: `/${api}/${version}`, state: 'published', upstream: 'http://127.0.0.1:9/', policies, schemas: {}, operations: [] };
}

export function limitSnapshot(plans: GatewaySnapshot['plans'] = {}): GatewaySnapshot {
  return { schemaVersion: 1, environment: 'dev', version: 1, hash: '0'.repeat(64), generatedAt: new Date().toISOString(), routes: [], consumers: {}, apiKeys: {}, jwtBindings: [], plans, warnings: [] };
}

/** compiles `policy` for the route (and operation); null when the config makes it a no-op */
export function compileLimit<K extends keyof PolicyConfigs>(
  policy: PolicyDefinition<K>,
  route: SnapshotRoute,
  counters: CounterStore,
  plans: GatewaySnapshot['plans'] = {},
  operation?: SnapshotOperation,
): CompiledPolicy | null {
  const config = (operation?.policies?.[policy.id] ?? route.policies[policy.id]) as NonNullable<PolicyConfigs[K]> | undefined;
  if (config === undefined) throw new Error(`route has no ${policy.id} config`);
  return policy.compile(config, route, operation, { snapshot: limitSnapshot(plans), counters, warn: () => {} });
}

export interface Rejection {
  code: ErrorCode;
  detail: string;
  headers: Record<string, string>;
}

export class LimitContext implements RequestContext {
  readonly req = { headers: {}, method: 'GET', url: '/' } as unknown as IncomingMessage;
  readonly res = {} as ServerResponse;
  readonly operation = undefined;
  readonly requestId = 'req-test';
  /** the limit policies read no auth tables */
  readonly auth = authTables(limitSnapshot());
  readonly startedAt = performance.now();
  readonly params = {};
  upstreamPath = '/payments';
  consumer: Consumer | undefined;
  plan: string | undefined;
  readonly setRequestHeaders: Record<string, string> = {};
  readonly removeRequestHeaders = new Set<string>();
  readonly responseHeaders: Array<[string, string]> = [];
  body: Buffer | undefined;
  rejection: Rejection | undefined;

  constructor(
    readonly route: SnapshotRoute,
    who: { application?: string; plan?: string; ip?: string } = {},
  ) {
    this.consumer = who.application === undefined ? undefined : { application: who.application, team: 'team-a' };
    this.plan = who.plan;
    this.clientIp = who.ip ?? '192.0.2.1';
  }

  readonly clientIp: string;

  get done(): boolean {
    return this.rejection !== undefined;
  }

  allowedMethods(): string[] {
    return [];
  }

  query(): URLSearchParams {
    return new URLSearchParams();
  }

  readBody(): Promise<Buffer> {
    return Promise.resolve((this.body ??= Buffer.alloc(0)));
  }

  reject(code: ErrorCode, detail: string, options?: RejectOptions): void {
    if (this.rejection !== undefined) throw new Error('rejected twice');
    this.rejection = { code, detail, headers: options?.headers ?? {} };
  }

  /** the response headers as a record (throws on a duplicate name) */
  headers(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.responseHeaders) {
      if (k in out) throw new Error(`header ${k} set twice`);
      out[k] = v;
    }
    return out;
  }
}

/** runs compiled policies in order as the pipeline does (await only promises; stop once one answered) */
export async function runLimits(ctx: RequestContext, ...policies: Array<CompiledPolicy | null>): Promise<void> {
  for (const p of policies) {
    if (p === null) continue;
    const r = p.handle(ctx);
    if (r !== undefined) await r;
    if (ctx.done) return;
  }
}
