// The consumer side of the catalog: Applications owned by teams, their Subscriptions to an API version
// in an environment on a plan, and the Credentials (API keys, JWT bindings) that identify them.
import { z } from 'zod';
import { dateSchema, resourceName } from './resource.js';
import { VERSION_KEY_PATTERN } from './names.js';

export const applicationSpec = z
  .object({
    owner: resourceName,
    displayName: z.string().max(200).optional(),
    description: z.string().max(4000).optional(),
  })
  .strict();

export const SUBSCRIPTION_STATES = ['pending', 'approved', 'rejected', 'suspended', 'expired'] as const;
export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];

export const subscriptionSpec = z
  .object({
    application: resourceName,
    api: resourceName,
    version: z.string().regex(VERSION_KEY_PATTERN, { message: 'must be a version key like v1' }),
    plan: resourceName,
    environment: resourceName,
    /** after this the subscription stops admitting traffic (state expired) */
    expiresAt: dateSchema.optional(),
    /** written by the control plane: auto-approved plans start approved, manual ones pending */
    state: z.enum(SUBSCRIPTION_STATES).default('pending'),
    /** who approved, rejected or suspended it, and why */
    decidedBy: z.string().max(200).optional(),
    reason: z.string().max(1000).optional(),
    /** the approvals given so far, for a plan with several approvers (server-written) */
    approvals: z.array(z.object({ by: z.enum(['owners', 'platform']), who: z.string().max(200), at: z.string().max(40) }).strict()).max(2).optional(),
    /** when the control plane said the approval is overdue, and that the subscription is about to expire (server-written) */
    overdueNotifiedAt: z.string().max(40).optional(),
    expiringNotifiedAt: z.string().max(40).optional(),
  })
  .strict();

export const credentialSpec = z
  .object({
    application: resourceName,
    type: z.enum(['api-key', 'jwt']),
    /** api-key: sha256 (hex) of the key; the key itself is shown once and never stored */
    keyHash: z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be a sha256 hex digest' }).optional(),
    /** api-key: the key's first characters, for lookup and display */
    prefix: z.string().max(16).optional(),
    /** after this the credential no longer authenticates (rotation overlap, expiry) */
    expiresAt: dateSchema.optional(),
    /** jwt: tokens from this issuer whose `sub` (or `client_id`/`azp`) matches identify the application */
    issuer: z.string().min(1).optional(),
    subject: z.string().min(1).optional(),
    clientId: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.type === 'api-key' && c.keyHash === undefined) ctx.addIssue({ code: 'custom', path: ['keyHash'], message: 'an api-key credential needs keyHash' });
    if (c.type === 'jwt') {
      if (c.issuer === undefined) ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'a jwt credential needs issuer' });
      if (c.subject === undefined && c.clientId === undefined) ctx.addIssue({ code: 'custom', path: ['subject'], message: 'a jwt credential needs subject or clientId' });
      if (c.keyHash !== undefined) ctx.addIssue({ code: 'custom', path: ['keyHash'], message: 'only api-key credentials have keyHash' });
    }
  });

export type ApplicationSpec = z.infer<typeof applicationSpec>;
export type SubscriptionSpec = z.infer<typeof subscriptionSpec>;
export type CredentialSpec = z.infer<typeof credentialSpec>;
