// Extracts what the gateway's request validation needs from an OpenAPI document (2.0, 3.0, 3.1), for the control
// plane's snapshot compiler: each operation's method, path template, parameters and request body schemas, and the shared schemas.
import type { SnapshotOperation } from '@apigov/model';
import { isRecord as isObject } from './json-path.js';
import { derefInternal, HTTP_METHODS as METHODS } from './operations.js';

type Json = Record<string, unknown>;

const deref = (doc: Json, v: unknown): unknown => derefInternal(doc, v);

/** Swagger 2.0 parameter (non-body) → an OpenAPI 3 style schema. */
function swaggerParamSchema(p: Json): Json {
  const { name: _n, in: _i, required: _r, description: _d, collectionFormat: _c, allowEmptyValue: _a, ...schema } = p;
  return schema;
}

export function extractOperations(doc: Json): { operations: SnapshotOperation[]; schemas: Record<string, unknown> } {
  const swagger2 = typeof doc.swagger === 'string';
  const operations: SnapshotOperation[] = [];
  const paths = isObject(doc.paths) ? doc.paths : {};
  for (const [path, rawItem] of Object.entries(paths)) {
    const item = deref(doc, rawItem);
    if (!isObject(item) || !path.startsWith('/')) continue;
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      const params = new Map<string, SnapshotOperation['parameters'][number]>();
      let requestBody: SnapshotOperation['requestBody'];
      const consumes = (Array.isArray(op.consumes) ? op.consumes : Array.isArray(doc.consumes) ? doc.consumes : ['application/json']) as string[];
      for (const rawP of [...shared, ...(Array.isArray(op.parameters) ? op.parameters : [])]) {
        const p = deref(doc, rawP);
        if (!isObject(p) || typeof p.name !== 'string' || typeof p.in !== 'string') continue;
        if (p.in === 'body') {
          requestBody = { required: p.required === true, content: Object.fromEntries(consumes.map((c) => [c, isObject(p.schema) ? { schema: p.schema } : {}])) };
          continue;
        }
        if (p.in === 'formData') continue;
        if (!['path', 'query', 'header', 'cookie'].includes(p.in)) continue;
        const schema = swagger2 ? swaggerParamSchema(p) : isObject(p.schema) ? p.schema : undefined;
        params.set(`${p.in}:${p.name}`, { name: p.name, in: p.in as 'path', required: p.in === 'path' ? true : p.required === true, ...(schema && { schema }) });
      }
      const rb = deref(doc, op.requestBody);
      if (!swagger2 && isObject(rb) && isObject(rb.content)) {
        const content: Record<string, { schema?: Record<string, unknown> }> = {};
        for (const [type, media] of Object.entries(rb.content)) content[type] = isObject(media) && isObject(media.schema) ? { schema: media.schema } : {};
        requestBody = { required: rb.required === true, content };
      }
      operations.push({
        id: typeof op.operationId === 'string' ? op.operationId : `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        parameters: [...params.values()],
        ...(requestBody && { requestBody }),
      });
    }
  }
  const components = isObject(doc.components) ? doc.components : {};
  const schemas = swagger2 ? (isObject(doc.definitions) ? doc.definitions : {}) : isObject(components.schemas) ? components.schemas : {};
  return { operations, schemas };
}
