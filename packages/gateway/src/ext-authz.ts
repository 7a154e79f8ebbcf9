// ext-authz mode (`apigov gateway --mode ext-authz`): the gateway answers Envoy's HTTP external-authorization checks
// from the same snapshot and the same policies instead of proxying. Envoy sends the original method, path and the
// headers the SecurityPolicy lists; a denial is the gateway's own answer (status, problem+json, WWW-Authenticate,
// RateLimit and Retry-After), which Envoy returns to the client; an allow is 200 with the headers Envoy adds upstream.
import type { PolicyDefinition } from './policy.js';
import type { GatewayRequest } from './request-context.js';
import { lifecycleHeaders } from '@apigov/model';
import { CONSUMER_HEADER } from './upstream.js';

/** Envoy's ext_authz removes the request headers an allow names in this header before forwarding */
export const HEADERS_TO_REMOVE = 'x-envoy-auth-headers-to-remove';

export type GatewayMode = 'proxy' | 'ext-authz';
export const GATEWAY_MODES: readonly GatewayMode[] = ['proxy', 'ext-authz'];

/**
 * Policies Envoy enforces itself from the exported resources (SecurityPolicy cors, HTTPRoute filters), or cannot
 * hand to an authorization service (the body never reaches it, so request validation is listed as unsupported).
 */
export const ENVOY_ENFORCED: ReadonlySet<string> = new Set(['cors', 'headers', 'pathRewrite', 'requestValidation']);

/** Who counts rate limits, quotas and plan limits behind Envoy: this service (default), or Envoy's global rate limit. */
export type LimitsMode = 'ext-authz' | 'envoy';

/** The pipeline of an ext-authz gateway: every policy Envoy does not enforce itself (limits too, with `envoy`). */
export function extAuthzPolicies(all: ReadonlyArray<PolicyDefinition>, limits: LimitsMode = 'ext-authz'): ReadonlyArray<PolicyDefinition> {
  return all.filter((p) => !ENVOY_ENFORCED.has(p.id) && (limits === 'ext-authz' || p.phase !== 'limit'));
}

/**
 * The headers an allow carries: the calling application and the request headers policies set (claims to headers),
 * for Envoy to add upstream (the SecurityPolicy's headersToBackend), then the route's lifecycle headers and the
 * RateLimit fields, which the exported HTTPRoute adds to the client's answer or which are listed as unsupported.
 */
export function allowHeaders(ctx: GatewayRequest): Record<string, string> {
  const out: Record<string, string> = {};
  // what the proxy would not forward: the key header, a client's own consumer header (Envoy drops what this names)
  const removed: string[] = [];
  const strip = ctx.pipeline?.removeRequestHeaders;
  if (strip !== undefined) for (const name of strip) removed.push(name);
  if (ctx.consumer !== undefined) out[CONSUMER_HEADER] = ctx.consumer.application;
  else removed.push(CONSUMER_HEADER);
  if (removed.length > 0) out[HEADERS_TO_REMOVE] = removed.join(', ');
  const set = ctx.setRequestHeadersIfAny;
  if (set !== undefined) for (const k in set) out[k] = set[k]!;
  const lifecycle = lifecycleHeaders(ctx.route);
  for (let i = 0; i < lifecycle.length; i += 2) out[lifecycle[i]!] = lifecycle[i + 1]!;
  const collected = ctx.responseHeadersIfAny;
  if (collected !== undefined) for (const [k, v] of collected) out[k] = out[k] === undefined ? v : `${out[k]}, ${v}`;
  return out;
}

/** Answers an authorization check that every policy let through: 200, no body. */
export function allow(ctx: GatewayRequest): void {
  ctx.answerAllowed(allowHeaders(ctx));
}
