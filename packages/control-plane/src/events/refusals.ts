// Events about changes that did not happen: a breaking revision of a served version refused
// (api.breaking-change.refused) and a publication blocked by the governance gate (governance.violation). The refused
// change's transaction rolled back, so these are written in a transaction of their own, after it.
import { ApigovError } from '@apigov/model';
import type { Store } from '@apigov/store';
import type { Principal } from '../auth.js';

export async function emitRefusal(store: Store, principal: Principal, e: unknown): Promise<void> {
  if (!(e instanceof ApigovError) || (e.code !== 'APIGOV_ERR_SPEC_BREAKING_CHANGE' && e.code !== 'APIGOV_ERR_GOVERNANCE_BLOCKED')) return;
  const x = e.extensions;
  if (typeof x.api !== 'string' || typeof x.version !== 'string') return;
  const api = x.api;
  const version = x.version;
  await store
    .transaction(async (tx) => {
      const a = await tx.get('Api', api);
      const owner = a?.resource.kind === 'Api' ? a.resource.spec.owner : undefined;
      const shared = { actor: principal.name, teams: owner === undefined ? [] : [owner], public: a?.resource.kind === 'Api' && a.resource.spec.visibility !== 'team-only' };
      if (e.code === 'APIGOV_ERR_SPEC_BREAKING_CHANGE') {
        const changes = (x.breakingChanges as Array<{ fingerprint?: string; text?: string }> | undefined) ?? [];
        await tx.emit({ ...shared, type: 'api.breaking-change.refused', subject: { kind: 'Api', name: api, version }, data: { api, version, environments: (x.environments as string[] | undefined) ?? [], changes: changes.length, fingerprints: changes.flatMap((c) => (c.fingerprint ? [c.fingerprint] : [])).slice(0, 50) } });
      } else {
        const findings = (x.findings as Array<{ rule?: string }> | undefined) ?? [];
        await tx.emit({ ...shared, type: 'governance.violation', subject: { kind: 'Api', name: api, version, environment: String(x.environment) }, data: { api, version, environment: String(x.environment), blockOn: String(x.blockOn), findings: findings.length, rules: [...new Set(findings.flatMap((f) => (f.rule ? [f.rule] : [])))].slice(0, 50) } });
      }
    })
    .catch(() => undefined);
}
