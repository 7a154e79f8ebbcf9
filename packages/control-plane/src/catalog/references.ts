// Referential integrity between resources: an Api's owner team and environments, a User's team, a Plan's
// environments must exist; a Team or Environment still referenced cannot be deleted.
import { ApigovError, type AnyResource, type FieldError, type Kind } from '@apigov/model';
import type { StoreTx } from '@apigov/store';

export async function assertReferencesExist(tx: StoreTx, r: AnyResource, prefix: string): Promise<void> {
  const errors: FieldError[] = [];
  const need = async (kind: Kind, name: string | undefined, path: string) => {
    if (name !== undefined && !(await tx.get(kind, name))) errors.push({ path: `${prefix}${path}`, message: `unknown ${kind.toLowerCase()} '${name}'` });
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
      break;
    case 'Plan':
      for (const [i, env] of r.spec.environments.entries()) await need('Environment', env, `spec.environments[${i}]`);
      break;
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
  for (const check of ['Api', 'User', 'Plan'] as const) {
    let after: string | undefined;
    for (;;) {
      const page = await tx.list(check, { after, limit: 500 });
      for (const s of page) {
        const r = s.resource;
        const uses =
          kind === 'Team'
            ? (r.kind === 'Api' && r.spec.owner === name) || (r.kind === 'User' && r.spec.team === name)
            : (r.kind === 'Api' && r.spec.versions.some((v) => name in v.environments)) || (r.kind === 'Plan' && r.spec.environments.includes(name));
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
