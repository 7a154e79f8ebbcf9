// Bearer-token authentication: tokens are random, stored only as sha256 hashes, and resolve to a principal.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ApigovError, MEMBER_ROLES, type Membership, type MemberRole, type Role, type UserSpec } from '@apigov/model';
import type { SessionInfo, Store } from '@apigov/store';

export interface Principal {
  /** user name, 'admin' for the bootstrap token, 'anonymous' without a token */
  name: string;
  role: Role | 'anonymous' | 'gateway';
  team?: string;
  admin: boolean;
  anonymous: boolean;
  /** a scoped (service-account) token: what it may do on top of its owner's rights (scopes.ts) */
  scopes?: string[];
  /** the named token the request came with */
  tokenName?: string;
  /** every team the person is in, with their role there (the first is `team`); see membershipsOf */
  memberships?: readonly Membership[];
  /** a single-sign-on session: when and how the person signed in at the identity provider (step-up reads it) */
  session?: SessionInfo;
}

/** A user's teams and roles: the first team and role, then the further memberships. */
export function userMemberships(spec: UserSpec): Membership[] {
  const out: Membership[] = [];
  if (spec.team !== undefined && (MEMBER_ROLES as readonly string[]).includes(spec.role)) out.push({ team: spec.team, role: spec.role as MemberRole });
  for (const m of spec.teams ?? []) if (!out.some((o) => o.team === m.team)) out.push(m);
  return out;
}

export const ANONYMOUS: Principal = { name: 'anonymous', role: 'anonymous', admin: false, anonymous: true };

/** The control plane acting on its own (clocks, the webhook worker, the demo, an identity provider's sign-ins), as the audit log names it. */
export function systemPrincipal(name: string): Principal {
  return { name, role: 'platform-admin', admin: true, anonymous: false };
}

export const TOKEN_PREFIX = 'agv_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new token: `agv_` + 32 random bytes, base64url. */
export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** a token's last use is written at most this often */
const TOUCH_EVERY_MS = 60_000;

export class Authenticator {
  private readonly touched = new Map<string, number>();
  private readonly adminHash?: Buffer;
  private readonly gatewayHash?: Buffer;

  constructor(
    private readonly store: Store,
    adminToken?: string,
    gatewayToken?: string,
  ) {
    if (adminToken !== undefined && adminToken.length > 0) {
      if (adminToken.length < 16) throw new Error('APIGOV_ADMIN_TOKEN must be at least 16 characters');
      this.adminHash = Buffer.from(hashToken(adminToken), 'hex');
    }
    if (gatewayToken !== undefined && gatewayToken.length > 0) {
      if (gatewayToken.length < 16) throw new Error('APIGOV_GATEWAY_TOKEN must be at least 16 characters');
      this.gatewayHash = Buffer.from(hashToken(gatewayToken), 'hex');
    }
  }

  /** records a token's use, at most once a minute per token, off the request's path */
  private noteUse(hash: string, lastUsedAt: string | undefined): void {
    const now = Date.now();
    const last = this.touched.get(hash) ?? (lastUsedAt === undefined ? 0 : Date.parse(lastUsedAt));
    if (now - last < TOUCH_EVERY_MS) return;
    this.touched.set(hash, now);
    if (this.touched.size > 100_000) this.touched.clear();
    this.store.touchToken(hash, new Date(now).toISOString()).catch(() => undefined);
  }

  async principal(authorization: string | undefined): Promise<Principal> {
    if (authorization === undefined || authorization === '') return ANONYMOUS;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw new ApigovError('APIGOV_ERR_AUTH_INVALID_TOKEN', 'Authorization must be "Bearer <token>"');
    const hash = hashToken(m[1]);
    if (this.adminHash && timingSafeEqual(Buffer.from(hash, 'hex'), this.adminHash)) {
      return { name: 'admin', role: 'platform-admin', admin: true, anonymous: false };
    }
    if (this.gatewayHash && timingSafeEqual(Buffer.from(hash, 'hex'), this.gatewayHash)) {
      // gateways read snapshots and send reports; they change nothing in the catalog
      return { name: 'gateway', role: 'gateway', admin: false, anonymous: false };
    }
    return this.tokenPrincipal(hash);
  }

  /** The principal of a stored token or session (by its hash); a deactivated user's are refused. */
  async tokenPrincipal(hash: string): Promise<Principal> {
    const record = await this.store.findToken(hash);
    if (!record || record.kind === 'refresh') throw new ApigovError('APIGOV_ERR_AUTH_INVALID_TOKEN', 'the token is not valid');
    if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= Date.now()) {
      const expired = new ApigovError('APIGOV_ERR_AUTH_EXPIRED_TOKEN', `the token expired at ${record.expiresAt}`);
      // whose token it was, for counting failed sign-ins per user (never rendered to the caller)
      Object.defineProperty(expired, 'tokenUser', { value: record.user, enumerable: false });
      throw expired;
    }
    const user = await this.store.get('User', record.user);
    if (!user || user.resource.kind !== 'User') throw new ApigovError('APIGOV_ERR_AUTH_INVALID_TOKEN', 'the token is not valid');
    const spec = user.resource.spec;
    if (spec.active === false) throw new ApigovError('APIGOV_ERR_AUTH_INVALID_TOKEN', 'the token is not valid: its user is deactivated');
    this.noteUse(hash, record.lastUsedAt);
    let memberships = userMemberships(spec);
    // a token made for one team acts for that team only
    if (record.team !== undefined) memberships = memberships.filter((m) => m.team === record.team);
    const first = memberships[0];
    const admin = spec.role === 'platform-admin';
    return {
      name: user.resource.metadata.name,
      role: admin || first === undefined ? spec.role : first.role,
      team: record.team ?? first?.team ?? spec.team,
      memberships,
      admin,
      ...(record.session !== undefined && { session: record.session }),
      anonymous: false,
      ...(record.scopes !== undefined && { scopes: record.scopes }),
      ...(record.name !== undefined && { tokenName: record.name }),
    };
  }
}

export function requireSignedIn(p: Principal): void {
  if (p.anonymous) throw new ApigovError('APIGOV_ERR_AUTH_MISSING_TOKEN', 'sign in: send Authorization: Bearer <token>');
}
