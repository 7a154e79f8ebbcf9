// Consumer self-service over REST: subscribe an application, decide subscriptions (approve, reject, suspend,
// resume), issue, list and rotate API keys, and who consumes an API.
import type { FastifyInstance } from 'fastify';
import { API_VERSION, dateSchema, isServed, parseResource, versionKey } from '@apigov/model';
import { requireSignedIn } from '../auth.js';
import { writeResource } from '../catalog/writes.js';
import { apiKeyCredential, credentialName, newApiKey } from '../consumption/keys.js';
import { decideSubscription, subscriptionName, type SubscriptionAction } from '../consumption/subscriptions.js';
import { inTransaction, type Deps } from '../http.js';
import { invalidField, notFound } from '../problem.js';
import { canSee } from '../rbac.js';
import { etag, render } from '../render.js';
import { approvesFor, sees } from '../visibility.js';
import { idempotencyKey, replayIdempotent, requestHash } from './resources.js';

function body(raw: unknown, allowed: string[]): Record<string, unknown> {
  const b = (raw ?? {}) as Record<string, unknown>;
  if (typeof b !== 'object' || Array.isArray(b)) throw invalidField('(body)', 'must be a JSON object');
  for (const k of Object.keys(b)) if (!allowed.includes(k)) throw invalidField(k, `unknown field '${k}'`);
  return b;
}

function optionalString(b: Record<string, unknown>, k: string): string | undefined {
  if (b[k] === undefined) return undefined;
  if (typeof b[k] !== 'string') throw invalidField(k, 'must be a string');
  return b[k] as string;
}

function expiry(b: Record<string, unknown>): string | undefined {
  const days = b.expiresInDays;
  if (days === undefined) return undefined;
  if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0 || days > 3650) throw invalidField('expiresInDays', 'must be a number of days from 1 to 3650');
  return new Date(Date.now() + days * 86400_000).toISOString();
}

export function registerConsumptionRoutes(app: FastifyInstance, deps: Deps): void {
  app.post<{ Params: { app: string } }>('/v1/applications/:app/subscriptions', async (request, reply) => {
    requireSignedIn(request.principal);
    const key = idempotencyKey(request);
    if (await replayIdempotent(deps, request, reply, key)) return reply;
    const b = body(request.body, ['api', 'version', 'plan', 'environment', 'expiresAt']);
    const api = optionalString(b, 'api');
    const plan = optionalString(b, 'plan');
    const env = optionalString(b, 'environment');
    if (api === undefined) throw invalidField('api', 'is required');
    if (plan === undefined) throw invalidField('plan', 'is required');
    if (env === undefined) throw invalidField('environment', 'is required');
    const expiresAt = optionalString(b, 'expiresAt');
    if (expiresAt !== undefined && !dateSchema.safeParse(expiresAt).success) throw invalidField('expiresAt', 'must be a date (YYYY-MM-DD) or RFC 3339 timestamp');
    const result = await inTransaction(deps, request, async (ctx) => {
      const application = await ctx.tx.get('Application', request.params.app);
      if (!application || !(await sees(ctx.tx, ctx.principal, application.resource))) throw notFound(`Application ${request.params.app}`);
      const a = await ctx.tx.get('Api', api);
      if (!a || a.resource.kind !== 'Api' || !canSee(ctx.principal, a.resource)) throw notFound(`Api ${api}`);
      const spec = a.resource.spec;
      let version: string | undefined;
      const asked = optionalString(b, 'version');
      if (asked !== undefined) {
        version = versionKey(asked);
        if (version === undefined || !spec.versions.some((v) => v.name === version)) throw invalidField('version', `Api ${api} has no version ${asked}`);
      } else {
        // the newest version served in that environment
        const served = spec.versions.filter((v) => v.environments[env] && isServed(v.environments[env].state)).map((v) => v.name);
        version = served.sort((x, y) => Number(y.slice(1)) - Number(x.slice(1)))[0];
        if (version === undefined) throw invalidField('environment', `Api ${api} is not published in ${env}; name a version to subscribe ahead`);
      }
      const name = subscriptionName(request.params.app, api, version, env);
      const next = parseResource({
        apiVersion: API_VERSION,
        kind: 'Subscription',
        metadata: { name },
        spec: { application: request.params.app, api, version, plan, environment: env, ...(expiresAt !== undefined && { expiresAt }) },
      });
      const { stored } = await writeResource(ctx, next, { expectedVersion: 0, action: 'subscribe' });
      const out = render(stored);
      if (key !== undefined) await ctx.tx.saveIdempotent(key, ctx.principal.name, { requestHash: requestHash(request), status: 201, body: out });
      return { stored, out };
    });
    return reply.code(201).header('etag', etag(result.stored)).header('location', `/v1/subscriptions/${result.stored.resource.metadata.name}`).send(result.out);
  });

  for (const action of ['approve', 'reject', 'suspend', 'resume'] as const satisfies readonly SubscriptionAction[]) {
    app.post<{ Params: { name: string } }>(`/v1/subscriptions/:name/${action}`, async (request, reply) => {
      requireSignedIn(request.principal);
      const b = body(request.body, ['reason']);
      const reason = optionalString(b, 'reason');
      const stored = await inTransaction(deps, request, (ctx) =>
        decideSubscription(ctx, request.params.name, action, reason, async (next, act) => (await writeResource(ctx, next, { action: act })).stored),
      );
      return reply.header('etag', etag(stored)).send(render(stored));
    });
  }

  app.post<{ Params: { app: string } }>('/v1/applications/:app/keys', async (request, reply) => {
    requireSignedIn(request.principal);
    const b = body(request.body, ['expiresInDays']);
    const expiresAt = expiry(b);
    const result = await inTransaction(deps, request, async (ctx) => {
      const application = await ctx.tx.get('Application', request.params.app);
      if (!application || !(await sees(ctx.tx, ctx.principal, application.resource))) throw notFound(`Application ${request.params.app}`);
      const key = newApiKey();
      const { stored } = await writeResource(ctx, apiKeyCredential(credentialName(request.params.app), request.params.app, key, expiresAt), { expectedVersion: 0, action: 'key.create' });
      return { key, stored };
    });
    return reply.code(201).header('cache-control', 'no-store').send({ key: result.key, credential: render(result.stored) });
  });

  app.get<{ Params: { app: string } }>('/v1/applications/:app/keys', async (request) => {
    requireSignedIn(request.principal);
    const application = await deps.store.get('Application', request.params.app);
    if (!application || !(await sees(deps.store, request.principal, application.resource))) throw notFound(`Application ${request.params.app}`);
    const creds = await deps.store.list('Credential', { limit: 100000 });
    return { items: creds.filter((c) => c.resource.kind === 'Credential' && c.resource.spec.application === request.params.app).map((c) => render(c)) };
  });

  app.post<{ Params: { name: string } }>('/v1/credentials/:name/rotate', async (request, reply) => {
    requireSignedIn(request.principal);
    const b = body(request.body, ['overlapSeconds', 'expiresInDays']);
    const overlap = b.overlapSeconds ?? 86400;
    if (typeof overlap !== 'number' || !Number.isInteger(overlap) || overlap < 0 || overlap > 30 * 86400) throw invalidField('overlapSeconds', 'must be a whole number of seconds from 0 to 2592000 (30 days)');
    const expiresAt = expiry(b);
    const result = await inTransaction(deps, request, async (ctx) => {
      const old = await ctx.tx.get('Credential', request.params.name);
      if (!old || old.resource.kind !== 'Credential' || !(await sees(ctx.tx, ctx.principal, old.resource))) throw notFound(`Credential ${request.params.name}`);
      if (old.resource.spec.type !== 'api-key') throw invalidField('(path)', `Credential ${request.params.name} is not an API key`);
      const application = old.resource.spec.application;
      const until = new Date(Date.now() + overlap * 1000).toISOString();
      const oldEnds = old.resource.spec.expiresAt !== undefined && Date.parse(old.resource.spec.expiresAt) < Date.parse(until) ? old.resource.spec.expiresAt : until;
      await writeResource(ctx, parseResource({ ...old.resource, spec: { ...old.resource.spec, expiresAt: oldEnds } }), { action: 'key.rotate-out' });
      const key = newApiKey();
      const { stored } = await writeResource(ctx, apiKeyCredential(credentialName(application), application, key, expiresAt), { expectedVersion: 0, action: 'key.rotate-in' });
      return { key, stored, previous: { name: request.params.name, expiresAt: oldEnds } };
    });
    return reply.code(201).header('cache-control', 'no-store').send({ key: result.key, credential: render(result.stored), previous: result.previous });
  });

  app.get<{ Params: { name: string } }>('/v1/apis/:name/consumers', async (request) => {
    requireSignedIn(request.principal);
    const api = await deps.store.get('Api', request.params.name);
    if (!api || !canSee(request.principal, api.resource)) throw notFound(`Api ${request.params.name}`);
    const owner = await approvesFor(deps.store, request.principal, request.params.name);
    const rawVersion = (request.query as Record<string, unknown>).version;
    const version = typeof rawVersion === 'string' && rawVersion !== '' ? versionKey(rawVersion) : undefined;
    if (typeof rawVersion === 'string' && rawVersion !== '' && version === undefined) throw invalidField('version', 'must be a version like v1, 1 or 1.2.0');
    const subs = (await deps.store.list('Subscription', { limit: 100000 })).filter((s) => s.resource.kind === 'Subscription' && s.resource.spec.api === request.params.name && (version === undefined || s.resource.spec.version === version));
    // who still calls: each application's calls in the last 7 days and its last call in the last 30, from the gateways' reports
    const now = Date.now();
    const calls = new Map<string, { last7: number; lastAt?: string }>();
    for (const u of await deps.store.usage({ api: request.params.name, since: new Date(now - 30 * 86_400_000).toISOString() })) {
      if (u.application === undefined) continue;
      const key = `${u.version}/${u.environment}/${u.application}`;
      const c = calls.get(key) ?? { last7: 0 };
      if (Date.parse(u.minute) >= now - 7 * 86_400_000) c.last7 += u.count;
      if (c.lastAt === undefined || u.minute > c.lastAt) c.lastAt = u.minute;
      calls.set(key, c);
    }
    const items = [];
    for (const s of subs) {
      if (s.resource.kind !== 'Subscription') continue;
      // the API's owners see every consumer; anyone else sees only their own team's subscriptions
      if (!owner && !(await sees(deps.store, request.principal, s.resource))) continue;
      const app = await deps.store.get('Application', s.resource.spec.application);
      const seen = calls.get(`${s.resource.spec.version}/${s.resource.spec.environment}/${s.resource.spec.application}`);
      items.push({
        subscription: s.resource.metadata.name,
        application: s.resource.spec.application,
        team: app?.resource.kind === 'Application' ? app.resource.spec.owner : undefined,
        version: s.resource.spec.version,
        environment: s.resource.spec.environment,
        plan: s.resource.spec.plan,
        state: s.resource.spec.state,
        ...(s.resource.spec.expiresAt !== undefined && { expiresAt: s.resource.spec.expiresAt }),
        callsLast7Days: seen?.last7 ?? 0,
        ...(seen?.lastAt !== undefined && { lastCallAt: seen.lastAt }),
      });
    }
    return { items };
  });
}
