// The governance gate: which lint findings block publishing an API version to an environment,
// from the GovernanceRulesets in force (or the built-in default: errors block every environment but dev).
import { createHash } from 'node:crypto';
import { ApigovError, canonicalJson, type GateLevel, type GovernanceRulesetSpec } from '@apigov/model';
import { lintSpecOffThread, type LintFinding, type OpenApiDocument, type Severity } from '@apigov/openapi';
import type { StoreTx } from '@apigov/store';

export const DEFAULT_RULESET: GovernanceRulesetSpec = {
  description: 'built-in default: lint errors block every environment except dev; warnings are reported',
  rules: {},
  gates: [
    { environment: 'dev', blockOn: 'never' },
    { environment: '*', blockOn: 'error' },
  ],
  exceptions: [],
};

export interface Governance {
  rulesets: GovernanceRulesetSpec[];
  ruleOverrides: Record<string, Severity | 'off'>;
}

const strictness: Record<GateLevel, number> = { never: 0, error: 1, warn: 2 };

export async function loadGovernance(tx: StoreTx): Promise<Governance> {
  const stored = await tx.list('GovernanceRuleset', { limit: 1000 });
  const rulesets = stored.map((s) => s.resource.spec as GovernanceRulesetSpec);
  const effective = rulesets.length > 0 ? rulesets : [DEFAULT_RULESET];
  const ruleOverrides: Record<string, Severity | 'off'> = {};
  for (const r of effective) Object.assign(ruleOverrides, r.rules);
  return { rulesets: effective, ruleOverrides };
}

/** The strictest gate any ruleset sets for an environment (an exact entry beats that ruleset's `*`); the default gates when none sets any. */
export function blockLevel(g: Governance, environment: string): GateLevel {
  let level: GateLevel = 'never';
  // rulesets that only set breaking-change rules (or rule severities) keep the default lint gates
  const rulesets = g.rulesets.some((r) => r.gates.length > 0) ? g.rulesets : [...g.rulesets, DEFAULT_RULESET];
  for (const r of rulesets) {
    const gate = r.gates.find((x) => x.environment === environment) ?? r.gates.find((x) => x.environment === '*');
    if (gate && strictness[gate.blockOn] > strictness[level]) level = gate.blockOn;
  }
  return level;
}

export function blocks(level: GateLevel, severity: Severity): boolean {
  if (level === 'never') return false;
  if (level === 'error') return severity === 'error';
  return severity === 'error' || severity === 'warn';
}

const lintCache = new Map<string, LintFinding[]>();

/** Lints a stored document; memoised by content and rule overrides (documents are immutable once stored). */
export async function lintDocument(document: OpenApiDocument, overrides: Record<string, Severity | 'off'>): Promise<LintFinding[]> {
  const key = createHash('sha256').update(canonicalJson(overrides)).update(canonicalJson(document)).digest('hex');
  const hit = lintCache.get(key);
  if (hit) return hit;
  const findings = await lintSpecOffThread({ document }, { ruleOverrides: overrides });
  if (lintCache.size > 200) lintCache.delete(lintCache.keys().next().value as string);
  lintCache.set(key, findings);
  return findings;
}

/** Throws APIGOV_ERR_GOVERNANCE_BLOCKED listing the blocking findings, unless waived by an unexpired exception. */
export async function assertGatePasses(g: Governance, api: string, version: string, environment: string, document: OpenApiDocument, now = new Date()): Promise<void> {
  const level = blockLevel(g, environment);
  if (level === 'never') return;
  const findings = await lintDocument(document, g.ruleOverrides);
  const waived = (f: LintFinding) =>
    g.rulesets.some((r) =>
      r.exceptions.some((e) => e.rule === f.rule && e.api === api && (e.version === undefined || e.version === version) && Date.parse(e.expires) > now.getTime()),
    );
  const blocking = findings.filter((f) => blocks(level, f.severity) && !waived(f));
  if (blocking.length === 0) return;
  const spelled = blocking.slice(0, 50).map((f, i) => `${i + 1}) ${f.rule} at ${f.path}${f.line ? ` line ${f.line}` : ''}: ${f.message}`);
  if (blocking.length > 50) spelled.push(`and ${blocking.length - 50} more`);
  throw new ApigovError(
    'APIGOV_ERR_GOVERNANCE_BLOCKED',
    `publishing ${api} ${version} to ${environment} is blocked by ${blocking.length} lint finding${blocking.length > 1 ? 's' : ''} at or above '${level}': ${spelled.join('; ')}`,
    { extensions: { findings: blocking, environment, blockOn: level, api, version }, errors: blocking.map((f) => ({ path: f.path, message: `${f.rule}: ${f.message}` })) },
  );
}
