// API-key authentication: the key from a header (default x-api-key) or a query parameter, hashed
// (sha256, hex) and looked up in the keys of the snapshot serving the request; the matching credential names the consumer.
//
// - an unknown key and an expired one (its rotation overlap is over) get the same 401 INVALID_CREDENTIAL
//   and the same words, so a caller cannot tell which;
// - no key → 401 MISSING_CREDENTIAL, unless the route (or operation) also configures jwtAuth and the
//   request carries `Authorization: Bearer …`: on a route that configures both, either credential
//   satisfies it, and the JWT policy (which runs next in the same phase) decides. A key that is presented
//   must be valid: a bad key is refused even when a bearer token comes with it;
// - the key never reaches the upstream: its header is removed, its query parameter cut from upstreamPath
//   (always, even when the header carried the key).
//
// Per request: one header read, two Map lookups (sha256 only for a key not seen lately); the consumer object is shared.
import type { PolicyConfigs } from '@apigov/model';
import { definePolicy, type RequestContext } from '../policy.js';
import { hashApiKey } from '../auth/consumers.js';

/** Longer values are not hashed: no key the platform issues is anywhere near this long. */
const MAX_KEY_LENGTH = 512;

export const apiKeyAuthPolicy = definePolicy({
  id: 'apiKeyAuth',
  phase: 'authenticate',
  priority: 100,
  compile(config, route, operation) {
    const header = config.header.toLowerCase();
    const queryName = config.query;
    const alsoJwt = ((operation?.policies ?? route.policies) as PolicyConfigs).jwtAuth !== undefined; // an operation's are already merged with the route's

    const where = `the ${header} header` + (queryName === undefined ? '' : ` or the ${queryName} query parameter`);
    const missingDetail = alsoJwt ? `send an API key in ${where}, or a bearer token in the Authorization header` : `send an API key in ${where}`;
    const challenge = `ApiKey header="${header}"` + (queryName === undefined ? '' : `, query="${queryName}"`);
    const missingOptions = { headers: { 'www-authenticate': alsoJwt ? `${challenge}, Bearer` : challenge } };
    const invalidOptions = { headers: { 'www-authenticate': `${challenge}, error="invalid_key"` } };

    return {
      stripRequestHeaders: [header],
      handle(ctx: RequestContext): void {
        const h = ctx.req.headers[header];
        let key = typeof h === 'string' && h !== '' ? h : undefined;
        if (queryName !== undefined) {
          const taken = takeQueryParam(ctx.upstreamPath, queryName);
          if (taken !== undefined) {
            ctx.upstreamPath = taken.path;
            if (key === undefined && taken.value !== '') key = taken.value;
          }
        }
        if (key === undefined) {
          if (alsoJwt && isBearer(ctx.req.headers.authorization)) return; // the JWT policy decides
          ctx.reject('APIGOV_ERR_GATEWAY_MISSING_CREDENTIAL', missingDetail, missingOptions);
          return;
        }
        const entry = key.length <= MAX_KEY_LENGTH ? ctx.auth.apiKeys.get(hashApiKey(key)) : undefined;
        if (entry === undefined || (entry.expiresAt !== Number.POSITIVE_INFINITY && Date.now() >= entry.expiresAt)) {
          ctx.reject('APIGOV_ERR_GATEWAY_INVALID_CREDENTIAL', 'the API key is not valid', invalidOptions);
          return;
        }
        ctx.consumer = entry.consumer;
      },
    };
  },
});

export function isBearer(authorization: string | undefined): boolean {
  return authorization !== undefined && authorization.length > 7 && (authorization.startsWith('Bearer ') || authorization.slice(0, 7).toLowerCase() === 'bearer ');
}

/**
 * Finds query parameter `name` in a path with a query string; returns its first value (decoded) and the
 * path without any occurrence of it, other parameters kept byte for byte. undefined when absent.
 */
export function takeQueryParam(path: string, name: string): { value: string; path: string } | undefined {
  const q = path.indexOf('?');
  if (q === -1) return undefined;
  const query = path.slice(q + 1);
  if (!query.includes(name) && !query.includes('%')) return undefined;
  let value: string | undefined;
  const kept: string[] = [];
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const rawName = eq === -1 ? part : part.slice(0, eq);
    if (decodeComponent(rawName) === name) {
      if (value === undefined) value = eq === -1 ? '' : decodeComponent(part.slice(eq + 1));
    } else {
      kept.push(part);
    }
  }
  if (value === undefined) return undefined;
  return { value, path: kept.length === 0 ? path.slice(0, q) : `${path.slice(0, q)}?${kept.join('&')}` };
}

/** application/x-www-form-urlencoded decoding, lenient like URLSearchParams on malformed escapes */
function decodeComponent(s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  const plus = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}
