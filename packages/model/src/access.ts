// Rights per environment (`kind: AccessPolicy`): which roles of an API's owning team may publish, deprecate and
// retire it in which environments. The first rule that matches wins: the AccessPolicy resources' rules (by name),
// then the defaults, under which a production environment needs the owner role and the others take owners and
// members. Platform admins may always.
import { z } from 'zod';
import { resourceName } from './resource.js';
import { cidrSchema } from './policy.js';

export const LIFECYCLE_ACTIONS = ['publish', 'deprecate', 'retire'] as const;
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];
export const PRODUCER_ROLES = ['owner', 'member'] as const;

/** Sensitive actions a step-up can guard. */
export const STEP_UP_ACTIONS = ['publish-production', 'key-create', 'key-rotate', 'environment-policy', 'audit-export', 'token-create', 'access-change'] as const;
export type StepUpAction = (typeof STEP_UP_ACTIONS)[number];

export const accessRule = z
  .object({
    actions: z.array(z.enum(LIFECYCLE_ACTIONS)).min(1),
    /** `production`: every environment marked production; `non-production`: the others; `*`: all; or names */
    environments: z.union([z.enum(['production', 'non-production', '*']), z.array(resourceName).min(1)]),
    /** the owning team's roles allowed; an empty list: platform admins only */
    roles: z.array(z.enum(PRODUCER_ROLES)),
  })
  .strict();

export const accessPolicySpec = z
  .object({
    description: z.string().max(4000).optional(),
    rules: z.array(accessRule).max(100).default([]),
    /** a publish to a production environment by anyone but a platform admin waits for a platform admin's approval */
    productionPublishApproval: z.boolean().default(false),
    /** destinations webhooks may reach although the SSRF rules refuse them (an internal receiver), besides APIGOV_WEBHOOK_ALLOW_CIDRS */
    webhookAllowCidrs: z.array(cidrSchema).max(100).optional(),
    /** actions a single-sign-on session may take only after a recent multi-factor sign-in (step-up) */
    stepUp: z
      .object({
        actions: z.array(z.enum(STEP_UP_ACTIONS)).min(1),
        /** how recent the sign-in must be (auth_time) */
        maxAgeMinutes: z.number().int().min(1).max(1440).default(15),
      })
      .strict()
      .optional(),
  })
  .strict();

/** The strictest step-up any AccessPolicy asks for `action`: the shortest max age; undefined when none asks. */
export function stepUpFor(policies: ReadonlyArray<{ spec: AccessPolicySpec }>, action: StepUpAction): { maxAgeMinutes: number } | undefined {
  const ages = policies.flatMap((p) => (p.spec.stepUp?.actions.includes(action) ? [p.spec.stepUp.maxAgeMinutes] : []));
  return ages.length === 0 ? undefined : { maxAgeMinutes: Math.min(...ages) };
}

export const PUBLISH_REQUEST_STATES = ['pending', 'approved', 'rejected'] as const;

/** A publish to production waiting for a platform admin (AccessPolicy productionPublishApproval); server-written. */
export const publishRequestSpec = z
  .object({
    api: resourceName,
    version: z.string().regex(/^v\d+$/),
    environment: resourceName,
    upstream: z.string().url().optional(),
    routePrefix: z.string().max(200).optional(),
    requestedBy: z.string().min(1).max(200),
    state: z.enum(PUBLISH_REQUEST_STATES).default('pending'),
    decidedBy: z.string().max(200).optional(),
    reason: z.string().max(1000).optional(),
  })
  .strict();

export type PublishRequestSpec = z.infer<typeof publishRequestSpec>;

/** Whether any AccessPolicy asks for approval of production publishes. */
export function productionPublishNeedsApproval(policies: ReadonlyArray<{ spec: AccessPolicySpec }>): boolean {
  return policies.some((p) => p.spec.productionPublishApproval);
}

export type AccessRule = z.infer<typeof accessRule>;
export type AccessPolicySpec = z.infer<typeof accessPolicySpec>;

/** Today's behaviour, except that production takes owners only. */
export const DEFAULT_ACCESS_RULES: readonly AccessRule[] = [
  { actions: [...LIFECYCLE_ACTIONS], environments: 'production', roles: ['owner'] },
  { actions: [...LIFECYCLE_ACTIONS], environments: 'non-production', roles: ['owner', 'member'] },
];

export interface AccessDecision {
  roles: readonly string[];
  /** the AccessPolicy whose rule decided, or `default` */
  from: string;
}

/** The roles that may take `action` in `environment`, and which rule says so. */
export function accessFor(policies: ReadonlyArray<{ name: string; spec: AccessPolicySpec }>, action: LifecycleAction, environment: string, production: boolean): AccessDecision {
  const ordered = [...policies].sort((a, b) => a.name.localeCompare(b.name));
  const candidates = [...ordered.flatMap((p) => p.spec.rules.map((rule) => ({ rule, from: `AccessPolicy ${p.name}` }))), ...DEFAULT_ACCESS_RULES.map((rule) => ({ rule, from: 'default' }))];
  for (const { rule, from } of candidates) {
    if (!rule.actions.includes(action)) continue;
    const e = rule.environments;
    const matches = e === '*' || (e === 'production' && production) || (e === 'non-production' && !production) || (Array.isArray(e) && e.includes(environment));
    if (matches) return { roles: rule.roles, from };
  }
  return { roles: [], from: 'default' };
}
