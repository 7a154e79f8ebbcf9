// Token scopes: what a service-account token may do on top of what its owner may. Every REST operation needs the
// scope `<area>:read` or `<area>:write` (its tag in the operations table, `write` for changes); publishing,
// deprecating and retiring need `apis:publish:<environment>` (or `apis:publish` for every environment). A scope
// grants itself, `<area>:*` grants both, `*` everything. Tokens without scopes (a person's) are not limited here.
import { ApigovError } from '@apigov/model';
import type { Principal } from './auth.js';
import { operationsTable } from './openapi.js';

const table = operationsTable();
const byRoute = new Map<string, string | undefined>();
for (const [key, op] of Object.entries(table)) {
  const area = op.tags[0]!;
  byRoute.set(key, area === 'meta' ? undefined : area === 'lifecycle' ? 'apis:publish' : `${area}:${op.write ? 'write' : 'read'}`);
}

/** The areas scopes name: the operations table's tags (but meta, which needs none, and lifecycle, which is apis:publish). */
export const SCOPE_AREAS: readonly string[] = [...new Set(Object.values(table).map((op) => op.tags[0]!))].filter((a) => a !== 'meta' && a !== 'lifecycle').sort();

/** The scope an operation (`POST /v1/apis/register`) needs; undefined for the ones anyone may call. */
export function requiredScope(operation: string): string | undefined {
  return byRoute.get(operation);
}

export function grants(scopes: readonly string[], required: string): boolean {
  if (scopes.includes('*') || scopes.includes(required)) return true;
  const [area] = required.split(':');
  if (scopes.includes(`${area}:*`)) return true;
  return required.startsWith('apis:publish:') && scopes.includes('apis:publish');
}

/** A token's scopes must include `required`; a token without scopes passes (its owner's rights still apply). */
export function assertScope(principal: Principal, required: string): void {
  if (principal.scopes === undefined || grants(principal.scopes, required)) return;
  const token = principal.tokenName === undefined ? 'the token' : `the token ${principal.tokenName}`;
  throw new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', `${token} has the scopes ${principal.scopes.join(', ') || '(none)'}; this needs ${required}`, {
    extensions: { requiredScope: required },
  });
}

const SCOPE = /^(\*|([a-z][a-z-]*):(read|write|\*)|apis:publish(:[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)?)$/;

/** Checks scopes given for a new token: known areas, read/write/*, apis:publish[:env]. */
export function checkScopes(scopes: unknown): string[] {
  if (!Array.isArray(scopes) || scopes.length === 0 || scopes.length > 50) throw invalidScopes('give between 1 and 50 scopes');
  for (const s of scopes) {
    const m = typeof s === 'string' ? SCOPE.exec(s) : null;
    if (m === null) throw invalidScopes(`'${String(s)}' is not a scope: AREA:read, AREA:write, AREA:*, apis:publish[:ENVIRONMENT] or *`);
    if (m[2] !== undefined && !SCOPE_AREAS.includes(m[2])) throw invalidScopes(`unknown area '${m[2]}' in '${s}'; areas: ${SCOPE_AREAS.join(', ')}`);
  }
  return [...new Set(scopes as string[])];
}

function invalidScopes(message: string): ApigovError {
  return new ApigovError('APIGOV_ERR_INPUT_INVALID', `scopes: ${message}`, { errors: [{ path: 'scopes', message }] });
}
