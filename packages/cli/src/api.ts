// The control plane's REST endpoints as the CLI uses them (docs/rest-api.md): one function per call,
// with the request shape and the response types it expects. Commands never build URLs themselves.
import { randomUUID } from 'node:crypto';
import type { Resource } from '@apigov/model';
import type { ControlPlaneClient } from './http.js';

export interface Whoami {
  name: string;
  role: string;
  team?: string;
  admin: boolean;
}

export type ResourceDocument = Resource<string, Record<string, unknown>>;

/** A lint finding as the control plane and @apigov/spec report it. */
export interface Finding {
  rule: string;
  severity: 'error' | 'warn' | 'info' | 'hint';
  message: string;
  path: string | ReadonlyArray<string | number>;
  line?: number;
  column?: number;
}

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

export interface RegisterResult {
  /** true for 201 (a new Api), false for 200 (a version added or replaced). */
  created: boolean;
  /** The Api resource plus `findings`, as returned. */
  body: ResourceDocument & { findings?: Finding[] };
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

/** `GET /v1/{kind}`, following `nextCursor` until every item is read. */
export async function listResources(cp: ControlPlaneClient, plural: string): Promise<ResourceDocument[]> {
  const items: ResourceDocument[] = [];
  let cursor: string | undefined;
  do {
    const page = (await cp.request('GET', `/v1/${seg(plural)}`, { query: { limit: PAGE_SIZE, cursor } })).body as { items?: ResourceDocument[]; nextCursor?: string };
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

/** `GET /v1/audit/verify` */
export async function verifyAudit(cp: ControlPlaneClient): Promise<AuditVerification> {
  return (await cp.request('GET', '/v1/audit/verify')).body as AuditVerification;
}
