// Small request helpers shared by the routes: principals, If-Match, pagination and the write transaction.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApigovError } from '@apigov/model';
import type { Store } from '@apigov/store';
import type { Authenticator, Principal } from './auth.js';
import type { WriteContext } from './catalog/writes.js';
import { emitRefusal } from './events/refusals.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
    /** sent back in a Warning header once the response goes out */
    warnings?: string[];
  }
}

export interface Deps {
  store: Store;
  auth: Authenticator;
}

/** The resourceVersion named by If-Match, if the header is present. `*` means "exists", which callers treat as no check. */
export function ifMatch(request: FastifyRequest): number | undefined {
  const h = request.headers['if-match'];
  if (h === undefined || h === '*') return undefined;
  const m = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(h);
  if (!m) throw new ApigovError('APIGOV_ERR_INPUT_MALFORMED', `If-Match must be an ETag returned by the API, like "3"`);
  return Number(m[1]);
}

export function pageLimit(raw: unknown, fallback = 50): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new ApigovError('APIGOV_ERR_INPUT_INVALID', 'limit must be an integer from 1 to 500', { errors: [{ path: 'limit', message: 'must be an integer from 1 to 500' }] });
  return n;
}

export function encodeCursor(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url');
}

export function decodeCursor(raw: unknown): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !/^[A-Za-z0-9_-]{1,400}$/.test(raw)) throw new ApigovError('APIGOV_ERR_INPUT_MALFORMED', 'cursor is not one this API returned');
  return Buffer.from(raw, 'base64url').toString('utf8');
}

export function query(request: FastifyRequest): Record<string, string | undefined> {
  const q = request.query as Record<string, unknown>;
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(q ?? {})) out[k] = Array.isArray(v) ? String(v[v.length - 1]) : v === undefined ? undefined : String(v);
  return out;
}

export async function inTransaction<T>(deps: Deps, request: FastifyRequest, fn: (ctx: WriteContext) => Promise<T>): Promise<T> {
  let ctx: WriteContext | undefined;
  let result: T;
  try {
    result = await deps.store.transaction((tx) => fn((ctx = { tx, principal: request.principal, requestId: String(request.id) })));
  } catch (e) {
    // a refused breaking revision or a blocked publication is an event, though the change did not happen
    await emitRefusal(deps.store, request.principal, e);
    throw e;
  }
  // committed: pass on what the writes had to say (drift of Git-managed resources)
  if (ctx?.warnings !== undefined) request.warnings = [...(request.warnings ?? []), ...ctx.warnings];
  return result;
}

export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store');
}
