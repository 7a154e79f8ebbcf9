// --format envoy-gateway: each environment's compiled snapshot as Gateway API v1 and Envoy Gateway v1alpha1
// resources — a Gateway and a ClientTrafficPolicy per environment; per API version a Backend per upstream, its
// HTTPRoutes (split at Gateway API's limits), HTTPRouteFilters for regex rewrites and retired versions, and the
// SecurityPolicy and BackendTrafficPolicy its policies map to; apigov's ext-authz service where Envoy cannot decide.
import { POLICY_IDS, lifecycleHeaders, problemDocument, type PolicyConfigs, type SnapshotRoute } from '@apigov/model';
import type { ExportResult, ExportWarning } from '../export.js';
import { ENVOY_GATEWAY_V1ALPHA1, GATEWAY_API, GATEWAY_API_V1, backendRef, cidr, httpRouteRef, objectName, upstreamTarget } from './names.js';
import { POLICY_MAPPINGS } from './policies/index.js';
import { CONSUMER_HEADER } from './policies/consumer-header.js';
import { RuleExport, type EnvoyGatewayOptions, type ExportedEnvironment, type UnsupportedPolicy } from './rule-export.js';
import { escapeRegex, packRules, routeRules, type RuleShape } from './route-rules.js';

export type { EnvoyGatewayOptions, ExportedEnvironment, UnsupportedPolicy, LimitsMode } from './rule-export.js';
export { MAX_MATCHES_PER_ROUTE, MAX_RULES_PER_ROUTE, operationPathRegex } from './route-rules.js';

export interface EnvoyGatewayResult extends ExportResult {
  /** what Envoy cannot express, per resource and policy (also in warnings) */
  unsupported: UnsupportedPolicy[];
}

type Doc = Record<string, unknown>;

export const ENVOY_GATEWAY_DEFAULTS: EnvoyGatewayOptions = {
  namespace: 'apigov',
  gatewayClass: 'eg',
  extAuthzUrl: 'http://apigov-ext-authz.apigov.svc.cluster.local:8081',
  limits: 'ext-authz',
  trustedProxies: [],
  listenerPort: 80,
};

function metadata(name: string, options: EnvoyGatewayOptions, env: string, route?: SnapshotRoute): Doc {
  return {
    name,
    namespace: options.namespace,
    labels: {
      'app.kubernetes.io/managed-by': 'apigov',
      'apigov.dev/environment': env,
      ...(route !== undefined && { 'apigov.dev/api': route.api, 'apigov.dev/version': route.version }),
    },
  };
}

function backend(name: string, url: string, options: EnvoyGatewayOptions, env: string, route?: SnapshotRoute): Doc {
  const t = upstreamTarget(url);
  return {
    apiVersion: ENVOY_GATEWAY_V1ALPHA1,
    kind: 'Backend',
    metadata: metadata(name, options, env, route),
    spec: { endpoints: [t.endpoint], ...(t.tls && { tls: { wellKnownCACertificates: 'System', sni: t.hostname } }) },
  };
}

function mapPolicies(rule: RuleExport): void {
  for (const id of POLICY_IDS) {
    const config = rule.policies[id];
    if (config !== undefined) (POLICY_MAPPINGS[id] as (c: unknown, r: RuleExport) => void)(config, rule);
  }
  const lifecycle = lifecycleHeaders(rule.route);
  for (let i = 0; i < lifecycle.length; i += 2) rule.responseHeaders.set.push({ name: lifecycle[i]!, value: lifecycle[i + 1]! });
  // without ext-authz nothing sets the consumer header: a client's own must not reach the upstream
  if (!rule.extAuthz) rule.requestHeaders.remove.push(CONSUMER_HEADER);
}

function headerFilter(type: 'RequestHeaderModifier' | 'ResponseHeaderModifier', edits: RuleExport['requestHeaders']): Doc | undefined {
  if (edits.set.length === 0 && edits.remove.length === 0) return undefined;
  const key = type === 'RequestHeaderModifier' ? 'requestHeaderModifier' : 'responseHeaderModifier';
  return { type, [key]: { ...(edits.set.length > 0 && { set: edits.set }), ...(edits.remove.length > 0 && { remove: [...new Set(edits.remove)] }) } };
}

/** One environment's documents. */
function exportEnvironment(env: ExportedEnvironment, options: EnvoyGatewayOptions, unsupported: UnsupportedPolicy[], warnings: ExportWarning[]): Doc[] {
  const e = env.environment;
  const gatewayName = objectName('apigov', e);
  const docs: Doc[] = [];
  const routeDocs: Doc[] = [];
  const extAuthzName = objectName('apigov-ext-authz', e);
  const extAuthzPort = upstreamTarget(options.extAuthzUrl).port;
  let extAuthzUsed = false;
  docs.push({
    apiVersion: GATEWAY_API_V1,
    kind: 'Gateway',
    metadata: metadata(gatewayName, options, e),
    spec: { gatewayClassName: options.gatewayClass, listeners: [{ name: 'http', protocol: 'HTTP', port: options.listenerPort, allowedRoutes: { namespaces: { from: 'Same' } } }] },
  });
  docs.push({
    apiVersion: ENVOY_GATEWAY_V1ALPHA1,
    kind: 'ClientTrafficPolicy',
    metadata: metadata(objectName(gatewayName, 'clients'), options, e),
    spec: {
      targetRefs: [{ group: GATEWAY_API, kind: 'Gateway', name: gatewayName }],
      // x-request-id kept when the client sends one, as the apigov gateway does
      headers: { requestID: 'PreserveOrGenerate' },
      ...(options.trustedProxies.length > 0 && { clientIPDetection: { xForwardedFor: { trustedCIDRs: options.trustedProxies.map(cidr) } } }),
      ...(options.bodyLimitBytes !== undefined && { connection: { bufferLimit: String(options.bodyLimitBytes) } }),
    },
  });
  for (const w of env.warnings) warnings.push({ resource: `Environment/${e}`, what: 'snapshot', message: w });

  for (const route of env.routes) {
    const base = objectName(route.api, route.version, e);
    const metaOf = (name: string) => metadata(name, options, e, route);
    const parent = [{ group: GATEWAY_API, kind: 'Gateway', name: gatewayName, sectionName: 'http' }];
    if (route.state === 'retired') {
      const filterName = objectName(base, 'retired');
      const problem = problemDocument('APIGOV_ERR_GATEWAY_RETIRED', `${route.id} has been retired`, '');
      delete (problem as Partial<typeof problem>).requestId; // one body for every request
      routeDocs.push({
        apiVersion: ENVOY_GATEWAY_V1ALPHA1,
        kind: 'HTTPRouteFilter',
        metadata: metaOf(filterName),
        spec: { directResponse: { contentType: 'application/problem+json', statusCode: 410, body: { type: 'Inline', inline: JSON.stringify(problem) } } },
      });
      routeDocs.push({
        apiVersion: GATEWAY_API_V1,
        kind: 'HTTPRoute',
        metadata: metaOf(base),
        spec: { parentRefs: parent, rules: [{ name: 'retired', matches: [{ path: { type: 'PathPrefix', value: route.prefix } }], filters: [{ type: 'ExtensionRef', extensionRef: { group: 'gateway.envoyproxy.io', kind: 'HTTPRouteFilter', name: filterName } }] }] },
      });
      continue;
    }
    if (route.deprecation?.brownouts !== undefined && route.deprecation.brownouts.length > 0) {
      warnings.push({ resource: `Api/${route.api}`, what: 'brownout', message: `${route.id} in ${e}: brownout windows are not expressed for Envoy; apigov's gateway answers them (410), Envoy does not` });
    }
    const routeGroup = new RuleExport(env, route, undefined, route.policies, options, unsupported);
    mapPolicies(routeGroup);
    const validation = route.policies.requestValidation;
    const refuseUnknown = validation !== undefined && validation.enabled && validation.rejectUnknownOperations;
    const shapes = routeRules(route, refuseUnknown, (op) => routeGroup.unsupported('requestValidation', `operation ${op.id} (${op.method} ${op.path}): Gateway API matches no ${op.method} method, so Envoy answers 404 for it`));
    const groupOf = new Map<RuleShape, RuleExport>();
    for (const shape of shapes) {
      if (shape.operation === undefined) groupOf.set(shape, routeGroup);
      else {
        const g = new RuleExport(env, route, shape.operation, shape.operation.policies as PolicyConfigs, options, unsupported);
        mapPolicies(g);
        groupOf.set(shape, g);
      }
    }
    // one Backend per upstream URL of the route
    const backendNames = new Map<string, string>();
    const backendFor = (url: string): string => {
      let name = backendNames.get(url);
      if (name === undefined) {
        name = backendNames.size === 0 ? base : objectName(base, String(backendNames.size + 1));
        backendNames.set(url, name);
        routeDocs.push(backend(name, url, options, e, route));
      }
      return name;
    };
    const regexFilters = new Map<string, string>();
    const rules = shapes.map((shape) => {
      const group = groupOf.get(shape)!;
      if (group.extAuthz) extAuthzUsed = true;
      const targets = (group.split.length > 0 ? group.split : [{ upstream: route.upstream, weight: 1 }]).map((t) => ({ ...t, target: upstreamTarget(t.upstream) }));
      const basePaths = new Set(targets.map((t) => t.target.basePath));
      if (basePaths.size > 1) group.unsupported('trafficSplit', `targets with different base paths (${[...basePaths].join(', ')}): one rewrite serves every target, the first one's`);
      const replacement = `${targets[0]!.target.basePath}${group.replacePrefix}`;
      const filters: Doc[] = [];
      if (shape.kind === 'prefix') filters.push({ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: replacement === '' ? '/' : replacement } } });
      else {
        let filterName = regexFilters.get(replacement);
        if (filterName === undefined) {
          filterName = objectName(base, 'rewrite', ...(regexFilters.size === 0 ? [] : [String(regexFilters.size + 1)]));
          regexFilters.set(replacement, filterName);
          const prefix = route.prefix.endsWith('/') ? route.prefix.slice(0, -1) : route.prefix;
          routeDocs.push({
            apiVersion: ENVOY_GATEWAY_V1ALPHA1,
            kind: 'HTTPRouteFilter',
            metadata: metaOf(filterName),
            spec: { urlRewrite: { path: { type: 'ReplaceRegexMatch', replaceRegexMatch: { pattern: `^${escapeRegex(prefix)}`, substitution: replacement } } } },
          });
        }
        filters.push({ type: 'ExtensionRef', extensionRef: { group: 'gateway.envoyproxy.io', kind: 'HTTPRouteFilter', name: filterName } });
      }
      const req = headerFilter('RequestHeaderModifier', group.requestHeaders);
      const res = headerFilter('ResponseHeaderModifier', group.responseHeaders);
      if (req !== undefined) filters.push(req);
      if (res !== undefined) filters.push(res);
      const split = targets.length > 1;
      return {
        shape,
        matches: shape.matches,
        rule: { name: shape.name, matches: shape.matches, filters, backendRefs: targets.map((t) => backendRef(backendFor(t.upstream), t.target.port, split ? t.weight : undefined)) },
      };
    });
    const parts = packRules(rules);
    const partName = (i: number) => (i === 0 ? base : objectName(base, String(i + 1)));
    const partOf = new Map<RuleShape, string>();
    parts.forEach((part, i) => {
      for (const r of part) partOf.set(r.shape, partName(i));
      routeDocs.push({ apiVersion: GATEWAY_API_V1, kind: 'HTTPRoute', metadata: metaOf(partName(i)), spec: { parentRefs: parent, rules: part.map((r) => r.rule) } });
    });
    if (parts.length > 1) warnings.push({ resource: `Api/${route.api}`, what: 'HTTPRoute', message: `${route.version} in ${e}: ${rules.length} rules and ${rules.reduce((s, r) => s + r.matches.length, 0)} matches exceed one HTTPRoute's limits; split into ${parts.length} HTTPRoutes` });
    // policies: the route's attach to every part; an operation's to its rule by sectionName
    const groups: Array<[RuleExport, Array<Record<string, string>>, string]> = [[routeGroup, parts.map((_p, i) => httpRouteRef(partName(i))), base]];
    for (const shape of shapes) if (shape.operation !== undefined) groups.push([groupOf.get(shape)!, [httpRouteRef(partOf.get(shape)!, shape.name)], objectName(base, shape.name)]);
    for (const [group, targetRefs, name] of groups) {
      const security: Doc = { ...group.security };
      if (group.extAuthz) {
        security.extAuth = {
          http: { backendRefs: [backendRef(extAuthzName, extAuthzPort)], headersToBackend: [...group.headersToBackend].sort() },
          headersToExtAuth: [...group.headersToExtAuth].sort(),
          failOpen: false,
        };
      }
      if (Object.keys(security).length > 0) routeDocs.push({ apiVersion: ENVOY_GATEWAY_V1ALPHA1, kind: 'SecurityPolicy', metadata: metaOf(name), spec: { targetRefs, ...security } });
      const traffic: Doc = { ...group.traffic };
      if (group.rateLimitRules.length > 0) traffic.rateLimit = { type: 'Global', global: { rules: group.rateLimitRules } };
      if (Object.keys(traffic).length > 0) routeDocs.push({ apiVersion: ENVOY_GATEWAY_V1ALPHA1, kind: 'BackendTrafficPolicy', metadata: metaOf(name), spec: { targetRefs, ...traffic } });
    }
  }
  if (extAuthzUsed) {
    docs.push(backend(extAuthzName, options.extAuthzUrl, options, e));
    if (options.limits === 'envoy') warnings.push({ resource: `Environment/${e}`, what: 'ext-authz', message: `run apigov gateway --env ${e} --mode ext-authz --limits envoy at ${options.extAuthzUrl}: the BackendTrafficPolicies count the limits, so the authorization service must not count them again` });
  }
  return [...docs, ...routeDocs];
}

/** Every environment's resources; `unsupported` lists what Envoy cannot express, and so do the warnings. */
export function exportEnvoyGateway(environments: readonly ExportedEnvironment[], given: Partial<EnvoyGatewayOptions> = {}): EnvoyGatewayResult {
  const options: EnvoyGatewayOptions = { ...ENVOY_GATEWAY_DEFAULTS, ...given };
  const unsupported: UnsupportedPolicy[] = [];
  const warnings: ExportWarning[] = [];
  const documents = [...environments].sort((a, b) => a.environment.localeCompare(b.environment)).flatMap((env) => exportEnvironment(env, options, unsupported, warnings));
  for (const u of unsupported) warnings.push({ resource: u.resource, what: u.policy, message: `${u.version} in ${u.environment}: ${u.message}` });
  return { documents, warnings, unsupported };
}

