// Referential integrity between resources: an Api's owner team and environments, a User's team, a Plan's
// environments must exist; a Team or Environment still referenced cannot be deleted.
import { ApigovError, type AnyResource, type FieldError, type Kind } from '@apigov/model';
import type { StoreTx } from '@apigov/store';

/** References found to exist in a transaction; only hits are kept, so a resource created later in it is still found. */
const found = new WeakMap<StoreTx, Set<string>>();

async function exists(tx: StoreTx, kind: Kind, name: string): Promise<boolean> {
  let seen = found.get(tx);
  if (seen === undefined) found.set(tx, (seen = new Set()));
  const key = `${kind}/${name}`;
  if (seen.has(key)) return true;
  if (!(await tx.get(kind, name))) return false;
  seen.add(key);
  return true;
}

/** Drops a deleted resource from the transaction's memo. */
export function forgetReference(tx: StoreTx, kind: Kind, name: string): void {
  found.get(tx)?.delete(`${kind}/${name}`);
}

export async function assertReferencesExist(tx: StoreTx, r: AnyResource, prefix: string): Promise<void> {
  const errors: FieldError[] = [];
  const need = async (kind: Kind, name: string | undefined, path: string) => {
    if (name !== undefined && !(await exists(tx, kind, name))) errors.push({ path: `${prefix}${path}`, message: `unknown ${kind.toLowerCase()} '${name}'` });
  };
  switch (r.kind) {
    case 'Api': {
      await need('Team', r.spec.owner, 'spec.owner');
      for (const [i, v] of r.spec.versions.entries()) {
        for (const env of Object.keys(v.environments)) await need('Environment', env, `spec.versions[${i}].environments.${env}`);
      }
      break;
    }
    case 'User':
      await need('Team', r.spec.team, 'spec.team');
      for (const [i, m] of (r.spec.teams ?? []).entries()) await need('Team', m.team, `spec.teams[${i}].team`);
      break;
    case 'Plan':
      for (const [i, env] of r.spec.environments.entries()) await need('Environment', env, `spec.environments[${i}]`);
      break;
    case 'Policy':
      await need(r.spec.targetRef.kind, r.spec.targetRef.name, 'spec.targetRef.name');
      break;
    case 'Application':
      await need('Team', r.spec.owner, 'spec.owner');
      break;
    case 'Credential':
      await need('Application', r.spec.application, 'spec.application');
      break;
    case 'Subscription': {
      await need('Application', r.spec.application, 'spec.application');
      await need('Environment', r.spec.environment, 'spec.environment');
      const plan = await tx.get('Plan', r.spec.plan);
      if (!plan || plan.resource.kind !== 'Plan') errors.push({ path: `${prefix}spec.plan`, message: `unknown plan '${r.spec.plan}'` });
      else if (plan.resource.spec.environments.length > 0 && !plan.resource.spec.environments.includes(r.spec.environment)) {
        errors.push({ path: `${prefix}spec.plan`, message: `plan '${r.spec.plan}' is not offered in ${r.spec.environment} (only ${plan.resource.spec.environments.join(', ')})` });
      }
      const api = await tx.get('Api', r.spec.api);
      if (!api || api.resource.kind !== 'Api') errors.push({ path: `${prefix}spec.api`, message: `unknown api '${r.spec.api}'` });
      else if (!api.resource.spec.versions.some((v) => v.name === r.spec.version)) errors.push({ path: `${prefix}spec.version`, message: `Api ${r.spec.api} has no version ${r.spec.version}` });
      break;
    }
    case 'GovernanceRuleset':
      for (const [i, g] of r.spec.gates.entries()) if (g.environment !== '*') await need('Environment', g.environment, `spec.gates[${i}].environment`);
      break;
    default:
      break;
  }
  if (errors.length > 0) {
    throw new ApigovError('APIGOV_ERR_RESOURCE_REFERENCE', `${errors[0].path}: ${errors[0].message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`, { errors });
  }
}

/** Throws APIGOV_ERR_RESOURCE_IN_USE when something still points at the Team or Environment being deleted. */
export async function assertNotReferenced(tx: StoreTx, kind: Kind, name: string): Promise<void> {
  if (kind !== 'Team' && kind !== 'Environment') return;
  const users: string[] = [];
  for (const check of ['Api', 'User', 'Plan', 'Application', 'Policy'] as const) {
    let after: string | undefined;
    for (;;) {
      const page = await tx.list(check, { after, limit: 500 });
      for (const s of page) {
        const r = s.resource;
        const uses =
          kind === 'Team'
            ? (r.kind === 'Api' && r.spec.owner === name) || (r.kind === 'User' && (r.spec.team === name || (r.spec.teams ?? []).some((m) => m.team === name))) || (r.kind === 'Application' && r.spec.owner === name)
            : (r.kind === 'Api' && r.spec.versions.some((v) => name in v.environments)) ||
              (r.kind === 'Plan' && r.spec.environments.includes(name)) ||
              (r.kind === 'Policy' && r.spec.targetRef.kind === 'Environment' && r.spec.targetRef.name === name);
        if (uses) users.push(`${r.kind} ${r.metadata.name}`);
      }
      if (page.length < 500) break;
      after = page[page.length - 1].resource.metadata.name;
    }
  }
  if (users.length > 0) {
    throw new ApigovError('APIGOV_ERR_RESOURCE_IN_USE', `${kind} ${name} is still used by ${users.slice(0, 5).join(', ')}${users.length > 5 ? ` and ${users.length - 5} more` : ''}`);
  }
}
