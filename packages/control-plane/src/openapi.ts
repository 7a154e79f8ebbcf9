// The control plane's own OpenAPI 3.1 document, served at /v1/openapi.json: every route the server
// registers is described here (a test holds the two together), resource schemas come from the model's zod schemas.
import { z } from 'zod';
import { KIND_PLURALS, KINDS, specSchemas } from '@apigov/model';

interface Operation {
  summary: string;
  tags: string[];
  body?: string; // component schema name
  bodyTypes?: string[];
  ok: { status: number; schema?: string; type?: string };
  query?: string[];
  write?: boolean;
}

const problem = { $ref: '#/components/responses/Problem' };

function schemaOf(kind: string, spec: z.ZodType): Record<string, unknown> {
  const specSchema = z.toJSONSchema(spec, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete specSchema.$schema;
  return {
    type: 'object',
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    properties: {
      apiVersion: { const: 'apigov.dev/v1' },
      kind: { const: kind },
      metadata: { $ref: '#/components/schemas/Metadata' },
      spec: specSchema,
      status: { $ref: '#/components/schemas/Status' },
    },
  };
}

export function operationsTable(): Record<string, Operation> {
  const ops: Record<string, Operation> = {
    'GET /healthz': { summary: 'Liveness', tags: ['meta'], ok: { status: 200 } },
    'GET /v1/openapi.json': { summary: 'This document', tags: ['meta'], ok: { status: 200 } },
    'GET /v1/whoami': { summary: 'The caller: name, role, team, every team with its role, and the single sign-on session', tags: ['meta'], ok: { status: 200 } },
    'GET /v1/auth/providers': { summary: 'The identity providers people sign in with, and where each sign-in starts', tags: ['meta'], ok: { status: 200 } },
    'GET /v1/auth/oidc/{provider}/login': { summary: "Start single sign-on in a browser: redirects to the IdP (authorization code with PKCE); `return` is the portal path to land on, `acr_values` and `max_age` ask for a step-up", tags: ['meta'], query: ['return', 'acr_values', 'max_age'], ok: { status: 302 } },
    'GET /v1/auth/oidc/callback': { summary: "The redirect URI to register at the IdP: finishes the sign-in and sets the session cookie", tags: ['meta'], query: ['code', 'state', 'error'], ok: { status: 302 } },
    'POST /v1/auth/logout': { summary: 'End this session (cookie or CLI token); `endSessionUrl` ends the IdP session too', tags: ['meta'], ok: { status: 200 } },
    'POST /v1/auth/oidc/{provider}/device': { summary: 'Start the device authorization grant (the CLI): a user code and where to enter it', tags: ['meta'], ok: { status: 200 } },
    'POST /v1/auth/oidc/{provider}/device/token': { summary: 'Poll the device grant with {device_code}: 202 while pending, then a CLI token and refresh token', tags: ['meta'], ok: { status: 200 } },
    'GET /scim/v2/ServiceProviderConfig': { summary: 'SCIM 2.0: what this service provider supports', tags: ['scim'], ok: { status: 200, type: 'application/scim+json' } },
    'GET /scim/v2/ResourceTypes': { summary: 'SCIM 2.0: the resource types (User, Group)', tags: ['scim'], ok: { status: 200, type: 'application/scim+json' } },
    'GET /scim/v2/Schemas': { summary: 'SCIM 2.0: the schemas of Users, Groups and the enterprise extension', tags: ['scim'], ok: { status: 200, type: 'application/scim+json' } },
    'GET /scim/v2/Users': { summary: 'SCIM 2.0: users, with filter, startIndex and count', tags: ['scim'], query: ['filter', 'startIndex', 'count'], ok: { status: 200, type: 'application/scim+json' } },
    'POST /scim/v2/Users': { summary: 'SCIM 2.0: provision a user', tags: ['scim'], bodyTypes: ['application/scim+json', 'application/json'], ok: { status: 201, type: 'application/scim+json' }, write: true },
    'GET /scim/v2/Users/{id}': { summary: 'SCIM 2.0: one user', tags: ['scim'], ok: { status: 200, type: 'application/scim+json' } },
    'PUT /scim/v2/Users/{id}': { summary: 'SCIM 2.0: replace a user', tags: ['scim'], bodyTypes: ['application/scim+json', 'application/json'], ok: { status: 200, type: 'application/scim+json' }, write: true },
    'PATCH /scim/v2/Users/{id}': { summary: 'SCIM 2.0: change a user (active: false deactivates: every session and token ends)', tags: ['scim'], bodyTypes: ['application/scim+json', 'application/json'], ok: { status: 200, type: 'application/scim+json' }, write: true },
    'DELETE /scim/v2/Users/{id}': { summary: 'SCIM 2.0: delete a user and their tokens', tags: ['scim'], ok: { status: 204 }, write: true },
    'GET /scim/v2/Groups': { summary: 'SCIM 2.0: groups, with filter, startIndex, count and excludedAttributes', tags: ['scim'], query: ['filter', 'startIndex', 'count', 'excludedAttributes'], ok: { status: 200, type: 'application/scim+json' } },
    'POST /scim/v2/Groups': { summary: 'SCIM 2.0: create a group (its members join the teams it maps to)', tags: ['scim'], bodyTypes: ['application/scim+json', 'application/json'], ok: { status: 201, type: 'application/scim+json' }, write: true },
    'GET /scim/v2/Groups/{id}': { summary: 'SCIM 2.0: one group with its members', tags: ['scim'], ok: { status: 200, type: 'application/scim+json' } },
    'PUT /scim/v2/Groups/{id}': { summary: 'SCIM 2.0: replace a group', tags: ['scim'], bodyTypes: ['application/scim+json', 'application/json'], ok: { status: 200, type: 'application/scim+json' }, write: true },
    'PATCH /scim/v2/Groups/{id}': { summary: 'SCIM 2.0: change a group: members added or removed, renamed', tags: ['scim'], bodyTypes: ['application/scim+json', 'application/json'], ok: { status: 200, type: 'application/scim+json' }, write: true },
    'DELETE /scim/v2/Groups/{id}': { summary: 'SCIM 2.0: delete a group (its members leave its teams)', tags: ['scim'], ok: { status: 204 }, write: true },
    'POST /v1/auth/refresh': { summary: 'Renew a CLI session with {refreshToken} (single use; checked again at the IdP)', tags: ['meta'], ok: { status: 200 } },
    'POST /v1/apis/register': { summary: 'Register an API or a version from its OpenAPI document', tags: ['apis'], body: 'RegisterRequest', ok: { status: 201, schema: 'Api' }, write: true },
    'GET /v1/apis/{name}/versions': { summary: "An API's versions and their state per environment", tags: ['apis'], ok: { status: 200 } },
    'GET /v1/apis/{name}/versions/{version}/openapi': { summary: 'The stored OpenAPI document of a version', tags: ['apis'], ok: { status: 200 } },
    'POST /v1/apis/{name}/diff': { summary: 'Changes between two versions (a changelog) or between a version and a document, with migration notes and affected consumers', tags: ['apis'], body: 'DiffRequest', ok: { status: 200 } },
    'POST /v1/apis/{name}/versions/{version}/publish': { summary: 'Publish a version to an environment (runs the governance gate)', tags: ['lifecycle'], body: 'LifecycleRequest', ok: { status: 200, schema: 'Api' }, write: true },
    'POST /v1/apis/{name}/versions/{version}/deprecate': { summary: 'Deprecate a version (sunset date, successor)', tags: ['lifecycle'], body: 'LifecycleRequest', ok: { status: 200, schema: 'Api' }, write: true },
    'POST /v1/apis/{name}/versions/{version}/retire': { summary: 'Retire a version', tags: ['lifecycle'], body: 'LifecycleRequest', ok: { status: 200, schema: 'Api' }, write: true },
    'POST /v1/users/{name}/tokens': { summary: 'Issue a new token for a user (shown once)', tags: ['users'], ok: { status: 201 }, write: true },
    'GET /v1/search': { summary: 'Full-text catalog search with filters, ranked and paginated', tags: ['catalog'], query: ['q', 'team', 'tag', 'environment', 'state', 'limit', 'cursor'], ok: { status: 200 } },
    'POST /v1/lint': { summary: 'Lint an OpenAPI document with the governance rules in force', tags: ['catalog'], ok: { status: 200 } },
    'POST /v1/apply': { summary: 'Apply a bundle of resources in one transaction (dryRun, prune)', tags: ['declarative'], bodyTypes: ['application/yaml', 'application/json'], query: ['dryRun', 'prune'], ok: { status: 200 }, write: true },
    'GET /v1/export': { summary: 'Every visible resource as multi-document YAML (or JSON)', tags: ['declarative'], query: ['kind'], ok: { status: 200, type: 'application/yaml' } },
    'GET /v1/exports/{format}': {
      summary: 'The visible model for another platform (backstage, envoy-gateway; `.yaml` for a Backstage Location): YAML, or {format, documents, warnings, unsupported} as JSON',
      tags: ['declarative'],
      query: ['env', 'namespace', 'gatewayClass', 'extAuthzUrl', 'limits', 'trustedProxies', 'bodyLimit'],
      ok: { status: 200, type: 'application/yaml' },
    },
    'POST /v1/publish-requests/{name}/approve': { summary: 'Approve a pending production publish: it runs now, as the approver (platform admins)', tags: ['approvals'], ok: { status: 200 }, write: true },
    'POST /v1/publish-requests/{name}/reject': { summary: 'Reject a pending production publish, with a reason (platform admins)', tags: ['approvals'], ok: { status: 200 }, write: true },
    'POST /v1/tokens': { summary: 'Create a named, scoped token for automation (shown once): {name, scopes, team?, expiresInDays?}', tags: ['users'], ok: { status: 201 }, write: true },
    'GET /v1/tokens': { summary: 'Your tokens (names, prefixes, scopes, team, expiry, last use; never the tokens)', tags: ['users'], query: ['user'], ok: { status: 200 } },
    'DELETE /v1/tokens/{name}': { summary: 'Revoke one of your named tokens', tags: ['users'], query: ['user'], ok: { status: 204 }, write: true },
    'POST /v1/sync': { summary: "Apply one Git commit's resources in one transaction (what `apigov sync` sends); a refused commit is recorded and the last good one stays", tags: ['declarative'], ok: { status: 200 }, write: true },
    'GET /v1/sync/status': { summary: 'The last sync (commit, created, updated, deleted, refused), each resource Synced, OutOfSync with its diff, or Unmanaged, and gateways behind the control plane', tags: ['declarative'], ok: { status: 200 } },
    'GET /v1/events/types': { summary: 'The event catalog: every event type with the JSON Schema of its events', tags: ['events'], ok: { status: 200 } },
    'GET /v1/events': { summary: 'Events in commit order that you may see (`type` comma-separated, `since` a time, `after` a sequence number, `wait` seconds to long-poll); `next` is the cursor to pass as `after`', tags: ['events'], query: ['type', 'since', 'after', 'limit', 'wait'], ok: { status: 200 } },
    'POST /v1/webhooks/{name}/rotate-secret': { summary: "A new signing secret for a webhook (shown once); the old one stays valid for overlapSeconds (default a day)", tags: ['webhooks'], ok: { status: 200 }, write: true },
    'POST /v1/webhooks/{name}/test': { summary: 'Send a signed webhook.test message to the webhook now and say how it answered', tags: ['webhooks'], ok: { status: 200 }, write: true },
    'GET /v1/webhooks/{name}/deliveries': { summary: "A webhook's deliveries, newest first: id (webhook-id), event type, attempts, last status, state pending|retrying|delivered|failed", tags: ['webhooks'], query: ['state', 'limit'], ok: { status: 200 } },
    'POST /v1/webhooks/{name}/replay': { summary: 'Send the failed deliveries (dead letters) since a time again: {since}', tags: ['webhooks'], ok: { status: 202 }, write: true },
    'POST /v1/deliveries/{id}/replay': { summary: 'Send one delivery again from its first attempt', tags: ['webhooks'], ok: { status: 202 }, write: true },
    'GET /v1/audit': { summary: 'Audit events, newest first', tags: ['audit'], query: ['limit', 'before', 'actor', 'kind', 'name', 'action'], ok: { status: 200 } },
    'POST /v1/applications/{app}/subscriptions': { summary: 'Subscribe an application to an API version in an environment on a plan', tags: ['consumption'], ok: { status: 201, schema: 'Subscription' }, write: true },
    'POST /v1/subscriptions/{name}/approve': { summary: 'Approve a pending subscription (API owners, platform admins)', tags: ['consumption'], ok: { status: 200, schema: 'Subscription' }, write: true },
    'POST /v1/subscriptions/{name}/reject': { summary: 'Reject a pending subscription, with a reason', tags: ['consumption'], ok: { status: 200, schema: 'Subscription' }, write: true },
    'POST /v1/subscriptions/{name}/suspend': { summary: 'Suspend an approved subscription, with a reason', tags: ['consumption'], ok: { status: 200, schema: 'Subscription' }, write: true },
    'POST /v1/subscriptions/{name}/resume': { summary: 'Resume a suspended subscription', tags: ['consumption'], ok: { status: 200, schema: 'Subscription' }, write: true },
    'POST /v1/subscriptions/{name}/renew': { summary: "More time for an approved (or expired) subscription: {until?} (default 90 days on); the owners' or platform's decision on a manual plan, the consumer's own on a self-service one", tags: ['consumption'], ok: { status: 200, schema: 'Subscription' }, write: true },
    'POST /v1/subscriptions/{name}/revoke': { summary: 'End a subscription (its consumer team or the API owners)', tags: ['consumption'], ok: { status: 204 }, write: true },
    'POST /v1/subscriptions/approve-all': { summary: "Approve every pending subscription of an API: {api} → {approved, waiting}", tags: ['consumption'], ok: { status: 200 }, write: true },
    'POST /v1/applications/{app}/keys': { summary: 'Issue an API key for an application (shown once)', tags: ['consumption'], ok: { status: 201 }, write: true },
    'GET /v1/applications/{app}/keys': { summary: "An application's credentials (never the keys)", tags: ['consumption'], ok: { status: 200 } },
    'POST /v1/credentials/{name}/rotate': { summary: 'Rotate an API key: a new key, the old one lives for an overlap window', tags: ['consumption'], ok: { status: 201 }, write: true },
    'GET /v1/apis/{name}/consumers': { summary: 'Who consumes an API: subscriptions with application, team, plan, state, calls in the last 7 days and the last call (`version` narrows to one version)', tags: ['consumption'], query: ['version'], ok: { status: 200 } },
    'GET /v1/gateway/snapshot': { summary: "Long-poll an environment's gateway snapshot newer than `since` (gateways)", tags: ['gateway'], query: ['environment', 'since', 'wait'], ok: { status: 200 } },
    'POST /v1/gateway/reports': { summary: 'A gateway reports usage, errors, health and its applied snapshot version', tags: ['gateway'], ok: { status: 202 } },
    'GET /v1/gateway/status': { summary: 'Every gateway with its applied snapshot version and drift', tags: ['gateway'], query: ['environment'], ok: { status: 200 } },
    'GET /v1/apis/{name}/stats': { summary: 'Traffic, errors and latency per minute and per application', tags: ['observability'], query: ['environment', 'application', 'minutes'], ok: { status: 200 } },
    'GET /v1/apis/{name}/health': { summary: 'Per environment: gateways in sync, error rate and latency of the last 5 minutes', tags: ['observability'], ok: { status: 200 } },
    'GET /v1/apis/{name}/errors': { summary: 'Recent failed requests (redacted samples)', tags: ['observability'], query: ['environment', 'limit'], ok: { status: 200 } },
    'GET /v1/apis/{name}/logs': { summary: 'Recent requests (redacted samples)', tags: ['observability'], query: ['environment', 'limit'], ok: { status: 200 } },
    'GET /v1/audit/verify': { summary: 'Verify the audit hash chain (anchor=SEQ:HASH: it must still hold that event)', tags: ['audit'], query: ['anchor'], ok: { status: 200 } },
  };
  for (const kind of KINDS) {
    const base = `/v1/${KIND_PLURALS[kind]}`;
    ops[`GET ${base}`] = { summary: `List ${kind} resources`, tags: [KIND_PLURALS[kind]], query: ['limit', 'cursor'], ok: { status: 200 } };
    ops[`POST ${base}`] = { summary: `Create a ${kind}`, tags: [KIND_PLURALS[kind]], body: kind, bodyTypes: ['application/json', 'application/yaml'], ok: { status: 201, schema: kind }, write: true };
    ops[`GET ${base}/{name}`] = { summary: `Get a ${kind}`, tags: [KIND_PLURALS[kind]], ok: { status: 200, schema: kind } };
    ops[`PUT ${base}/{name}`] = { summary: `Replace a ${kind} (If-Match)`, tags: [KIND_PLURALS[kind]], body: kind, bodyTypes: ['application/json', 'application/yaml'], ok: { status: 200, schema: kind }, write: true };
    ops[`DELETE ${base}/{name}`] = { summary: `Delete a ${kind} (If-Match)`, tags: [KIND_PLURALS[kind]], ok: { status: 204 }, write: true };
  }
  return ops;
}

let cached: Record<string, unknown> | undefined;

/** The document with one openIdConnect security scheme per identity provider (what the portal's sign-in buttons read). */
export function withIdentityProviders(doc: Record<string, unknown>, providers: ReadonlyArray<{ name: string; displayName: string; issuer: string }>): Record<string, unknown> {
  if (providers.length === 0) return doc;
  const components = doc.components as Record<string, unknown>;
  const schemes: Record<string, unknown> = { ...(components.securitySchemes as Record<string, unknown>) };
  for (const p of providers) {
    schemes[`oidc-${p.name}`] = {
      type: 'openIdConnect',
      openIdConnectUrl: `${p.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`,
      description: `Sign in with ${p.displayName}`,
      'x-apigov-sign-in': `/v1/auth/oidc/${p.name}/login`,
      'x-apigov-display-name': p.displayName,
    };
  }
  return { ...doc, components: { ...components, securitySchemes: schemes } };
}

export function controlPlaneOpenApi(): Record<string, unknown> {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [key, op] of Object.entries(operationsTable())) {
    const [method, path] = key.split(' ');
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    for (const q of op.query ?? []) params.push({ name: q, in: 'query', required: false, schema: { type: 'string' } });
    if (op.write && (method === 'PUT' || method === 'DELETE' || path.includes('/versions/'))) params.push({ name: 'If-Match', in: 'header', required: false, schema: { type: 'string' } });
    if (method === 'POST' && op.ok.status === 201) params.push({ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } });
    const ok: Record<string, unknown> = { description: 'OK' };
    if (op.ok.status !== 204) ok.content = { [op.ok.type ?? 'application/json']: { schema: op.ok.schema ? { $ref: `#/components/schemas/${op.ok.schema}` } : {} } };
    const operation: Record<string, unknown> = {
      operationId: `${method.toLowerCase()}${path.replace(/\{(\w+)\}/g, 'By-$1').split(/[^A-Za-z0-9]+/).map((s) => s.charAt(0).toUpperCase() + s.slice(1)).join('')}`,
      summary: op.summary,
      tags: op.tags,
      ...(params.length > 0 && { parameters: params }),
      responses: { [String(op.ok.status)]: ok, '4XX': problem, '5XX': problem },
    };
    if (op.body || op.bodyTypes) {
      const schema = op.body ? { $ref: `#/components/schemas/${op.body}` } : {};
      operation.requestBody = { required: true, content: Object.fromEntries((op.bodyTypes ?? ['application/json']).map((t) => [t, { schema }])) };
    }
    if (path === '/healthz' || path === '/v1/openapi.json') operation.security = [];
    (paths[path] ??= {})[method.toLowerCase()] = operation;
  }
  const schemas: Record<string, unknown> = {
    Metadata: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$' }, labels: { type: 'object', additionalProperties: { type: 'string' } }, annotations: { type: 'object', additionalProperties: { type: 'string' } } },
    },
    Status: { type: 'object', readOnly: true, properties: { resourceVersion: { type: 'integer' }, createdAt: { type: 'string' }, updatedAt: { type: 'string' }, createdBy: { type: 'string' }, updatedBy: { type: 'string' }, gatewayUrls: { type: 'object' } } },
    RegisterRequest: {
      type: 'object',
      required: ['name', 'spec'],
      properties: {
        name: { type: 'string' }, team: { type: 'string' }, version: { type: 'string' },
        spec: { oneOf: [{ type: 'string' }, { type: 'object', required: ['entry', 'files'], properties: { entry: { type: 'string' }, files: { type: 'object', additionalProperties: { type: 'string' } } } }] },
        upstreams: { type: 'object', additionalProperties: { type: 'string' } }, visibility: { enum: ['public', 'internal', 'team-only'] },
        title: { type: 'string' }, description: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } },
      },
    },
    DiffRequest: {
      type: 'object',
      properties: {
        from: { type: 'string', description: 'base version (default: the one before `to`)' },
        to: { type: 'string', description: 'revision version (default: the latest)' },
        spec: { description: 'a document to compare with `from` instead of a registered version', oneOf: [{ type: 'string' }, { type: 'object', required: ['entry', 'files'], properties: { entry: { type: 'string' }, files: { type: 'object', additionalProperties: { type: 'string' } } } }] },
      },
    },
    LifecycleRequest: { type: 'object', properties: { environment: { type: 'string' }, upstream: { type: 'string' }, routePrefix: { type: 'string' }, sunset: { type: 'string' }, successor: { type: 'string' } } },
    Problem: {
      type: 'object',
      required: ['type', 'title', 'status', 'detail', 'code', 'requestId'],
      properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, code: { type: 'string' }, requestId: { type: 'string' }, errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } } },
    },
  };
  for (const kind of KINDS) schemas[kind] = schemaOf(kind, specSchemas[kind] as z.ZodType);
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'apigov control plane',
      version: '1.0.0',
      description: 'Catalog, lifecycle, governance and audit of apigov. Errors are application/problem+json (RFC 9457) with a stable code.',
      contact: { name: 'apigov', url: 'https://apigov.dev' },
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A user token or the bootstrap admin token' } },
      schemas,
      responses: { Problem: { description: 'An error', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } } },
    },
  };
  return cached;
}
