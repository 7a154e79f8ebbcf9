// Validation of raw resource documents (from YAML, JSON or REST bodies) into typed, defaulted resources,
// with errors that name the field path.
import { z } from 'zod';
import { API_VERSION, metadataSchema, type Metadata, type Resource } from './resource.js';
import { ApigovError, type FieldError } from './errors.js';
import { KINDS, isKind, specSchemas, type Kind, type SpecOf } from './kinds.js';

export type AnyResource = { [K in Kind]: Resource<K, SpecOf[K]> }[Kind];

/** Formats a zod issue path as `spec.versions[0].name`, prefixed by `prefix`. */
export function formatPath(prefix: string, path: ReadonlyArray<PropertyKey>): string {
  let out = prefix;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

export function zodFieldErrors(prefix: string, error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => {
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    return { path: formatPath(prefix, issue.path) || '(document)', message };
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates one raw resource document. Returns the resource with defaults filled in, or the list of
 * field errors (paths prefixed with `prefix`, e.g. `documents[3].`). `status` on input is ignored.
 */
export function checkResource(raw: unknown, prefix = ''): { ok: true; resource: AnyResource } | { ok: false; errors: FieldError[] } {
  const p = (s: string) => (prefix ? `${prefix}.${s}` : s);
  if (!isPlainObject(raw)) return { ok: false, errors: [{ path: prefix || '(document)', message: 'must be an object with apiVersion, kind, metadata and spec' }] };
  const errors: FieldError[] = [];
  const known = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  for (const key of Object.keys(raw)) if (!known.has(key)) errors.push({ path: p(key), message: `unknown field '${key}'` });
  if (raw.apiVersion !== API_VERSION) errors.push({ path: p('apiVersion'), message: `must be '${API_VERSION}'` });
  if (!isKind(raw.kind)) {
    errors.push({ path: p('kind'), message: `unknown kind ${JSON.stringify(raw.kind)}; expected one of ${KINDS.join(', ')}` });
    return { ok: false, errors };
  }
  const kind = raw.kind;
  const meta = metadataSchema.safeParse(raw.metadata);
  if (!meta.success) errors.push(...zodFieldErrors(p('metadata'), meta.error));
  const spec = (specSchemas[kind] as z.ZodType).safeParse(raw.spec ?? undefined);
  if (!spec.success) errors.push(...zodFieldErrors(p('spec'), spec.error));
  if (errors.length > 0 || !meta.success || !spec.success) return { ok: false, errors };
  return { ok: true, resource: { apiVersion: API_VERSION, kind, metadata: meta.data as Metadata, spec: spec.data } as AnyResource };
}

/** Like `checkResource` but throws APIGOV_ERR_INPUT_INVALID listing every field error. */
export function parseResource(raw: unknown, prefix = ''): AnyResource {
  const r = checkResource(raw, prefix);
  if (!r.ok) throw new ApigovError('APIGOV_ERR_INPUT_INVALID', describeErrors(r.errors), { errors: r.errors });
  return r.resource;
}

/** Validates just a spec for a kind (REST create/update bodies may send the spec alone). */
export function parseSpec<K extends Kind>(kind: K, raw: unknown, prefix = 'spec'): SpecOf[K] {
  const r = (specSchemas[kind] as z.ZodType).safeParse(raw);
  if (!r.success) {
    const errors = zodFieldErrors(prefix, r.error);
    throw new ApigovError('APIGOV_ERR_INPUT_INVALID', describeErrors(errors), { errors });
  }
  return r.data as SpecOf[K];
}

/** One line: the first error and how many more. */
export function describeErrors(errors: FieldError[]): string {
  if (errors.length === 0) return 'invalid input';
  const first = `${errors[0].path}: ${errors[0].message}`;
  return errors.length === 1 ? first : `${first} (and ${errors.length - 1} more)`;
}

/** JSON with object keys sorted at every level: the canonical form used for hashing and comparison. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) if (value[k] !== undefined) out[k] = sortKeys(value[k]);
    return out;
  }
  return value;
}

/** The declarative part of a resource (what apply compares and export writes): no status. */
export function desiredState(r: Pick<Resource, 'apiVersion' | 'kind' | 'metadata' | 'spec'>): Resource {
  return { apiVersion: r.apiVersion, kind: r.kind, metadata: r.metadata, spec: r.spec } as Resource;
}
