// The one write path every change takes (REST, register, lifecycle actions, apply): visibility, RBAC,
// references, lifecycle transitions, the breaking-change check, the governance gate, then the write and its audit event.
import { createHash } from 'node:crypto';
import {
  ApigovError,
  canTransition,
  canonicalJson,
  desiredState,
  isServed,
  type AnyResource,
  type ApiSpec,
  type Kind,
  type LifecycleState,
  KIND_PLURALS,
  accessFor,
  productionPublishNeedsApproval,
  type AccessPolicySpec,
  type LifecycleAction,
  type WebhookSpec,
} from '@apigov/model';
import { assertScope } from '../scopes.js';
import { assertSteppedUp } from '../step-up.js';
import { eventsOfChange } from '../events/derive.js';
import { EVENT_TYPES } from '../events/catalog.js';
import { assertDestinationAllowed, webhookAllowCidrs } from '../webhooks/destination.js';
import { newWebhookSecret } from '../webhooks/signature.js';

import { roleIn } from '../rbac.js';
import { detectFormat, officialSchemaViolations, type OpenApiDocument } from '@apigov/openapi';
import type { StoredResource, StoreTx, SyncState } from '@apigov/store';
import { assertDriftAllowed, sourceOf } from './drift.js';
import type { Principal } from '../auth.js';
import { authorizeWrite, sees } from '../visibility.js';
import { prepareSubscription } from '../consumption/subscriptions.js';
import { notFound } from '../problem.js';
import { assertKnownDiffRules, assertRevisionAllowed } from './breaking-changes.js';
import { assertGatePasses, loadGovernance, type Governance } from './governance.js';
import { assertNotReferenced, assertReferencesExist, forgetReference } from './references.js';

export interface WriteContext {
  tx: StoreTx;
  principal: Principal;
  requestId: string;
  /** loaded on first need and shared by every write of one transaction */
  governance?: Governance;
  /** a GitOps sync is writing: its resources carry their own status.source, and drift rules do not apply */
  sync?: boolean;
  /** the sync's settings, loaded when a Git-managed resource is changed outside a sync */
  syncState?: SyncState;
  /** what the caller should be told besides the result (a change that makes a Git-managed resource OutOfSync) */
  warnings?: string[];
  /** a bundle of any kinds (apply, sync): a scoped token needs each kind's write scope too */
  bulk?: boolean;
  /** apigov renew of a subscription on a self-service plan: its consumer may extend it (consumption/subscriptions.ts) */
  selfServiceRenewal?: boolean;
  /** AccessPolicy resources and which environments are production, loaded on first need in the transaction */
  access?: Access;
}

interface Access {
  policies: Array<{ name: string; spec: AccessPolicySpec }>;
  production: Map<string, boolean>;
}

async function loadAccess(tx: StoreTx): Promise<Access> {
  const policies = (await tx.list('AccessPolicy', { limit: 1000 })).flatMap((s) => (s.resource.kind === 'AccessPolicy' ? [{ name: s.resource.metadata.name, spec: s.resource.spec }] : []));
  const production = new Map((await tx.list('Environment', { limit: 1000 })).flatMap((s) => (s.resource.kind === 'Environment' ? [[s.resource.metadata.name, s.resource.spec.production] as const] : [])));
  return { policies, production };
}

const ACTION_OF: Partial<Record<LifecycleState, LifecycleAction>> = { published: 'publish', deprecated: 'deprecate', retired: 'retire' };

/** The owning team's role must be one the environment's access rule allows for this move (AccessPolicy). */
async function assertMayMove(ctx: WriteContext, api: string, owner: string, version: string, env: string, to: LifecycleState): Promise<void> {
  const p = ctx.principal;
  const action = ACTION_OF[to];
  if (action === undefined) return;
  ctx.access ??= await loadAccess(ctx.tx);
  const production = ctx.access.production.get(env) ?? false;
  // a production publish by a person signed in without a recent second factor (AccessPolicy stepUp)
  if (action === 'publish' && production) await assertSteppedUp(ctx.tx, p, 'publish-production', ctx.access.policies);
  if (p.admin) return;
  const decision = accessFor(ctx.access.policies, action, env, production);
  const role = roleIn(p, owner);
  if (role !== undefined && decision.roles.includes(role)) {
    if (action === 'publish' && production && productionPublishNeedsApproval(ctx.access.policies)) {
      throw new ApigovError('APIGOV_ERR_APPROVAL_REQUIRED', `publishing ${api} ${version} to ${env} needs a platform admin's approval: \`apigov publish\` (POST /v1/apis/${api}/versions/${version}/publish) files the request`, {
        extensions: { environment: env },
      });
    }
    return;
  }
  const who = decision.roles.length === 0 ? 'platform admins' : decision.roles.map((r) => `${r}s`).join(' and ');
  throw new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', `${p.name} (${role ?? p.role}) may not ${action} ${api} ${version} in ${env}: ${production ? 'a production environment' : 'this environment'} takes ${who} (${decision.from})`, {
    extensions: { action, environment: env, allowedRoles: decision.roles, rule: decision.from },
  });
}

/** A webhook names event types that exist, and sends only where webhooks may (the SSRF rules). */
async function checkWebhook(tx: StoreTx, spec: WebhookSpec, prefix: string): Promise<void> {
  for (const [i, t] of spec.events.entries()) {
    if (t !== '*' && !(t in EVENT_TYPES)) throw new ApigovError('APIGOV_ERR_INPUT_INVALID', `${prefix}spec.events[${i}]: unknown event type '${t}'; GET /v1/events/types lists them`, { errors: [{ path: `${prefix}spec.events[${i}]`, message: `unknown event type '${t}'` }] });
  }
  // e-mail goes through the SMTP server the operator configured (APIGOV_SMTP_URL)
  if (!spec.url.startsWith('mailto:')) await assertDestinationAllowed(spec.url, await webhookAllowCidrs(tx));
}

/** The events a write means, into the outbox of the same transaction. */
async function emitEvents(ctx: WriteContext, before: AnyResource | undefined, after: AnyResource | undefined, action?: string): Promise<void> {
  for (const e of await eventsOfChange(ctx.tx, before, after, action)) await ctx.tx.emit({ ...e, actor: ctx.principal.name });
}

/** A new key, changing an Environment's policies, or who may do what (AccessPolicy, IdentityProvider) may need a step-up. */
async function assertSensitiveWriteSteppedUp(ctx: WriteContext, current: AnyResource | undefined, next: AnyResource | undefined, action?: string): Promise<void> {
  const r = next ?? current;
  if (r === undefined) return;
  if (next?.kind === 'Credential' && current === undefined) return assertSteppedUp(ctx.tx, ctx.principal, action?.startsWith('key.rotate') ? 'key-rotate' : 'key-create');
  const envPolicy = (x: AnyResource | undefined) => x?.kind === 'Policy' && x.spec.targetRef.kind === 'Environment';
  if (envPolicy(current) || envPolicy(next)) await assertSteppedUp(ctx.tx, ctx.principal, 'environment-policy');
  else if (r.kind === 'AccessPolicy' || r.kind === 'IdentityProvider') await assertSteppedUp(ctx.tx, ctx.principal, 'access-change');
}

export type WriteOutcome = 'create' | 'update' | 'unchanged';

export interface WriteOptions {
  /** If-Match: the resourceVersion the caller last saw; 0 = must not exist yet */
  expectedVersion?: number;
  /** audit action; default create/update */
  action?: string;
  /** prefix for field paths in errors, e.g. `documents[3].` */
  prefix?: string;
}

function documentHash(doc: unknown): string {
  return createHash('sha256').update(canonicalJson(doc)).digest('hex');
}

/** What the audit log keeps of a resource: its desired state and Git source, OpenAPI documents replaced by their digest. */
export function auditView(r: AnyResource | undefined): unknown {
  if (r === undefined) return null;
  const d = desiredState(r) as AnyResource;
  // a Git-managed resource's source (repo, path, commit, author) is part of what the audit keeps
  const source = sourceOf(r);
  const kept = source === undefined ? d : { ...d, status: { source } };
  if (d.kind !== 'Api') return kept;
  return {
    ...kept,
    spec: { ...d.spec, versions: d.spec.versions.map((v) => ({ ...v, openapi: { sha256: documentHash(v.openapi) } })) },
  };
}

export function sameDesiredState(a: AnyResource, b: AnyResource): boolean {
  return canonicalJson(desiredState(a)) === canonicalJson(desiredState(b));
}

export async function writeResource(ctx: WriteContext, requested: AnyResource, options: WriteOptions = {}): Promise<{ stored: StoredResource; outcome: WriteOutcome }> {
  const { tx, principal } = ctx;
  const { kind } = requested;
  const name = requested.metadata.name;
  const prefix = options.prefix ?? '';
  const current = await tx.get(kind, name);
  if (current && !(await sees(tx, principal, current.resource))) {
    // someone else's team-only API: it does not exist for this caller, and its name is taken
    throw notFound(`${kind} ${name}`);
  }
  if (!current && options.expectedVersion !== undefined && options.expectedVersion > 0) throw notFound(`${kind} ${name}`);
  if (current && options.expectedVersion !== undefined && options.expectedVersion !== current.resourceVersion) {
    throw options.expectedVersion === 0
      ? new ApigovError('APIGOV_ERR_RESOURCE_CONFLICT', `${kind} ${name} already exists`)
      : new ApigovError('APIGOV_ERR_RESOURCE_PRECONDITION', `${kind} ${name} has changed: If-Match "${options.expectedVersion}" but it is at "${current.resourceVersion}"`);
  }
  if (current && sameDesiredState(current.resource, requested)) {
    await authorizeWrite(tx, principal, kind, name, current.resource, requested);
    return { stored: current, outcome: 'unchanged' };
  }
  await authorizeWrite(tx, principal, kind, name, current?.resource, requested);
  if (ctx.bulk) assertScope(principal, `${KIND_PLURALS[kind]}:write`);
  await assertSensitiveWriteSteppedUp(ctx, current?.resource, requested, options.action);
  if (current) await assertDriftAllowed(ctx, current.resource, 'change');
  await assertReferencesExist(tx, requested, prefix);
  const prepared = requested.kind === 'Subscription' ? await prepareSubscription(ctx, current?.resource, requested, prefix) : requested;
  // a change made outside the sync keeps the resource's Git source, so it shows as OutOfSync
  const kept = ctx.sync || current === null ? undefined : sourceOf(current.resource);
  const next = kept === undefined ? prepared : ({ ...prepared, status: { ...((prepared.status as Record<string, unknown> | undefined) ?? {}), source: kept } } as unknown as AnyResource);
  if (next.kind === 'GovernanceRuleset') assertKnownDiffRules(next.spec, prefix);
  if (next.kind === 'Webhook') await checkWebhook(tx, next.spec, prefix);
  if (next.kind === 'Api') await checkApiChange(ctx, name, current?.resource.kind === 'Api' ? current.resource.spec : undefined, next.spec, prefix);
  const stored = await tx.put(next, principal.name, options.expectedVersion);
  await tx.audit({
    actor: principal.name,
    action: options.action ?? (current ? 'update' : 'create'),
    kind,
    name,
    before: auditView(current?.resource),
    after: auditView(next),
    requestId: ctx.requestId,
  });
  await emitEvents(ctx, current?.resource, next, options.action);
  // a new webhook gets its signing secret (kept apart from the resource: POST /v1/webhooks shows it once)
  if (next.kind === 'Webhook' && (await tx.webhookSecrets(name)).length === 0) await tx.addWebhookSecret(name, newWebhookSecret());
  return { stored, outcome: current ? 'update' : 'create' };
}

/** Refuses a document that breaks the official OpenAPI JSON Schema of its version, naming each violation's JSON pointer. */
function assertOfficialSchema(document: OpenApiDocument, path: string): void {
  const format = detectFormat(document);
  const violations = officialSchemaViolations(document, format);
  if (violations.length === 0) return;
  const errors = violations.map((v) => ({ path: `${path}${v.pointer}`, message: v.message }));
  const listed = violations.slice(0, 10).map((v) => `${v.pointer === '' ? '(root)' : v.pointer}: ${v.message}`);
  throw new ApigovError(
    'APIGOV_ERR_SPEC_INVALID',
    `the document does not match the official OpenAPI ${format} schema in ${violations.length}${violations.length >= 50 ? '+' : ''} place${violations.length > 1 ? 's' : ''}: ${listed.join('; ')}${violations.length > 10 ? '; …' : ''}`,
    { errors, extensions: { openapiVersion: format } },
  );
}

async function checkApiChange(ctx: WriteContext, api: string, before: ApiSpec | undefined, after: ApiSpec, prefix: string): Promise<void> {
  for (const [i, v] of after.versions.entries()) {
    const old = before?.versions.find((o) => o.name === v.name);
    if (old === undefined || documentHash(old.openapi) !== documentHash(v.openapi)) assertOfficialSchema(v.openapi as OpenApiDocument, `${prefix}spec.versions[${i}].openapi`);
    const wasServed = old !== undefined && Object.values(old.environments).some((e) => isServed(e.state));
    const docChanged = old !== undefined && documentHash(old.openapi) !== documentHash(v.openapi);
    if (old && wasServed && docChanged) {
      // a new revision of a served version: refused when it breaks its clients (a new major version never is)
      ctx.governance ??= await loadGovernance(ctx.tx);
      const served = Object.entries(old.environments).filter(([, e]) => isServed(e.state)).map(([env]) => env);
      await assertRevisionAllowed(ctx.tx, ctx.governance.rulesets, api, v.name, served, old.openapi as OpenApiDocument, v.openapi as OpenApiDocument, `${prefix}spec.versions[${i}].openapi`);
    }
    for (const [env, e] of Object.entries(v.environments)) {
      const from: LifecycleState = old?.environments[env]?.state ?? 'draft';
      // a scoped token moves a version's lifecycle only where it may publish, whichever route it came by, and its
      // owner's role only where the environment's access rule allows
      if (e.state !== from) {
        assertScope(ctx.principal, `apis:publish:${env}`);
        await assertMayMove(ctx, api, after.owner, v.name, env, e.state);
      }
      // a version or environment that is new may start in any state (restoring an export into an empty
      // control plane, say); an existing one moves only along the lifecycle
      if (old?.environments[env] !== undefined && !canTransition(from, e.state)) {
        throw new ApigovError('APIGOV_ERR_LIFECYCLE_TRANSITION', `${api} ${v.name} in ${env} cannot go from ${from} to ${e.state}`, {
          errors: [{ path: `${prefix}spec.versions[${i}].environments.${env}.state`, message: `cannot go from ${from} to ${e.state}` }],
        });
      }
      if (e.state === 'published' && (from !== 'published' || docChanged)) {
        ctx.governance ??= await loadGovernance(ctx.tx);
        await assertGatePasses(ctx.governance, api, v.name, env, v.openapi as OpenApiDocument);
      }
    }
    if (old) {
      for (const [env, e] of Object.entries(old.environments)) {
        if (isServed(e.state) && !(env in v.environments)) {
          throw new ApigovError('APIGOV_ERR_LIFECYCLE_TRANSITION', `${api} ${v.name} is ${e.state} in ${env}; retire it there before removing the environment`, {
            errors: [{ path: `${prefix}spec.versions[${i}].environments`, message: `missing ${env}, where the version is ${e.state}` }],
          });
        }
      }
    }
  }
  for (const old of before?.versions ?? []) {
    const served = Object.entries(old.environments).find(([, e]) => isServed(e.state));
    if (served && !after.versions.some((v) => v.name === old.name)) {
      throw new ApigovError('APIGOV_ERR_LIFECYCLE_TRANSITION', `${api} ${old.name} is ${served[1].state} in ${served[0]}; retire it before removing the version`, {
        errors: [{ path: `${prefix}spec.versions`, message: `missing ${old.name}` }],
      });
    }
  }
}

export async function deleteResource(ctx: WriteContext, kind: Kind, name: string, options: { expectedVersion?: number; action?: string } = {}): Promise<StoredResource> {
  const { tx, principal } = ctx;
  const current = await tx.get(kind, name);
  if (!current || !(await sees(tx, principal, current.resource))) throw notFound(`${kind} ${name}`);
  await authorizeWrite(tx, principal, kind, name, current.resource, undefined);
  if (ctx.bulk) assertScope(principal, `${KIND_PLURALS[kind]}:write`);
  await assertSensitiveWriteSteppedUp(ctx, current.resource, undefined);
  await assertDriftAllowed(ctx, current.resource, 'delete');
  if (options.expectedVersion !== undefined && options.expectedVersion !== current.resourceVersion) {
    throw new ApigovError('APIGOV_ERR_RESOURCE_PRECONDITION', `${kind} ${name} has changed: If-Match "${options.expectedVersion}" but it is at "${current.resourceVersion}"`);
  }
  const r = current.resource;
  if (r.kind === 'Api' && !principal.admin) {
    const served = r.spec.versions.flatMap((v) => Object.entries(v.environments).filter(([, e]) => isServed(e.state)).map(([env, e]) => `${v.name} is ${e.state} in ${env}`));
    if (served.length > 0) throw new ApigovError('APIGOV_ERR_RESOURCE_IN_USE', `Api ${name} is still served (${served.join(', ')}); retire it first`);
  }
  await assertNotReferenced(tx, kind, name);
  if (r.kind === 'Application') {
    // an application takes its subscriptions and credentials with it
    for (const dependent of ['Subscription', 'Credential'] as const) {
      for (const s of await tx.list(dependent, { limit: 100000 })) {
        const d = s.resource;
        if ((d.kind === 'Subscription' || d.kind === 'Credential') && d.spec.application === name) {
          await emitEvents(ctx, d, undefined, 'delete');
          await tx.delete(dependent, d.metadata.name);
          await tx.audit({ actor: principal.name, action: 'delete', kind: dependent, name: d.metadata.name, before: auditView(d), after: null, requestId: ctx.requestId });
        }
      }
    }
  }
  await emitEvents(ctx, r, undefined, options.action ?? 'delete');
  await tx.delete(kind, name);
  forgetReference(tx, kind, name);
  if (kind === 'User') await tx.deleteTokensOf(name);
  if (kind === 'Webhook') await tx.forgetWebhook(name);
  await tx.audit({ actor: principal.name, action: options.action ?? 'delete', kind, name, before: auditView(r), after: null, requestId: ctx.requestId });
  return current;
}
