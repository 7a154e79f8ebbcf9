// Snapshots for the gateway tests, built the way a control plane would: operations, parameters, request bodies and
// shared schemas extracted from the real examples/payments/openapi.yaml by @apigov/openapi, content-hashed like the control plane.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { GatewaySnapshot, PolicyConfigs, SnapshotOperation, SnapshotRoute } from '@apigov/model';
import { extractOperations } from '@apigov/openapi';
import { computeSnapshotHash } from '../src/snapshot.js';

type Json = Record<string, unknown>;
const OPENAPI = new URL('../../../examples/payments/openapi.yaml', import.meta.url);

export interface ExtractedApi {
  operations: SnapshotOperation[];
  schemas: Json;
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
