// Registering an API or one version of it from an OpenAPI document: the producer's self-service entry point.
import { ApigovError, API_VERSION, parseResource, versionKey, type AnyResource, type ApiSpec, type FieldError } from '@apigov/model';
import { loadSpec, summarizeChanges, type LintFinding, type OpenApiDocument, type SpecSource } from '@apigov/openapi';
import type { StoredResource } from '@apigov/store';
import { notFound } from '../problem.js';
import { canSee } from '../rbac.js';
import { assessedChanges, withAffectedConsumers, type AssessedChange } from './breaking-changes.js';
import { lintDocument, loadGovernance } from './governance.js';
import { writeResource, type WriteContext } from './writes.js';

export interface RegisterRequest {
  name: string;
  team?: string;
  version?: string;
  spec: string | SpecSource;
  upstreams?: Record<string, string>;
  visibility?: string;
  title?: string;
  description?: string;
  tags?: string[];
}

function invalid(errors: FieldError[]): ApigovError {
  return new ApigovError('APIGOV_ERR_INPUT_INVALID', `${errors[0].path}: ${errors[0].message}`, { errors });
}

/** Parses and checks a register body's shape before anything else runs. */
export function parseRegisterRequest(body: unknown): RegisterRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid([{ path: '(body)', message: 'must be a JSON object' }]);
  const b = body as Record<string, unknown>;
  const allowed = ['name', 'team', 'version', 'spec', 'upstreams', 'visibility', 'title', 'description', 'tags'];
  const errors: FieldError[] = Object.keys(b).filter((k) => !allowed.includes(k)).map((k) => ({ path: k, message: `unknown field '${k}'` }));
  if (typeof b.name !== 'string') errors.push({ path: 'name', message: 'is required' });
  if (b.team !== undefined && typeof b.team !== 'string') errors.push({ path: 'team', message: 'must be a string' });
  if (b.version !== undefined && (typeof b.version !== 'string' || versionKey(b.version) === undefined)) errors.push({ path: 'version', message: 'must name a major version, like 1, v1 or 1.2.0' });
  const spec = b.spec;
  const isSource = typeof spec === 'object' && spec !== null && typeof (spec as SpecSource).entry === 'string' && typeof (spec as SpecSource).files === 'object';
  if (typeof spec !== 'string' && !isSource) errors.push({ path: 'spec', message: 'must be the document text or {entry, files}' });
  if (b.upstreams !== undefined && (typeof b.upstreams !== 'object' || b.upstreams === null || Object.values(b.upstreams).some((u) => typeof u !== 'string'))) {
    errors.push({ path: 'upstreams', message: 'must map environment names to URLs' });
  }
  if (b.tags !== undefined && (!Array.isArray(b.tags) || b.tags.some((t) => typeof t !== 'string'))) errors.push({ path: 'tags', message: 'must be a list of strings' });
  for (const k of ['visibility', 'title', 'description'] as const) if (b[k] !== undefined && typeof b[k] !== 'string') errors.push({ path: k, message: 'must be a string' });
  if (errors.length > 0) throw invalid(errors);
  return b as unknown as RegisterRequest;
}

/** What a registration changed: against the version's previous revision, or (a new major) against the previous major. */
export interface RegisteredChanges {
  from: string;
  to: string;
  summary: { breaking: number; warning: number; info: number };
  changes: AssessedChange[];
}

export async function registerApi(ctx: WriteContext, req: RegisterRequest): Promise<{ stored: StoredResource; created: boolean; findings: LintFinding[]; changes?: RegisteredChanges }> {
  const loaded = await loadSpec(req.spec);
  const key = versionKey(req.version ?? loaded.version);
  if (key === undefined) {
    throw invalid([{ path: req.version === undefined ? 'spec.info.version' : 'version', message: `'${req.version ?? loaded.version}' names no major version; pass --version` }]);
  }
  const current = await ctx.tx.get('Api', req.name);
  if (current && !canSee(ctx.principal, current.resource)) throw notFound(`Api ${req.name}`);
  const info = (loaded.document.info ?? {}) as { description?: unknown; contact?: { name?: unknown; email?: unknown; url?: unknown } };
  let spec: Record<string, unknown>;
  if (current && current.resource.kind === 'Api') {
    const was: ApiSpec = current.resource.spec;
    if (req.team !== undefined && req.team !== was.owner) {
      throw invalid([{ path: 'team', message: `Api ${req.name} is owned by team ${was.owner}; ownership changes go through apply or PUT` }]);
    }
    const old = was.versions.find((v) => v.name === key);
    const environments = { ...(old?.environments ?? {}) };
    for (const [env, upstream] of Object.entries(req.upstreams ?? {})) environments[env] = { ...(environments[env] ?? { state: 'draft' }), upstream };
    const version = { name: key, revision: loaded.version, openapi: loaded.document, environments };
    const versions = old ? was.versions.map((v) => (v.name === key ? version : v)) : [...was.versions, version].sort((a, b) => Number(a.name.slice(1)) - Number(b.name.slice(1)));
    spec = {
      ...was,
      ...(req.title !== undefined && { title: req.title }),
      ...(req.description !== undefined && { description: req.description }),
      ...(req.tags !== undefined && { tags: req.tags }),
      ...(req.visibility !== undefined && { visibility: req.visibility }),
      versions,
    };
  } else {
    if (req.team === undefined) throw invalid([{ path: 'team', message: `is required to register the new Api ${req.name}` }]);
    const contact = info.contact
      ? Object.fromEntries(Object.entries({ name: info.contact.name, email: info.contact.email, url: info.contact.url }).filter(([, v]) => typeof v === 'string'))
      : undefined;
    const environments = Object.fromEntries(Object.entries(req.upstreams ?? {}).map(([env, upstream]) => [env, { upstream, state: 'draft' }]));
    spec = {
      owner: req.team,
      title: req.title ?? loaded.title,
      ...((req.description ?? info.description) !== undefined && { description: String(req.description ?? info.description).slice(0, 20000) }),
      tags: req.tags ?? [],
      visibility: req.visibility ?? 'internal',
      ...(contact && Object.keys(contact).length > 0 && { contact }),
      versions: [{ name: key, revision: loaded.version, openapi: loaded.document, environments }],
    };
  }
  const metadata = current ? current.resource.metadata : { name: req.name };
  const next = parseResource({ apiVersion: API_VERSION, kind: 'Api', metadata, spec }) as AnyResource;
  const { stored } = await writeResource(ctx, next, { action: current ? 'register-version' : 'register' });
  ctx.governance ??= await loadGovernance(ctx.tx);
  const findings = await lintDocument(loaded.document, ctx.governance.ruleOverrides);
  let changes: RegisteredChanges | undefined;
  if (current && current.resource.kind === 'Api') {
    const was = current.resource.spec.versions;
    const same = was.find((v) => v.name === key);
    const earlier = was.filter((v) => Number(v.name.slice(1)) < Number(key.slice(1))).sort((a, b) => Number(a.name.slice(1)) - Number(b.name.slice(1)));
    const base = same ?? earlier[earlier.length - 1];
    if (base !== undefined) {
      const list = await withAffectedConsumers(ctx.tx, req.name, base.name, assessedChanges(ctx.governance.rulesets, base.openapi as OpenApiDocument, loaded.document));
      changes = { from: same ? `${base.name} (revision ${base.revision ?? '?'})` : base.name, to: `${key} (revision ${loaded.version})`, summary: summarizeChanges(list), changes: list };
    }
  }
  return { stored, created: !current, findings, ...(changes && { changes }) };
}
