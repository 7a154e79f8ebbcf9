// Production publishes that wait for a platform admin (AccessPolicy productionPublishApproval): a publish the
// access rules allow but the setting holds back is filed as a pending PublishRequest (202); a platform admin
// approves it (the publish then runs, governance gate included, as the approver) or rejects it with a reason.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApigovError, parseResource, versionKey } from '@apigov/model';
import { assertAdmin } from '../rbac.js';
import { changeLifecycle, type LifecycleRequest } from '../catalog/lifecycle-actions.js';
import { environmentIndex, render } from '../render.js';
import { inTransaction, type Deps } from '../http.js';
import { notFound } from '../problem.js';

export function publishRequestName(api: string, version: string, environment: string): string {
  return `${api}-${version}-${environment}`.slice(0, 63).replace(/-$/, '');
}

/** Files (or refiles) the pending request for a publish that needs an approval; answers what to show the caller. */
export async function filePublishRequest(deps: Deps, request: FastifyRequest, api: string, version: string, body: LifecycleRequest) {
  const key = versionKey(version) ?? version;
  const environment = body.environment!;
  const name = publishRequestName(api, key, environment);
  const stored = await inTransaction(deps, request, async (ctx) => {
    const current = await ctx.tx.get('PublishRequest', name);
    const next = parseResource({
      apiVersion: 'apigov.dev/v1',
      kind: 'PublishRequest',
      metadata: { name },
      spec: { api, version: key, environment, ...(body.upstream !== undefined && { upstream: body.upstream }), ...(body.routePrefix !== undefined && { routePrefix: body.routePrefix }), requestedBy: ctx.principal.name, state: 'pending' },
    });
    const s = await ctx.tx.put(next, ctx.principal.name);
    await ctx.tx.audit({ actor: ctx.principal.name, action: 'publish.request', kind: 'PublishRequest', name, before: current === null ? null : current.resource.spec, after: next.spec, requestId: ctx.requestId });
    return s;
  });
  return { publishRequest: render(stored), detail: `publishing ${api} ${key} to ${environment} waits for a platform admin's approval (PublishRequest ${name})` };
}

export function registerPublishRequestRoutes(app: FastifyInstance, deps: Deps): void {
  app.post<{ Params: { name: string } }>('/v1/publish-requests/:name/approve', async (request) => {
    assertAdmin(request.principal, 'approve production publishes');
    const result = await inTransaction(deps, request, async (ctx) => {
      const current = await ctx.tx.get('PublishRequest', request.params.name);
      if (!current || current.resource.kind !== 'PublishRequest') throw notFound(`PublishRequest ${request.params.name}`);
      const spec = current.resource.spec;
      if (spec.state !== 'pending') throw new ApigovError('APIGOV_ERR_LIFECYCLE_TRANSITION', `PublishRequest ${request.params.name} is ${spec.state}, not pending`);
      const api = await changeLifecycle(ctx, spec.api, spec.version, 'publish', { environment: spec.environment, ...(spec.upstream !== undefined && { upstream: spec.upstream }), ...(spec.routePrefix !== undefined && { routePrefix: spec.routePrefix }) });
      const next = parseResource({ ...current.resource, spec: { ...spec, state: 'approved', decidedBy: ctx.principal.name } });
      const stored = await ctx.tx.put(next, ctx.principal.name, current.resourceVersion);
      await ctx.tx.audit({ actor: ctx.principal.name, action: 'publish.approve', kind: 'PublishRequest', name: request.params.name, before: spec, after: next.spec, requestId: ctx.requestId });
      return { stored, api };
    });
    return { publishRequest: render(result.stored), api: render(result.api, await environmentIndex(deps.store)) };
  });

  app.post<{ Params: { name: string } }>('/v1/publish-requests/:name/reject', async (request) => {
    assertAdmin(request.principal, 'reject production publishes');
    const reason = (request.body as { reason?: unknown } | undefined)?.reason;
    if (typeof reason !== 'string' || reason.trim() === '') throw new ApigovError('APIGOV_ERR_INPUT_INVALID', 'reason: say why the publish is rejected', { errors: [{ path: 'reason', message: 'is required' }] });
    const stored = await inTransaction(deps, request, async (ctx) => {
      const current = await ctx.tx.get('PublishRequest', request.params.name);
      if (!current || current.resource.kind !== 'PublishRequest') throw notFound(`PublishRequest ${request.params.name}`);
      if (current.resource.spec.state !== 'pending') throw new ApigovError('APIGOV_ERR_LIFECYCLE_TRANSITION', `PublishRequest ${request.params.name} is ${current.resource.spec.state}, not pending`);
      const next = parseResource({ ...current.resource, spec: { ...current.resource.spec, state: 'rejected', decidedBy: ctx.principal.name, reason: reason.slice(0, 1000) } });
      const s = await ctx.tx.put(next, ctx.principal.name, current.resourceVersion);
      await ctx.tx.audit({ actor: ctx.principal.name, action: 'publish.reject', kind: 'PublishRequest', name: request.params.name, before: current.resource.spec, after: next.spec, requestId: ctx.requestId });
      return s;
    });
    return { publishRequest: render(stored) };
  });
}
