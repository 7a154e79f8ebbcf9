// The portal's typed client for the control plane's REST API (/v1, described at /v1/openapi.json and in
// docs/rest-api.md): one fetch wrapper that adds the bearer token and turns problem+json into ApiProblem, and
// the response shapes the portal reads. Every path called here is checked against the served document by a test.
import { session } from './session';
export { CLIENT_OPERATIONS } from './operations';

export interface Metadata {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface Status {
  resourceVersion?: number;
  createdAt?: string;
  updatedAt?: string;
  createdBy?: string;
  updatedBy?: string;
  gatewayUrls?: Record<string, Record<string, string>>;
}
export interface Resource<K extends string, S> {
  apiVersion: 'apigov.dev/v1';
  kind: K;
  metadata: Metadata;
  spec: S;
  status?: Status;
}

export type LifecycleState = 'draft' | 'published' | 'deprecated' | 'retired';
export interface VersionEnvironment {
  state: LifecycleState;
  upstream?: string;
  routePrefix?: string;
  sunset?: string;
  successor?: string;
}
export interface ApiVersion {
  name: string;
  revision?: string;
  environments: Record<string, VersionEnvironment>;
}
export interface ApiSpec {
  owner: string;
  title?: string;
  description?: string;
  tags?: string[];
  visibility?: 'public' | 'internal' | 'team-only';
  contact?: { name?: string; email?: string; url?: string };
  versions: ApiVersion[];
}
export type Api = Resource<'Api', ApiSpec>;
export type Team = Resource<'Team', { displayName?: string; contact?: { name?: string; email?: string; url?: string; slack?: string } }>;
export type Environment = Resource<'Environment', { displayName?: string; order?: number; production?: boolean; gatewayUrl?: string }>;
export type Plan = Resource<
  'Plan',
  { displayName?: string; rateLimit?: { perSecond?: number; perMinute?: number; perHour?: number }; quota?: { perDay?: number; perMonth?: number }; approval?: 'auto' | 'manual'; environments?: string[] }
>;
export type Application = Resource<'Application', { owner: string; displayName?: string; description?: string }>;
export type SubscriptionState = 'pending' | 'approved' | 'rejected' | 'suspended' | 'expired';
export type Subscription = Resource<
  'Subscription',
  { application: string; api: string; version: string; plan: string; environment: string; state?: SubscriptionState; reason?: string; expiresAt?: string }
>;
export type Credential = Resource<'Credential', { application: string; type?: string; prefix?: string; expiresAt?: string; [k: string]: unknown }>;
export type Policy = Resource<'Policy', { description?: string; targetRef: { kind: string; name: string; operation?: string }; [policy: string]: unknown }>;

export interface Whoami {
  name: string;
  role: string;
  team?: string;
  /** every team with the person's role in it */
  teams?: Array<{ team: string; role: string }>;
  admin: boolean;
  /** present for a single sign-on session */
  session?: { provider: string; authTime: string; acr?: string; amr?: string[] };
}

/** The CSRF token a session cookie's state-changing requests echo (double submit). */
function csrfToken(): string | undefined {
  const m = /(?:^|;\s*)apigov_csrf=([^;]*)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]) : undefined;
}
export interface SearchItem {
  name: string;
  title?: string;
  description?: string;
  owner: string;
  tags: string[];
  visibility: string;
  states: Array<{ version: string; environment: string; state: LifecycleState }>;
  rank?: number;
}
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}
export interface SearchPage extends Page<SearchItem> {
  total: number;
}
export interface SearchQuery {
  q?: string;
  team?: string;
  tag?: string;
  environment?: string;
  state?: string;
  limit?: number;
  cursor?: string;
}
export type Severity = 'error' | 'warn' | 'info' | 'hint';
export interface LintFinding {
  rule: string;
  severity: Severity;
  message: string;
  path: string;
  line?: number;
  column?: number;
}
export interface LintResult {
  findings: LintFinding[];
  blocked: boolean;
  blockOn: string;
}
export interface RegisterRequest {
  name: string;
  team: string;
  version?: string;
  spec: string;
  upstreams?: Record<string, string>;
  visibility?: 'public' | 'internal' | 'team-only';
  title?: string;
  description?: string;
  tags?: string[];
}
export interface NewKey {
  key: string;
  credential: Credential;
  previous?: { name: string; expiresAt: string };
}
export interface Consumer {
  subscription: string;
  application: string;
  team: string;
  version: string;
  environment: string;
  plan: string;
  state: SubscriptionState;
  expiresAt?: string;
}
export interface UsageFigures {
  requests: number;
  errors4xx: number;
  errors5xx: number;
  meanMs: number;
  p95Ms: number;
}
export interface Stats {
  totals: UsageFigures;
  series: Array<UsageFigures & { minute: string }>;
  byApplication: Array<UsageFigures & { application: string }>;
}
export interface AuditEvent {
  seq: number;
  at: string;
  actor: string;
  action: string;
  kind: string;
  name: string;
  requestId?: string;
  hash: string;
  prevHash?: string;
  before?: unknown;
  after?: unknown;
}
export type AuditVerify = { ok: true; count: number; lastHash: string } | { ok: false; count: number; seq: number; reason: string };
export interface AuditQuery {
  limit?: number;
  before?: string;
  actor?: string;
  kind?: string;
  name?: string;
  action?: string;
}

/** A problem+json answer (RFC 9457) from the control plane. */
/** A production publish waiting for a platform admin (AccessPolicy productionPublishApproval). */
export type PublishRequest = Resource<'PublishRequest', { api: string; version: string; environment: string; requestedBy: string; state: 'pending' | 'approved' | 'rejected'; decidedBy?: string; reason?: string }>;

/** GET /v1/sync/status */
export interface SyncStatus {
  configured: boolean;
  repo?: string;
  branch?: string;
  path?: string;
  settings?: { onDrift: 'allow' | 'warn' | 'reject'; selfHeal: boolean; prune: boolean };
  last?: { commit: string; author?: string; at: string; created: number; updated: number; deleted: number; unchanged: number; healed: number; refused?: { reason: string } };
  lastGood?: { commit: string; author?: string; at: string };
  counts: { synced: number; outOfSync: number; unmanaged: number };
  resources: Array<{ kind: string; name: string; state: 'Synced' | 'OutOfSync' | 'Unmanaged'; path?: string; commit?: string; diff?: Array<{ path: string; git: unknown; live: unknown }> }>;
  gateways: Array<{ gateway: string; environment: string; appliedVersion: number; snapshotVersion: number; state: 'InSync' | 'Behind' }>;
}

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly detail: string,
    readonly body: Record<string, unknown>,
  ) {
    super(detail);
  }
}

function query(params: object): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '' && v !== null) q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

const enc = encodeURIComponent;

async function call<T>(method: string, path: string, body?: unknown, token = session.token()): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  else if (method !== 'GET') {
    const csrf = csrfToken();
    if (csrf) headers['x-apigov-csrf'] = csrf;
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const data = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  if (!res.ok) {
    // a step-up: the person signs in again at the IdP with a second factor and comes back to this page
    if (data.code === 'APIGOV_ERR_AUTH_STEP_UP' && typeof data.signIn === 'string' && !token) location.assign(`${data.signIn}&return=${encodeURIComponent(location.pathname + location.search)}`);
    const detail = typeof data.detail === 'string' ? data.detail : typeof data.title === 'string' ? data.title : `HTTP ${res.status}`;
    throw new ApiProblem(res.status, typeof data.code === 'string' ? data.code : undefined, detail, data);
  }
  return data as T;
}

/** A change between two versions, as POST /v1/apis/{name}/diff reports it (the diff engine's Change). */
export interface ApiChange {
  id: string;
  level: 'breaking' | 'warning' | 'info';
  operation?: string;
  text: string;
  fingerprint: string;
  migration: string;
  affectedConsumers?: Array<{ application: string; team?: string; environments: string[]; subscribed: boolean; requests: number }>;
}

export interface ApiDiff {
  api: string;
  from: string;
  to: string;
  summary: { breaking: number; warning: number; info: number };
  changes: ApiChange[];
}

export const api = {
  whoami: (token?: string) => call<Whoami>('GET', '/v1/whoami', undefined, token),
  signOut: () => call<{ signedOut: boolean; endSessionUrl?: string }>('POST', '/v1/auth/logout'),
  openapiDocument: () => call<Record<string, unknown>>('GET', '/v1/openapi.json'),
  search: (q: SearchQuery) => call<SearchPage>('GET', `/v1/search${query(q)}`),
  teams: () => call<Page<Team>>('GET', '/v1/teams?limit=500'),
  team: (name: string) => call<Team>('GET', `/v1/teams/${enc(name)}`),
  environments: () => call<Page<Environment>>('GET', '/v1/environments?limit=500'),
  plans: () => call<Page<Plan>>('GET', '/v1/plans?limit=500'),
  policies: () => call<Page<Policy>>('GET', '/v1/policies?limit=500'),
  getApi: (name: string) => call<Api>('GET', `/v1/apis/${enc(name)}`),
  openapi: (name: string, version: string) => call<Record<string, unknown>>('GET', `/v1/apis/${enc(name)}/versions/${enc(version)}/openapi`),
  diff: (name: string, body: { from: string; to: string }) => call<ApiDiff>('POST', `/v1/apis/${enc(name)}/diff`, body),
  lint: (spec: string, environment?: string) => call<LintResult>('POST', '/v1/lint', { spec, ...(environment && { environment }) }),
  register: (req: RegisterRequest) => call<Api & { findings?: LintFinding[] }>('POST', '/v1/apis/register', req),
  publish: (name: string, version: string, body: { environment: string; upstream?: string }) =>
    call<Api>('POST', `/v1/apis/${enc(name)}/versions/${enc(version)}/publish`, body),
  deprecate: (name: string, version: string, body: { environment?: string; sunset: string; successor?: string }) =>
    call<Api>('POST', `/v1/apis/${enc(name)}/versions/${enc(version)}/deprecate`, body),
  retire: (name: string, version: string, body: { environment?: string }) => call<Api>('POST', `/v1/apis/${enc(name)}/versions/${enc(version)}/retire`, body),
  consumers: (name: string) => call<Page<Consumer>>('GET', `/v1/apis/${enc(name)}/consumers`),
  stats: (name: string, q: { environment?: string; application?: string; minutes?: number }) => call<Stats>('GET', `/v1/apis/${enc(name)}/stats${query(q)}`),
  applications: () => call<Page<Application>>('GET', '/v1/applications?limit=500'),
  createApplication: (name: string, owner: string, displayName?: string) =>
    call<Application>('POST', '/v1/applications', {
      apiVersion: 'apigov.dev/v1',
      kind: 'Application',
      metadata: { name },
      spec: { owner, ...(displayName && { displayName }) },
    }),
  subscriptions: (q: { state?: string; application?: string; api?: string }) => call<Page<Subscription>>('GET', `/v1/subscriptions${query({ limit: 500, ...q })}`),
  subscribe: (app: string, body: { api: string; plan: string; environment: string; version?: string }) =>
    call<Subscription>('POST', `/v1/applications/${enc(app)}/subscriptions`, body),
  decide: (name: string, action: 'approve' | 'reject', reason?: string) =>
    call<Subscription>('POST', `/v1/subscriptions/${enc(name)}/${action}`, reason ? { reason } : {}),
  keys: (app: string) => call<Page<Credential>>('GET', `/v1/applications/${enc(app)}/keys`),
  createKey: (app: string) => call<NewKey>('POST', `/v1/applications/${enc(app)}/keys`, {}),
  rotateKey: (credential: string) => call<NewKey>('POST', `/v1/credentials/${enc(credential)}/rotate`, {}),
  revokeKey: (credential: string) => call<void>('DELETE', `/v1/credentials/${enc(credential)}`),
  audit: (q: AuditQuery) => call<Page<AuditEvent>>('GET', `/v1/audit${query(q)}`),
  verifyAudit: () => call<AuditVerify>('GET', '/v1/audit/verify'),
  syncStatus: () => call<SyncStatus>('GET', '/v1/sync/status'),
  publishRequests: () => call<Page<PublishRequest>>('GET', '/v1/publish-requests?limit=500'),
  decidePublish: (name: string, action: 'approve' | 'reject', reason?: string) =>
    call<{ publishRequest: PublishRequest }>('POST', `/v1/publish-requests/${enc(name)}/${action}`, reason ? { reason } : {}),
};


export function problemText(e: unknown): string {
  if (e instanceof ApiProblem) {
    const errs = Array.isArray(e.body.errors) ? (e.body.errors as Array<{ path?: string; message?: string }>).map((x) => `${x.path ?? ''}: ${x.message ?? ''}`) : [];
    return [e.detail, ...errs].join('\n');
  }
  return e instanceof Error ? e.message : String(e);
}
