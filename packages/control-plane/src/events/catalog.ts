// The event catalog: every event type the control plane emits, with the JSON Schema of its `data`, served at
// GET /v1/events/types; the envelope (id, type, time, actor, subject, data) is the same for every type.
const str = { type: 'string' } as const;
const name = { type: 'string', pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$' } as const;

function schema(required: string[], properties: Record<string, unknown>): Record<string, unknown> {
  return { type: 'object', required, properties, additionalProperties: false };
}

const version = schema(['api', 'version', 'environment'], { api: name, version: str, environment: name, owner: name });
const subscription = schema(['subscription', 'application', 'api', 'version', 'environment', 'plan'], {
  subscription: name,
  application: name,
  api: name,
  version: str,
  environment: name,
  plan: name,
  state: str,
  decidedBy: str,
  reason: str,
  expiresAt: str,
  requestedAt: str,
});
const key = schema(['credential', 'application'], { credential: name, application: name, prefix: str, expiresAt: str });

export const EVENT_TYPES = {
  'api.registered': { summary: 'An API was registered (its first version)', data: schema(['api', 'owner'], { api: name, owner: name, visibility: str, versions: { type: 'array', items: str } }) },
  'api.version.published': { summary: 'A version was published to an environment', data: version },
  'api.version.deprecated': {
    summary: 'A version was deprecated in an environment (sunset date, successor)',
    data: schema(['api', 'version', 'environment'], { api: name, version: str, environment: name, owner: name, sunset: str, successor: str }),
  },
  'api.version.retired': { summary: 'A version was retired in an environment (the gateway answers 410)', data: version },
  'api.version.deprecation-notice': {
    summary: "To each subscribed application's team: a version it uses is deprecated (sunset, successor, the changelog between them, its own calls in the last 7 days)",
    data: schema(['api', 'version', 'environment', 'application', 'subscription', 'requestsLast7Days'], {
      api: name,
      version: str,
      environment: name,
      application: name,
      subscription: name,
      sunset: str,
      successor: str,
      changelogUrl: str,
      changelog: schema(['breaking', 'warning', 'info'], { breaking: { type: 'integer' }, warning: { type: 'integer' }, info: { type: 'integer' } }),
      requestsLast7Days: { type: 'integer' },
    }),
  },
  'api.version.sunset-approaching': {
    summary: 'A deprecated version reaches its sunset in 30, 7 or 1 days (to its owners and every subscribed team)',
    data: schema(['api', 'version', 'environment', 'sunset', 'daysLeft', 'threshold'], { api: name, version: str, environment: name, owner: name, sunset: str, successor: str, daysLeft: { type: 'integer' }, threshold: { type: 'integer' } }),
  },
  'api.breaking-change.refused': {
    summary: 'A revision of a served version was refused because it breaks its consumers',
    data: schema(['api', 'version', 'environments', 'changes'], { api: name, version: str, environments: { type: 'array', items: str }, changes: { type: 'integer' }, fingerprints: { type: 'array', items: str } }),
  },
  'governance.violation': {
    summary: "A publication was blocked by the environment's governance gate",
    data: schema(['api', 'version', 'environment', 'findings'], { api: name, version: str, environment: name, blockOn: str, findings: { type: 'integer' }, rules: { type: 'array', items: str } }),
  },
  'key.expiring': { summary: 'An API key expires within 7 days', data: key },
  'gateway.out-of-sync': {
    summary: "A gateway has not applied its environment's newest snapshot for a minute (to the platform)",
    data: schema(['gateway', 'environment', 'appliedVersion', 'snapshotVersion'], { gateway: str, environment: name, appliedVersion: { type: 'integer' }, snapshotVersion: { type: 'integer' }, lastSeenAt: str }),
  },
  'webhook.disabled': {
    summary: "A webhook was turned off after failing without a success for days (to its team)",
    data: schema(['webhook', 'url', 'failingSince'], { webhook: name, url: str, failingSince: str, lastError: str }),
  },
  'audit.anchor': {
    summary: "Once a day: the audit chain's newest SEQ:HASH, to keep outside apigov (apigov audit verify --anchor)",
    data: schema(['anchor', 'seq', 'hash'], { anchor: str, seq: { type: 'integer' }, hash: str, at: str }),
  },
  'subscription.requested': { summary: 'An application asked for a subscription (pending approval)', data: subscription },
  'subscription.approved': { summary: 'A subscription was approved (or auto-approved by its plan)', data: subscription },
  'subscription.rejected': { summary: 'A subscription was rejected, with a reason', data: subscription },
  'subscription.suspended': { summary: 'An approved subscription was suspended', data: subscription },
  'subscription.resumed': { summary: 'A suspended subscription was resumed', data: subscription },
  'subscription.expired': { summary: 'A subscription reached its expiry', data: subscription },
  'subscription.revoked': { summary: 'A subscription was revoked (deleted) by its consumer or the API owners', data: subscription },
  'subscription.renewed': { summary: 'A subscription got more time (a new expiry)', data: subscription },
  'subscription.expiring': { summary: 'An approved subscription expires within 7 days', data: subscription },
  'subscription.approval-overdue': { summary: "A pending subscription waited longer than its plan's approval SLA (to the platform)", data: subscription },
  'key.created': { summary: 'An API key was issued for an application', data: key },
  'key.rotated': { summary: 'An API key was rotated (the old one lives for its overlap)', data: key },
  'key.revoked': { summary: 'An API key was deleted', data: key },
} as const;

export type EventType = keyof typeof EVENT_TYPES;

/** The catalog as served: per type its summary and the schema of the whole event, data included. */
export function eventTypesDocument(): { items: Array<{ type: string; summary: string; schema: Record<string, unknown> }> } {
  return {
    items: Object.entries(EVENT_TYPES).map(([type, t]) => ({
      type,
      summary: t.summary,
      schema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        required: ['id', 'type', 'time', 'actor', 'subject', 'data'],
        properties: {
          id: { type: 'string', pattern: '^evt_' },
          type: { const: type },
          time: { type: 'string', format: 'date-time' },
          actor: str,
          subject: schema(['kind', 'name'], { kind: str, name: str, version: str, environment: str }),
          data: t.data,
        },
      },
    })),
  };
}
