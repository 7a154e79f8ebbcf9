// The HTTPRoute rules of one route (an API version in an environment): a path-prefix rule with the prefix
// rewritten away, or, when unknown operations must be refused, one match per OpenAPI operation (method and a
// regular expression of its path template); operations with policies of their own get a named rule each, so their
// policies can target it by sectionName. Rules are packed into HTTPRoutes within Gateway API's limits.
import type { SnapshotOperation, SnapshotRoute } from '@apigov/model';
import { label } from './names.js';

/** Gateway API limits of one HTTPRoute (the CRD's maxItems and its CEL rule on matches) */
export const MAX_RULES_PER_ROUTE = 16;
export const MAX_MATCHES_PER_ROUTE = 128;
export const MAX_MATCHES_PER_RULE = 64;
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

export interface RuleShape {
  /** the rule's sectionName */
  name: string;
  /** prefix: one PathPrefix match; operations: a method and path regular expression per operation */
  kind: 'prefix' | 'operations';
  matches: Array<Record<string, unknown>>;
  /** the operation with its own policies this rule serves, if any */
  operation?: SnapshotOperation;
}

/** `text` as a literal in an RE2 (or JS) regular expression */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&');
}

/** `/payments/v1` + `/payments/{id}` → `^/payments/v1/payments/[^/]+/?$` (RE2, as Envoy evaluates it) */
export function operationPathRegex(prefix: string, template: string): string {
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const parts = template.split(/(\{[^}/]+\})/).map((p) => (/^\{[^}/]+\}$/.test(p) ? '[^/]+' : escapeRegex(p)));
  const path = parts.join('').replace(/\/$/, '');
  return `^${escapeRegex(base)}${path}/?$`;
}

function operationMatch(route: SnapshotRoute, op: SnapshotOperation): Record<string, unknown> | undefined {
  if (!HTTP_METHODS.has(op.method)) return undefined;
  return { path: { type: 'RegularExpression', value: operationPathRegex(route.prefix, op.path) }, method: op.method };
}

/** The rules of a route; `skipped` collects operations Gateway API cannot match (methods it has no value for). */
export function routeRules(route: SnapshotRoute, refuseUnknown: boolean, skipped: (op: SnapshotOperation) => void): RuleShape[] {
  const rules: RuleShape[] = [];
  const used = new Set<string>();
  const unique = (wanted: string): string => {
    let name = label(wanted);
    for (let i = 2; used.has(name); i++) name = label(`${wanted.slice(0, 55)}-${i}`);
    used.add(name);
    return name;
  };
  const operations = route.state === 'retired' ? [] : route.operations;
  const own = operations.filter((o) => o.policies !== undefined);
  const shared = operations.filter((o) => o.policies === undefined);
  if (!refuseUnknown || operations.length === 0) rules.push({ name: unique('all'), kind: 'prefix', matches: [{ path: { type: 'PathPrefix', value: route.prefix } }] });
  else {
    const matches = shared.flatMap((op) => {
      const m = operationMatch(route, op);
      if (m === undefined) skipped(op);
      return m === undefined ? [] : [m];
    });
    for (let i = 0; i < matches.length; i += MAX_MATCHES_PER_RULE) rules.push({ name: unique(i === 0 ? 'operations' : `operations-${i / MAX_MATCHES_PER_RULE + 1}`), kind: 'operations', matches: matches.slice(i, i + MAX_MATCHES_PER_RULE) });
  }
  for (const op of own) {
    const m = operationMatch(route, op);
    if (m === undefined) skipped(op);
    else rules.push({ name: unique(`op-${op.id}`), kind: 'operations', matches: [m], operation: op });
  }
  return rules;
}

/** Packs rules into HTTPRoutes: at most 16 rules and 128 matches each, in order. */
export function packRules<R extends { matches: unknown[] }>(rules: R[]): R[][] {
  const parts: R[][] = [];
  let current: R[] = [];
  let matches = 0;
  for (const rule of rules) {
    if (current.length > 0 && (current.length === MAX_RULES_PER_ROUTE || matches + rule.matches.length > MAX_MATCHES_PER_ROUTE)) {
      parts.push(current);
      current = [];
      matches = 0;
    }
    current.push(rule);
    matches += rule.matches.length;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}
