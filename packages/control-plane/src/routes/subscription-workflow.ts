// The subscription workflow beyond a single decision: renewing (more time, by the API's owners or the platform, or
// by the consumer on a self-service plan), revoking (the consumer or the owners end it), and approving every pending
// subscription of an API at once.
import type { FastifyInstance } from 'fastify';
import { ApigovError, dateSchema, parseResource } from '@apigov/model';
import { requireSignedIn } from '../auth.js';
import { deleteResource, writeResource } from '../catalog/writes.js';
import { decideSubscription } from '../consumption/subscriptions.js';
import { inTransaction, type Deps } from '../http.js';
import { invalidField, notFound } from '../problem.js';
import { render } from '../render.js';
import { approvesFor, sees } from '../visibility.js';

const DAY = 86_400_000;
const DEFAULT_RENEWAL_DAYS = 90;

export function registerSubscriptionWorkflowRoutes(app: FastifyInstance, deps: Deps): void {
  app.post<{ Params: { name: string } }>('/v1/subscriptions/:name/renew', async (request) => {
    requireSignedIn(request.principal);
    const b = (request.body ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(b).find((k) => k !== 'until');
    if (unknown !== undefined) throw invalidField(unknown, 'unknown field; expected until');
    if (b.until !== undefined && (typeof b.until !== 'string' || !dateSchema.safeParse(b.until).success)) throw invalidField('until', 'must be a date (YYYY-MM-DD) or RFC 3339 timestamp');
    const stored = await inTransaction(deps, request, async (ctx) => {
      const current = await ctx.tx.get('Subscription', request.params.name);
      if (current?.resource.kind !== 'Subscription' || !(await sees(ctx.tx, ctx.principal, current.resource))) throw notFound(`Subscription ${request.params.name}`);
      const spec = current.resource.spec;
      if (spec.state !== 'approved' && spec.state !== 'expired') throw new ApigovError('APIGOV_ERR_LIFECYCLE_TRANSITION', `Subscription ${request.params.name} is ${spec.state}; only approved or expired subscriptions are renewed`);
      const plan = await ctx.tx.get('Plan', spec.plan);
      const selfService = plan?.resource.kind === 'Plan' && plan.resource.spec.approval === 'auto';
      const approver = await approvesFor(ctx.tx, ctx.principal, spec.api);
      if (!approver && !selfService) {
        throw new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', `Subscription ${request.params.name} is on the manual plan ${spec.plan}: its renewal is the owners' of ${spec.api} or a platform admin's decision`);
      }
      const from = Math.max(Date.now(), spec.expiresAt === undefined ? Date.now() : Date.parse(spec.expiresAt));
      const until = typeof b.until === 'string' ? new Date(b.until).toISOString() : new Date(from + DEFAULT_RENEWAL_DAYS * DAY).toISOString();
      if (Date.parse(until) <= Date.now()) throw invalidField('until', 'must be in the future');
      const next = parseResource({ ...current.resource, spec: { ...spec, expiresAt: until, state: 'approved', decidedBy: approver ? ctx.principal.name : 'auto-approval' } });
      return (await writeResource({ ...ctx, selfServiceRenewal: selfService }, next, { action: 'renew' })).stored;
    });
    return render(stored);
  });

  app.post<{ Params: { name: string } }>('/v1/subscriptions/:name/revoke', async (request, reply) => {
    requireSignedIn(request.principal);
    await inTransaction(deps, request, async (ctx) => {
      const current = await ctx.tx.get('Subscription', request.params.name);
      if (current?.resource.kind !== 'Subscription' || !(await sees(ctx.tx, ctx.principal, current.resource))) throw notFound(`Subscription ${request.params.name}`);
      await deleteResource(ctx, 'Subscription', request.params.name, { action: 'revoke' });
    });
    return reply.code(204).send();
  });

  app.post('/v1/subscriptions/approve-all', async (request) => {
    requireSignedIn(request.principal);
    const b = (request.body ?? {}) as Record<string, unknown>;
    if (typeof b.api !== 'string' || b.api === '') throw invalidField('api', 'is required: the API whose pending subscriptions to approve');
    const api = b.api;
    return inTransaction(deps, request, async (ctx) => {
      const a = await ctx.tx.get('Api', api);
      if (a === null || !(await sees(ctx.tx, ctx.principal, a.resource))) throw notFound(`Api ${api}`);
      if (!(await approvesFor(ctx.tx, ctx.principal, api))) throw new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', `${ctx.principal.name} may not approve subscriptions to ${api}; its owner team or a platform admin does`);
      const approved: string[] = [];
      const waiting: Array<{ subscription: string; reason: string }> = [];
      for (const s of await ctx.tx.list('Subscription', { limit: 100_000 })) {
        if (s.resource.kind !== 'Subscription' || s.resource.spec.api !== api || s.resource.spec.state !== 'pending') continue;
        const name = s.resource.metadata.name;
        try {
          const done = await decideSubscription(ctx, name, 'approve', undefined, async (next, act) => (await writeResource(ctx, next, { action: act })).stored);
          if (done.resource.kind === 'Subscription' && done.resource.spec.state === 'approved') approved.push(name);
          else waiting.push({ subscription: name, reason: 'waits for another approval' });
        } catch (e) {
          if (e instanceof ApigovError && (e.code === 'APIGOV_ERR_LIFECYCLE_TRANSITION' || e.code === 'APIGOV_ERR_AUTH_FORBIDDEN')) waiting.push({ subscription: name, reason: e.message });
          else throw e;
        }
      }
      return { api, approved, waiting };
    });
  });
}
