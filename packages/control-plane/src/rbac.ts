// Who may see and change what: platform-admin over everything, team owners and members over their team's
// APIs, consumers read-only; visibility decides what exists for a caller at all.
import { ApigovError, type AnyResource, type Kind } from '@apigov/model';
import type { SearchViewer } from '@apigov/store';
import type { Principal } from './auth.js';

export function viewerOf(p: Principal): SearchViewer {
  return { admin: p.admin, anonymous: p.anonymous, teams: p.team ? [p.team] : [] };
}

/** Whether the caller may know this resource exists. */
export function canSee(p: Principal, r: AnyResource): boolean {
  if (p.admin) return true;
  if (r.kind === 'Api') {
    const v = r.spec.visibility;
    if (v === 'public') return true;
    if (p.anonymous) return false;
    if (v === 'internal') return true;
    return p.team === r.spec.owner;
  }
  return !p.anonymous;
}

function forbidden(p: Principal, what: string): ApigovError {
  return new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', `${p.name} (${p.role}) may not ${what}`);
}

/**
 * Throws unless the caller may create, replace or delete `next` (or `current` when deleting).
 * `current` is the stored version, if any. Callers check visibility first so invisible things are 404s.
 */
export function assertCanWrite(p: Principal, kind: Kind, name: string, current: AnyResource | undefined, next: AnyResource | undefined): void {
  if (p.anonymous) throw new ApigovError('APIGOV_ERR_AUTH_MISSING_TOKEN', 'sign in: send Authorization: Bearer <token>');
  if (p.admin) return;
  const verb = next === undefined ? 'delete' : current === undefined ? 'create' : 'change';
  const producer = p.role === 'owner' || p.role === 'member';
  switch (kind) {
    case 'Api': {
      if (!producer) throw forbidden(p, `${verb} APIs`);
      const owners = [current?.kind === 'Api' ? current.spec.owner : undefined, next?.kind === 'Api' ? next.spec.owner : undefined].filter(
        (o): o is string => o !== undefined,
      );
      if (owners.some((o) => o !== p.team)) throw forbidden(p, `${verb} Api ${name}, owned by team ${owners.find((o) => o !== p.team)}`);
      if (verb === 'delete' && p.role !== 'owner') throw forbidden(p, `delete Api ${name}; only team owners and platform admins delete APIs`);
      return;
    }
    case 'User': {
      // team owners manage their own team's people, never platform admins
      const teams = [current, next].map((u) => (u?.kind === 'User' ? u.spec : undefined));
      const ok = p.role === 'owner' && teams.every((s) => s === undefined || (s.team === p.team && s.role !== 'platform-admin'));
      if (!ok) throw forbidden(p, `${verb} User ${name}`);
      return;
    }
    case 'Team': {
      if (verb === 'change' && p.role === 'owner' && p.team === name) return;
      throw forbidden(p, `${verb} Team ${name}`);
    }
    default:
      throw forbidden(p, `${verb} ${kind} resources; platform admins do`);
  }
}

export function assertAdmin(p: Principal, what: string): void {
  if (p.anonymous) throw new ApigovError('APIGOV_ERR_AUTH_MISSING_TOKEN', 'sign in: send Authorization: Bearer <token>');
  if (!p.admin) throw forbidden(p, what);
}
