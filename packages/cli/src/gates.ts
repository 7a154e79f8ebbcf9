// Governance gates as `validate` applies them locally: which finding severity blocks an environment
// (a GovernanceRuleset's `gates`, else the product default) and the ruleset file's rule overrides.
import YAML from 'yaml';
import { checkResource, describeErrors, type GateLevel, type GovernanceRulesetSpec } from '@apigov/model';
import type { Finding } from './api.js';
import { usageError } from './errors.js';
import { readLocalFile } from './files.js';

export interface Gate {
  environment: string;
  blockOn: GateLevel;
}

/**
 * The level that blocks `environment`: its own gate, else the `*` gate, else the product default
 * (errors block every environment but `dev`). Without an environment, errors block.
 */
export function blockOnFor(environment: string | undefined, gates: readonly Gate[] = []): GateLevel {
  if (environment === undefined) return 'error';
  const gate = gates.find((g) => g.environment === environment) ?? gates.find((g) => g.environment === '*');
  if (gate !== undefined) return gate.blockOn;
  return environment === 'dev' ? 'never' : 'error';
}

export function isBlocking(finding: Pick<Finding, 'severity'>, blockOn: GateLevel): boolean {
  if (blockOn === 'never') return false;
  if (blockOn === 'warn') return finding.severity === 'error' || finding.severity === 'warn';
  return finding.severity === 'error';
}

/** Reads the (first) GovernanceRuleset resource in a YAML or JSON file. */
export async function loadRuleset(path: string): Promise<GovernanceRulesetSpec> {
  const text = await readLocalFile(path);
  const docs = YAML.parseAllDocuments(text);
  const values: unknown[] = [];
  for (const doc of Array.isArray(docs) ? docs : []) {
    if (doc.errors.length > 0) throw usageError(`${path}: invalid YAML: ${doc.errors[0].message.split('\n')[0]}`, 'APIGOV_ERR_INPUT_MALFORMED');
    values.push(doc.toJS());
  }
  const raw = values.find((v) => typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'GovernanceRuleset');
  if (raw === undefined) throw usageError(`${path}: no GovernanceRuleset document found`, 'APIGOV_ERR_INPUT_INVALID');
  const checked = checkResource(raw);
  if (!checked.ok) throw usageError(`${path}: ${describeErrors(checked.errors)}`, 'APIGOV_ERR_INPUT_INVALID', checked.errors);
  return checked.resource.spec as GovernanceRulesetSpec;
}
