// Visibility and write rights for the consumer-side kinds, which depend on other resources: an Application
// belongs to a team; its Subscriptions are seen by that team and by the subscribed API's owners; its
// Credentials only by its team. Everything else defers to the rules in rbac.ts.
import { ApigovError, type AnyResource, type Kind } from '@apigov/model';
import type { StoredResource } from '@apigov/store';
import type { Principal } from './auth.js';
import { assertCanWrite, canSee, inTeam, producesFor } from './rbac.js';

export interface Lookup {
  get(kind: Kind, name: string): Promise<StoredResource | null>;
}

/** The team that owns an application, if it exists. */
export async function appTeam(l: Lookup, app: string): Promise<string | undefined> {
  const a = await l.get('Application', app);
  return a?.resource.kind === 'Application' ? a.resource.spec.owner : undefined;
}

async function apiOwner(l: Lookup, api: string): Promise<string | undefined> {
  const a = await l.get('Api', api);
  return a?.resource.kind === 'Api' ? a.resource.spec.owner : undefined;
}

/** Whether the caller may know this resource exists. */
export async function sees(l: Lookup, p: Principal, r: AnyResource): Promise<boolean> {
  if (p.admin) return true;
  if (p.anonymous) return canSee(p, r);
  switch (r.kind) {
    case 'Application':
      return inTeam(p, r.spec.owner);
    case 'Credential':
      return inTeam(p, await appTeam(l, r.spec.application));
    case 'Subscription':
      return inTeam(p, await appTeam(l, r.spec.application)) || inTeam(p, await apiOwner(l, r.spec.api));
    case 'Policy':
      return r.spec.targetRef.kind === 'Environment' || (await apiVisible(l, p, r.spec.targetRef.name));
    case 'Webhook':
      return r.spec.team !== undefined && inTeam(p, r.spec.team);
    default:
      return canSee(p, r);
  }
}

async function apiVisible(l: Lookup, p: Principal, api: string): Promise<boolean> {
  const a = await l.get('Api', api);
  return a !== null && canSee(p, a.resource);
}

/** Whether the caller approves subscriptions to this API: platform admins and the API's owner team (owners and members). */
export async function approvesFor(l: Lookup, p: Principal, api: string): Promise<boolean> {
  if (p.admin) return true;
  return producesFor(p, await apiOwner(l, api));
}

function forbidden(p: Principal, what: string): ApigovError {
  return new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', `${p.name} (${p.role}) may not ${what}`);
}

/** Throws unless the caller may create, change or delete this resource. */
export async function authorizeWrite(l: Lookup, p: Principal, kind: Kind, name: string, current: AnyResource | undefined, next: AnyResource | undefined): Promise<void> {
  if (p.anonymous || p.admin) return assertCanWrite(p, kind, name, current, next);
  const verb = next === undefined ? 'delete' : current === undefined ? 'create' : 'change';
  const both = [current, next].filter((r): r is AnyResource => r !== undefined);
  switch (kind) {
    case 'Application':
      if (both.some((r) => r.kind === 'Application' && !inTeam(p, r.spec.owner))) throw forbidden(p, `${verb} Application ${name} of another team`);
      return;
    case 'Credential':
      for (const r of both) if (r.kind === 'Credential' && !inTeam(p, await appTeam(l, r.spec.application))) throw forbidden(p, `${verb} credentials of Application ${r.spec.application}`);
      return;
    case 'Subscription': {
      for (const r of both) {
        if (r.kind !== 'Subscription') continue;
        const mine = inTeam(p, await appTeam(l, r.spec.application));
        // the consumer's team subscribes and cancels; the API's owners decide (state changes are checked in subscriptions.ts)
        if (!mine && !(await approvesFor(l, p, r.spec.api))) throw forbidden(p, `${verb} Subscription ${name}`);
      }
      return;
    }
    case 'Policy': {
      for (const r of both) {
        if (r.kind !== 'Policy') continue;
        if (r.spec.targetRef.kind === 'Environment') throw forbidden(p, `${verb} platform policies on environments; platform admins do`);
        const owner = await apiOwner(l, r.spec.targetRef.name);
        if (!producesFor(p, owner)) throw forbidden(p, `${verb} policies of Api ${r.spec.targetRef.name}`);
      }
      return;
    }
    case 'Webhook':
      // a team's people manage its webhooks; one without a team (every event) is the platform's
      for (const r of both) if (r.kind === 'Webhook' && (r.spec.team === undefined || !inTeam(p, r.spec.team))) throw forbidden(p, `${verb} Webhook ${name}${r.spec.team === undefined ? ' for every event; platform admins do' : ` of team ${r.spec.team}`}`);
      return;
    default:
      return assertCanWrite(p, kind, name, current, next);
  }
}
