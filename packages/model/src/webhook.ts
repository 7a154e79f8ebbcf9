// `kind: Webhook`: where events go (a URL), which ones (types), whose (a team's events about its own APIs and
// applications, or, without a team, every event: platform admins only), in what shape, and whether it is on.
// Its signing secret is never part of the resource: the control plane keeps it apart and shows it once.
import { z } from 'zod';
import { resourceName } from './resource.js';

export const WEBHOOK_FORMATS = ['standard'] as const;

export const webhookSpec = z
  .object({
    description: z.string().max(1000).optional(),
    url: z
      .string()
      .url({ message: 'must be an absolute URL' })
      .refine((u) => /^https?:\/\//.test(u), { message: 'must be an http or https URL' }),
    /** event types (GET /v1/events/types), or `*` for all */
    events: z.array(z.string().regex(/^(\*|[a-z]+(\.[a-z-]+)+)$/, { message: 'must be an event type like api.version.published, or *' })).min(1).max(100),
    /** whose events: a team's (about its APIs and applications); absent: every event (platform admins) */
    team: resourceName.optional(),
    format: z.enum(WEBHOOK_FORMATS).default('standard'),
    enabled: z.boolean().default(true),
    /** why the control plane turned it off (410 Gone, failing for days); cleared by enabling it again */
    disabledReason: z.string().max(500).optional(),
  })
  .strict();

export type WebhookSpec = z.infer<typeof webhookSpec>;
