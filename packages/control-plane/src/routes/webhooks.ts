// Webhooks beyond create/read/update/delete (which the resource routes serve): a new signing secret with an overlap,
// a test message sent now, the deliveries with their state (the dead letters among them) and their replay.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DeliveryState } from '@apigov/store';
import { requireSignedIn } from '../auth.js';
import { inTransaction, pageLimit, query, type Deps } from '../http.js';
import { invalidField, notFound } from '../problem.js';
import { authorizeWrite, sees } from '../visibility.js';
import type { WriteContext } from '../catalog/writes.js';
import { accepted } from '../webhooks/send.js';
import { newWebhookSecret } from '../webhooks/signature.js';
import { deliver } from '../webhooks/worker.js';
import { webhookAllowCidrs } from '../webhooks/destination.js';

/** The webhook, if the caller may manage it (else a 404 or 403, as for the resource itself). */
async function manage(ctx: Pick<WriteContext, 'tx' | 'principal'>, name: string) {
  const s = await ctx.tx.get('Webhook', name);
  if (s?.resource.kind !== 'Webhook' || !(await sees(ctx.tx, ctx.principal, s.resource))) throw notFound(`Webhook ${name}`);
  await authorizeWrite(ctx.tx, ctx.principal, 'Webhook', name, s.resource, s.resource);
  return s.resource;
}

const STATES: readonly DeliveryState[] = ['pending', 'retrying', 'delivered', 'failed'];

export function registerWebhookRoutes(app: FastifyInstance, deps: Deps): void {
  const body = (request: FastifyRequest) => (request.body ?? {}) as Record<string, unknown>;

  app.post<{ Params: { name: string } }>('/v1/webhooks/:name/rotate-secret', async (request, reply) => {
    requireSignedIn(request.principal);
    const overlap = body(request).overlapSeconds ?? 86_400;
    if (typeof overlap !== 'number' || !Number.isInteger(overlap) || overlap < 0 || overlap > 30 * 86_400) throw invalidField('overlapSeconds', 'must be a whole number of seconds from 0 to 2592000');
    const out = await inTransaction(deps, request, async (ctx) => {
      await manage(ctx, request.params.name);
      const secret = newWebhookSecret();
      const until = new Date(Date.now() + overlap * 1000).toISOString();
      await ctx.tx.addWebhookSecret(request.params.name, secret, overlap === 0 ? undefined : until);
      await ctx.tx.audit({ actor: ctx.principal.name, action: 'webhook.rotate-secret', kind: 'Webhook', name: request.params.name, before: null, after: { previousValidUntil: overlap === 0 ? null : until }, requestId: ctx.requestId });
      return { secret, previousValidUntil: overlap === 0 ? null : until };
    });
    return reply.header('cache-control', 'no-store').send(out);
  });

  app.post<{ Params: { name: string } }>('/v1/webhooks/:name/test', async (request) => {
    requireSignedIn(request.principal);
    const { hook, secrets, allow } = await deps.store.transaction(async (tx) => ({ hook: await manage({ tx, principal: request.principal }, request.params.name), secrets: await tx.webhookSecrets(request.params.name), allow: await webhookAllowCidrs(tx) }));
    const id = `msg_${randomUUID()}`;
    const event = { id: `evt_${randomUUID()}`, type: 'webhook.test', time: new Date().toISOString(), actor: request.principal.name, subject: { kind: 'Webhook', name: request.params.name }, data: { message: 'a test message from apigov' } };
    const result = await deliver(hook.spec, event, id, secrets, undefined, allow);
    const delivered = accepted(result);
    return { delivered, ...(result.status !== undefined && { status: result.status }), ...(result.error !== undefined && { error: result.error }) };
  });

  app.get<{ Params: { name: string } }>('/v1/webhooks/:name/deliveries', async (request) => {
    requireSignedIn(request.principal);
    const q = query(request);
    const states = q.state === undefined ? undefined : q.state.split(',');
    for (const s of states ?? []) if (!STATES.includes(s as DeliveryState)) throw invalidField('state', `must be ${STATES.join(', ')}`);
    const limit = pageLimit(q.limit, 100);
    const items = await deps.store.transaction(async (tx) => {
      const s = await tx.get('Webhook', request.params.name);
      if (s === null || !(await sees(tx, request.principal, s.resource))) throw notFound(`Webhook ${request.params.name}`);
      return tx.listDeliveries({ webhook: request.params.name, ...(states !== undefined && { states: states as DeliveryState[] }), limit });
    });
    return { items };
  });

  app.post<{ Params: { name: string } }>('/v1/webhooks/:name/replay', async (request, reply) => {
    requireSignedIn(request.principal);
    const b = body(request);
    const since = b.since;
    if (typeof since !== 'string' || Number.isNaN(Date.parse(since))) throw invalidField('since', 'is required: a time like 2026-12-01T00:00:00Z');
    const replayed = await inTransaction(deps, request, async (ctx) => {
      await manage(ctx, request.params.name);
      const failed = await ctx.tx.listDeliveries({ webhook: request.params.name, states: ['failed'], since: new Date(since).toISOString(), limit: 10_000 });
      for (const d of failed) await ctx.tx.replayDelivery(d.id);
      await ctx.tx.audit({ actor: ctx.principal.name, action: 'webhook.replay', kind: 'Webhook', name: request.params.name, before: null, after: { since, replayed: failed.length }, requestId: ctx.requestId });
      return failed.length;
    });
    return reply.code(202).send({ replayed });
  });

  app.post<{ Params: { id: string } }>('/v1/deliveries/:id/replay', async (request, reply) => {
    requireSignedIn(request.principal);
    await inTransaction(deps, request, async (ctx) => {
      const [d] = await ctx.tx.listDeliveries({ id: request.params.id, limit: 1 });
      if (d === undefined) throw notFound(`delivery ${request.params.id}`);
      await manage(ctx, d.webhook);
      await ctx.tx.replayDelivery(d.id);
      await ctx.tx.audit({ actor: ctx.principal.name, action: 'webhook.replay', kind: 'Webhook', name: d.webhook, before: null, after: { delivery: d.id }, requestId: ctx.requestId });
    });
    return reply.code(202).send({ replayed: 1 });
  });
}
