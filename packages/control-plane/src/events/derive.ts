// Which events a committed change means: compares a resource before and after one write (the write path calls
// this for every create, change and delete) and names the teams each event concerns, for visibility and webhooks.
import type { AnyResource, ApiSpec } from '@apigov/model';
import { diffOpenApi, summarizeChanges, type OpenApiDocument } from '@apigov/openapi';
import type { EventInput, StoreTx } from '@apigov/store';
import type { EventType } from './catalog.js';
import { appTeam } from '../visibility.js';

type Lookup = Pick<StoreTx, 'get' | 'list' | 'operationUsage'>;

const WEEK = 7 * 86_400_000;

/** The applications subscribed to a version in an environment (not rejected or expired), with their teams. */
export async function subscribersOf(l: Lookup, api: string, version: string, environment: string): Promise<Array<{ subscription: string; application: string; team?: string }>> {
  const out: Array<{ subscription: string; application: string; team?: string }> = [];
  for (const s of await l.list('Subscription', { limit: 100_000 })) {
    if (s.resource.kind !== 'Subscription') continue;
    const sp = s.resource.spec;
    if (sp.api !== api || sp.version !== version || sp.environment !== environment || sp.state === 'rejected' || sp.state === 'expired') continue;
    const team = await appTeam(l, sp.application);
    out.push({ subscription: s.resource.metadata.name, application: sp.application, ...(team !== undefined && { team }) });
  }
  return out;
}

/**
 * The deprecation loop's notice to each subscribed application's team: the sunset, the successor, the changelog
 * between them (from the diff engine) and that application's own calls to the version in the last 7 days.
 */
async function deprecationNotices(l: Lookup, name: string, spec: ApiSpec, version: string, environment: string, sunset?: string, successor?: string): Promise<Derived[]> {
  const subscribers = await subscribersOf(l, name, version, environment);
  if (subscribers.length === 0) return [];
  const from = spec.versions.find((v) => v.name === version);
  const to = successor === undefined ? undefined : spec.versions.find((v) => v.name === successor);
  let changelog: Record<string, number> | undefined;
  if (from !== undefined && to !== undefined && to.name !== from.name) {
    try {
      changelog = summarizeChanges(diffOpenApi(from.openapi as OpenApiDocument, to.openapi as OpenApiDocument));
    } catch {
      changelog = undefined;
    }
  }
  const usage = await l.operationUsage({ api: name, version, since: new Date(Date.now() - WEEK).toISOString() });
  return subscribers.map((s) => ({
    type: 'api.version.deprecation-notice' as const,
    subject: { kind: 'Api', name, version, environment },
    teams: s.team === undefined ? [] : [s.team],
    data: {
      api: name,
      version,
      environment,
      application: s.application,
      subscription: s.subscription,
      ...(sunset !== undefined && { sunset }),
      ...(successor !== undefined && { successor, changelogUrl: `/v1/apis/${name}/diff` }),
      ...(changelog !== undefined && { changelog }),
      requestsLast7Days: usage.filter((u) => u.environment === environment && u.application === s.application).reduce((n, u) => n + u.requests, 0),
    },
  }));
}

interface Derived extends Omit<EventInput, 'actor' | 'type'> {
  type: EventType;
}

async function apiFacts(l: Lookup, api: string): Promise<{ owner?: string; public: boolean }> {
  const a = await l.get('Api', api);
  if (a?.resource.kind !== 'Api') return { public: false };
  return { owner: a.resource.spec.owner, public: a.resource.spec.visibility !== 'team-only' };
}


const teams = (...t: Array<string | undefined>) => [...new Set(t.filter((x): x is string => x !== undefined))];

const SUBSCRIPTION_MOVES: Record<string, EventType> = {
  'pending>approved': 'subscription.approved',
  'pending>rejected': 'subscription.rejected',
  'approved>suspended': 'subscription.suspended',
  'suspended>approved': 'subscription.resumed',
  'approved>expired': 'subscription.expired',
  'suspended>expired': 'subscription.expired',
  'expired>approved': 'subscription.renewed',
};

/** The events of one write; `action` is the write's audit action (key.create, key.rotate-in, …). */
export async function eventsOfChange(l: Lookup, before: AnyResource | undefined, after: AnyResource | undefined, action?: string): Promise<Derived[]> {
  const r = after ?? before;
  if (r === undefined) return [];
  const out: Derived[] = [];
  switch (r.kind) {
    case 'Api': {
      const next = after?.kind === 'Api' ? after.spec : undefined;
      const prev = before?.kind === 'Api' ? before.spec : undefined;
      if (next === undefined) return [];
      const owner = next.owner;
      const shared = { teams: [owner], public: next.visibility !== 'team-only' };
      const name = r.metadata.name;
      if (prev === undefined) out.push({ type: 'api.registered', subject: { kind: 'Api', name }, ...shared, data: { api: name, owner, visibility: next.visibility, versions: next.versions.map((v) => v.name) } });
      for (const v of next.versions) {
        const old = prev?.versions.find((o) => o.name === v.name);
        for (const [env, e] of Object.entries(v.environments)) {
          const from = old?.environments[env]?.state ?? 'draft';
          if (e.state === from) continue;
          const subject = { kind: 'Api', name, version: v.name, environment: env };
          const base = { api: name, version: v.name, environment: env, owner };
          if (e.state === 'published') out.push({ type: 'api.version.published', subject, ...shared, data: base });
          else if (e.state === 'deprecated') {
            out.push({ type: 'api.version.deprecated', subject, ...shared, data: { ...base, ...(e.sunset !== undefined && { sunset: e.sunset }), ...(e.successor !== undefined && { successor: e.successor }) } });
            out.push(...(await deprecationNotices(l, name, next, v.name, env, e.sunset, e.successor)));
          }
          else if (e.state === 'retired') out.push({ type: 'api.version.retired', subject, ...shared, data: base });
        }
      }
      return out;
    }
    case 'Subscription': {
      const next = after?.kind === 'Subscription' ? after.spec : undefined;
      const prev = before?.kind === 'Subscription' ? before.spec : undefined;
      const s = (next ?? prev)!;
      const api = await apiFacts(l, s.api);
      const shared = { subject: { kind: 'Subscription', name: r.metadata.name }, teams: teams(api.owner, await appTeam(l, s.application)) };
      const data = {
        subscription: r.metadata.name,
        application: s.application,
        api: s.api,
        version: s.version,
        environment: s.environment,
        plan: s.plan,
        state: s.state,
        ...(s.decidedBy !== undefined && { decidedBy: s.decidedBy }),
        ...(s.reason !== undefined && { reason: s.reason }),
        ...(s.expiresAt !== undefined && { expiresAt: s.expiresAt }),
      };
      if (next === undefined) return [{ type: 'subscription.revoked', ...shared, data }];
      if (prev === undefined) {
        out.push({ type: 'subscription.requested', ...shared, data: { ...data, state: 'pending' } });
        if (next.state === 'approved') out.push({ type: 'subscription.approved', ...shared, data });
        return out;
      }
      const move = SUBSCRIPTION_MOVES[`${prev.state}>${next.state}`];
      if (move !== undefined) return [{ type: move, ...shared, data }];
      // more time for an approved subscription
      if (prev.state === 'approved' && next.state === 'approved' && next.expiresAt !== undefined && (prev.expiresAt === undefined || next.expiresAt > prev.expiresAt)) return [{ type: 'subscription.renewed', ...shared, data }];
      return [];
    }
    case 'Credential': {
      const c = after?.kind === 'Credential' ? after.spec : before?.kind === 'Credential' ? before.spec : undefined;
      if (c === undefined || c.type !== 'api-key') return [];
      const shared = { subject: { kind: 'Credential', name: r.metadata.name }, teams: teams(await appTeam(l, c.application)) };
      const data = { credential: r.metadata.name, application: c.application, ...(c.prefix !== undefined && { prefix: c.prefix }), ...(c.expiresAt !== undefined && { expiresAt: c.expiresAt }) };
      if (after === undefined) return [{ type: 'key.revoked', ...shared, data }];
      if (before === undefined) return [{ type: action === 'key.rotate-in' ? 'key.rotated' : 'key.created', ...shared, data }];
      return [];
    }
    default:
      return [];
  }
}
