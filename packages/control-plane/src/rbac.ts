// Who may see and change what: platform-admin over everything, team owners and members over their team's
// APIs, consumers read-only; visibility decides what exists for a caller at all.
import { ApigovError, type AnyResource, type Kind, type Membership, type MemberRole } from '@apigov/model';
import type { SearchViewer } from '@apigov/store';
import type { Principal } from './auth.js';

/** The caller's teams with their role in each (a principal built without memberships: its one team and role). */
export function membershipsOf(p: Principal): readonly Membership[] {
  if (p.memberships !== undefined) return p.memberships;
  return p.team !== undefined && (p.role === 'owner' || p.role === 'member' || p.role === 'consumer') ? [{ team: p.team, role: p.role }] : [];
}

/** The caller's role in `team`, if they are in it. */
export function roleIn(p: Principal, team: string | undefined): MemberRole | undefined {
  if (team === undefined) return undefined;
  return membershipsOf(p).find((m) => m.team === team)?.role;
}

export function inTeam(p: Principal, team: string | undefined): boolean {
  return roleIn(p, team) !== undefined;
}

/** An owner or member of `team`: who builds and runs its APIs. */
export function producesFor(p: Principal, team: string | undefined): boolean {
  const r = roleIn(p, team);
  return r === 'owner' || r === 'member';
}

export function viewerOf(p: Principal): SearchViewer {
  return { admin: p.admin, anonymous: p.anonymous, teams: membershipsOf(p).map((m) => m.team) };
}

/** Whether the caller may know this resource exists. */
export function canSee(p: Principal, r: AnyResource): boolean {
  if (p.admin) return true;
  if (r.kind === 'Api') {
    const v = r.spec.visibility;
    if (v === 'public') return true;
    if (p.anonymous) return false;
    if (v === 'internal') return true;
    return inTeam(p, r.spec.owner);
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
  const producer = membershipsOf(p).some((m) => m.role === 'owner' || m.role === 'member');
  switch (kind) {
    case 'Api': {
      if (!producer) throw forbidden(p, `${verb} APIs`);
      const owners = [current?.kind === 'Api' ? current.spec.owner : undefined, next?.kind === 'Api' ? next.spec.owner : undefined].filter(
        (o): o is string => o !== undefined,
      );
      const foreign = owners.find((o) => !producesFor(p, o));
      if (foreign !== undefined) throw forbidden(p, `${verb} Api ${name}, owned by team ${foreign}`);
      if (verb === 'delete' && owners.some((o) => roleIn(p, o) !== 'owner')) throw forbidden(p, `delete Api ${name}; only team owners and platform admins delete APIs`);
      return;
    }
    case 'User': {
      // team owners manage their own team's people (every team the person is in), never platform admins
      const specs = [current, next].map((u) => (u?.kind === 'User' ? u.spec : undefined));
      const ok = specs.every((s) => s === undefined || (s.role !== 'platform-admin' && [s.team, ...(s.teams ?? []).map((t) => t.team)].every((t) => t === undefined || roleIn(p, t) === 'owner')));
      if (!ok || specs.every((s) => s === undefined || s.team === undefined)) throw forbidden(p, `${verb} User ${name}`);
      return;
    }
    case 'Team': {
      if (verb === 'change' && roleIn(p, name) === 'owner') return;
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
