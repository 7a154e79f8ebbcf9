// JWT bearer authentication (jose). Per issuer: a key source (remote JWKS shared process-wide per URL, or
// inline keys), an algorithm allowlist (so `alg: none` and HS/RS confusion are refused), the issuer, the
// accepted audiences (any of) and a clock tolerance. The token's `iss`, read without trusting it, only
// picks which issuer's rules verify it.
//
// Decisions:
// - runs after apiKeyAuth in the same phase and does nothing when a consumer is already set: on a route
//   configuring both, either credential satisfies it (see api-key-auth.ts);
// - a token that verifies but whose identity (issuer + sub, else issuer + client_id / azp) is bound to no
//   application gets 401 INVALID_CREDENTIAL "token is valid but not bound to an application": the gateway
//   cannot say who is calling, which is an authentication failure (403 is for a known caller that may not);
// - `exp` is required: a token that never expires is refused;
// - every refusal is 401 INVALID_CREDENTIAL with a precise reason ("token expired", "audience mismatch", …)
//   and never the token or its claims; only when the issuer's keys cannot be fetched at all and none are
//   cached is the answer 503 APIGOV_ERR_UNAVAILABLE (not the caller's fault);
// - Authorization is never forwarded on a route that configures jwtAuth, and headers named in
//   claimsToHeaders are always overwritten or removed, so a caller cannot forge them;
// - a verified token is remembered (auth/token-cache.ts) until it expires, at most 60 s: a client reusing
//   its token costs a Map lookup, not a signature verification.
import { decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import type { ErrorCode, PolicyConfigs } from '@apigov/model';
import { definePolicy, type Consumer, type RequestContext } from '../policy.js';
import { bindingKey, type SnapshotAuthTables } from '../auth/consumers.js';
import { JwksUnavailableError, localKeySource, remoteKeySource } from '../auth/jwks.js';
import { cachedToken, cacheOwner, rememberToken, TOKEN_CACHE_MAX_AGE_MS, type VerifiedToken } from '../auth/token-cache.js';
import { isBearer } from './api-key-auth.js';

interface IssuerVerifier {
  readonly issuer: string;
  readonly clockToleranceMs: number;
  readonly getKey: JWTVerifyGetKey;
  readonly options: JWTVerifyOptions;
}

interface ClaimHeader {
  readonly claim: string;
  /** the claim as a dotted path when it is not a top-level claim name */
  readonly path: readonly string[];
  readonly header: string;
}

/** Headers a claim may not set: hop-by-hop, framing, routing, and the credential headers themselves. */
const FORBIDDEN_CLAIM_HEADERS = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'authorization']);
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

export const jwtAuthPolicy = definePolicy({
  id: 'jwtAuth',
  phase: 'authenticate',
  priority: 200,
  compile(config, route, operation, deps) {
    const effective = (operation?.policies ?? route.policies) as PolicyConfigs; // an operation's are already merged with the route's
    const where = operation === undefined ? `route ${route.id}` : `route ${route.id} operation ${operation.id}`;

    const verifiers = new Map<string, IssuerVerifier>();
    for (const i of config.issuers) {
      if (verifiers.has(i.issuer)) throw new Error(`jwtAuth on ${where}: issuer ${i.issuer} is listed twice`);
      // jose never verifies HMAC (HS*) tokens with keys from a key set, so listing them can only mislead
      const algorithms = i.algorithms.filter((a) => !a.startsWith('HS'));
      if (algorithms.length !== i.algorithms.length) deps.warn(`jwtAuth on ${where}: issuer ${i.issuer} lists HMAC algorithms, which cannot be verified with a public key set; ignored`);
      if (algorithms.length === 0) throw new Error(`jwtAuth on ${where}: issuer ${i.issuer} allows no asymmetric algorithm`);
      const source = i.jwksUri !== undefined ? remoteKeySource(i.jwksUri) : localKeySource(i.keys ?? []);
      source.prefetch();
      verifiers.set(i.issuer, {
        issuer: i.issuer,
        clockToleranceMs: i.clockSkewSeconds * 1000,
        getKey: source.getKey,
        options: { issuer: i.issuer, audience: i.audiences, algorithms, clockTolerance: i.clockSkewSeconds, requiredClaims: ['exp'] },
      });
    }
    const single = verifiers.size === 1 ? [...verifiers.values()][0] : undefined;

    const claimHeaders: ClaimHeader[] = [];
    for (const c of config.claimsToHeaders) {
      const header = c.header.toLowerCase();
      if (FORBIDDEN_CLAIM_HEADERS.has(header)) {
        deps.warn(`jwtAuth on ${where}: claim ${c.claim} cannot set header ${header}; ignored`);
        continue;
      }
      claimHeaders.push({ claim: c.claim, path: c.claim.split('.'), header });
    }

    // routes with the same effective config share verified tokens, per auth tables (a new snapshot's bindings start afresh)
    const ownerKey = JSON.stringify([config.issuers, claimHeaders]);

    const alsoApiKey = effective.apiKeyAuth !== undefined;
    const missingDetail = alsoApiKey
      ? `send a bearer token in the Authorization header, or an API key in the ${effective.apiKeyAuth!.header.toLowerCase()} header`
      : 'send a bearer token in the Authorization header';
    const missingOptions = { headers: { 'www-authenticate': 'Bearer' } };

    function removeClaimHeaders(ctx: RequestContext): void {
      for (const c of claimHeaders) ctx.removeRequestHeaders.add(c.header);
    }

    function invalid(ctx: RequestContext, detail: string): void {
      ctx.reject('APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL', detail, { headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${detail}"` } });
    }

    async function verify(ctx: RequestContext, token: string): Promise<void> {
      let v = single;
      if (v === undefined) {
        let iss: string | undefined;
        try {
          iss = decodeJwt(token).iss;
        } catch {
          invalid(ctx, 'malformed token');
          return;
        }
        v = iss === undefined ? undefined : verifiers.get(iss);
        if (v === undefined) {
          invalid(ctx, iss === undefined ? 'token has no issuer (iss)' : 'token issuer is not accepted here');
          return;
        }
      }
      let payload: JWTPayload;
      try {
        payload = (await jwtVerify(token, v.getKey, v.options)).payload;
      } catch (err) {
        const [code, detail] = describeFailure(err);
        if (code === 'APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL') invalid(ctx, detail);
        else ctx.reject(code, detail);
        return;
      }
      const tables = ctx.auth;
      const application = boundApplication(tables, v.issuer, payload);
      if (application === undefined) {
        invalid(ctx, 'token is valid but not bound to an application');
        return;
      }
      const consumer: Consumer = Object.freeze({ application, team: tables.teamOf(application), subject: typeof payload.sub === 'string' ? payload.sub : undefined });
      const verified: VerifiedToken = {
        consumer,
        headers: claimHeaders.map((c) => [c.header, headerValue(claimValue(payload, c))] as const),
        validUntil: Math.min(payload.exp! * 1000 + v.clockToleranceMs, Date.now() + TOKEN_CACHE_MAX_AGE_MS),
      };
      rememberToken(token, cacheOwner(tables, ownerKey), verified);
      apply(ctx, verified);
    }

    function apply(ctx: RequestContext, verified: VerifiedToken): void {
      ctx.consumer = verified.consumer;
      for (const [header, value] of verified.headers) {
        if (value === undefined) ctx.removeRequestHeaders.add(header);
        else ctx.setRequestHeaders[header] = value;
      }
    }

    function boundApplication(tables: SnapshotAuthTables, issuer: string, payload: JWTPayload): string | undefined {
      const b = tables.jwtBindings;
      if (typeof payload.sub === 'string') {
        const app = b.get(bindingKey(issuer, 'sub', payload.sub));
        if (app !== undefined) return app;
      }
      const clientId = typeof payload.client_id === 'string' ? payload.client_id : typeof payload.azp === 'string' ? payload.azp : undefined;
      return clientId === undefined ? undefined : b.get(bindingKey(issuer, 'cid', clientId));
    }

    return {
      handle(ctx: RequestContext): void | Promise<void> {
        ctx.removeRequestHeaders.add('authorization');
        if (ctx.consumer !== undefined) {
          removeClaimHeaders(ctx); // authenticated by an API key: no claims, and none forged by the caller
          return;
        }
        const authorization = ctx.req.headers.authorization;
        if (!isBearer(authorization)) {
          ctx.reject('APIGOV_ERR_GATEWAY_MISSING_CREDENTIAL', missingDetail, missingOptions);
          return;
        }
        const token = authorization!.slice(7).trim();
        if (token === '') {
          ctx.reject('APIGOV_ERR_GATEWAY_MISSING_CREDENTIAL', missingDetail, missingOptions);
          return;
        }
        const hit = cachedToken(token, cacheOwner(ctx.auth, ownerKey), Date.now());
        if (hit !== undefined) {
          apply(ctx, hit);
          return;
        }
        return verify(ctx, token);
      },
    };
  },
});

function claimValue(payload: JWTPayload, c: ClaimHeader): unknown {
  if (Object.hasOwn(payload, c.claim) || c.path.length === 1) return payload[c.claim];
  let v: unknown = payload;
  for (const seg of c.path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, seg)) return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return v;
}

/** A claim as a header value: strings as they are, arrays of scalars comma-joined, objects as JSON; undefined when absent or not header-safe. */
function headerValue(v: unknown): string | undefined {
  let s: string;
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'number' || typeof v === 'boolean') s = String(v);
  else if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean')) s = v.join(',');
  else s = JSON.stringify(v);
  return HEADER_VALUE.test(s) && s.length <= 4096 ? s : undefined;
}

/** jose's error → our code and a precise, token-free reason. */
export function describeFailure(err: unknown): [ErrorCode, string] {
  if (err instanceof JwksUnavailableError) return ['APIGOV_ERR_UNAVAILABLE', "the token issuer's keys are unavailable; try again later"];
  if (err instanceof errors.JWTExpired) return ['APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL', 'token expired'];
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return ['APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL', `token has no ${err.claim} claim`];
    switch (err.claim) {
      case 'nbf':
        return ['APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL', 'token not yet valid'];
      case 'aud':
        return ['APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL', 'audience mismatch'];
      case 'iss':
        return ['APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL', 'issuer mismatch'];
      case 'iat':
        return ['APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL', 'token issued in the future'];
      default:
        return ['APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL', `token claim ${err.claim} is invalid`];
    }
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return ['APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL', 'signature verification failed'];
  if (err instanceof errors.JOSEAlgNotAllowed) return ['APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL', 'token algorithm not allowed'];
  if (err instanceof errors.JOSENotSupported) return ['APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL', 'token algorithm or header not supported'];
  if (err instanceof errors.JWKSNoMatchingKey) return ['APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL', "no key of the issuer matches the token's kid"];
  if (err instanceof errors.JWKSMultipleMatchingKeys) return ['APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL', 'token names no key (kid) and the issuer has several'];
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return ['APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL', 'malformed token'];
  return ['APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL', 'token could not be verified'];
}
