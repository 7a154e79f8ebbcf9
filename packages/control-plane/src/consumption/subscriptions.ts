// Subscription workflow: who may subscribe, how a new subscription's state is decided (auto-approving plans
// approve at once, manual ones wait for the API's owner team or a platform admin), and the approval actions.
import { ApigovError, parseResource, type AnyResource, type SubscriptionSpec, type SubscriptionState } from '@apigov/model';
import type { StoredResource } from '@apigov/store';
import { notFound } from '../problem.js';
import { approvesFor, sees } from '../visibility.js';
import { canSee } from '../rbac.js';
import type { WriteContext } from '../catalog/writes.js';

const IDENTITY: Array<keyof SubscriptionSpec> = ['application', 'api', 'version', 'environment'];

/** Decides the server-written parts of a Subscription being created or changed, and refuses what the caller may not decide. */
export async function prepareSubscription(ctx: WriteContext, current: AnyResource | undefined, requested: AnyResource, prefix: string): Promise<AnyResource> {
  let next = requested;
  if (next.kind !== 'Subscription') return next;
  const { tx, principal } = ctx;
  const spec = next.spec;
  const api = await tx.get('Api', spec.api);
  if (!api || !canSee(principal, api.resource)) {
    throw new ApigovError('APIGOV_ERR_RESOURCE_REFERENCE', `${prefix}spec.api: unknown api '${spec.api}'`, { errors: [{ path: `${prefix}spec.api`, message: `unknown api '${spec.api}'` }] });
  }
  const approver = await approvesFor(tx, principal, spec.api);
  const plan = await tx.get('Plan', spec.plan);
  const auto = plan?.resource.kind === 'Plan' && plan.resource.spec.approval === 'auto';
  if (current === undefined || current.kind !== 'Subscription') {
    if (auto) return { ...next, spec: { ...spec, state: 'approved', decidedBy: 'auto-approval' } };
    if (approver) return next;
    return { ...next, spec: { ...spec, state: 'pending', decidedBy: undefined, reason: undefined } };
  }
  const was = current.spec;
  for (const field of IDENTITY) {
    if (was[field] !== spec[field]) {
      throw new ApigovError('APIGOV_ERR_INPUT_INVALID', `${prefix}spec.${field}: a subscription's ${field} cannot change; create a new subscription`, {
        errors: [{ path: `${prefix}spec.${field}`, message: 'cannot change' }],
      });
    }
  }
  // the server-written parts stay as they are unless the write says otherwise (a consumer's YAML does not carry them)
  const carried: SubscriptionSpec = {
    ...spec,
    ...(spec.approvals === undefined && was.approvals !== undefined && { approvals: was.approvals }),
    ...(spec.overdueNotifiedAt === undefined && was.overdueNotifiedAt !== undefined && { overdueNotifiedAt: was.overdueNotifiedAt }),
    ...(spec.expiringNotifiedAt === undefined && was.expiringNotifiedAt !== undefined && { expiringNotifiedAt: was.expiringNotifiedAt }),
  };
  next = { ...next, spec: carried };
  // a decided subscription's expiry is a decision too: a consumer cannot extend it (apigov renew asks)
  const decided = was.state === 'approved' || was.state === 'suspended' || was.state === 'expired';
  const decisionChanged =
    was.state !== carried.state ||
    was.plan !== carried.plan ||
    was.decidedBy !== carried.decidedBy ||
    was.reason !== carried.reason ||
    JSON.stringify(was.approvals) !== JSON.stringify(carried.approvals) ||
    (decided && was.expiresAt !== carried.expiresAt);
  // apigov renew on a self-service plan: the consumer gets more time (and an expired one back) as the plan itself decides
  const selfServiceRenewal =
    ctx.selfServiceRenewal === true &&
    auto &&
    was.plan === carried.plan &&
    was.reason === carried.reason &&
    JSON.stringify(was.approvals) === JSON.stringify(carried.approvals) &&
    (carried.state === was.state || (was.state === 'expired' && carried.state === 'approved'));
  if (decisionChanged && !approver && !selfServiceRenewal) {
    throw new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', `${principal.name} (${principal.role}) may not change the plan, state or expiry of Subscription ${next.metadata.name}; the owners of ${spec.api} or a platform admin decide (apigov renew asks for more time)`);
  }
  return next;
}

export type SubscriptionAction = 'approve' | 'reject' | 'suspend' | 'resume';

const transitions: Record<SubscriptionAction, { from: SubscriptionState[]; to: SubscriptionState }> = {
  approve: { from: ['pending', 'rejected'], to: 'approved' },
  reject: { from: ['pending'], to: 'rejected' },
  suspend: { from: ['approved'], to: 'suspended' },
  resume: { from: ['suspended'], to: 'approved' },
};

export async function decideSubscription(ctx: WriteContext, name: string, action: SubscriptionAction, reason: string | undefined, write: (next: AnyResource, action: string) => Promise<StoredResource>): Promise<StoredResource> {
  const current = await ctx.tx.get('Subscription', name);
  if (!current || current.resource.kind !== 'Subscription' || !(await sees(ctx.tx, ctx.principal, current.resource))) throw notFound(`Subscription ${name}`);
  const spec = current.resource.spec;
  if (!(await approvesFor(ctx.tx, ctx.principal, spec.api))) {
    throw new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', `${ctx.principal.name} (${ctx.principal.role}) may not ${action} subscriptions to ${spec.api}; its owner team or a platform admin does`);
  }
  const t = transitions[action];
  if (!t.from.includes(spec.state)) {
    throw new ApigovError('APIGOV_ERR_LIFECYCLE_TRANSITION', `Subscription ${name} is ${spec.state}; ${action} applies to ${t.from.join(' or ')} subscriptions`);
  }
  if ((action === 'reject' || action === 'suspend') && (reason === undefined || reason.trim() === '')) {
    throw new ApigovError('APIGOV_ERR_INPUT_INVALID', `reason: is required to ${action}`, { errors: [{ path: 'reason', message: 'is required' }] });
  }
  const plan = await ctx.tx.get('Plan', spec.plan);
  const approvers = plan?.resource.kind === 'Plan' && plan.resource.spec.approval === 'manual' ? plan.resource.spec.approvers : undefined;
  if (action === 'approve' && approvers !== undefined) return approveStep(ctx, current.resource.metadata.name, spec, approvers, plan?.resource.kind === 'Plan' ? (plan.resource.spec.approvalOrder ?? 'sequential') : 'sequential', reason, current.resource, write);
  const next = parseResource({
    ...current.resource,
    spec: { ...spec, state: t.to, decidedBy: ctx.principal.name, ...(reason !== undefined ? { reason } : { reason: undefined }) },
  });
  return write(next, action);
}

/**
 * One approval of a plan with several approvers: the caller's step (platform admins give the platform's, the API's
 * owner team the owners'); in order, the platform waits for the owners. The last step approves the subscription.
 */
async function approveStep(
  ctx: WriteContext,
  name: string,
  spec: SubscriptionSpec,
  approvers: ReadonlyArray<'owners' | 'platform'>,
  order: 'sequential' | 'parallel',
  reason: string | undefined,
  current: AnyResource,
  write: (next: AnyResource, action: string) => Promise<StoredResource>,
): Promise<StoredResource> {
  const p = ctx.principal;
  const given = spec.approvals ?? [];
  // a platform admin gives the platform's approval (the owners' only when the plan asks for theirs alone): one person never gives both
  const step: 'owners' | 'platform' = p.admin && approvers.includes('platform') ? 'platform' : 'owners';
  if (!approvers.includes(step)) throw new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', `${p.name} may not approve Subscription ${name}: its plan asks for ${approvers.join(' and ')}`);
  if (given.some((a) => a.by === step)) throw new ApigovError('APIGOV_ERR_LIFECYCLE_TRANSITION', `Subscription ${name} already has the ${step}' approval (by ${given.find((a) => a.by === step)!.who}); it waits for ${approvers.filter((a) => !given.some((g) => g.by === a)).join(' and ')}`);
  if (order === 'sequential') {
    const before = approvers.slice(0, approvers.indexOf(step)).filter((a) => !given.some((g) => g.by === a));
    if (before.length > 0) throw new ApigovError('APIGOV_ERR_LIFECYCLE_TRANSITION', `Subscription ${name} waits for the ${before.join(' and ')}' approval first (the plan approves in order: ${approvers.join(', then ')})`);
  }
  const approvals = [...given, { by: step, who: p.name, at: new Date().toISOString() }];
  const done = approvers.every((a) => approvals.some((g) => g.by === a));
  const next = parseResource({
    ...current,
    spec: { ...spec, approvals, ...(done ? { state: 'approved', decidedBy: p.name } : { state: 'pending' }), ...(reason !== undefined && { reason }) },
  });
  return write(next, done ? 'approve' : `approve.${step}`);
}

/** A deterministic name for an application's subscription to one API version in one environment. */
export function subscriptionName(app: string, api: string, version: string, env: string): string {
  const full = `${app}-${api}-${version}-${env}`;
  if (full.length <= 63) return full;
  let h = 0;
  for (const c of full) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `${full.slice(0, 54).replace(/-+$/, '')}-${h.toString(36).padStart(7, '0').slice(0, 7)}`;
}
