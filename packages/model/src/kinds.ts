// The resource kinds of the catalog (Team, User, Environment, Api, Plan, GovernanceRuleset, AccessPolicy, IdentityProvider, …) as strict zod schemas.
import { z } from 'zod';
import { contactSchema, dateSchema, emailSchema, resourceName, urlSchema } from './resource.js';
import { VERSION_KEY_PATTERN } from './names.js';
import { LIFECYCLE_STATES } from './lifecycle.js';
import { applicationSpec, credentialSpec, subscriptionSpec, type ApplicationSpec, type CredentialSpec, type SubscriptionSpec } from './consumption.js';
import { policySpec, type PolicySpec } from './policy.js';
import { webhookSpec, type WebhookSpec } from './webhook.js';
import { identityProviderSpec, MEMBER_ROLES, type IdentityProviderSpec } from './identity.js';
import { accessPolicySpec, publishRequestSpec, type AccessPolicySpec, type PublishRequestSpec } from './access.js';

export const ROLES = ['platform-admin', 'owner', 'member', 'consumer'] as const;
export type Role = (typeof ROLES)[number];

export const VISIBILITIES = ['public', 'internal', 'team-only'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

export const teamSpec = z
  .object({
    displayName: z.string().max(200).optional(),
    description: z.string().max(4000).optional(),
    contact: contactSchema.optional(),
  })
  .strict();

export const userSpec = z
  .object({
    team: resourceName.optional(),
    role: z.enum(ROLES),
    /** memberships beyond the first: a person may be in several teams, with a role in each */
    teams: z.array(z.object({ team: resourceName, role: z.enum(MEMBER_ROLES) }).strict()).max(200).optional(),
    displayName: z.string().max(200).optional(),
    email: emailSchema.optional(),
    /** false: deactivated (SCIM); every session and token of the user stops working */
    active: z.boolean().optional(),
    /** who the person is at an IdentityProvider (set at their first single sign-on, or by SCIM) */
    identity: z.object({ provider: resourceName, subject: z.string().min(1).max(256) }).strict().optional(),
    /** the SCIM client's id for the user, and its user name there (an e-mail address or UPN, often) */
    externalId: z.string().min(1).max(256).optional(),
    userName: z.string().min(1).max(256).optional(),
    /** their groups at the identity provider, as last seen (sign-in claims or SCIM); teams derive from them */
    groups: z.array(z.string().min(1).max(256)).max(1000).optional(),
  })
  .strict()
  .refine((u) => u.role === 'platform-admin' || u.role === 'consumer' || u.team !== undefined, {
    message: 'a team is required for roles owner and member',
    path: ['team'],
  });

export const environmentSpec = z
  .object({
    displayName: z.string().max(200).optional(),
    description: z.string().max(4000).optional(),
    production: z.boolean().default(false),
    order: z.number().int().min(0).max(1000).default(0),
    /** Public base URL of this environment's gateway, shown by `describe`. */
    gatewayUrl: urlSchema.optional(),
  })
  .strict();

const versionKeySchema = z.string().regex(VERSION_KEY_PATTERN, { message: 'must be a version key like v1' });

export const routePrefixSchema = z
  .string()
  .regex(/^(\/[A-Za-z0-9._~-]+)+$/, { message: "must be a path like /payments/v1 (segments of letters, digits, '.', '_', '~', '-')" })
  .refine((p) => !p.split('/').includes('..') && !p.split('/').includes('.'), { message: "must not contain '.' or '..' segments" });

export const apiEnvironmentSpec = z
  .object({
    upstream: urlSchema.optional(),
    routePrefix: routePrefixSchema.optional(),
    state: z.enum(LIFECYCLE_STATES).default('draft'),
    /** When the version was deprecated here (RFC 9745 Deprecation); written by the deprecate action. */
    deprecatedAt: dateSchema.optional(),
    /** When a deprecated version stops answering (RFC 8594 Sunset). */
    sunset: dateSchema.optional(),
    /** The version key that replaces this one (Link rel="successor-version"). */
    successor: versionKeySchema.optional(),
    /** planned short windows before the sunset in which the gateway answers 410 with the Link to the successor */
    brownouts: z
      .array(z.object({ start: dateSchema, end: dateSchema }).strict().refine((b) => Date.parse(b.end) > Date.parse(b.start), { message: 'end must be after start', path: ['end'] }))
      .max(50)
      .optional(),
  })
  .strict();

export const apiVersionSpec = z
  .object({
    name: versionKeySchema,
    /** `info.version` of the document, written by register (informational). */
    revision: z.string().max(100).optional(),
    /** The bundled OpenAPI document (2.0, 3.0 or 3.1) with only internal $refs. */
    openapi: z.record(z.string(), z.unknown()),
    environments: z.record(resourceName, apiEnvironmentSpec).default({}),
  })
  .strict();

export const apiSpec = z
  .object({
    owner: resourceName,
    title: z.string().min(1).max(200),
    description: z.string().max(20000).optional(),
    tags: z.array(z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, { message: 'must be a lowercase tag' })).max(50).default([]),
    visibility: z.enum(VISIBILITIES).default('internal'),
    contact: contactSchema.optional(),
    /** a deprecated version retires itself at its sunset (the sunset clock) */
    retireAtSunset: z.boolean().optional(),
    versions: z.array(apiVersionSpec).min(1, { message: 'an Api needs at least one version' }),
  })
  .strict()
  .superRefine((api, ctx) => {
    const seen = new Set<string>();
    api.versions.forEach((v, i) => {
      if (seen.has(v.name)) ctx.addIssue({ code: 'custom', path: ['versions', i, 'name'], message: `duplicate version ${v.name}` });
      seen.add(v.name);
      for (const [env, e] of Object.entries(v.environments)) {
        if (e.successor !== undefined && !api.versions.some((o) => o.name === e.successor)) {
          ctx.addIssue({ code: 'custom', path: ['versions', i, 'environments', env, 'successor'], message: `unknown version ${e.successor}` });
        }
        if (e.state !== 'draft' && e.upstream === undefined) {
          ctx.addIssue({ code: 'custom', path: ['versions', i, 'environments', env, 'upstream'], message: `an upstream URL is required to be ${e.state} in ${env}` });
        }
      }
    });
  });

export const planSpec = z
  .object({
    displayName: z.string().max(200).optional(),
    description: z.string().max(4000).optional(),
    rateLimit: z
      .object({ perSecond: z.number().int().positive().optional(), perMinute: z.number().int().positive().optional() })
      .strict()
      .optional(),
    quota: z
      .object({ perDay: z.number().int().positive().optional(), perMonth: z.number().int().positive().optional() })
      .strict()
      .optional(),
    approval: z.enum(['auto', 'manual']).default('auto'),
    /** with manual approval: who approves (the API's owner team, the platform, or both), and whether in that order */
    approvers: z.array(z.enum(['owners', 'platform'])).min(1).max(2).optional(),
    approvalOrder: z.enum(['sequential', 'parallel']).optional(),
    /** hours a request may wait before subscription.approval-overdue goes to the platform */
    approvalSlaHours: z.number().positive().max(8760).optional(),
    /** Environments the plan is offered in; empty means every environment. */
    environments: z.array(resourceName).default([]),
  })
  .strict();

export const GATE_LEVELS = ['error', 'warn', 'never'] as const;
/** What a diff rule's level may be set to in a ruleset. */
export const CHANGE_LEVEL_OVERRIDES = ['breaking', 'warning', 'info', 'off'] as const;
/** The level of change at which a new revision of a published version is refused in an environment. */
export const BREAKING_GATE_LEVELS = ['breaking', 'warning', 'never'] as const;
export type BreakingGateLevel = (typeof BREAKING_GATE_LEVELS)[number];
export type GateLevel = (typeof GATE_LEVELS)[number];

export const governanceRulesetSpec = z
  .object({
    description: z.string().max(4000).optional(),
    /** Severity overrides for lint rules (spectral:oas and apigov house rules); 'off' disables a rule. */
    rules: z.record(z.string().min(1), z.enum(['error', 'warn', 'info', 'hint', 'off'])).default({}),
    /** Which finding severity blocks publishing to an environment; `*` matches any environment not listed. */
    gates: z
      .array(z.object({ environment: z.union([resourceName, z.literal('*')]), blockOn: z.enum(GATE_LEVELS) }).strict())
      .default([]),
    /** The breaking-change check of a published version's new revision (rule ids of @apigov/openapi's diff engine). */
    breakingChanges: z
      .object({
        /** Level overrides per diff rule id; 'off' drops the rule. */
        rules: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, { message: 'must be a diff rule id (kebab-case)' }), z.enum(CHANGE_LEVEL_OVERRIDES)).default({}),
        /** Which level refuses a new revision in an environment; `*` matches any environment not listed. Default: breaking everywhere. */
        gates: z.array(z.object({ environment: z.union([resourceName, z.literal('*')]), blockOn: z.enum(BREAKING_GATE_LEVELS) }).strict()).default([]),
        /** Waivers by fingerprint: this one change does not block this API until the expiry date. */
        exceptions: z
          .array(
            z
              .object({ fingerprint: z.string().regex(/^[0-9a-f]{20}$/, { message: 'must be a change fingerprint (20 hex characters)' }), api: resourceName, version: versionKeySchema.optional(), reason: z.string().min(1).max(1000), expires: dateSchema })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .optional(),
    /** Waivers: a rule that does not block one API until the expiry date. */
    exceptions: z
      .array(
        z
          .object({ rule: z.string().min(1), api: resourceName, version: versionKeySchema.optional(), reason: z.string().min(1).max(1000), expires: dateSchema })
          .strict(),
      )
      .default([]),
  })
  .strict();

export type TeamSpec = z.infer<typeof teamSpec>;
export type UserSpec = z.infer<typeof userSpec>;
export type EnvironmentSpec = z.infer<typeof environmentSpec>;
export type ApiEnvironmentSpec = z.infer<typeof apiEnvironmentSpec>;
export type ApiVersionSpec = z.infer<typeof apiVersionSpec>;
export type ApiSpec = z.infer<typeof apiSpec>;
export type PlanSpec = z.infer<typeof planSpec>;
export type GovernanceRulesetSpec = z.infer<typeof governanceRulesetSpec>;

/** Kinds in dependency order: apply creates in this order and deletes in reverse. */
export const KINDS = ['Team', 'Environment', 'User', 'Plan', 'GovernanceRuleset', 'AccessPolicy', 'IdentityProvider', 'Api', 'PublishRequest', 'Policy', 'Application', 'Subscription', 'Credential', 'Webhook'] as const;
export type Kind = (typeof KINDS)[number];

export const specSchemas = {
  Team: teamSpec,
  Environment: environmentSpec,
  User: userSpec,
  Plan: planSpec,
  GovernanceRuleset: governanceRulesetSpec,
  AccessPolicy: accessPolicySpec,
  IdentityProvider: identityProviderSpec,
  Api: apiSpec,
  PublishRequest: publishRequestSpec,
  Policy: policySpec,
  Application: applicationSpec,
  Subscription: subscriptionSpec,
  Credential: credentialSpec,
  Webhook: webhookSpec,
} as const;

export interface SpecOf {
  Team: TeamSpec;
  Environment: EnvironmentSpec;
  User: UserSpec;
  Plan: PlanSpec;
  GovernanceRuleset: GovernanceRulesetSpec;
  AccessPolicy: AccessPolicySpec;
  IdentityProvider: IdentityProviderSpec;
  Api: ApiSpec;
  PublishRequest: PublishRequestSpec;
  Policy: PolicySpec;
  Application: ApplicationSpec;
  Subscription: SubscriptionSpec;
  Credential: CredentialSpec;
  Webhook: WebhookSpec;
}

/** URL path segment of each kind in the REST API (`/v1/teams`). */
export const KIND_PLURALS: Record<Kind, string> = {
  Team: 'teams',
  Environment: 'environments',
  User: 'users',
  Plan: 'plans',
  GovernanceRuleset: 'governance-rulesets',
  AccessPolicy: 'access-policies',
  IdentityProvider: 'identity-providers',
  PublishRequest: 'publish-requests',
  Api: 'apis',
  Policy: 'policies',
  Application: 'applications',
  Subscription: 'subscriptions',
  Credential: 'credentials',
  Webhook: 'webhooks',
};

export function isKind(k: unknown): k is Kind {
  return typeof k === 'string' && (KINDS as readonly string[]).includes(k);
}
