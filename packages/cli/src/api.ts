// The control plane's REST endpoints as the CLI uses them (docs/rest-api.md): one function per call,
// with the request shape and the response types it expects. Commands never build URLs themselves.
import { randomUUID } from 'node:crypto';
import type { Resource } from '@apigov/model';
import type { ChangelogChange, LintFinding } from '@apigov/openapi';
import type { ControlPlaneClient } from './http.js';
import { CliError, EXIT_USAGE } from './errors.js';

export interface Whoami {
  name: string;
  role: string;
  team?: string;
  admin: boolean;
}

export type ResourceDocument = Resource<string, Record<string, unknown>>;

/** A lint finding: the control plane sends exactly what @apigov/openapi's lintSpec reports. */
export type Finding = LintFinding;

export interface SpecBundle {
  entry: string;
  files: Record<string, string>;
}

export interface RegisterRequest {
  name: string;
  /** Required when the Api is new. */
  team?: string;
  version?: string;
  spec: string | SpecBundle;
  upstreams?: Record<string, string>;
  visibility?: string;
  title?: string;
  description?: string;
  tags?: string[];
}

/** A change as the control plane reports it: the diff engine's Change, with the consumers it affects. */
export type ApiChange = ChangelogChange;

/** What changed between two versions of an API (`POST /v1/apis/{name}/diff`, and a registration's `changes`). */
export interface ApiDiff {
  api?: string;
  from: string;
  to: string;
  summary: { breaking: number; warning: number; info: number };
  refused?: boolean;
  changes: ApiChange[];
}

export interface RegisterResult {
  /** true for 201 (a new Api), false for 200 (a version added or replaced). */
  created: boolean;
  /** The Api resource plus `findings` and, for a new revision or major, what changed, as returned. */
  body: ResourceDocument & { findings?: Finding[]; changes?: ApiDiff };
}

export interface VersionSummary {
  name: string;
  revision?: string;
  environments?: unknown;
}

export interface SearchState {
  version: string;
  environment: string;
  state: string;
}

export interface SearchHit {
  name: string;
  title: string;
  description?: string;
  owner: string;
  tags: string[];
  visibility: string;
  states: SearchState[];
  rank?: number;
}

export interface SearchResult {
  items: SearchHit[];
  nextCursor?: string;
  total?: number;
}

export interface SearchQuery {
  q?: string;
  team?: string;
  tag?: string;
  environment?: string;
  state?: string;
  limit?: number;
}

export interface PlanEntry {
  action: string;
  kind: string;
  name: string;
  changes?: unknown;
}

export interface ApplyResult {
  dryRun: boolean;
  applied: boolean;
  plan: PlanEntry[];
}

export interface AuditEvent {
  seq: number;
  at: string;
  actor: string;
  action: string;
  kind: string;
  name: string;
  requestId?: string;
  hash?: string;
  prevHash?: string;
  before?: unknown;
  after?: unknown;
}

export interface AuditQuery {
  limit?: number;
  actor?: string;
  kind?: string;
  name?: string;
  action?: string;
}

export type AuditVerification = { ok: true; count: number; lastHash?: string } | { ok: false; count: number; seq: number; reason: string };

export type LifecycleAction = 'publish' | 'deprecate' | 'retire';

const PAGE_SIZE = 500;
const seg = encodeURIComponent;

function creating(): Record<string, string> {
  return { 'idempotency-key': randomUUID() };
}

/** `GET /v1/whoami` */
export async function whoami(cp: ControlPlaneClient): Promise<Whoami> {
  return (await cp.request('GET', '/v1/whoami')).body as Whoami;
}

/** `GET /v1/{kind}`, following `nextCursor` until every item is read; `filters` match top-level spec fields. */
export async function listResources(cp: ControlPlaneClient, plural: string, filters: Record<string, string | undefined> = {}): Promise<ResourceDocument[]> {
  const items: ResourceDocument[] = [];
  let cursor: string | undefined;
  do {
    const page = (await cp.request('GET', `/v1/${seg(plural)}`, { query: { ...filters, limit: PAGE_SIZE, cursor } })).body as { items?: ResourceDocument[]; nextCursor?: string };
    items.push(...(page.items ?? []));
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** `POST /v1/{kind}` with a full resource document (users: the answer also carries `token`). */
export async function createResource(cp: ControlPlaneClient, plural: string, doc: ResourceDocument): Promise<ResourceDocument & { token?: string }> {
  return (await cp.request('POST', `/v1/${seg(plural)}`, { body: doc, headers: creating() })).body as ResourceDocument & { token?: string };
}

/** `GET /v1/{kind}/{name}` */
export async function getResource(cp: ControlPlaneClient, plural: string, name: string): Promise<ResourceDocument> {
  return (await cp.request('GET', `/v1/${seg(plural)}/${seg(name)}`)).body as ResourceDocument;
}

/** `POST /v1/apis/register` */
export async function registerApi(cp: ControlPlaneClient, req: RegisterRequest): Promise<RegisterResult> {
  const res = await cp.request('POST', '/v1/apis/register', { body: req });
  return { created: res.status === 201, body: res.body as RegisterResult['body'] };
}

/** `GET /v1/exports/{format}`: the model for another platform, as YAML text or `{documents, warnings}`. */
export async function exportFormat(cp: ControlPlaneClient, format: string, json: boolean, params: Record<string, string | undefined> = {}): Promise<string | { documents: unknown[]; warnings: unknown[] }> {
  const q = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined)).toString();
  let res;
  try {
    res = await cp.request('GET', `/v1/exports/${seg(format)}${q === '' ? '' : `?${q}`}`, { accept: json ? 'application/json' : 'application/yaml' });
  } catch (e) {
    // the options are the command's flags: a refused one is a usage error
    if (e instanceof CliError && e.code === 'APIGOV_ERR_INPUT_INVALID') throw new CliError(e.code, e.message, { exitCode: EXIT_USAGE, errors: e.errors, status: e.status });
    throw e;
  }
  return json ? (res.body as { documents: unknown[]; warnings: unknown[] }) : res.text;
}

/** `POST /v1/apis/{name}/diff`: the changes between two versions, or between a version and a document. */
export async function diffApi(cp: ControlPlaneClient, api: string, req: { from?: string; to?: string; spec?: string | SpecBundle }): Promise<ApiDiff> {
  return (await cp.request('POST', `/v1/apis/${seg(api)}/diff`, { body: req })).body as ApiDiff;
}

/** `GET /v1/apis/{name}/versions/{version}/openapi`: the registered document. */
export async function versionDocument(cp: ControlPlaneClient, api: string, version: string): Promise<Record<string, unknown>> {
  return (await cp.request('GET', `/v1/apis/${seg(api)}/versions/${seg(version)}/openapi`)).body as Record<string, unknown>;
}

/** `GET /v1/apis/{name}/versions` */
export async function listVersions(cp: ControlPlaneClient, api: string): Promise<VersionSummary[]> {
  const body = (await cp.request('GET', `/v1/apis/${seg(api)}/versions`)).body as { items?: VersionSummary[] };
  return body.items ?? [];
}

/** `POST /v1/apis/{name}/versions/{version}/{publish|deprecate|retire}` → the Api resource. */
export async function changeLifecycle(
  cp: ControlPlaneClient,
  api: string,
  version: string,
  action: LifecycleAction,
  body: Record<string, string | undefined>,
): Promise<ResourceDocument> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (v !== undefined) clean[k] = v;
  return (await cp.request('POST', `/v1/apis/${seg(api)}/versions/${seg(version)}/${action}`, { body: clean })).body as ResourceDocument;
}

/** `GET /v1/search` */
export async function searchApis(cp: ControlPlaneClient, query: SearchQuery): Promise<SearchResult> {
  return (await cp.request('GET', '/v1/search', { query: { ...query } })).body as SearchResult;
}

/** `POST /v1/apply` with `{documents}`; `dryRun=true` / `prune=true` in the query. */
export async function applyDocuments(cp: ControlPlaneClient, documents: unknown[], options: { dryRun: boolean; prune: boolean }): Promise<ApplyResult> {
  const query = { dryRun: options.dryRun ? 'true' : undefined, prune: options.prune ? 'true' : undefined };
  return (await cp.request('POST', '/v1/apply', { query, body: { documents } })).body as ApplyResult;
}

/** `GET /v1/export` as multi-document YAML text. */
export async function exportYaml(cp: ControlPlaneClient, kind?: string): Promise<string> {
  return (await cp.request('GET', '/v1/export', { query: { kind }, accept: 'application/yaml' })).text;
}

/** `GET /v1/export` with `Accept: application/json` → `{documents}`. */
export async function exportJson(cp: ControlPlaneClient, kind?: string): Promise<{ documents: ResourceDocument[] }> {
  return (await cp.request('GET', '/v1/export', { query: { kind } })).body as { documents: ResourceDocument[] };
}

/** `GET /v1/audit`, newest first. */
export async function auditEvents(cp: ControlPlaneClient, query: AuditQuery): Promise<AuditEvent[]> {
  const body = (await cp.request('GET', '/v1/audit', { query: { ...query } })).body as { items?: AuditEvent[] };
  return body.items ?? [];
}

/** `GET /v1/audit/verify[?anchor=SEQ:HASH]` */
export async function verifyAudit(cp: ControlPlaneClient, anchor?: string): Promise<AuditVerification> {
  return (await cp.request('GET', '/v1/audit/verify', anchor === undefined ? {} : { query: { anchor } })).body as AuditVerification;
}

/** `DELETE /v1/{kind}/{name}` */
export async function deleteResource(cp: ControlPlaneClient, plural: string, name: string): Promise<void> {
  await cp.request('DELETE', `/v1/${seg(plural)}/${seg(name)}`);
}

// ---- consumption (docs/rest-api.md, "Consumption") ----

export interface SubscribeRequest {
  api: string;
  plan: string;
  environment: string;
  version?: string;
  expiresAt?: string;
}

export type SubscriptionAction = 'approve' | 'reject' | 'suspend' | 'resume';

/** `{key, credential}` from creating a key; rotation adds `previous`. */
export interface IssuedKey {
  key: string;
  credential: ResourceDocument;
  previous?: { name: string; expiresAt: string };
}

export interface Consumer {
  subscription: string;
  application: string;
  team?: string;
  version: string;
  environment: string;
  plan: string;
  state: string;
  expiresAt?: string;
  callsLast7Days?: number;
  lastCallAt?: string;
}

/** Traffic figures as `stats` and `health` report them (`p95Ms` is a bucket bound, or `>10000`). */
export interface TrafficSummary {
  requests: number;
  errors4xx: number;
  errors5xx: number;
  meanMs: number | null;
  p95Ms: number | string | null;
}

export interface ApiStats {
  api: string;
  environment: string | null;
  minutes: number;
  since: string;
  totals: TrafficSummary;
  series: Array<TrafficSummary & { minute: string }>;
  byApplication: Array<TrafficSummary & { application: string }>;
}

export interface StatsQuery {
  environment?: string;
  application?: string;
  minutes?: number;
}

export interface GatewayHealth {
  gateway: string;
  appliedVersion: number;
  inSync: boolean;
  lastSeenAt: string;
  stale: boolean;
  rejected?: { version: number; reason: string };
}

export interface EnvironmentHealth {
  environment: string;
  versions: string[];
  status: string;
  snapshotVersion: number | null;
  gateways: GatewayHealth[];
  last5Minutes: TrafficSummary & { errorRate: number };
}

export interface ApiHealth {
  api: string;
  environments: EnvironmentHealth[];
}

export interface RequestSample {
  at: string;
  environment?: string;
  gateway?: string;
  api: string;
  version: string;
  status: number;
  code?: string;
  requestId: string;
  application?: string;
  method: string;
  path: string;
  durationMs?: number;
}

/** `POST /v1/applications/{app}/subscriptions` → the Subscription. */
export async function subscribe(cp: ControlPlaneClient, app: string, req: SubscribeRequest): Promise<ResourceDocument> {
  const body: Record<string, string> = {};
  for (const [k, v] of Object.entries(req)) if (v !== undefined) body[k] = v;
  return (await cp.request('POST', `/v1/applications/${seg(app)}/subscriptions`, { body, headers: creating() })).body as ResourceDocument;
}

/** `POST /v1/subscriptions/{name}/{approve|reject|suspend|resume}` → the Subscription. */
export async function decideSubscription(cp: ControlPlaneClient, name: string, action: SubscriptionAction, reason?: string): Promise<ResourceDocument> {
  return (await cp.request('POST', `/v1/subscriptions/${seg(name)}/${action}`, { body: reason === undefined ? {} : { reason } })).body as ResourceDocument;
}

/** `POST /v1/applications/{app}/keys` → `{key, credential}` (the key is shown this once). */
export async function createKey(cp: ControlPlaneClient, app: string, expiresInDays?: number): Promise<IssuedKey> {
  return (await cp.request('POST', `/v1/applications/${seg(app)}/keys`, { body: expiresInDays === undefined ? {} : { expiresInDays } })).body as IssuedKey;
}

/** `GET /v1/applications/{app}/keys` → the app's Credentials (never the keys). */
export async function listKeys(cp: ControlPlaneClient, app: string): Promise<ResourceDocument[]> {
  return ((await cp.request('GET', `/v1/applications/${seg(app)}/keys`)).body as { items?: ResourceDocument[] }).items ?? [];
}

/** `POST /v1/credentials/{name}/rotate` → `{key, credential, previous}`. */
export async function rotateKey(cp: ControlPlaneClient, credential: string, options: { overlapSeconds?: number; expiresInDays?: number }): Promise<IssuedKey> {
  const body: Record<string, number> = {};
  if (options.overlapSeconds !== undefined) body.overlapSeconds = options.overlapSeconds;
  if (options.expiresInDays !== undefined) body.expiresInDays = options.expiresInDays;
  return (await cp.request('POST', `/v1/credentials/${seg(credential)}/rotate`, { body })).body as IssuedKey;
}

/** `GET /v1/apis/{name}/consumers` */
export async function apiConsumers(cp: ControlPlaneClient, api: string, version?: string): Promise<Consumer[]> {
  return ((await cp.request('GET', `/v1/apis/${seg(api)}/consumers`, { query: { version } })).body as { items?: Consumer[] }).items ?? [];
}

/** `GET /v1/apis/{name}/stats` */
export async function apiStats(cp: ControlPlaneClient, api: string, query: StatsQuery): Promise<ApiStats> {
  return (await cp.request('GET', `/v1/apis/${seg(api)}/stats`, { query: { ...query } })).body as ApiStats;
}

/** `GET /v1/apis/{name}/health` */
export async function apiHealth(cp: ControlPlaneClient, api: string): Promise<ApiHealth> {
  return (await cp.request('GET', `/v1/apis/${seg(api)}/health`)).body as ApiHealth;
}

/** `GET /v1/apis/{name}/errors` (failed requests) or `/logs` (recent requests), newest first. */
export async function apiSamples(cp: ControlPlaneClient, api: string, which: 'errors' | 'logs', query: { limit?: number; environment?: string }): Promise<RequestSample[]> {
  return ((await cp.request('GET', `/v1/apis/${seg(api)}/${which}`, { query: { ...query } })).body as { items?: RequestSample[] }).items ?? [];
}
