// The shapes an event leaves in: the Standard Webhooks JSON envelope, a Slack incoming-webhook message with blocks,
// a Microsoft Teams message carrying an Adaptive Card, a Jira issue-create body, and an e-mail (text and HTML).
import type { WebhookSpec } from '@apigov/model';

export interface Envelope {
  id: string;
  type: string;
  time: string;
  actor: string;
  subject: { kind: string; name: string; version?: string; environment?: string };
  data: Record<string, unknown>;
}

const VERBS: Record<string, string> = {
  'api.registered': 'was registered',
  'api.version.published': 'was published',
  'api.version.deprecated': 'was deprecated',
  'api.version.retired': 'was retired',
  'api.version.deprecation-notice': 'that your application uses was deprecated',
  'api.version.sunset-approaching': 'reaches its sunset soon',
  'subscription.requested': 'was requested',
  'subscription.approved': 'was approved',
  'subscription.rejected': 'was rejected',
  'subscription.suspended': 'was suspended',
  'subscription.resumed': 'was resumed',
  'subscription.expired': 'expired',
  'subscription.revoked': 'was revoked',
  'subscription.renewed': 'was renewed',
  'subscription.expiring': 'expires soon',
  'subscription.approval-overdue': 'waits past its approval SLA',
  'key.created': 'was issued',
  'key.rotated': 'was rotated',
  'key.revoked': 'was revoked',
  'webhook.test': 'sends this test message',
};

/** One line a person reads: "Api payments v1 was published in dev by alex." */
export function summaryOf(e: Envelope): string {
  const what = [e.subject.kind, e.subject.name, e.subject.version].filter(Boolean).join(' ');
  const where = e.subject.environment ? ` in ${e.subject.environment}` : '';
  return `${what} ${VERBS[e.type] ?? `: ${e.type}`}${where} by ${e.actor}.`;
}

/** The event's data as name/value pairs, in a stable order, for cards and tables. */
function facts(e: Envelope): Array<[string, string]> {
  return Object.entries(e.data)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)] as [string, string])
    .sort(([a], [b]) => a.localeCompare(b));
}

export interface Rendered {
  contentType: string;
  body: string;
}

export function renderHttp(spec: Pick<WebhookSpec, 'format' | 'jira'>, e: Envelope): Rendered {
  const json = (v: unknown): Rendered => ({ contentType: 'application/json', body: JSON.stringify(v) });
  const summary = summaryOf(e);
  switch (spec.format) {
    case 'slack':
      return json({
        text: summary,
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: e.type } },
          { type: 'section', text: { type: 'mrkdwn', text: summary } },
          { type: 'section', fields: facts(e).map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${v}` })).slice(0, 10) },
          { type: 'context', elements: [{ type: 'mrkdwn', text: `${e.time} · ${e.id}` }] },
        ],
      });
    case 'teams':
      return json({
        type: 'message',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.adaptive',
            content: {
              $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
              type: 'AdaptiveCard',
              version: '1.4',
              body: [
                { type: 'TextBlock', text: e.type, weight: 'Bolder', size: 'Medium' },
                { type: 'TextBlock', text: summary, wrap: true },
                { type: 'FactSet', facts: facts(e).map(([title, value]) => ({ title, value })) },
                { type: 'TextBlock', text: `${e.time} · ${e.id}`, isSubtle: true, size: 'Small' },
              ],
            },
          },
        ],
      });
    case 'jira':
      return json({
        fields: {
          project: { key: spec.jira!.project },
          issuetype: { name: spec.jira!.issueType },
          summary: summary.slice(0, 250),
          description: [summary, '', ...facts(e).map(([k, v]) => `* ${k}: ${v}`), '', `Event ${e.id} (${e.type}) at ${e.time}.`].join('\n'),
          labels: ['apigov', e.type.replace(/\./g, '-')],
        },
      });
    default:
      return json(e);
  }
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderEmail(e: Envelope): { subject: string; text: string; html: string } {
  const summary = summaryOf(e);
  const rows = facts(e);
  return {
    subject: `[apigov] ${summary}`,
    text: [summary, '', ...rows.map(([k, v]) => `${k}: ${v}`), '', `Event ${e.id} (${e.type}) at ${e.time}.`].join('\n'),
    html: `<p>${escapeHtml(summary)}</p><table>${rows.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table><p><small>Event ${escapeHtml(e.id)} (${escapeHtml(e.type)}) at ${escapeHtml(e.time)}.</small></p>`,
  };
}
