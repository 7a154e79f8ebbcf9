// Sessions after single sign-on: the portal's in an httpOnly SameSite cookie with a double-submit CSRF token, the
// CLI's as a short-lived bearer token with a single-use refresh token. Both are rows of the tokens table (hashed),
// so revoking a user's tokens, or deactivating the user, ends their sessions too.
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/cookie';
import { ApigovError, isLoopbackHost } from '@apigov/model';
import type { SessionInfo, StoreTx } from '@apigov/store';
import { hashToken, newToken } from '../auth.js';

export const SESSION_COOKIE = 'apigov_session';
export const CSRF_COOKIE = 'apigov_csrf';
export const CSRF_HEADER = 'x-apigov-csrf';
/** the authorization request in flight (state, PKCE verifier, nonce), bound to the browser that started it */
export const FLOW_COOKIE = 'apigov_sso_flow';

export interface SessionLifetimes {
  /** a portal session (default 12 hours) */
  portalSeconds: number;
  /** a CLI access token (default 1 hour) */
  cliSeconds: number;
  /** a CLI refresh token (default 30 days) */
  refreshSeconds: number;
}

export const DEFAULT_LIFETIMES: SessionLifetimes = { portalSeconds: 12 * 3600, cliSeconds: 3600, refreshSeconds: 30 * 86400 };

function expiry(seconds: number): string {
  return new Date(Date.now() + seconds * 1000).toISOString();
}

/** A new session token for `user`; with `refresh`, also a refresh token that keeps the IdP's own refresh token. */
export async function issueSession(
  tx: StoreTx,
  user: string,
  session: SessionInfo,
  lifetimes: SessionLifetimes,
  idpRefreshToken?: string,
): Promise<{ token: string; expiresAt: string; refreshToken?: string; refreshExpiresAt?: string }> {
  const token = newToken();
  const now = new Date().toISOString();
  const expiresAt = expiry(session.client === 'portal' ? lifetimes.portalSeconds : lifetimes.cliSeconds);
  await tx.putToken(hashToken(token), { user, prefix: token.slice(0, 8), createdAt: now, expiresAt, kind: 'session', session });
  if (session.client !== 'cli') return { token, expiresAt };
  const refreshToken = newToken();
  const refreshExpiresAt = expiry(lifetimes.refreshSeconds);
  await tx.putToken(hashToken(refreshToken), { user, prefix: refreshToken.slice(0, 8), createdAt: now, expiresAt: refreshExpiresAt, kind: 'refresh', session }, idpRefreshToken);
  return { token, expiresAt, refreshToken, refreshExpiresAt };
}

/** Cookies are Secure on https and everywhere but loopback (where a browser accepts them over http). */
function secure(request: FastifyRequest): boolean {
  return request.protocol === 'https' || !isLoopbackHost(request.hostname);
}

function cookieOptions(request: FastifyRequest, httpOnly: boolean, maxAge?: number) {
  return { path: '/', httpOnly, sameSite: 'lax' as const, secure: secure(request), ...(maxAge !== undefined && { maxAge }) };
}

export function setSessionCookies(request: FastifyRequest, reply: FastifyReply, token: string, maxAgeSeconds: number): void {
  reply.setCookie(SESSION_COOKIE, token, cookieOptions(request, true, maxAgeSeconds));
  reply.setCookie(CSRF_COOKIE, randomBytes(24).toString('base64url'), cookieOptions(request, false, maxAgeSeconds));
}

export function clearSessionCookies(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, cookieOptions(request, true));
  reply.clearCookie(CSRF_COOKIE, cookieOptions(request, false));
}

export function setFlowCookie(request: FastifyRequest, reply: FastifyReply, value: string): void {
  reply.setCookie(FLOW_COOKIE, value, { ...cookieOptions(request, true, 600), path: '/v1/auth/oidc' });
}

export function clearFlowCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(FLOW_COOKIE, { ...cookieOptions(request, true), path: '/v1/auth/oidc' });
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A state-changing request authenticated by the session cookie must echo the CSRF cookie in X-Apigov-Csrf. */
export function assertCsrf(request: FastifyRequest): void {
  if (SAFE.has(request.method)) return;
  const cookie = request.cookies[CSRF_COOKIE];
  const header = request.headers[CSRF_HEADER];
  if (cookie === undefined || cookie === '' || header !== cookie) {
    throw new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', `a change made with the session cookie must send the ${CSRF_HEADER} header with the value of the ${CSRF_COOKIE} cookie`);
  }
}
