// The model for another platform (GET /v1/exports/{format}): the caller's visible resources, and for envoy-gateway
// each environment compiled by the snapshot compiler (the same effective policies the gateways get), handed to
// @apigov/exporters; export options come from the query and are checked before anything is compiled.
import { cidrSchema, type AnyResource, type Kind, type SpecOf } from '@apigov/model';
import { EXPORT_FORMATS, exportBackstage, exportEnvoyGateway, type EnvoyGatewayOptions, type ExportFormat, type ExportResult, type ExportedEnvironment, type UnsupportedPolicy } from '@apigov/exporters';
import { compileSnapshot, type Named } from '../snapshot/compile.js';
import { invalidField } from '../problem.js';

export interface ExportOutput extends ExportResult {
  format: ExportFormat;
  unsupported?: UnsupportedPolicy[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function exportFormatOf(asked: string): ExportFormat {
  if (!(EXPORT_FORMATS as readonly string[]).includes(asked)) throw invalidField('format', `unknown export format '${asked}'; expected one of ${EXPORT_FORMATS.join(', ')}`);
  return asked as ExportFormat;
}

/** envoy-gateway's options from query parameters (namespace, gatewayClass, extAuthzUrl, limits, trustedProxies, bodyLimit). */
export function envoyGatewayOptions(q: Record<string, string | undefined>): Partial<EnvoyGatewayOptions> {
  const out: Partial<EnvoyGatewayOptions> = {};
  if (q.namespace !== undefined) {
    if (!DNS_LABEL.test(q.namespace)) throw invalidField('namespace', 'must be a Kubernetes namespace (lower-case letters, digits and -, at most 63)');
    out.namespace = q.namespace;
  }
  if (q.gatewayClass !== undefined) {
    if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(q.gatewayClass)) throw invalidField('gatewayClass', 'must be a GatewayClass name (lower-case letters, digits, - and .)');
    out.gatewayClass = q.gatewayClass;
  }
  if (q.extAuthzUrl !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(q.extAuthzUrl);
    } catch {
      u = undefined;
    }
    if (u === undefined || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw invalidField('extAuthzUrl', 'must be an http:// or https:// URL where Envoy reaches apigov gateway --mode ext-authz');
    out.extAuthzUrl = q.extAuthzUrl;
  }
  if (q.limits !== undefined) {
    if (q.limits !== 'ext-authz' && q.limits !== 'envoy') throw invalidField('limits', "must be ext-authz (apigov counts, exactly) or envoy (Envoy Gateway's global rate limit)");
    out.limits = q.limits;
  }
  if (q.trustedProxies !== undefined) {
    const list = q.trustedProxies.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const bad = list.find((c) => !cidrSchema.safeParse(c).success);
    if (bad !== undefined) throw invalidField('trustedProxies', `'${bad}' is not an IP address or CIDR block`);
    out.trustedProxies = list;
  }
  if (q.bodyLimit !== undefined) {
    const n = Number(q.bodyLimit);
    if (!Number.isSafeInteger(n) || n < 1) throw invalidField('bodyLimit', 'must be a positive number of bytes');
    out.bodyLimitBytes = n;
  }
  return out;
}

function named<K extends Kind>(resources: readonly AnyResource[], kind: K): Named<SpecOf[K]>[] {
  return resources.filter((r) => r.kind === kind).map((r) => ({ name: r.metadata.name, spec: r.spec as SpecOf[K] }));
}

/** Each environment (or the one asked for) compiled from `resources`, as the exporters take it. */
export function compiledEnvironments(resources: readonly AnyResource[], environment: string | undefined, now = new Date()): ExportedEnvironment[] {
  const envs = named(resources, 'Environment');
  if (environment !== undefined && !envs.some((e) => e.name === environment)) throw invalidField('env', `no environment ${environment}; expected one of ${envs.map((e) => e.name).join(', ') || '(none)'}`);
  const input = { apis: named(resources, 'Api'), policies: named(resources, 'Policy'), plans: named(resources, 'Plan'), applications: named(resources, 'Application'), subscriptions: named(resources, 'Subscription'), credentials: [], now };
  return envs.filter((e) => environment === undefined || e.name === environment).map((e) => compileSnapshot({ ...input, environment: e.name }));
}

export function exportModel(format: ExportFormat, resources: readonly AnyResource[], q: Record<string, string | undefined>, baseUrl: string): ExportOutput {
  if (format === 'backstage') return { format, ...exportBackstage(resources as AnyResource[], { baseUrl }) };
  const options = envoyGatewayOptions(q);
  const result = exportEnvoyGateway(compiledEnvironments(resources, q.env), options);
  return { format, ...result };
}
