// What the policy mappings build for one group of HTTPRoute rules (a route's, or one operation's with policies of
// its own): the parts of its SecurityPolicy and BackendTrafficPolicy, its header and rewrite filters, its backends,
// whether apigov's ext-authz service must decide, and what Envoy cannot express (never dropped silently).
import type { GatewaySnapshot, PolicyConfigs, PolicyId, SnapshotOperation, SnapshotRoute } from '@apigov/model';

/** Where plan limits, rate limits and quotas are enforced: by apigov's ext-authz service (exact, shared with
 *  apigov gateways through Redis), or by Envoy Gateway's global rate limit (BackendTrafficPolicy). */
export type LimitsMode = 'ext-authz' | 'envoy';

export interface EnvoyGatewayOptions {
  namespace: string;
  gatewayClass: string;
  /** where Envoy reaches `apigov gateway --mode ext-authz` */
  extAuthzUrl: string;
  limits: LimitsMode;
  /** the proxies in front of Envoy whose X-Forwarded-For is believed (ClientTrafficPolicy) */
  trustedProxies: string[];
  /** request body limit (ClientTrafficPolicy connection buffer) */
  bodyLimitBytes?: number;
  /** the Gateway's HTTP listener port */
  listenerPort: number;
}

export interface UnsupportedPolicy {
  /** `Api/payments` */
  resource: string;
  version: string;
  environment: string;
  policy: PolicyId | 'lifecycle';
  message: string;
}

export interface HeaderEdits {
  set: Array<{ name: string; value: string }>;
  remove: string[];
}

/** The environment a rule is exported for: what plan mappings read. */
export type ExportedEnvironment = Pick<GatewaySnapshot, 'environment' | 'routes' | 'consumers' | 'plans' | 'jwtBindings' | 'warnings'>;

export class RuleExport {
  readonly security: Record<string, unknown> = {};
  readonly traffic: Record<string, unknown> = {};
  readonly requestHeaders: HeaderEdits = { set: [], remove: [] };
  readonly responseHeaders: HeaderEdits = { set: [], remove: [] };
  /** what replaces the route prefix (pathRewrite), before the upstream's own base path */
  replacePrefix = '';
  /** weighted upstreams (trafficSplit); the route's upstream when empty */
  split: Array<{ upstream: string; weight: number }> = [];
  /** apigov's ext-authz service decides (keys, subscriptions, limits) */
  extAuthz = false;
  /** request headers Envoy sends to ext-authz (besides Host, Method, Path, Content-Length and Authorization) */
  readonly headersToExtAuth = new Set<string>(['x-forwarded-for', 'x-request-id', 'traceparent']);
  /** ext-authz answer headers Envoy adds to the upstream request */
  readonly headersToBackend = new Set<string>(['x-apigov-application']);
  /** global rate-limit rules (limits: envoy) */
  readonly rateLimitRules: Array<Record<string, unknown>> = [];

  constructor(
    readonly env: ExportedEnvironment,
    readonly route: SnapshotRoute,
    readonly operation: SnapshotOperation | undefined,
    readonly policies: PolicyConfigs,
    readonly options: EnvoyGatewayOptions,
    private readonly unsupportedList: UnsupportedPolicy[],
  ) {}

  unsupported(policy: UnsupportedPolicy['policy'], message: string): void {
    const where = this.operation === undefined ? '' : `operation ${this.operation.id}: `;
    const entry: UnsupportedPolicy = { resource: `Api/${this.route.api}`, version: this.route.version, environment: this.env.environment, policy, message: where + message };
    if (!this.unsupportedList.some((u) => u.resource === entry.resource && u.version === entry.version && u.environment === entry.environment && u.policy === policy && u.message === entry.message)) {
      this.unsupportedList.push(entry);
    }
  }
}

/** One mapping per policy kind, next to its gateway file and its schema. */
export type PolicyMapping<K extends PolicyId> = (config: NonNullable<PolicyConfigs[K]>, rule: RuleExport) => void;
export type PolicyMappings = { readonly [K in PolicyId]: PolicyMapping<K> };
