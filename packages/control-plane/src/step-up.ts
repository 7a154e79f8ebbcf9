// Step-up: actions an AccessPolicy lists (publish to production, create or rotate a key, …) need a single-sign-on
// session whose sign-in was multi-factor (the IdP's acr or amr) and recent (auth_time). Otherwise a 401 problem
// with `acr_values` and `max_age` (RFC 9470) tells the portal or the CLI to sign in again.
import { ApigovError, stepUpFor, type AccessPolicySpec, type StepUpAction } from '@apigov/model';
import type { StoreTx } from '@apigov/store';
import type { Principal } from './auth.js';

async function accessPolicies(tx: Pick<StoreTx, 'list'>): Promise<Array<{ spec: AccessPolicySpec }>> {
  return (await tx.list('AccessPolicy', { limit: 1000 })).flatMap((s) => (s.resource.kind === 'AccessPolicy' ? [{ spec: s.resource.spec }] : []));
}

/**
 * Throws APIGOV_ERR_AUTH_STEP_UP unless the caller may take `action` now. Only single-sign-on sessions are held to
 * it: tokens for automation answer to their scopes, and `token-create` can itself be listed.
 */
export async function assertSteppedUp(tx: Pick<StoreTx, 'list' | 'get'>, p: Principal, action: StepUpAction, policies?: Array<{ spec: AccessPolicySpec }>): Promise<void> {
  const session = p.session;
  if (session === undefined) return;
  const need = stepUpFor(policies ?? (await accessPolicies(tx)), action);
  if (need === undefined) return;
  const idp = await tx.get('IdentityProvider', session.provider);
  const mfa = idp?.resource.kind === 'IdentityProvider' ? idp.resource.spec.mfa : undefined;
  const acrValues = mfa?.acrValues ?? [];
  const amr = mfa?.amr ?? ['mfa', 'otp', 'hwk', 'swk', 'fpt'];
  const multiFactor = (session.acr !== undefined && acrValues.includes(session.acr)) || (session.amr ?? []).some((m) => amr.includes(m));
  const maxAge = need.maxAgeMinutes * 60;
  const age = Math.floor(Date.now() / 1000) - session.authTime;
  if (multiFactor && age <= maxAge) return;
  const why = multiFactor ? `your sign-in is ${Math.round(age / 60)} minutes old; this needs one within ${need.maxAgeMinutes}` : 'your sign-in was not multi-factor';
  const query = new URLSearchParams({ ...(acrValues.length > 0 && { acr_values: acrValues.join(' ') }), max_age: String(maxAge) });
  throw new ApigovError('APIGOV_ERR_AUTH_STEP_UP', `${action} needs a recent multi-factor sign-in: ${why}; sign in again`, {
    extensions: {
      action,
      ...(acrValues.length > 0 && { acr_values: acrValues.join(' ') }),
      max_age: maxAge,
      signIn: `/v1/auth/oidc/${session.provider}/login?${query.toString()}`,
    },
  });
}
