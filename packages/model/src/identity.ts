// Single sign-on (`kind: IdentityProvider`): an OpenID Connect issuer, its client, which claims name the person and
// their groups, and how groups map to teams and roles; `membershipsFrom` derives a user's teams from their groups.
import { z } from 'zod';
import { resourceName } from './resource.js';

export const MEMBER_ROLES = ['owner', 'member', 'consumer'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

/** A secret is never in the resource: it names where the control plane reads it. */
export const secretRef = z.union([
  z.object({ fromEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'must be an environment variable name' }) }).strict(),
  z.object({ fromFile: z.string().min(1).max(4096) }).strict(),
]);
export type SecretRef = z.infer<typeof secretRef>;

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/;

/** localhost, 127.x.y.z or ::1 (a URL's hostname, bracketed or not) */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOST.test(hostname);
}

/** https, or http on a loopback address (a local IdP in development and tests) */
export function isSecureIssuer(issuer: string): boolean {
  let u: URL;
  try {
    u = new URL(issuer);
  } catch {
    return false;
  }
  return u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname));
}

export const groupMapping = z
  .object({
    group: z.string().min(1).max(256),
    /** the team the group's members join; absent only with role platform-admin */
    team: resourceName.optional(),
    role: z.enum(['platform-admin', ...MEMBER_ROLES]),
  })
  .strict()
  .refine((m) => m.role === 'platform-admin' || m.team !== undefined, { message: 'a team is required unless the role is platform-admin', path: ['team'] });
export type GroupMapping = z.infer<typeof groupMapping>;

export const identityProviderSpec = z
  .object({
    displayName: z.string().max(200).optional(),
    issuer: z.string().url().refine(isSecureIssuer, { message: 'must be an https URL (http only on a loopback address)' }),
    clientId: z.string().min(1).max(256),
    clientSecret: secretRef.optional(),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).max(20).default(['openid', 'profile', 'email', 'groups']),
    claims: z
      .object({
        username: z.string().min(1).max(100).default('preferred_username'),
        email: z.string().min(1).max(100).default('email'),
        groups: z.string().min(1).max(100).default('groups'),
        displayName: z.string().min(1).max(100).default('name'),
      })
      .strict()
      .default({ username: 'preferred_username', email: 'email', groups: 'groups', displayName: 'name' }),
    groupMappings: z.array(groupMapping).max(1000).default([]),
    /** the role of a person none of whose groups maps (with defaultTeam, or without a team: a read-only consumer) */
    defaultRole: z.enum(MEMBER_ROLES).default('consumer'),
    defaultTeam: resourceName.optional(),
    /** what counts as multi-factor at this IdP (step-up): an `acr` among these, or an `amr` among these */
    mfa: z
      .object({ acrValues: z.array(z.string().min(1).max(200)).max(20).default([]), amr: z.array(z.string().min(1).max(50)).max(20).default(['mfa', 'otp', 'hwk', 'swk', 'fpt']) })
      .strict()
      .optional(),
  })
  .strict();
export type IdentityProviderSpec = z.infer<typeof identityProviderSpec>;

export interface Membership {
  team: string;
  role: MemberRole;
}

export interface DerivedAccess {
  role: 'platform-admin' | MemberRole;
  /** the first membership: the user's `team` */
  team?: string;
  /** every membership, the first included */
  memberships: Membership[];
}

const RANK: Record<MemberRole, number> = { owner: 3, member: 2, consumer: 1 };

/**
 * A person's role and teams from their groups: every mapping whose group they are in, the strongest role per team,
 * teams in mapping order; platform-admin when any mapping says so; none mapping: the default role (and team).
 */
export function membershipsFrom(groups: readonly string[], spec: Pick<IdentityProviderSpec, 'groupMappings' | 'defaultRole' | 'defaultTeam'>): DerivedAccess {
  const inGroup = new Set(groups);
  const byTeam = new Map<string, MemberRole>();
  let admin = false;
  for (const m of spec.groupMappings) {
    if (!inGroup.has(m.group)) continue;
    if (m.role === 'platform-admin') {
      admin = true;
      continue;
    }
    const team = m.team!;
    const had = byTeam.get(team);
    if (had === undefined || RANK[m.role] > RANK[had]) byTeam.set(team, m.role);
  }
  if (byTeam.size === 0 && !admin && spec.defaultTeam !== undefined) byTeam.set(spec.defaultTeam, spec.defaultRole);
  const memberships = [...byTeam].map(([team, role]) => ({ team, role }));
  const first = memberships[0];
  if (admin) return { role: 'platform-admin', ...(first && { team: first.team }), memberships };
  // owners and members belong to a team: without one, a person is a read-only consumer
  if (first === undefined) return { role: 'consumer', memberships: [] };
  return { role: first.role, team: first.team, memberships };
}
