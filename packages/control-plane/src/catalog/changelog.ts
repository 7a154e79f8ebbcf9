// POST /v1/apis/{name}/diff: the changes between two versions of an API (its changelog) or between a version and a
// document not yet registered, at the levels the rulesets set, with the consumers each change affects.
import { ApigovError, versionKey, type ApiSpec, type ApiVersionSpec } from '@apigov/model';
import { loadSpec, summarizeChanges, type OpenApiDocument, type SpecSource } from '@apigov/openapi';
import type { Store } from '@apigov/store';
import type { Principal } from '../auth.js';
import { invalidField, notFound } from '../problem.js';
import { canSee, inTeam } from '../rbac.js';
import { approvesFor } from '../visibility.js';
import { assessedChanges, breakingGate, gateBlocks, waiverOf, withAffectedConsumers, type AssessedChange } from './breaking-changes.js';
import { loadGovernance } from './governance.js';

export interface DiffRequest {
  from?: string;
  to?: string;
  /** a document to compare with `from` instead of a registered version */
  spec?: string | SpecSource;
}

export interface DiffResponse {
  api: string;
  from: string;
  to: string;
  summary: { breaking: number; warning: number; info: number };
  /** for a document compared with a served version: whether registering it as that version would be refused */
  refused?: boolean;
  changes: AssessedChange[];
}

export function parseDiffRequest(body: unknown): DiffRequest {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b !== 'object' || Array.isArray(b)) throw invalidField('(body)', 'must be a JSON object');
  for (const k of Object.keys(b)) if (!['from', 'to', 'spec'].includes(k)) throw invalidField(k, `unknown field '${k}'`);
  for (const k of ['from', 'to'] as const) {
    if (b[k] !== undefined && (typeof b[k] !== 'string' || versionKey(b[k] as string) === undefined)) throw invalidField(k, 'must name a version, like v1');
  }
  if (b.spec !== undefined && b.to !== undefined) throw invalidField('to', "give 'to' or 'spec', not both");
  const spec = b.spec;
  if (spec !== undefined && typeof spec !== 'string' && !(typeof spec === 'object' && spec !== null && typeof (spec as SpecSource).entry === 'string')) throw invalidField('spec', 'must be the document text or {entry, files}');
  return b as DiffRequest;
}

function byMajor(spec: ApiSpec): ApiVersionSpec[] {
  return [...spec.versions].sort((a, b) => Number(a.name.slice(1)) - Number(b.name.slice(1)));
}

export async function diffApi(store: Store, principal: Principal, api: string, req: DiffRequest, now = new Date()): Promise<DiffResponse> {
  const stored = await store.get('Api', api);
  if (!stored || stored.resource.kind !== 'Api' || !canSee(principal, stored.resource)) throw notFound(`Api ${api}`);
  const versions = byMajor(stored.resource.spec);
  const find = (name: string, field: string) => {
    const v = versions.find((x) => x.name === versionKey(name));
    if (v === undefined) throw new ApigovError('APIGOV_ERR_RESOURCE_NOT_FOUND', `version ${name} of Api ${api} not found`, { errors: [{ path: field, message: `Api ${api} has no version ${name}` }] });
    return v;
  };
  let base: ApiVersionSpec;
  let revision: OpenApiDocument;
  let to: string;
  if (req.spec !== undefined) {
    const loaded = await loadSpec(req.spec);
    const major = versionKey(loaded.version);
    base = req.from !== undefined ? find(req.from, 'from') : (versions.find((v) => v.name === major) ?? versions[versions.length - 1]);
    revision = loaded.document;
    to = `(document ${loaded.version})`;
  } else {
    const target = req.to !== undefined ? find(req.to, 'to') : versions[versions.length - 1];
    const earlier = versions.filter((v) => Number(v.name.slice(1)) < Number(target.name.slice(1)));
    if (req.from === undefined && earlier.length === 0) throw invalidField('from', `Api ${api} has no version before ${target.name} to compare it with`);
    base = req.from !== undefined ? find(req.from, 'from') : earlier[earlier.length - 1];
    revision = target.openapi as OpenApiDocument;
    to = target.name;
  }
  const governance = await store.transaction((tx) => loadGovernance(tx));
  let changes = assessedChanges(governance.rulesets, base.openapi as OpenApiDocument, revision, now);
  for (const c of changes) {
    const waived = waiverOf(governance.rulesets, c, api, base.name, now);
    if (waived) c.waived = waived;
  }
  changes = await store.transaction((tx) => withAffectedConsumers(tx, api, base.name, changes, now));
  // the API's owners and the platform see every consumer; anyone else only their own team's applications
  if (!(await approvesFor(store, principal, api))) {
    changes = changes.map((c) => (c.affectedConsumers === undefined ? c : { ...c, affectedConsumers: c.affectedConsumers.filter((a) => inTeam(principal, a.team)) }));
  }
  const response: DiffResponse = { api, from: base.name, to, summary: summarizeChanges(changes), changes };
  if (req.spec !== undefined) {
    const served = Object.entries(base.environments).filter(([, e]) => e.state === 'published' || e.state === 'deprecated').map(([env]) => env);
    response.refused = changes.some((c) => c.waived === undefined && served.some((env) => gateBlocks(breakingGate(governance.rulesets, env), c.level)));
  }
  return response;
}
