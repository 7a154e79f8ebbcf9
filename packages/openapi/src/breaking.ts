// The basic breaking-change check between two versions of an OpenAPI document: removed paths, operations,
// 2xx responses and fields of 2xx response bodies (2.0 `schema` and 3.x `content[*].schema`).
import { decodePointer, getAtPointer, isRecord } from './json-path.js';
import { derefInternal, HTTP_METHODS } from './operations.js';
import type { OpenApiDocument } from './types.js';

export interface BreakingChange {
  kind: 'path-removed' | 'operation-removed' | 'response-removed' | 'response-field-removed';
  path: string;
  /** Upper case, e.g. `GET`. */
  method?: string;
  status?: string;
  /** Dotted field path in the response body, `[]` marking array items, e.g. `data.items[].id`. */
  field?: string;
  message: string;
}

/** Beyond these, a schema is too big to compare field by field (field removals are then not reported). */
const MAX_DEPTH = 16;
const MAX_FIELDS = 20_000;

/** `/pets/{petId}` and `/pets/{id}` are the same path to a client. */
function pathShape(path: string): string {
  return path.replace(/\{[^}]*\}/g, '{}');
}

function pathItems(document: OpenApiDocument): Map<string, { path: string; item: Record<string, unknown> }> {
  const out = new Map<string, { path: string; item: Record<string, unknown> }>();
  if (!isRecord(document.paths)) return out;
  for (const [path, raw] of Object.entries(document.paths)) {
    const item = derefInternal(document, raw);
    const shape = pathShape(path);
    if (isRecord(item) && !out.has(shape)) out.set(shape, { path, item });
  }
  return out;
}

function isSuccessStatus(status: string): boolean {
  return /^2(\d\d|XX)$/i.test(status);
}

/** Response bodies by media type (`''` for a Swagger 2.0 `schema`). */
function bodySchemas(document: OpenApiDocument, response: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const resolved = derefInternal(document, response);
  if (!isRecord(resolved)) return out;
  if (resolved.schema !== undefined) out.set('', resolved.schema);
  const content = resolved.content;
  if (isRecord(content)) {
    for (const [mediaType, media] of Object.entries(content)) {
      const m = derefInternal(document, media);
      if (isRecord(m) && m.schema !== undefined) out.set(mediaType, m.schema);
    }
  }
  return out;
}

function pickCounterpart(after: Map<string, unknown>, mediaType: string): unknown {
  if (after.has(mediaType)) return after.get(mediaType);
  // Swagger 2.0 <-> OpenAPI 3.x: compare the unnamed body with the JSON one
  if (mediaType === '') for (const [mt, schema] of after) if (/json/i.test(mt)) return schema;
  if (/json/i.test(mediaType) && after.has('')) return after.get('');
  return undefined;
}

interface FieldSet {
  fields: Set<string>;
  truncated: boolean;
}

function collectFields(document: OpenApiDocument, schema: unknown): FieldSet {
  const result: FieldSet = { fields: new Set(), truncated: false };
  const onStack = new Set<string>();
  const visit = (raw: unknown, base: string, depth: number): void => {
    if (result.fields.size >= MAX_FIELDS || depth > MAX_DEPTH) {
      result.truncated = true;
      return;
    }
    const entered: string[] = [];
    let node = raw;
    try {
      while (isRecord(node) && typeof node.$ref === 'string' && node.$ref.startsWith('#')) {
        const ref = node.$ref;
        if (onStack.has(ref)) return; // a cycle: this schema is already being listed further up
        onStack.add(ref);
        entered.push(ref);
        const found = getAtPointer(document, decodePointer(ref.slice(1)));
        if (!found.found) return;
        node = found.value;
      }
      if (!isRecord(node)) return;
      for (const combiner of ['allOf', 'oneOf', 'anyOf'] as const) {
        const subs = node[combiner];
        if (Array.isArray(subs)) for (const sub of subs) visit(sub, base, depth);
      }
      if (isRecord(node.properties)) {
        for (const [name, sub] of Object.entries(node.properties)) {
          const field = base === '' ? name : `${base}.${name}`;
          result.fields.add(field);
          visit(sub, field, depth + 1);
        }
      }
      if (node.items !== undefined) {
        const items = Array.isArray(node.items) ? node.items : [node.items];
        for (const item of items) visit(item, `${base}[]`, depth + 1);
      }
    } finally {
      for (const ref of entered) onStack.delete(ref);
    }
  };
  visit(schema, '', 0);
  return result;
}

/** True when an enclosing field of `field` is itself in `removed` (then only the outer one is reported). */
function hasRemovedAncestor(field: string, removed: Set<string>): boolean {
  for (let i = 1; i < field.length; i++) {
    if ((field[i] === '.' || field.startsWith('[]', i)) && removed.has(field.slice(0, i))) return true;
  }
  return false;
}

function compareResponseBodies(
  before: OpenApiDocument,
  after: OpenApiDocument,
  beforeResponse: unknown,
  afterResponse: unknown,
): string[] {
  const afterBodies = bodySchemas(after, afterResponse);
  const removedFields: string[] = [];
  const seen = new Set<string>();
  for (const [mediaType, beforeSchema] of bodySchemas(before, beforeResponse)) {
    const afterSchema = pickCounterpart(afterBodies, mediaType);
    if (afterSchema === undefined) continue;
    const b = collectFields(before, beforeSchema);
    const a = collectFields(after, afterSchema);
    if (b.truncated || a.truncated) continue;
    const removed = new Set([...b.fields].filter((f) => !a.fields.has(f)));
    for (const field of removed) {
      if (!hasRemovedAncestor(field, removed) && !seen.has(field)) {
        seen.add(field);
        removedFields.push(field);
      }
    }
  }
  return removedFields;
}

/**
 * Changes from `before` to `after` that break existing clients, in the order of `before`:
 * a path removed, an operation removed, a 2xx response removed, a field removed from a 2xx response body.
 * Path templates match by shape (`/pets/{id}` = `/pets/{petId}`).
 */
export function findBreakingChanges(before: OpenApiDocument, after: OpenApiDocument): BreakingChange[] {
  const changes: BreakingChange[] = [];
  const afterPaths = pathItems(after);
  for (const [shape, { path, item }] of pathItems(before)) {
    const methods = HTTP_METHODS.filter((m) => isRecord(derefInternal(before, item[m])));
    const counterpart = afterPaths.get(shape);
    if (!counterpart) {
      const had = methods.length > 0 ? ` (had ${methods.map((m) => m.toUpperCase()).join(', ')})` : '';
      changes.push({ kind: 'path-removed', path, message: `${path}: path removed${had}` });
      continue;
    }
    for (const method of methods) {
      const METHOD = method.toUpperCase();
      const op = derefInternal(before, item[method]) as Record<string, unknown>;
      const afterOp = derefInternal(after, counterpart.item[method]);
      if (!isRecord(afterOp)) {
        changes.push({ kind: 'operation-removed', path, method: METHOD, message: `${METHOD} ${path}: operation removed` });
        continue;
      }
      const responses = derefInternal(before, op.responses);
      const afterResponses = derefInternal(after, afterOp.responses);
      if (!isRecord(responses)) continue;
      const afterMap = isRecord(afterResponses) ? afterResponses : {};
      for (const [status, response] of Object.entries(responses)) {
        if (!isSuccessStatus(status)) continue;
        const afterResponse = afterMap[status] ?? afterMap[status.toUpperCase()] ?? afterMap[`${status[0]}XX`] ?? afterMap[`${status[0]}xx`];
        if (afterResponse === undefined) {
          changes.push({ kind: 'response-removed', path, method: METHOD, status, message: `${METHOD} ${path}: response ${status} removed` });
          continue;
        }
        for (const field of compareResponseBodies(before, after, response, afterResponse)) {
          changes.push({
            kind: 'response-field-removed',
            path,
            method: METHOD,
            status,
            field,
            message: `${METHOD} ${path}: response ${status} no longer has field '${field}'`,
          });
        }
      }
    }
  }
  return changes;
}
