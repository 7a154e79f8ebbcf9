// The subscription clock: what time alone changes. A pending subscription past its plan's approval SLA raises
// subscription.approval-overdue for the platform (once); an approved one within 7 days of its expiry raises
// subscription.expiring for its teams (once); one past its expiry becomes expired (subscription.expired).
import { parseResource, type SubscriptionSpec } from '@apigov/model';
import type { Store } from '@apigov/store';
import { writeResource, type WriteContext } from '../catalog/writes.js';
import { systemPrincipal } from '../auth.js';
import { appTeam } from '../visibility.js';

const SYSTEM = systemPrincipal('system:clock');
const EXPIRING_WITHIN_MS = 7 * 86_400_000;

function data(name: string, s: SubscriptionSpec): Record<string, unknown> {
  return { subscription: name, application: s.application, api: s.api, version: s.version, environment: s.environment, plan: s.plan, state: s.state, ...(s.expiresAt !== undefined && { expiresAt: s.expiresAt }) };
}

/** One pass over the subscriptions at time `now`; returns how many it changed. */
export async function runSubscriptionClock(store: Store, now = Date.now()): Promise<number> {
  return store.transaction(async (tx) => {
    const ctx: WriteContext = { tx, principal: SYSTEM, requestId: `clock-${now}` };
    const plans = new Map((await tx.list('Plan', { limit: 10_000 })).flatMap((p) => (p.resource.kind === 'Plan' ? [[p.resource.metadata.name, p.resource.spec] as const] : [])));
    const at = new Date(now).toISOString();
    let changed = 0;
    for (const s of await tx.list('Subscription', { limit: 100_000 })) {
      if (s.resource.kind !== 'Subscription') continue;
      const name = s.resource.metadata.name;
      const spec = s.resource.spec;
      const write = (next: SubscriptionSpec, action: string) => writeResource(ctx, parseResource({ ...s.resource, spec: next }), { action });
      const sla = plans.get(spec.plan)?.approvalSlaHours;
      if (spec.state === 'pending' && sla !== undefined && spec.overdueNotifiedAt === undefined && now - Date.parse(s.createdAt) > sla * 3_600_000) {
        await tx.emit({ type: 'subscription.approval-overdue', actor: SYSTEM.name, subject: { kind: 'Subscription', name }, teams: [], data: { ...data(name, spec), requestedAt: s.createdAt } });
        await write({ ...spec, overdueNotifiedAt: at }, 'clock.approval-overdue');
        changed++;
        continue;
      }
      if (spec.state !== 'approved' || spec.expiresAt === undefined) continue;
      const expires = Date.parse(spec.expiresAt);
      if (expires <= now) {
        await write({ ...spec, state: 'expired', decidedBy: SYSTEM.name }, 'clock.expire');
        changed++;
      } else if (expires - now <= EXPIRING_WITHIN_MS && !(spec.expiringNotifiedAt !== undefined && Date.parse(spec.expiringNotifiedAt) >= expires - EXPIRING_WITHIN_MS)) {
        // (a notice from before a renewal was about the earlier expiry: this one gets its own)
        const apiDoc = await tx.get('Api', spec.api);
        const teams = [await appTeam(tx, spec.application), apiDoc?.resource.kind === 'Api' ? apiDoc.resource.spec.owner : undefined].filter((t): t is string => t !== undefined);
        await tx.emit({ type: 'subscription.expiring', actor: SYSTEM.name, subject: { kind: 'Subscription', name }, teams, data: data(name, spec) });
        await write({ ...spec, expiringNotifiedAt: at }, 'clock.expiring');
        changed++;
      }
    }
    return changed;
  });
}
