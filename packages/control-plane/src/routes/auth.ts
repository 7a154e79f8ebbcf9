// Single sign-on over REST: the portal's authorization code flow with PKCE (login → IdP → callback → session
// cookie), the CLI's device authorization grant and refresh, and sign-out (RP-initiated at the IdP when it offers it).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { ApigovError } from '@apigov/model';
import type { SessionInfo } from '@apigov/store';
import { hashToken, userMemberships, type Principal } from '../auth.js';
import { membershipsOf } from '../rbac.js';
import { inTransaction, query, type Deps } from '../http.js';
import { personFrom, provisionFromSignIn } from '../identity/accounts.js';
import type { IdentityProviders, ResolvedProvider } from '../identity/providers.js';
import {
  clearFlowCookie,
  clearSessionCookies,
  DEFAULT_LIFETIMES,
  FLOW_COOKIE,
  issueSession,
  SESSION_COOKIE,
  setFlowCookie,
  setSessionCookies,
  type SessionLifetimes,
} from '../identity/sessions.js';
import type { SignInGuard } from '../sign-in-guard.js';
import { invalidField } from '../problem.js';

export interface SsoOptions {
  /** the control plane's URL as browsers reach it (the redirect URI is `<publicUrl>/v1/auth/oidc/callback`); default: from each request */
  publicUrl?: string;
  lifetimes?: Partial<SessionLifetimes>;
}

interface Flow {
  /** provider */
  p: string;
  /** state */
  s: string;
  /** PKCE code verifier */
  v: string;
  /** nonce */
  n: string;
  /** where the portal goes afterwards (a path) */
  r: string;
  /** max_age asked for (step-up) */
  m?: number;
}

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

function baseUrl(request: FastifyRequest, options: SsoOptions): string {
  return (options.publicUrl ?? `${request.protocol}://${request.host}`).replace(/\/+$/, '');
}

/** Only a path of this origin: never an open redirect. */
function safeReturn(raw: string | undefined): string {
  return raw !== undefined && /^\/(?![/\\])[\x21-\x7e]*$/.test(raw) ? raw : '/';
}

function idpError(e: unknown): ApigovError {
  if (e instanceof ApigovError) return e;
  if (e instanceof oidc.ResponseBodyError || e instanceof oidc.AuthorizationResponseError) {
    return new ApigovError('APIGOV_ERR_AUTH_SSO', `the identity provider refused: ${e.error}${e.error_description ? ` (${e.error_description})` : ''}`, { extensions: { error: e.error } });
  }
  return new ApigovError('APIGOV_ERR_AUTH_SSO', `single sign-on failed: ${(e as Error).message}`);
}

function sessionFrom(provider: string, claims: Record<string, unknown>, client: SessionInfo['client']): SessionInfo {
  const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : typeof claims.iat === 'number' ? claims.iat : 0;
  const amr = Array.isArray(claims.amr) ? claims.amr.filter((a): a is string => typeof a === 'string') : undefined;
  return { provider, authTime, client, ...(typeof claims.acr === 'string' && { acr: claims.acr }), ...(amr && { amr }) };
}

/** What /v1/whoami says of a principal. */
export function whoami(p: Principal): Record<string, unknown> {
  return {
    name: p.name,
    role: p.role,
    ...(p.team && { team: p.team }),
    teams: membershipsOf(p),
    admin: p.admin,
    ...(p.session && { session: { provider: p.session.provider, authTime: new Date(p.session.authTime * 1000).toISOString(), ...(p.session.acr && { acr: p.session.acr }), ...(p.session.amr && { amr: p.session.amr }) } }),
  };
}

export function registerAuthRoutes(app: FastifyInstance, deps: Deps, providers: IdentityProviders, signIns: SignInGuard, options: SsoOptions = {}): void {
  const lifetimes: SessionLifetimes = { ...DEFAULT_LIFETIMES, ...options.lifetimes };

  /** signs the person in: provisions their User from the claims, audits, and issues the session */
  async function signIn(request: FastifyRequest, provider: ResolvedProvider, claims: Record<string, unknown>, client: SessionInfo['client'], method: 'oidc-code' | 'oidc-device' | 'refresh', idpRefreshToken?: string) {
    const person = personFrom(provider.spec, claims);
    const session = sessionFrom(provider.name, claims, client);
    return inTransaction(deps, request, async (ctx) => {
      const user = await provisionFromSignIn(ctx, provider.name, provider.spec, person);
      const issued = await issueSession(ctx.tx, user.name, session, lifetimes, idpRefreshToken);
      await ctx.tx.audit({
        actor: user.name,
        action: method === 'refresh' ? 'auth.refresh' : 'auth.sign-in',
        kind: 'User',
        name: user.name,
        before: null,
        after: { method, provider: provider.name, address: request.ip, result: 'ok', ...(session.acr && { acr: session.acr }), ...(session.amr && { amr: session.amr }), ...(user.skippedTeams.length > 0 && { unknownTeams: user.skippedTeams }) },
        requestId: ctx.requestId,
      });
      const memberships = userMemberships(user.user);
      return { issued, user: { name: user.name, role: user.user.role, ...(user.user.team && { team: user.user.team }), teams: memberships, admin: user.user.role === 'platform-admin' } };
    });
  }

  function failed(request: FastifyRequest, method: 'oidc' | 'refresh', result: 'invalid' | 'refused'): void {
    signIns.failed({ address: request.ip, method, result, requestId: String(request.id) });
  }

  app.get('/v1/auth/providers', async () => ({
    items: (await providers.list()).map((p) => ({ ...p, signIn: `/v1/auth/oidc/${p.name}/login` })),
  }));

  app.get<{ Params: { provider: string } }>('/v1/auth/oidc/:provider/login', async (request, reply) => {
    signIns.assertAllowed(request.ip, String(request.id));
    const q = query(request);
    const provider = await providers.resolve(request.params.provider);
    const maxAge = q.max_age === undefined ? undefined : Number(q.max_age);
    if (maxAge !== undefined && (!Number.isInteger(maxAge) || maxAge < 0 || maxAge > 86400)) throw invalidField('max_age', 'must be a number of seconds from 0 to 86400');
    if (q.acr_values !== undefined && !/^[\x21-\x7e ]{1,500}$/.test(q.acr_values)) throw invalidField('acr_values', 'must be space-separated values');
    const flow: Flow = { p: provider.name, s: oidc.randomState(), v: oidc.randomPKCECodeVerifier(), n: oidc.randomNonce(), r: safeReturn(q.return), ...(maxAge !== undefined && { m: maxAge }) };
    const url = oidc.buildAuthorizationUrl(provider.config, {
      redirect_uri: `${baseUrl(request, options)}/v1/auth/oidc/callback`,
      scope: provider.spec.scopes.join(' '),
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.v),
      code_challenge_method: 'S256',
      state: flow.s,
      nonce: flow.n,
      ...(maxAge !== undefined && { max_age: String(maxAge), prompt: 'login' }),
      ...(q.acr_values !== undefined && { acr_values: q.acr_values }),
    });
    setFlowCookie(request, reply, Buffer.from(JSON.stringify(flow)).toString('base64url'));
    return reply.header('cache-control', 'no-store').redirect(url.href, 302);
  });

  app.get('/v1/auth/oidc/callback', async (request, reply: FastifyReply) => {
    signIns.assertAllowed(request.ip, String(request.id));
    const q = query(request);
    let flow: Flow | undefined;
    try {
      const raw = request.cookies[FLOW_COOKIE];
      if (raw !== undefined) flow = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Flow;
    } catch {
      flow = undefined;
    }
    clearFlowCookie(request, reply);
    const back = (path: string, error?: string) => reply.header('cache-control', 'no-store').redirect(error === undefined ? path : `/?sso_error=${encodeURIComponent(error)}`, 302);
    try {
      // the state must come back to the browser that started the sign-in (login CSRF)
      if (flow === undefined || typeof flow.s !== 'string' || q.state !== flow.s) throw new ApigovError('APIGOV_ERR_AUTH_SSO', 'this sign-in was not started in this browser, or took longer than 10 minutes; start it again');
      if (q.error !== undefined) throw new ApigovError('APIGOV_ERR_AUTH_SSO', `the identity provider refused: ${q.error}${q.error_description ? ` (${q.error_description})` : ''}`);
      const provider = await providers.resolve(flow.p);
      const current = new URL(`${baseUrl(request, options)}${request.url}`);
      let tokens;
      try {
        tokens = await oidc.authorizationCodeGrant(provider.config, current, { pkceCodeVerifier: flow.v, expectedState: flow.s, expectedNonce: flow.n, ...(flow.m !== undefined && { maxAge: flow.m }) });
      } catch (e) {
        throw idpError(e);
      }
      const claims = tokens.claims();
      if (claims === undefined) throw new ApigovError('APIGOV_ERR_AUTH_SSO', 'the identity provider sent no ID token');
      const { issued } = await signIn(request, provider, claims as Record<string, unknown>, 'portal', 'oidc-code');
      setSessionCookies(request, reply, issued.token, lifetimes.portalSeconds);
      return back(safeReturn(flow.r));
    } catch (e) {
      const detail = e instanceof ApigovError ? e.message : 'single sign-on failed';
      failed(request, 'oidc', 'refused');
      return back('/', detail);
    }
  });

  app.post('/v1/auth/logout', async (request, reply) => {
    const p = request.principal;
    const cookie = request.cookies[SESSION_COOKIE];
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    const token = bearer ?? cookie;
    let endSessionUrl: string | undefined;
    if (token !== undefined && p.session !== undefined) {
      await inTransaction(deps, request, async (ctx) => {
        const taken = await ctx.tx.takeToken(hashToken(token));
        if (taken !== null) await ctx.tx.audit({ actor: p.name, action: 'auth.sign-out', kind: 'User', name: p.name, before: null, after: { provider: p.session!.provider, address: request.ip }, requestId: ctx.requestId });
      });
      try {
        const provider = await providers.resolve(p.session.provider);
        if (provider.endSession && p.session !== undefined && cookie !== undefined) {
          endSessionUrl = oidc.buildEndSessionUrl(provider.config, { client_id: provider.spec.clientId, post_logout_redirect_uri: `${baseUrl(request, options)}/` }).href;
        }
      } catch {
        endSessionUrl = undefined;
      }
    }
    clearSessionCookies(request, reply);
    return { signedOut: true, ...(endSessionUrl !== undefined && { endSessionUrl }) };
  });

  app.post<{ Params: { provider: string } }>('/v1/auth/oidc/:provider/device', async (request) => {
    signIns.assertAllowed(request.ip, String(request.id));
    const provider = await providers.resolve(request.params.provider);
    if (!provider.deviceFlow) throw new ApigovError('APIGOV_ERR_AUTH_SSO', `IdentityProvider ${provider.name} offers no device authorization grant (device_authorization_endpoint)`);
    const supported = provider.config.serverMetadata().scopes_supported ?? [];
    const scopes = [...provider.spec.scopes, ...(supported.includes('offline_access') && !provider.spec.scopes.includes('offline_access') ? ['offline_access'] : [])];
    // a step-up asks for a multi-factor, recent sign-in (what the step-up problem's acr_values and max_age said)
    const b = (request.body ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(b).find((k) => k !== 'acr_values' && k !== 'max_age');
    if (unknown !== undefined) throw invalidField(unknown, 'unknown field; expected acr_values, max_age');
    if (b.acr_values !== undefined && (typeof b.acr_values !== 'string' || !/^[\x21-\x7e ]{1,500}$/.test(b.acr_values))) throw invalidField('acr_values', 'must be space-separated values');
    if (b.max_age !== undefined && (typeof b.max_age !== 'number' || !Number.isInteger(b.max_age) || b.max_age < 0 || b.max_age > 86400)) throw invalidField('max_age', 'must be a number of seconds from 0 to 86400');
    try {
      const d = await oidc.initiateDeviceAuthorization(provider.config, {
        scope: scopes.join(' '),
        ...(typeof b.acr_values === 'string' && { acr_values: b.acr_values }),
        ...(typeof b.max_age === 'number' && { max_age: String(b.max_age) }),
      });
      return { device_code: d.device_code, user_code: d.user_code, verification_uri: d.verification_uri, ...(d.verification_uri_complete && { verification_uri_complete: d.verification_uri_complete }), expires_in: d.expires_in, interval: d.interval ?? 5 };
    } catch (e) {
      throw idpError(e);
    }
  });

  app.post<{ Params: { provider: string } }>('/v1/auth/oidc/:provider/device/token', async (request, reply) => {
    signIns.assertAllowed(request.ip, String(request.id));
    const b = (request.body ?? {}) as Record<string, unknown>;
    if (typeof b.device_code !== 'string' || b.device_code.length === 0 || b.device_code.length > 1000) throw invalidField('device_code', 'is required: the device_code the device request returned');
    const provider = await providers.resolve(request.params.provider);
    let tokens;
    try {
      tokens = await oidc.genericGrantRequest(provider.config, DEVICE_GRANT, { device_code: b.device_code });
    } catch (e) {
      if (e instanceof oidc.ResponseBodyError && (e.error === 'authorization_pending' || e.error === 'slow_down')) return reply.code(202).send({ status: e.error === 'slow_down' ? 'slow_down' : 'pending' });
      failed(request, 'oidc', 'refused');
      throw idpError(e);
    }
    const claims = tokens.claims();
    if (claims === undefined) throw new ApigovError('APIGOV_ERR_AUTH_SSO', 'the identity provider sent no ID token (is openid among the scopes?)');
    const { issued, user } = await signIn(request, provider, claims as Record<string, unknown>, 'cli', 'oidc-device', tokens.refresh_token);
    return reply.header('cache-control', 'no-store').send({ ...issued, user, provider: provider.name });
  });

  app.post('/v1/auth/refresh', async (request, reply) => {
    signIns.assertAllowed(request.ip, String(request.id));
    const b = (request.body ?? {}) as Record<string, unknown>;
    if (typeof b.refreshToken !== 'string' || b.refreshToken.length === 0 || b.refreshToken.length > 200) throw invalidField('refreshToken', 'is required');
    const refreshToken = b.refreshToken;
    // single use: taken (deleted) whatever happens next, so a stolen copy works at most once
    const taken = await deps.store.transaction((tx) => tx.takeToken(hashToken(refreshToken)));
    if (taken === null || taken.kind !== 'refresh' || taken.session === undefined || (taken.expiresAt !== undefined && Date.parse(taken.expiresAt) <= Date.now())) {
      failed(request, 'refresh', 'invalid');
      throw new ApigovError('APIGOV_ERR_AUTH_INVALID_TOKEN', 'the refresh token is not valid; sign in again (apigov login --sso)');
    }
    const provider = await providers.resolve(taken.session.provider);
    let claims: Record<string, unknown> | undefined;
    let idpRefresh = taken.idpRefreshToken;
    if (idpRefresh !== undefined) {
      // the IdP has its say: a person disabled there, or whose groups changed, is seen now
      try {
        const tokens = await oidc.refreshTokenGrant(provider.config, idpRefresh);
        idpRefresh = tokens.refresh_token ?? idpRefresh;
        claims = tokens.claims() as Record<string, unknown> | undefined;
        if (claims === undefined && tokens.access_token !== undefined) claims = (await oidc.fetchUserInfo(provider.config, tokens.access_token, oidc.skipSubjectCheck)) as Record<string, unknown>;
      } catch (e) {
        failed(request, 'refresh', 'refused');
        throw idpError(e);
      }
    }
    if (claims === undefined) {
      // an IdP without refresh tokens: the session is renewed as it was, within the refresh token's life
      const user = await deps.store.get('User', taken.user);
      if (user?.resource.kind !== 'User' || user.resource.spec.active === false) throw new ApigovError('APIGOV_ERR_AUTH_INVALID_TOKEN', 'the refresh token is not valid; sign in again (apigov login --sso)');
      claims = { sub: user.resource.spec.identity?.subject ?? taken.user, [provider.spec.claims.username]: taken.user, [provider.spec.claims.groups]: user.resource.spec.groups ?? [] };
    }
    // the sign-in itself (auth_time, acr, amr) is the original one: a refresh is no new authentication
    const { issued, user } = await signIn(request, provider, { ...claims, auth_time: taken.session.authTime, acr: taken.session.acr, amr: taken.session.amr }, 'cli', 'refresh', idpRefresh);
    return reply.header('cache-control', 'no-store').send({ ...issued, user, provider: provider.name });
  });
}
