// API-specific REST: register from a spec, versions, the stored OpenAPI document, diffs and changelogs, and lifecycle actions.
import { filePublishRequest } from './publish-requests.js';
import { assertScope } from '../scopes.js';
import type { FastifyInstance } from 'fastify';
import { versionKey } from '@apigov/model';
import { requireSignedIn } from '../auth.js';
import { diffApi, parseDiffRequest } from '../catalog/changelog.js';
import { changeLifecycle, parseLifecycleRequest, type LifecycleAction } from '../catalog/lifecycle-actions.js';
import { parseRegisterRequest, registerApi } from '../catalog/register.js';
import { ifMatch, inTransaction, type Deps } from '../http.js';
import { notFound } from '../problem.js';
import { canSee } from '../rbac.js';
import { environmentIndex, etag, render } from '../render.js';
import { idempotencyKey, replayIdempotent, requestHash } from './resources.js';

export function registerApiRoutes(app: FastifyInstance, deps: Deps): void {
  app.post('/v1/apis/register', async (request, reply) => {
    requireSignedIn(request.principal);
    const key = idempotencyKey(request);
    if (await replayIdempotent(deps, request, reply, key)) return reply;
    const req = parseRegisterRequest(request.body);
    const envs = await environmentIndex(deps.store);
    const { stored, created, body } = await inTransaction(deps, request, async (ctx) => {
      const r = await registerApi(ctx, req);
      const body = { ...render(r.stored, envs), findings: r.findings, ...(r.changes && { changes: r.changes }) };
      if (key !== undefined) await ctx.tx.saveIdempotent(key, ctx.principal.name, { requestHash: requestHash(request), status: r.created ? 201 : 200, body });
      return { ...r, body };
    });
    return reply.code(created ? 201 : 200).header('etag', etag(stored)).send(body);
  });

  const visibleApi = async (principal: Parameters<typeof canSee>[0], name: string) => {
    const s = await deps.store.get('Api', name);
    if (!s || s.resource.kind !== 'Api' || !canSee(principal, s.resource)) throw notFound(`Api ${name}`);
    return { stored: s, spec: s.resource.spec };
  };

  app.get<{ Params: { name: string } }>('/v1/apis/:name/versions', async (request) => {
    const { spec } = await visibleApi(request.principal, request.params.name);
    return { items: spec.versions.map((v) => ({ name: v.name, revision: v.revision, environments: v.environments })) };
  });

  app.get<{ Params: { name: string; version: string } }>('/v1/apis/:name/versions/:version/openapi', async (request) => {
    const { spec } = await visibleApi(request.principal, request.params.name);
    const key = versionKey(request.params.version);
    const v = spec.versions.find((x) => x.name === key);
    if (!v) throw notFound(`version ${request.params.version} of Api ${request.params.name}`);
    return v.openapi;
  });

  // the changes between two versions (the changelog of the later one), or between a version and a document not yet registered
  app.post<{ Params: { name: string } }>('/v1/apis/:name/diff', async (request) => {
    requireSignedIn(request.principal);
    return diffApi(deps.store, request.principal, request.params.name, parseDiffRequest(request.body));
  });

  for (const action of ['publish', 'deprecate', 'retire'] as const satisfies readonly LifecycleAction[]) {
    app.post<{ Params: { name: string; version: string } }>(`/v1/apis/:name/versions/:version/${action}`, async (request, reply) => {
      requireSignedIn(request.principal);
      // a scoped token is checked before the body is: the environment it names, or every one
      const env = (request.body as { environment?: unknown } | undefined)?.environment;
      assertScope(request.principal, typeof env === 'string' ? `apis:publish:${env}` : 'apis:publish');
      const body = parseLifecycleRequest(action, request.body);
      const expected = ifMatch(request);
      let stored;
      try {
        stored = await inTransaction(deps, request, (ctx) => changeLifecycle(ctx, request.params.name, request.params.version, action, body, expected));
      } catch (e) {
        // a production publish the rules allow but an AccessPolicy holds for approval: filed, not done
        if (action === 'publish' && (e as { code?: unknown }).code === 'APIGOV_ERR_APPROVAL_REQUIRED') return reply.code(202).send(await filePublishRequest(deps, request, request.params.name, request.params.version, body));
        throw e;
      }
      return reply.header('etag', etag(stored)).send(render(stored, await environmentIndex(deps.store)));
    });
  }
}
