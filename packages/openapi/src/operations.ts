// Lists the operations (method + path) of an OpenAPI document, following internal $refs on path items;
// shared by listOperations, the breaking-change check and the house lint rules.
import { decodePointer, getAtPointer, isRecord } from './json-path.js';
import type { OpenApiDocument } from './types.js';

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface OperationSummary {
  /** Upper case, e.g. `GET`. */
  method: string;
  path: string;
  operationId?: string;
  summary?: string;
  tags: string[];
}

/** Follows internal `#/...` $refs (up to a few hops); anything else is returned unchanged. */
export function derefInternal(document: unknown, value: unknown, maxHops = 16): unknown {
  let node = value;
  for (let hop = 0; hop < maxHops && isRecord(node) && typeof node.$ref === 'string' && node.$ref.startsWith('#'); hop++) {
    const found = getAtPointer(document, decodePointer(node.$ref.slice(1)));
    if (!found.found) return node;
    node = found.value;
  }
  return node;
}

export interface OperationEntry {
  path: string;
  method: HttpMethod;
  operation: Record<string, unknown>;
}

/** Every operation under `paths`, in document order. */
export function operationsOf(document: OpenApiDocument): OperationEntry[] {
  const out: OperationEntry[] = [];
  const paths = document.paths;
  if (!isRecord(paths)) return out;
  for (const [path, rawItem] of Object.entries(paths)) {
    const item = derefInternal(document, rawItem);
    if (!isRecord(item)) continue;
    for (const method of HTTP_METHODS) {
      const operation = derefInternal(document, item[method]);
      if (isRecord(operation)) out.push({ path, method, operation });
    }
  }
  return out;
}

/** One line per operation: method, path, operationId, summary and tags, in document order. */
export function listOperations(document: OpenApiDocument): OperationSummary[] {
  return operationsOf(document).map(({ path, method, operation }) => {
    const summary: OperationSummary = { method: method.toUpperCase(), path, tags: [] };
    if (typeof operation.operationId === 'string') summary.operationId = operation.operationId;
    if (typeof operation.summary === 'string') summary.summary = operation.summary;
    if (Array.isArray(operation.tags)) summary.tags = operation.tags.filter((t): t is string => typeof t === 'string');
    return summary;
  });
}
