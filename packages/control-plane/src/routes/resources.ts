// Generic REST for every kind: list, create (idempotent), get, replace (If-Match) and delete under /v1/{kind}.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApigovError, KIND_PLURALS, KINDS, canonicalJson, parseResource, type Kind } from '@apigov/model';
import { hashToken, newToken, requireSignedIn } from '../auth.js';
import { readOneDocument } from '../catalog/apply.js';
import { deleteResource, writeResource } from '../catalog/writes.js';
import { decodeCursor, encodeCursor, ifMatch, inTransaction, pageLimit, query, type Deps } from '../http.js';
import { notFound } from '../problem.js';
import { sees } from '../visibility.js';
import { environmentIndex, etag, render } from '../render.js';

function parseBody(kind: Kind, name: string | undefined, body: unknown) {
  const raw = readOneDocument(body) as Record<string, unknown> | null;
  if (raw && typeof raw === 'object' && raw.kind === undefined) raw.kind = kind;
  const r = parseResource(raw);
  if (r.kind !== kind) throw new ApigovError('APIGOV_ERR_INPUT_INVALID', `kind: expected ${kind} at this path, got ${r.kind}`, { errors: [{ path: 'kind', message: `must be ${kind}` }] });
  if (name !== undefined && r.metadata.name !== name) {
    throw new ApigovError('APIGOV_ERR_INPUT_INVALID', `metadata.name: '${r.metadata.name}' does not match the URL's '${name}'`, { errors: [{ path: 'metadata.name', message: `must be '${name}'` }] });
  }
  return r;
}

export function idempotencyKey(request: FastifyRequest): string | undefined {
  const k = request.headers['idempotency-key'];
  if (k === undefined) return undefined;
  if (typeof k !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(k)) throw new ApigovError('APIGOV_ERR_INPUT_MALFORMED', 'Idempotency-Key must be 1-200 visible ASCII characters');
  return k;
}

export function requestHash(request: FastifyRequest): string {
  return createHash('sha256').update(`${request.method} ${request.url}\n`).update(typeof request.body === 'string' ? request.body : canonicalJson(request.body ?? null)).digest('hex');
}

/** Replays a stored response for a repeated Idempotency-Key, or returns false to go on. */
export async function replayIdempotent(deps: Deps, request: FastifyRequest, reply: FastifyReply, key: string | undefined): Promise<boolean> {
  if (key === undefined) return false;
  const prior = await deps.store.getIdempotent(key, request.principal.name);
  if (!prior) return false;
  if (prior.requestHash !== requestHash(request)) {
    throw new ApigovError('APIGOV_ERR_IDEMPOTENCY_MISMATCH', `Idempotency-Key '${key}' was used for a different request`);
  }
  reply.code(prior.status).header('idempotent-replayed', 'true').send(prior.body);
  return true;
}

export function registerResourceRoutes(app: FastifyInstance, deps: Deps): void {
  for (const kind of KINDS) {
    const plural = KIND_PLURALS[kind];
    const base = `/v1/${plural}`;

    app.get(base, async (request) => {
      if (kind !== 'Api') requireSignedIn(request.principal);
      const q = query(request);
      const limit = pageLimit(q.limit);
      const filters = Object.entries(q).filter(([k, v]) => k !== 'limit' && k !== 'cursor' && v !== undefined) as Array<[string, string]>;
      const matches = (r: { spec: unknown }) => filters.every(([k, v]) => String((r.spec as Record<string, unknown>)[k]) === v);
      let after = decodeCursor(q.cursor);
      const envs = kind === 'Api' ? await environmentIndex(deps.store) : undefined;
      const items = [];
      let more = false;
      // visibility filtering can thin a page; keep reading until it is full
      for (;;) {
        const page = await deps.store.list(kind, { after, limit: limit + 1 });
        for (const s of page.slice(0, limit + 1)) {
          if (!matches(s.resource) || !(await sees(deps.store, request.principal, s.resource))) continue;
          if (items.length === limit) {
            more = true;
            break;
          }
          items.push(render(s, envs));
        }
        if (more || page.length <= limit) break;
        after = page[page.length - 1].resource.metadata.name;
      }
      return { items, ...(more && { nextCursor: encodeCursor(items[items.length - 1].metadata.name) }) };
    });

    app.post(base, async (request, reply) => {
      requireSignedIn(request.principal);
      const key = idempotencyKey(request);
      if (await replayIdempotent(deps, request, reply, key)) return reply;
      const r = parseBody(kind, undefined, request.body);
      const envs = kind === 'Api' ? await environmentIndex(deps.store) : undefined;
      const result = await inTransaction(deps, request, async (ctx) => {
        const { stored } = await writeResource(ctx, r, { expectedVersion: 0 });
        const body: Record<string, unknown> = { ...render(stored, envs) };
        if (kind === 'User') {
          const token = newToken();
          await ctx.tx.putToken(hashToken(token), { user: r.metadata.name, prefix: token.slice(0, 8), createdAt: new Date().toISOString() });
          await ctx.tx.audit({ actor: ctx.principal.name, action: 'token.issue', kind: 'User', name: r.metadata.name, before: null, after: { prefix: token.slice(0, 8) }, requestId: ctx.requestId });
          body.token = token;
        }
        // a webhook's signing secret is shown this once (rotate-secret makes a new one)
        if (kind === 'Webhook') body.secret = (await ctx.tx.webhookSecrets(r.metadata.name))[0];
        if (key !== undefined) await ctx.tx.saveIdempotent(key, ctx.principal.name, { requestHash: requestHash(request), status: 201, body });
        return { stored, body };
      });
      return reply.code(201).header('etag', etag(result.stored)).header('location', `${base}/${r.metadata.name}`).header('cache-control', 'no-store').send(result.body);
    });

    app.get<{ Params: { name: string } }>(`${base}/:name`, async (request, reply) => {
      const s = await deps.store.get(kind, request.params.name);
      if (!s || !(await sees(deps.store, request.principal, s.resource))) throw notFound(`${kind} ${request.params.name}`);
      const envs = kind === 'Api' ? await environmentIndex(deps.store) : undefined;
      return reply.header('etag', etag(s)).send(render(s, envs));
    });

    app.put<{ Params: { name: string } }>(`${base}/:name`, async (request, reply) => {
      requireSignedIn(request.principal);
      const r = parseBody(kind, request.params.name, request.body);
      const expected = ifMatch(request);
      const envs = kind === 'Api' ? await environmentIndex(deps.store) : undefined;
      const { stored, outcome } = await inTransaction(deps, request, (ctx) => writeResource(ctx, r, { expectedVersion: expected }));
      return reply.code(outcome === 'create' ? 201 : 200).header('etag', etag(stored)).send(render(stored, envs));
    });

    app.delete<{ Params: { name: string } }>(`${base}/:name`, async (request, reply) => {
      requireSignedIn(request.principal);
      const expected = ifMatch(request);
      await inTransaction(deps, request, (ctx) => deleteResource(ctx, kind, request.params.name, { expectedVersion: expected }));
      return reply.code(204).send();
    });
  }

  app.post<{ Params: { name: string } }>('/v1/users/:name/tokens', async (request, reply) => {
    requireSignedIn(request.principal);
    const body = (request.body ?? {}) as { expiresInDays?: unknown; expiresInSeconds?: unknown };
    const seconds = body.expiresInSeconds ?? (body.expiresInDays === undefined ? undefined : Number(body.expiresInDays) * 86400);
    if (seconds !== undefined && (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0 || seconds > 3650 * 86400)) {
      throw new ApigovError('APIGOV_ERR_INPUT_INVALID', 'expiresInDays/expiresInSeconds must be a positive number (at most ten years)', { errors: [{ path: 'expiresInDays', message: 'must be positive' }] });
    }
    const name = request.params.name;
    const result = await inTransaction(deps, request, async (ctx) => {
      const user = await ctx.tx.get('User', name);
      if (!user) throw notFound(`User ${name}`);
      const self = ctx.principal.name === name;
      if (!self && !ctx.principal.admin && !(ctx.principal.role === 'owner' && user.resource.kind === 'User' && user.resource.spec.team === ctx.principal.team && user.resource.spec.role !== 'platform-admin')) {
        throw new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', `${ctx.principal.name} may not issue tokens for ${name}`);
      }
      const token = newToken();
      const expiresAt = seconds === undefined ? undefined : new Date(Date.now() + seconds * 1000).toISOString();
      await ctx.tx.putToken(hashToken(token), { user: name, prefix: token.slice(0, 8), createdAt: new Date().toISOString(), ...(expiresAt && { expiresAt }) });
      await ctx.tx.audit({ actor: ctx.principal.name, action: 'token.issue', kind: 'User', name, before: null, after: { prefix: token.slice(0, 8), expiresAt: expiresAt ?? null }, requestId: ctx.requestId });
      return { token, prefix: token.slice(0, 8), ...(expiresAt && { expiresAt }) };
    });
    return reply.code(201).send(result);
  });
}
