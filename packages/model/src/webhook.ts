// `kind: Webhook`: where events go (a URL), which ones (types), whose (a team's events about its own APIs and
// applications, or, without a team, every event: platform admins only), in what shape, and whether it is on.
// Its signing secret is never part of the resource: the control plane keeps it apart and shows it once.
import { z } from 'zod';
import { resourceName } from './resource.js';
import { secretRef } from './identity.js';

/** standard: the event as JSON, signed; slack and teams: a message for an incoming webhook; jira: an issue to
 * create; email: a message over SMTP (the url is mailto:ADDRESS[,ADDRESS…], the server APIGOV_SMTP_URL) */
export const WEBHOOK_FORMATS = ['standard', 'slack', 'teams', 'jira', 'email'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export const webhookSpec = z
  .object({
    description: z.string().max(1000).optional(),
    url: z
      .string()
      .url({ message: 'must be an absolute URL' })
      .refine((u) => /^https?:\/\//.test(u) || /^mailto:[^\s@,]+@[^\s@,]+(,[^\s@,]+@[^\s@,]+)*$/.test(u), { message: 'must be an http or https URL, or mailto:ADDRESS for the email format' }),
    /** event types (GET /v1/events/types), or `*` for all */
    events: z.array(z.string().regex(/^(\*|[a-z]+(\.[a-z-]+)+)$/, { message: 'must be an event type like api.version.published, or *' })).min(1).max(100),
    /** whose events: a team's (about its APIs and applications); absent: every event (platform admins) */
    team: resourceName.optional(),
    format: z.enum(WEBHOOK_FORMATS).default('standard'),
    /** the jira format: which project the issues go to, and as what type */
    jira: z.object({ project: z.string().regex(/^[A-Z][A-Z0-9_]{0,19}$/, { message: 'must be a Jira project key like OPS' }), issueType: z.string().min(1).max(50).default('Task') }).strict().optional(),
    /** the Authorization header to send (a Jira API token, say), read from the environment or a file, never stored */
    authorization: secretRef.optional(),
    enabled: z.boolean().default(true),
    /** why the control plane turned it off (410 Gone, failing for days); cleared by enabling it again */
    disabledReason: z.string().max(500).optional(),
  })
  .strict()
  .refine((w) => (w.format === 'email') === w.url.startsWith('mailto:'), { message: 'the email format takes a mailto: url, and only it does', path: ['url'] })
  .refine((w) => w.format !== 'jira' || w.jira !== undefined, { message: 'the jira format needs jira: {project, issueType}', path: ['jira'] });

export type WebhookSpec = z.infer<typeof webhookSpec>;
