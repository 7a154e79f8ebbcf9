// SCIM 2.0 (RFC 7643/7644) over the catalog's Users and the identity groups: mapping User resources to SCIM Users,
// the filter language (eq, ne, co, sw, ew, pr, and/or, not, members[value eq "…"]), PATCH operations, and the
// quirks of Microsoft Entra's client ("op": "Replace", "active": "False", enterprise-extension paths).
import { ApigovError } from '@apigov/model';
import type { IdentityGroup, StoredResource } from '@apigov/store';

export const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCIM_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const SCIM_ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const SCIM_LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SCIM_PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

export type ScimType = 'invalidFilter' | 'invalidSyntax' | 'invalidPath' | 'invalidValue' | 'noTarget' | 'uniqueness' | 'mutability' | 'tooMany';

/** An error the SCIM routes render as a SCIM Error (status, scimType, detail). */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly scimType: ScimType | undefined,
    detail: string,
  ) {
    super(detail);
  }
}

export const bad = (scimType: ScimType, detail: string) => new ScimError(400, scimType, detail);

/** What a SCIM client may set on a user, in the catalog's terms. */
export interface ScimUserFields {
  userName?: string;
  externalId?: string;
  displayName?: string;
  email?: string;
  active?: boolean;
}

/** `true`, `"True"`, `"true"` (Entra sends strings) → true; the same for false; anything else is refused. */
export function scimBoolean(v: unknown, path: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw bad('invalidValue', `${path} must be true or false`);
}

function str(v: unknown, path: string, max = 256): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw bad('invalidValue', `${path} must be a non-empty string of at most ${max} characters`);
  return v;
}

function primaryEmail(v: unknown): string | undefined {
  if (!Array.isArray(v)) throw bad('invalidValue', 'emails must be a list');
  const list = v as Array<Record<string, unknown>>;
  const pick = list.find((e) => e?.primary === true || e?.primary === 'True' || e?.primary === 'true') ?? list[0];
  return pick === undefined ? undefined : str(pick.value, 'emails.value');
}

/** The fields a full SCIM User representation (POST, PUT) sets. */
export function userFieldsFrom(body: Record<string, unknown>): ScimUserFields {
  const out: ScimUserFields = {};
  for (const [key, value] of Object.entries(body)) applyUserAttribute(out, key, value);
  return out;
}

/** Sets one attribute by (case-insensitive) path; unknown attributes (title, addresses, the enterprise extension…) are accepted and not kept. */
function applyUserAttribute(out: ScimUserFields, rawPath: string, value: unknown): void {
  const path = rawPath.toLowerCase();
  if (path.startsWith(`${SCIM_ENTERPRISE.toLowerCase()}`) || path === 'schemas' || path === 'id' || path === 'meta' || path === 'groups') return;
  switch (path) {
    case 'username':
      out.userName = str(value, 'userName');
      return;
    case 'externalid':
      out.externalId = str(value, 'externalId');
      return;
    case 'displayname':
      out.displayName = str(value, 'displayName', 200);
      return;
    case 'active':
      out.active = scimBoolean(value, 'active');
      return;
    case 'emails':
      out.email = primaryEmail(value);
      return;
    case 'name':
      if (typeof value === 'object' && value !== null) {
        const n = value as Record<string, unknown>;
        const formatted = typeof n.formatted === 'string' ? n.formatted : [n.givenName, n.familyName].filter((x) => typeof x === 'string').join(' ');
        if (formatted !== '' && out.displayName === undefined) out.displayName = formatted.slice(0, 200);
      }
      return;
    case 'name.formatted':
      if (typeof value === 'string' && value !== '' && out.displayName === undefined) out.displayName = value.slice(0, 200);
      return;
  }
  if (/^emails\[.*\]\.value$/.test(path)) out.email = str(value, 'emails.value');
}

/** The SCIM representation of a catalog User. */
export function scimUser(stored: StoredResource, groups: ReadonlyMap<string, IdentityGroup>, base: string): Record<string, unknown> {
  if (stored.resource.kind !== 'User') throw new Error('not a User');
  const spec = stored.resource.spec;
  const name = stored.resource.metadata.name;
  return {
    schemas: [SCIM_USER],
    id: name,
    ...(spec.externalId !== undefined && { externalId: spec.externalId }),
    userName: spec.userName ?? name,
    ...(spec.displayName !== undefined && { displayName: spec.displayName, name: { formatted: spec.displayName } }),
    ...(spec.email !== undefined && { emails: [{ value: spec.email, type: 'work', primary: true }] }),
    active: spec.active !== false,
    groups: (spec.groups ?? []).flatMap((g) => {
      const group = groups.get(g);
      return group === undefined ? [] : [{ value: group.id, display: group.displayName, $ref: `${base}/Groups/${group.id}` }];
    }),
    meta: { resourceType: 'User', created: stored.createdAt, lastModified: stored.updatedAt, location: `${base}/Users/${name}`, version: `W/"${stored.resourceVersion}"` },
  };
}

export function scimGroup(group: IdentityGroup, members: ReadonlyArray<{ id: string; display?: string }>, base: string): Record<string, unknown> {
  return {
    schemas: [SCIM_GROUP],
    id: group.id,
    displayName: group.displayName,
    ...(group.externalId !== undefined && { externalId: group.externalId }),
    members: members.map((m) => ({ value: m.id, ...(m.display !== undefined && { display: m.display }), $ref: `${base}/Users/${m.id}` })),
    meta: { resourceType: 'Group', created: group.createdAt, lastModified: group.updatedAt, location: `${base}/Groups/${group.id}` },
  };
}

// ---- filters ----------------------------------------------------------------------------------------------

export type Filter =
  | { op: 'and' | 'or'; left: Filter; right: Filter }
  | { op: 'not'; of: Filter }
  | { op: 'pr'; path: string }
  | { op: 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le'; path: string; value: string | number | boolean | null }
  | { op: 'has'; path: string; filter: Filter };

const TOKEN = /\s*(\(|\)|\[|\]|"(?:[^"\\]|\\.)*"|[A-Za-z0-9:._$-]+)/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let i = 0;
  while (i < text.length) {
    if (/^\s*$/.test(text.slice(i))) break;
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(text);
    if (m === null) throw bad('invalidFilter', `cannot read the filter at '${text.slice(i, i + 20)}'`);
    out.push(m[1]!);
    i = TOKEN.lastIndex;
  }
  return out;
}

/** Parses a SCIM filter (RFC 7644 §3.4.2.2); operators and attribute names are case-insensitive. */
export function parseFilter(text: string): Filter {
  if (text.length > 2000) throw bad('invalidFilter', 'the filter is too long');
  const t = tokenize(text);
  let pos = 0;
  const peek = () => t[pos]?.toLowerCase();
  const next = () => {
    const v = t[pos++];
    if (v === undefined) throw bad('invalidFilter', 'the filter ends too early');
    return v;
  };
  const value = (raw: string): string | number | boolean | null => {
    if (raw.startsWith('"')) return JSON.parse(raw) as string;
    const l = raw.toLowerCase();
    if (l === 'true' || l === 'false') return l === 'true';
    if (l === 'null') return null;
    if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
    throw bad('invalidFilter', `'${raw}' is not a value (quote strings)`);
  };
  const term = (): Filter => {
    if (peek() === 'not') {
      next();
      if (next() !== '(') throw bad('invalidFilter', "not must be followed by '('");
      const of = or();
      if (next() !== ')') throw bad('invalidFilter', "missing ')'");
      return { op: 'not', of };
    }
    if (peek() === '(') {
      next();
      const inner = or();
      if (next() !== ')') throw bad('invalidFilter', "missing ')'");
      return inner;
    }
    const path = next();
    if (!/^[A-Za-z][A-Za-z0-9:._$-]*$/.test(path)) throw bad('invalidFilter', `'${path}' is not an attribute`);
    if (peek() === '[') {
      next();
      const filter = or();
      if (next() !== ']') throw bad('invalidFilter', "missing ']'");
      return { op: 'has', path: path.toLowerCase(), filter };
    }
    const op = next().toLowerCase();
    if (op === 'pr') return { op: 'pr', path: path.toLowerCase() };
    if (!['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'].includes(op)) throw bad('invalidFilter', `unknown operator '${op}'`);
    return { op: op as 'eq', path: path.toLowerCase(), value: value(next()) };
  };
  const and = (): Filter => {
    let left = term();
    while (peek() === 'and') {
      next();
      left = { op: 'and', left, right: term() };
    }
    return left;
  };
  const or = (): Filter => {
    let left = and();
    while (peek() === 'or') {
      next();
      left = { op: 'or', left, right: and() };
    }
    return left;
  };
  const f = or();
  if (pos !== t.length) throw bad('invalidFilter', `unexpected '${t[pos]}' in the filter`);
  return f;
}

/** The values at a (lower-cased) attribute path of a SCIM resource: `emails.value` reads every email's value. */
function valuesAt(resource: unknown, path: string): unknown[] {
  const parts = path.startsWith('urn:') ? [path] : path.split('.');
  let current: unknown[] = [resource];
  for (const part of parts) {
    const nextValues: unknown[] = [];
    for (const c of current) {
      if (c === null || typeof c !== 'object') continue;
      const key = Object.keys(c).find((k) => k.toLowerCase() === part);
      if (key === undefined) continue;
      const v = (c as Record<string, unknown>)[key];
      if (Array.isArray(v)) nextValues.push(...v);
      else nextValues.push(v);
    }
    current = nextValues;
  }
  return current;
}

function compare(op: string, actual: unknown, expected: string | number | boolean | null, caseExact: boolean): boolean {
  if (expected === null) return op === 'eq' ? actual === null || actual === undefined : actual !== null && actual !== undefined;
  if (typeof actual === 'boolean' || typeof expected === 'boolean') return op === 'eq' ? actual === expected : op === 'ne' ? actual !== expected : false;
  if (typeof actual === 'number' && typeof expected === 'number') {
    return { eq: actual === expected, ne: actual !== expected, gt: actual > expected, ge: actual >= expected, lt: actual < expected, le: actual <= expected }[op as 'eq'] ?? false;
  }
  if (typeof actual !== 'string') return op === 'ne';
  const a = caseExact ? actual : actual.toLowerCase();
  const e = caseExact ? String(expected) : String(expected).toLowerCase();
  switch (op) {
    case 'eq':
      return a === e;
    case 'ne':
      return a !== e;
    case 'co':
      return a.includes(e);
    case 'sw':
      return a.startsWith(e);
    case 'ew':
      return a.endsWith(e);
    case 'gt':
      return a > e;
    case 'ge':
      return a >= e;
    case 'lt':
      return a < e;
    case 'le':
      return a <= e;
  }
  return false;
}

/** ids and externalIds compare exactly; everything else (userName, displayName, emails) case-insensitively */
const CASE_EXACT = new Set(['id', 'externalid', 'value']);

export function matches(filter: Filter, resource: unknown): boolean {
  switch (filter.op) {
    case 'and':
      return matches(filter.left, resource) && matches(filter.right, resource);
    case 'or':
      return matches(filter.left, resource) || matches(filter.right, resource);
    case 'not':
      return !matches(filter.of, resource);
    case 'pr':
      return valuesAt(resource, filter.path).some((v) => v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0));
    case 'has':
      return valuesAt(resource, filter.path).some((v) => matches(filter.filter, v));
    default: {
      const values = valuesAt(resource, filter.path);
      const exact = CASE_EXACT.has(filter.path.split('.').pop()!);
      if (filter.op === 'ne') return values.length === 0 || values.every((v) => compare('ne', v, filter.value, exact));
      return values.some((v) => compare(filter.op, v, filter.value, exact));
    }
  }
}

// ---- PATCH ------------------------------------------------------------------------------------------------

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path?: string;
  value?: unknown;
}

/** The operations of a PatchOp request; `op` in any casing (Entra sends "Replace"). */
export function patchOperations(body: unknown): PatchOperation[] {
  const b = body as Record<string, unknown> | undefined;
  const schemas = b?.schemas;
  if (!Array.isArray(schemas) || !schemas.includes(SCIM_PATCH)) throw bad('invalidSyntax', `a PATCH body needs schemas: ["${SCIM_PATCH}"]`);
  const ops = b!.Operations ?? b!.operations;
  if (!Array.isArray(ops) || ops.length === 0 || ops.length > 1000) throw bad('invalidSyntax', 'Operations must be a list of 1 to 1000 operations');
  return ops.map((raw, i) => {
    const o = raw as Record<string, unknown>;
    const op = typeof o.op === 'string' ? o.op.toLowerCase() : '';
    if (op !== 'add' && op !== 'replace' && op !== 'remove') throw bad('invalidSyntax', `Operations[${i}].op must be add, replace or remove`);
    if (o.path !== undefined && typeof o.path !== 'string') throw bad('invalidPath', `Operations[${i}].path must be a string`);
    if (op === 'remove' && o.path === undefined) throw bad('noTarget', `Operations[${i}]: remove needs a path`);
    return { op, ...(typeof o.path === 'string' && { path: o.path }), ...('value' in o && { value: o.value }) };
  });
}

/** Applies PATCH operations to a user's SCIM-settable fields (a path, or a value object of attributes). */
export function patchUser(current: ScimUserFields, ops: readonly PatchOperation[]): ScimUserFields {
  const out: ScimUserFields = { ...current };
  for (const o of ops) {
    if (o.op === 'remove') {
      const p = o.path!.toLowerCase();
      if (p === 'displayname') delete out.displayName;
      else if (p === 'externalid') delete out.externalId;
      else if (p.startsWith('emails')) delete out.email;
      else if (p === 'username' || p === 'active') throw bad('mutability', `${o.path} cannot be removed`);
      continue;
    }
    if (o.path === undefined) {
      if (typeof o.value !== 'object' || o.value === null || Array.isArray(o.value)) throw bad('invalidValue', 'an operation without a path needs an object of attributes as its value');
      for (const [k, v] of Object.entries(o.value)) applyUserAttribute(out, k, v);
    } else {
      applyUserAttribute(out, o.path, o.value);
    }
  }
  return out;
}

/** Member ids named by an operation's value ([{value: id}, …]) or by a `members[value eq "id"]` path. */
export function memberIds(o: PatchOperation): string[] {
  const fromPath = o.path === undefined ? undefined : /^members\[\s*value\s+eq\s+"([^"]+)"\s*\]$/i.exec(o.path)?.[1];
  if (fromPath !== undefined) return [fromPath];
  if (o.value === undefined) return [];
  const list = Array.isArray(o.value) ? o.value : [o.value];
  return list.map((m, i) => {
    const v = (m as Record<string, unknown> | null)?.value;
    if (typeof v !== 'string' || v === '') throw bad('invalidValue', `members[${i}].value must be a user id`);
    return v;
  });
}

export function pageParams(q: Record<string, string | undefined>): { startIndex: number; count: number } {
  const startIndex = q.startIndex === undefined ? 1 : Number(q.startIndex);
  const count = q.count === undefined ? 100 : Number(q.count);
  if (!Number.isInteger(startIndex) || startIndex < 1) throw bad('invalidValue', 'startIndex must be an integer of at least 1');
  if (!Number.isInteger(count) || count < 0) throw bad('invalidValue', 'count must be a non-negative integer');
  return { startIndex, count: Math.min(count, 1000) };
}

export function listResponse(all: readonly unknown[], page: { startIndex: number; count: number }): Record<string, unknown> {
  const items = all.slice(page.startIndex - 1, page.startIndex - 1 + page.count);
  return { schemas: [SCIM_LIST], totalResults: all.length, startIndex: page.startIndex, itemsPerPage: items.length, Resources: items };
}

export function scimErrorBody(e: unknown): { status: number; body: Record<string, unknown> } {
  if (e instanceof ScimError) return { status: e.status, body: { schemas: [SCIM_ERROR], status: String(e.status), ...(e.scimType && { scimType: e.scimType }), detail: e.message } };
  if (e instanceof ApigovError) {
    const status = e.status;
    const scimType = e.code === 'APIGOV_ERR_RESOURCE_CONFLICT' ? 'uniqueness' : e.code === 'APIGOV_ERR_INPUT_INVALID' ? 'invalidValue' : undefined;
    return { status, body: { schemas: [SCIM_ERROR], status: String(status), ...(scimType && { scimType }), detail: e.message, ...e.extensions } };
  }
  return { status: 500, body: { schemas: [SCIM_ERROR], status: '500', detail: 'internal error' } };
}
