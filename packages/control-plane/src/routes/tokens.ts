// Named, scoped tokens for automation (service accounts): POST /v1/tokens creates one for the caller (shown once,
// stored hashed), limited to the scopes given on top of the caller's own rights; GET lists the caller's tokens with
// their last use; DELETE revokes one by name. A scoped token cannot create tokens (it could not widen itself anyway).
import type { FastifyInstance } from 'fastify';
import { ApigovError, NAME_PATTERN } from '@apigov/model';
import { hashToken, newToken, requireSignedIn } from '../auth.js';
import { inTransaction, query, type Deps } from '../http.js';
import { invalidField, notFound } from '../problem.js';
import { checkScopes } from '../scopes.js';
import { inTeam } from '../rbac.js';
import { assertSteppedUp } from '../step-up.js';

const DEFAULT_DAYS = 90;

export function registerTokenRoutes(app: FastifyInstance, deps: Deps): void {
  app.post('/v1/tokens', async (request, reply) => {
    const p = request.principal;
    requireSignedIn(p);
    if (p.scopes !== undefined) throw new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', 'a scoped token cannot create tokens; create them as yourself');
    if (p.role === 'gateway' || p.name === 'admin') throw new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', 'tokens belong to a user: sign in as one to create them');
    const b = (request.body ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(b).find((k) => !['name', 'team', 'scopes', 'expiresInDays'].includes(k));
    if (unknown !== undefined) throw invalidField(unknown, 'unknown field; expected name, team, scopes, expiresInDays');
    if (typeof b.name !== 'string' || !NAME_PATTERN.test(b.name)) throw invalidField('name', 'must be a name like ci or deploy-bot (lower-case letters, digits and -)');
    const scopes = checkScopes(b.scopes);
    const days = b.expiresInDays ?? DEFAULT_DAYS;
    if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0 || days > 3650) throw invalidField('expiresInDays', 'must be a positive number of days (at most 3650)');
    const team = b.team === undefined ? p.team : b.team;
    if (team !== undefined && typeof team !== 'string') throw invalidField('team', 'must be a team name');
    const name = b.name;
    // a second token of the same name is refused (the database's unique index also holds it under a race)
    if ((await deps.store.listTokens(p.name)).some((t) => t.name === name)) throw new ApigovError('APIGOV_ERR_RESOURCE_CONFLICT', `you already have a token named ${name}; revoke it first`);
    const result = await inTransaction(deps, request, async (ctx) => {
      await assertSteppedUp(ctx.tx, p, 'token-create');
      if (team !== undefined) {
        if (!(await ctx.tx.get('Team', team))) throw invalidField('team', `no team ${team}`);
        if (!p.admin && !inTeam(p, team)) throw new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', `${p.name} is not in team ${team}`);
      }
      const token = newToken();
      const record = { user: p.name, prefix: token.slice(0, 8), createdAt: new Date().toISOString(), expiresAt: new Date(Date.now() + days * 86_400_000).toISOString(), name, scopes, ...(team !== undefined && { team }) };
      await ctx.tx.putToken(hashToken(token), record);
      await ctx.tx.audit({ actor: p.name, action: 'token.create', kind: 'Token', name, before: null, after: { name, prefix: record.prefix, scopes, team: team ?? null, expiresAt: record.expiresAt }, requestId: ctx.requestId });
      return { token, name, prefix: record.prefix, scopes, ...(team !== undefined && { team }), expiresAt: record.expiresAt };
    });
    return reply.code(201).header('cache-control', 'no-store').send(result);
  });

  app.get('/v1/tokens', async (request) => {
    const p = request.principal;
    requireSignedIn(p);
    const user = query(request).user ?? p.name;
    if (user !== p.name && !p.admin) throw new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', "only platform admins list other people's tokens");
    return { items: (await deps.store.listTokens(user)).map((t) => ({ ...t })) };
  });

  app.delete<{ Params: { name: string } }>('/v1/tokens/:name', async (request, reply) => {
    const p = request.principal;
    requireSignedIn(p);
    const user = query(request).user ?? p.name;
    if (user !== p.name && !p.admin) throw new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', "only platform admins revoke other people's tokens");
    await inTransaction(deps, request, async (ctx) => {
      if (!(await ctx.tx.deleteNamedToken(user, request.params.name))) throw notFound(`token ${request.params.name} of ${user}`);
      await ctx.tx.audit({ actor: p.name, action: 'token.revoke', kind: 'Token', name: request.params.name, before: { user }, after: null, requestId: ctx.requestId });
    });
    return reply.code(204).send();
  });
}
