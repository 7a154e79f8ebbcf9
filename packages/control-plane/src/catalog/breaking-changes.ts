// The breaking-change check of the publish path and the changelogs: the diff engine's changes at the levels the
// GovernanceRulesets set, the gate per environment, waivers by fingerprint, and the consumers each change affects.
import { ApigovError, type BreakingGateLevel, type FieldError, type GovernanceRulesetSpec } from '@apigov/model';
import { diffOpenApi, DIFF_RULES, pathShape, type Change, type ChangeLevel, type OpenApiDocument } from '@apigov/openapi';
import type { StoreTx } from '@apigov/store';

/** An application that a change affects: subscribed to the version, and/or seen calling the operation lately. */
export interface AffectedConsumer {
  application: string;
  team?: string;
  /** environments where it is subscribed or was seen calling the operation */
  environments: string[];
  subscribed: boolean;
  /** requests to the changed operation in the last `USAGE_WINDOW_DAYS` days */
  requests: number;
}

export interface AssessedChange extends Change {
  /** the level the diff engine gives, when a ruleset changed it */
  defaultLevel?: ChangeLevel;
  waived?: { reason: string; expires: string };
  affectedConsumers?: AffectedConsumer[];
}

/** How far back the gateways' usage reports are read to find who calls a changed operation. */
export const USAGE_WINDOW_DAYS = 30;

type Rules = NonNullable<GovernanceRulesetSpec['breakingChanges']>;

const severity: Record<ChangeLevel, number> = { info: 0, warning: 1, breaking: 2 };
const gateStrictness: Record<BreakingGateLevel, number> = { never: 0, breaking: 1, warning: 2 };

/** Refuses a ruleset that names a diff rule the engine does not have (a typo would silently do nothing). */
export function assertKnownDiffRules(spec: GovernanceRulesetSpec, prefix: string): void {
  const unknown = Object.keys(spec.breakingChanges?.rules ?? {}).filter((id) => !DIFF_RULES.has(id));
  if (unknown.length === 0) return;
  const errors: FieldError[] = unknown.map((id) => ({ path: `${prefix}spec.breakingChanges.rules.${id}`, message: `unknown diff rule '${id}'` }));
  throw new ApigovError('APIGOV_ERR_INPUT_INVALID', `${errors[0].path}: ${errors[0].message}`, { errors });
}

/** The changes from `base` to `revision`, at the levels the rulesets set ('off' rules left out). */
export function assessedChanges(rulesets: GovernanceRulesetSpec[], base: OpenApiDocument, revision: OpenApiDocument, now = new Date()): AssessedChange[] {
  const overrides: Rules['rules'] = {};
  for (const r of rulesets) Object.assign(overrides, r.breakingChanges?.rules ?? {});
  const out: AssessedChange[] = [];
  for (const c of diffOpenApi(base, revision, { now })) {
    const o = overrides[c.id];
    if (o === 'off') continue;
    out.push(o === undefined || o === c.level ? c : { ...c, level: o, defaultLevel: c.level });
  }
  return out.sort((a, b) => severity[b.level] - severity[a.level]);
}

/**
 * The level at which a new revision is refused in an environment: the strictest gate of the rulesets that set one for it
 * (an exact entry beats that ruleset's `*`); `breaking` when none does.
 */
export function breakingGate(rulesets: GovernanceRulesetSpec[], environment: string): BreakingGateLevel {
  let level: BreakingGateLevel | undefined;
  for (const r of rulesets) {
    const gates = r.breakingChanges?.gates ?? [];
    const gate = gates.find((g) => g.environment === environment) ?? gates.find((g) => g.environment === '*');
    if (gate && (level === undefined || gateStrictness[gate.blockOn] > gateStrictness[level])) level = gate.blockOn;
  }
  return level ?? 'breaking';
}

export function gateBlocks(gate: BreakingGateLevel, level: ChangeLevel): boolean {
  if (gate === 'never') return false;
  return gate === 'warning' ? level !== 'info' : level === 'breaking';
}

/** An unexpired waiver of this change for this API (and version) in any ruleset. */
export function waiverOf(rulesets: GovernanceRulesetSpec[], c: Change, api: string, version: string, now = new Date()): { reason: string; expires: string } | undefined {
  for (const r of rulesets) {
    for (const e of r.breakingChanges?.exceptions ?? []) {
      if (e.fingerprint === c.fingerprint && e.api === api && (e.version === undefined || e.version === version) && Date.parse(e.expires) > now.getTime()) return { reason: e.reason, expires: e.expires };
    }
  }
  return undefined;
}

/** Adds to each change with an operation the applications subscribed to the version and those seen calling that operation. */
export async function withAffectedConsumers(tx: StoreTx, api: string, version: string, changes: AssessedChange[], now = new Date()): Promise<AssessedChange[]> {
  const subscribed = new Map<string, Set<string>>();
  for (const s of await tx.list('Subscription', { limit: 100000 })) {
    const sub = s.resource;
    if (sub.kind !== 'Subscription' || sub.spec.api !== api || sub.spec.version !== version) continue;
    if (sub.spec.state === 'rejected' || sub.spec.state === 'expired') continue;
    const envs = subscribed.get(sub.spec.application) ?? new Set<string>();
    envs.add(sub.spec.environment);
    subscribed.set(sub.spec.application, envs);
  }
  const since = new Date(now.getTime() - USAGE_WINDOW_DAYS * 86_400_000).toISOString();
  const calls = new Map<string, Map<string, { requests: number; environments: Set<string> }>>();
  for (const u of await tx.operationUsage({ api, version, since })) {
    if (u.application === undefined || u.operation === undefined) continue;
    const byApp = calls.get(shapeOf(u.operation)) ?? new Map();
    const entry = byApp.get(u.application) ?? { requests: 0, environments: new Set<string>() };
    entry.requests += u.requests;
    entry.environments.add(u.environment);
    byApp.set(u.application, entry);
    calls.set(shapeOf(u.operation), byApp);
  }
  const teams = new Map<string, string>();
  for (const a of await tx.list('Application', { limit: 100000 })) if (a.resource.kind === 'Application') teams.set(a.resource.metadata.name, a.resource.spec.owner);
  return changes.map((c) => {
    if (c.operation === undefined) return c;
    const seen = calls.get(shapeOf(c.operation)) ?? new Map<string, { requests: number; environments: Set<string> }>();
    const apps = new Set([...subscribed.keys(), ...seen.keys()]);
    const affected: AffectedConsumer[] = [...apps].map((application) => {
      const call = seen.get(application);
      const environments = new Set([...(subscribed.get(application) ?? []), ...(call?.environments ?? [])]);
      const team = teams.get(application);
      return { application, ...(team !== undefined && { team }), environments: [...environments].sort(), subscribed: subscribed.has(application), requests: call?.requests ?? 0 };
    });
    affected.sort((x, y) => y.requests - x.requests || x.application.localeCompare(y.application));
    return { ...c, affectedConsumers: affected };
  });
}

/** `GET /payments/{}`: usage is recorded under the served document's path template, a change names the revision's */
const shapeOf = (operation: string): string => pathShape(operation);

/** `GET /payments: query parameter 'status' became required (bob-app: 42 calls)` */
export function describeChange(c: AssessedChange): string {
  const callers = (c.affectedConsumers ?? []).filter((a) => a.requests > 0 || a.subscribed);
  if (callers.length === 0) return c.text;
  const shown = callers.slice(0, 5).map((a) => `${a.application}${a.requests > 0 ? `: ${a.requests} call${a.requests === 1 ? '' : 's'}` : ', subscribed'}`);
  return `${c.text} (affects ${shown.join('; ')}${callers.length > 5 ? `; and ${callers.length - 5} more` : ''})`;
}

/** How many changes the refusal's one-line message spells out; all of them are in its `breakingChanges` and `errors`. */
const MESSAGE_CHANGES = 50;

/** Refuses a new revision of a version served in `environments` when a change there is at or above that environment's gate. */
export async function assertRevisionAllowed(
  tx: StoreTx,
  rulesets: GovernanceRulesetSpec[],
  api: string,
  version: string,
  environments: string[],
  base: OpenApiDocument,
  revision: OpenApiDocument,
  errorPath: string,
  now = new Date(),
): Promise<AssessedChange[]> {
  const changes = assessedChanges(rulesets, base, revision, now);
  const gates = environments.map((env) => [env, breakingGate(rulesets, env)] as const);
  const refusing = new Set<string>();
  const blocking: AssessedChange[] = [];
  for (const c of changes) {
    const where = gates.filter(([, gate]) => gateBlocks(gate, c.level)).map(([env]) => env);
    if (where.length === 0) continue;
    const waived = waiverOf(rulesets, c, api, version, now);
    if (waived) {
      c.waived = waived;
      continue;
    }
    for (const env of where) refusing.add(env);
    blocking.push(c);
  }
  if (blocking.length === 0) return changes;
  const listed = await withAffectedConsumers(tx, api, version, blocking, now);
  const envs = [...refusing].sort();
  const spelled = listed.slice(0, MESSAGE_CHANGES).map((c, i) => `${i + 1}) ${describeChange(c)}`);
  if (listed.length > MESSAGE_CHANGES) spelled.push(`and ${listed.length - MESSAGE_CHANGES} more`);
  const next = `v${Number(version.slice(1)) + 1}`;
  throw new ApigovError(
    'APIGOV_ERR_SPEC_BREAKING_CHANGE',
    `${api} ${version} is published in ${envs.join(', ')}; this revision breaks it in ${listed.length} place${listed.length > 1 ? 's' : ''}: ${spelled.join('; ')}. Register it as a new major version (${next}) instead, or waive a change by its fingerprint in a GovernanceRuleset`,
    {
      extensions: { breakingChanges: listed, environments: envs, api, version },
      errors: listed.map((c) => ({ path: `${errorPath}${c.revision ?? c.base ?? ''}`, message: c.text })),
    },
  );
}
