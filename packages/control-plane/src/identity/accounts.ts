// People from an identity provider: a User created at their first sign-in (or by SCIM), found again by the IdP's
// subject, and their role and teams derived anew from their groups every time (a group gone at the IdP is gone here).
import { API_VERSION, ApigovError, membershipsFrom, NAME_PATTERN, parseResource, type IdentityProviderSpec, type UserSpec } from '@apigov/model';
import type { StoreTx } from '@apigov/store';
import { systemPrincipal, type Principal } from '../auth.js';
import { writeResource, type WriteContext } from '../catalog/writes.js';

export interface PersonClaims {
  subject: string;
  username?: string;
  email?: string;
  displayName?: string;
  groups: string[];
}

function claimString(claims: Record<string, unknown>, name: string): string | undefined {
  const v = claims[name];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** The person an ID token (or UserInfo response) describes, read through the provider's claim names. */
export function personFrom(spec: IdentityProviderSpec, claims: Record<string, unknown>): PersonClaims {
  const sub = claimString(claims, 'sub');
  if (sub === undefined) throw new ApigovError('APIGOV_ERR_AUTH_SSO', 'the identity provider sent no subject (sub)');
  const raw = claims[spec.claims.groups];
  const groups = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string') : typeof raw === 'string' ? [raw] : [];
  const username = claimString(claims, spec.claims.username);
  const email = claimString(claims, spec.claims.email);
  const displayName = claimString(claims, spec.claims.displayName);
  return { subject: sub, groups, ...(username && { username }), ...(email && { email }), ...(displayName && { displayName }) };
}

/** A user name from what the IdP calls the person: lower-case, the local part of an e-mail address, other characters as '-'. */
export function userNameFor(person: Pick<PersonClaims, 'username' | 'email' | 'subject'>): string {
  const base = (person.username ?? person.email ?? person.subject).toLowerCase().split('@')[0]!;
  const name = base.replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  if (!NAME_PATTERN.test(name)) throw new ApigovError('APIGOV_ERR_AUTH_SSO', `the identity provider's name for this person (${base}) cannot be made a user name`);
  return name;
}

/** The user an IdP subject was provisioned as, if any. */
export async function findByIdentity(tx: Pick<StoreTx, 'list'>, provider: string, subject: string): Promise<{ name: string; spec: UserSpec } | undefined> {
  for (const s of await tx.list('User', { limit: 100_000 })) {
    if (s.resource.kind !== 'User') continue;
    const id = s.resource.spec.identity;
    if (id?.provider === provider && id.subject === subject) return { name: s.resource.metadata.name, spec: s.resource.spec };
  }
  return undefined;
}

/** Role and teams from groups, leaving out mappings to teams that do not exist (named in `skipped`). */
export async function accessFromGroups(tx: Pick<StoreTx, 'get'>, spec: Pick<IdentityProviderSpec, 'groupMappings' | 'defaultRole' | 'defaultTeam'>, groups: readonly string[]): Promise<{ spec: Pick<UserSpec, 'role' | 'team' | 'teams'>; skipped: string[] }> {
  const derived = membershipsFrom(groups, spec);
  const skipped: string[] = [];
  const kept = [];
  for (const m of derived.memberships) {
    if (await tx.get('Team', m.team)) kept.push(m);
    else skipped.push(m.team);
  }
  const [first, ...rest] = kept;
  const role = derived.role === 'platform-admin' ? 'platform-admin' : (first?.role ?? 'consumer');
  return { spec: { role, ...(first && { team: first.team }), ...(rest.length > 0 && { teams: rest }) }, skipped };
}

/** The principal identity-provider writes run as: the audit log names the provider. */
export function providerPrincipal(provider: string): Principal {
  return systemPrincipal(`idp:${provider}`);
}

/**
 * Creates or updates the User for a person signing in through `provider`: found by subject, else by name (an
 * account made before single sign-on is linked at its first sign-in, unless another identity holds it).
 */
export async function provisionFromSignIn(ctx: WriteContext, provider: string, spec: IdentityProviderSpec, person: PersonClaims): Promise<{ name: string; user: UserSpec; skippedTeams: string[] }> {
  const tx = ctx.tx;
  const found = await findByIdentity(tx, provider, person.subject);
  let name = found?.name;
  let current = found?.spec;
  if (name === undefined) {
    name = userNameFor(person);
    const existing = await tx.get('User', name);
    if (existing?.resource.kind === 'User') {
      const id = existing.resource.spec.identity;
      if (id !== undefined && !(id.provider === provider && id.subject === person.subject)) {
        throw new ApigovError('APIGOV_ERR_AUTH_SSO', `the user name ${name} belongs to another identity; a platform admin can rename one of them`);
      }
      current = existing.resource.spec;
    }
  }
  if (current?.active === false) throw new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', `${name} is deactivated`);
  const access = await accessFromGroups(tx, spec, person.groups);
  const next: UserSpec = {
    ...access.spec,
    ...(person.displayName !== undefined ? { displayName: person.displayName.slice(0, 200) } : current?.displayName !== undefined && { displayName: current.displayName }),
    ...(person.email !== undefined && /^[^\s@]+@[^\s@]+$/.test(person.email) ? { email: person.email } : current?.email !== undefined && { email: current.email }),
    identity: { provider, subject: person.subject },
    ...(current?.externalId !== undefined && { externalId: current.externalId }),
    groups: [...new Set(person.groups)].slice(0, 1000),
  };
  const resource = parseResource({ apiVersion: API_VERSION, kind: 'User', metadata: { name }, spec: next });
  await writeResource({ ...ctx, principal: providerPrincipal(provider) }, resource, { action: current === undefined ? 'user.provision' : 'user.sync' });
  return { name, user: resource.kind === 'User' ? resource.spec : next, skippedTeams: access.skipped };
}
