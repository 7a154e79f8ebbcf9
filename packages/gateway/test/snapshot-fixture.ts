// Snapshots for the gateway tests, built the way a control plane would: operations, parameters, request bodies and
// shared schemas extracted from the real examples/payments/openapi.yaml, content-hashed like the control plane.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { GatewaySnapshot, PolicyConfigs, SnapshotOperation, SnapshotRoute } from '@apigov/model';
import { computeSnapshotHash } from '../src/snapshot.js';

type Json = Record<string, unknown>;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const OPENAPI = new URL('../../../examples/payments/openapi.yaml', import.meta.url);

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deref(doc: Json, v: unknown): unknown {
  let cur = v;
  for (let hop = 0; hop < 10 && isObject(cur) && typeof cur.$ref === 'string' && cur.$ref.startsWith('#/'); hop++) {
    let node: unknown = doc;
    for (const key of cur.$ref.slice(2).split('/')) node = isObject(node) ? node[key.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
    if (node === undefined) return cur;
    cur = node;
  }
  return cur;
}

export interface ExtractedApi {
  operations: SnapshotOperation[];
  schemas: Json;
}

/** Operations (method, path, parameters, JSON request bodies) and components.schemas of an OpenAPI 3 document. */
export function extractOperations(doc: Json): ExtractedApi {
  const operations: SnapshotOperation[] = [];
  for (const [path, rawItem] of Object.entries(isObject(doc.paths) ? doc.paths : {})) {
    const item = deref(doc, rawItem);
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      const parameters: SnapshotOperation['parameters'] = [];
      for (const raw of [...(Array.isArray(item.parameters) ? item.parameters : []), ...(Array.isArray(op.parameters) ? op.parameters : [])]) {
        const p = deref(doc, raw);
        if (!isObject(p) || typeof p.name !== 'string' || !['path', 'query', 'header', 'cookie'].includes(String(p.in))) continue;
        parameters.push({ name: p.name, in: p.in as 'query', required: p.in === 'path' || p.required === true, ...(isObject(p.schema) && { schema: p.schema }) });
      }
      const rb = deref(doc, op.requestBody);
      let requestBody: SnapshotOperation['requestBody'];
      if (isObject(rb) && isObject(rb.content)) {
        const content: Record<string, { schema?: Json }> = {};
        for (const [type, media] of Object.entries(rb.content)) content[type] = isObject(media) && isObject(media.schema) ? { schema: media.schema } : {};
        requestBody = { required: rb.required === true, content };
      }
      operations.push({ id: typeof op.operationId === 'string' ? op.operationId : `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, parameters, ...(requestBody && { requestBody }) });
    }
  }
  const components = isObject(doc.components) ? doc.components : {};
  return { operations, schemas: isObject(components.schemas) ? components.schemas : {} };
}

let payments: ExtractedApi | undefined;

/** The payments example's operations and schemas, from its openapi.yaml. */
export async function paymentsApi(): Promise<ExtractedApi> {
  payments ??= extractOperations(parseYaml(await readFile(OPENAPI, 'utf8')) as Json);
  return structuredClone(payments);
}

export interface RouteOptions {
  id?: string;
  prefix?: string;
  state?: SnapshotRoute['state'];
  policies?: PolicyConfigs;
  deprecation?: SnapshotRoute['deprecation'];
  /** leave the OpenAPI operations out (a route without a document) */
  withoutOperations?: boolean;
}

/** The payments API as a route of the snapshot, in front of `upstream`. */
export async function paymentsRoute(upstream: string, options: RouteOptions = {}): Promise<SnapshotRoute> {
  const api = await paymentsApi();
  const id = options.id ?? 'payments/v1';
  const [name, version] = id.split('/') as [string, string];
  return {
    id,
    api: name,
    version,
    prefix: options.prefix ?? `/${name}/${version}`,
    state: options.state ?? 'published',
    upstream,
    ...(options.deprecation !== undefined && { deprecation: options.deprecation }),
    policies: options.policies ?? {},
    schemas: options.withoutOperations ? {} : api.schemas,
    operations: options.withoutOperations ? [] : api.operations,
  };
}

export type SnapshotParts = Partial<Omit<GatewaySnapshot, 'hash' | 'schemaVersion'>>;

/** A complete, correctly hashed snapshot. */
export function buildSnapshot(parts: SnapshotParts & { routes: SnapshotRoute[] }): GatewaySnapshot {
  const body: Omit<GatewaySnapshot, 'hash'> = {
    schemaVersion: 1,
    environment: parts.environment ?? 'dev',
    version: parts.version ?? 1,
    generatedAt: parts.generatedAt ?? new Date().toISOString(),
    routes: parts.routes,
    consumers: parts.consumers ?? {},
    apiKeys: parts.apiKeys ?? {},
    jwtBindings: parts.jwtBindings ?? [],
    plans: parts.plans ?? {},
    warnings: parts.warnings ?? [],
  };
  return { ...body, hash: computeSnapshotHash(body as unknown as Record<string, unknown>) } as GatewaySnapshot;
}
