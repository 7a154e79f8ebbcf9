// Policy precedence: platform policies (on an Environment) cannot be weakened by an Api's own; this merges
// the layers into one effective config per policy id and says what it had to override.
import type { PolicyConfigs, PolicyId } from '@apigov/model';

type Merge<K extends PolicyId> = (platform: NonNullable<PolicyConfigs[K]>, api: NonNullable<PolicyConfigs[K]>, warn: (m: string) => void) => NonNullable<PolicyConfigs[K]>;

const minOf = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.min(a, b));

function platformWins<K extends PolicyId>(id: K): Merge<K> {
  return (platform, api, warn) => {
    if (JSON.stringify(platform) !== JSON.stringify(api)) warn(`${id}: the platform's policy applies; the Api's own ${id} is ignored`);
    return platform;
  };
}

function apiWins<K extends PolicyId>(): Merge<K> {
  return (_platform, api) => api;
}

const merges: { [K in PolicyId]: Merge<K> } = {
  apiKeyAuth: platformWins('apiKeyAuth'),
  jwtAuth: platformWins('jwtAuth'),
  // allowing more origins does not weaken the platform's: origins and headers add up, credentials only if both allow them
  cors: (p, a) => ({
    allowOrigins: [...new Set([...p.allowOrigins, ...a.allowOrigins])],
    allowMethods: [...new Set([...p.allowMethods, ...a.allowMethods])],
    allowHeaders: [...new Set([...p.allowHeaders, ...a.allowHeaders])],
    exposeHeaders: [...new Set([...p.exposeHeaders, ...a.exposeHeaders])],
    allowCredentials: p.allowCredentials && a.allowCredentials,
    maxAgeSeconds: Math.min(p.maxAgeSeconds, a.maxAgeSeconds),
  }),
  subscription: (p, a, warn) => {
    if (p.required && !a.required) warn('subscription: the platform requires a subscription; the Api cannot turn it off');
    return { required: p.required || a.required };
  },
  rateLimit: (p, a, warn) => {
    const out = { ...a, perSecond: minOf(p.perSecond, a.perSecond), perMinute: minOf(p.perMinute, a.perMinute), failMode: p.failMode === 'closed' ? 'closed' : a.failMode } as typeof p;
    if ((a.perSecond ?? Infinity) > (p.perSecond ?? Infinity) || (a.perMinute ?? Infinity) > (p.perMinute ?? Infinity)) warn('rateLimit: the Api asks for more than the platform allows; the platform limit applies');
    return out;
  },
  quota: (p, a, warn) => {
    if ((a.perDay ?? Infinity) > (p.perDay ?? Infinity) || (a.perMonth ?? Infinity) > (p.perMonth ?? Infinity)) warn('quota: the Api asks for more than the platform allows; the platform quota applies');
    return { perDay: minOf(p.perDay, a.perDay), perMonth: minOf(p.perMonth, a.perMonth), failMode: p.failMode === 'closed' ? 'closed' : a.failMode };
  },
  requestValidation: (p, a, warn) => {
    const out = {
      enabled: p.enabled || a.enabled,
      body: (p.enabled && p.body) || a.body,
      parameters: (p.enabled && p.parameters) || a.parameters,
      rejectUnknownOperations: (p.enabled && p.rejectUnknownOperations) || a.rejectUnknownOperations,
    };
    if (p.enabled && (!a.enabled || (p.body && !a.body) || (p.parameters && !a.parameters))) warn('requestValidation: the platform validates requests; the Api cannot turn it off');
    return out;
  },
  headers: (p, a) => ({
    request: mergeEdits(a.request, p.request),
    response: mergeEdits(a.response, p.response),
  }),
  pathRewrite: apiWins(),
  timeouts: (p, a) => ({ connectMs: Math.min(p.connectMs, a.connectMs), requestMs: Math.min(p.requestMs, a.requestMs) }),
  retries: apiWins(),
  circuitBreaker: apiWins(),
  trafficSplit: apiWins(),
  ipFilter: (p, a, warn) => {
    if (p.allow.length > 0 && a.allow.length > 0) warn('ipFilter: the platform allow-list applies; the Api allow-list is ignored');
    return { allow: p.allow.length > 0 ? p.allow : a.allow, deny: [...new Set([...p.deny, ...a.deny])] };
  },
};

type Edits = NonNullable<NonNullable<PolicyConfigs['headers']>['request']>;
/** Header edits: the Api's first, then the platform's, so the platform has the last word. */
function mergeEdits(first: Edits | undefined, last: Edits | undefined): Edits | undefined {
  if (!first) return last;
  if (!last) return first;
  return { add: { ...first.add, ...last.add }, remove: [...new Set([...first.remove, ...last.remove])], rename: { ...first.rename, ...last.rename } };
}

/** Layers from weakest to strongest owner: `layers[0]` is the platform's; later ones are the Api's (api → version → operation), each overriding the one before. */
export function effectivePolicies(platform: PolicyConfigs, apiLayers: PolicyConfigs[], warn: (message: string) => void): PolicyConfigs {
  const api: PolicyConfigs = {};
  for (const layer of apiLayers) Object.assign(api, layer);
  const out: PolicyConfigs = { ...platform };
  for (const id of Object.keys(api) as PolicyId[]) {
    const a = api[id];
    const p = platform[id];
    if (a === undefined) continue;
    (out as Record<string, unknown>)[id] = p === undefined ? a : (merges[id] as Merge<PolicyId>)(p as never, a as never, warn);
  }
  return out;
}
