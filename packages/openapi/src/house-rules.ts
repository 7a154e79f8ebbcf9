// The `apigov:house` Spectral ruleset: apigov's own governance rules (operationId, summary, security,
// 4xx/5xx responses, owner contact, kebab-case paths) and their published names, severities and descriptions.
import { createRulesetFunction, type IFunctionResult, type RulesetDefinition } from '@stoplight/spectral-core';
import { truthy } from '@stoplight/spectral-functions';
import { isRecord, type PathToken } from './json-path.js';
import { HTTP_METHODS } from './operations.js';
import type { Severity } from './types.js';

export interface HouseRule {
  name: string;
  severity: Severity;
  description: string;
}

export const houseRules: ReadonlyArray<HouseRule> = Object.freeze([
  { name: 'apigov-operation-id', severity: 'error', description: 'Every operation has an operationId (routes, SDKs, analytics and policies refer to operations by it).' },
  { name: 'apigov-operation-summary', severity: 'warn', description: 'Every operation has a summary (shown in the catalog and the portal).' },
  {
    name: 'apigov-security-defined',
    severity: 'error',
    description:
      'Security schemes are defined (components.securitySchemes / securityDefinitions) and every operation is covered by a non-empty security requirement, global or per operation (no anonymous `{}` alternative, no `security: []` opt-out).',
  },
  { name: 'apigov-4xx-response', severity: 'warn', description: 'Every operation documents at least one 4xx (client error) response.' },
  { name: 'apigov-5xx-response', severity: 'warn', description: 'Every operation documents at least one 5xx (server error) or `default` response.' },
  { name: 'apigov-owner-contact', severity: 'error', description: 'info.contact names the owning team with an email or a url.' },
  {
    name: 'apigov-kebab-case-paths',
    severity: 'warn',
    description: 'Literal path segments are lowercase kebab-case (`/payment-methods`); path parameters are not checked, dots are allowed (`/openapi.json`, `/.well-known`).',
  },
]);

const OPERATIONS = `$.paths[*][${HTTP_METHODS.join(',')}]`;

function severityOf(name: string): Severity {
  const rule = houseRules.find((r) => r.name === name);
  if (!rule) throw new Error(`unknown house rule ${name}`);
  return rule.severity;
}

function descriptionOf(name: string): string {
  return houseRules.find((r) => r.name === name)?.description ?? '';
}

/** Operation has a response whose status matches; reports on `responses` (or the operation if it has none). */
const hasResponse = createRulesetFunction<unknown, { pattern: string; label: string }>(
  {
    input: null,
    options: {
      type: 'object',
      properties: { pattern: { type: 'string' }, label: { type: 'string' } },
      required: ['pattern', 'label'],
      additionalProperties: false,
    },
  },
  (operation, options, context): IFunctionResult[] => {
    if (!isRecord(operation)) return [];
    const responses = operation.responses;
    const re = new RegExp(options.pattern, 'i');
    if (isRecord(responses) && Object.keys(responses).some((status) => re.test(status))) return [];
    const path = isRecord(responses) ? [...context.path, 'responses'] : [...context.path];
    return [{ message: `Operation documents no ${options.label} response.`, path }];
  },
);

/** info.contact with a non-empty email or url. */
const ownerContact = createRulesetFunction<unknown, null>({ input: null, options: null }, (info, _options, context): IFunctionResult[] => {
  const contact = isRecord(info) ? info.contact : undefined;
  const filled = (v: unknown): boolean => typeof v === 'string' && v.trim() !== '';
  if (isRecord(contact) && (filled(contact.email) || filled(contact.url))) return [];
  return [
    {
      message: isRecord(contact)
        ? 'info.contact must give an email or a url for the owning team.'
        : 'info.contact is missing: name the owning team with an email or a url.',
      path: [...context.path, 'contact'],
    },
  ];
});

const KEBAB_SEGMENT = /^\.?[a-z0-9]+(?:[-.][a-z0-9]+)*$/;

/** Literal segments of a path template are kebab-case; `{params}` are ignored. */
const kebabPath = createRulesetFunction<string, null>({ input: { type: 'string' }, options: null }, (path): IFunctionResult[] => {
  const bad = path.split('/').filter((segment) => {
    const literal = segment.replace(/\{[^}]*\}/g, '');
    if (literal === '') return false;
    // a literal glued to a parameter (`{id}.json`, `v{major}`) only has to be lowercase
    return segment === literal ? !KEBAB_SEGMENT.test(literal) : !/^[a-z0-9.-]+$/.test(literal);
  });
  if (bad.length === 0) return [];
  return [{ message: `Path '${path}' has segment${bad.length > 1 ? 's' : ''} ${bad.map((s) => `'${s}'`).join(', ')} not in lowercase kebab-case.` }];
});

type Requirements = unknown;

function coverage(requirements: Requirements): 'covered' | 'missing' | 'empty' | 'anonymous' {
  if (requirements === undefined || requirements === null) return 'missing';
  if (!Array.isArray(requirements) || requirements.length === 0) return 'empty';
  if (requirements.some((r) => !isRecord(r) || Object.keys(r).length === 0)) return 'anonymous';
  return 'covered';
}

/** Security schemes exist and every operation has an effective, non-anonymous security requirement. */
const securityDefined = createRulesetFunction<unknown, null>({ input: null, options: null }, (doc): IFunctionResult[] => {
  if (!isRecord(doc) || !isRecord(doc.paths)) return [];
  const swagger2 = doc.swagger !== undefined;
  const operations: { path: string; method: string; operation: Record<string, unknown> }[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!isRecord(item)) continue;
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (isRecord(operation)) operations.push({ path, method, operation });
    }
  }
  if (operations.length === 0) return [];
  const schemes = swagger2 ? doc.securityDefinitions : isRecord(doc.components) ? doc.components.securitySchemes : undefined;
  const results: IFunctionResult[] = [];
  if (!isRecord(schemes) || Object.keys(schemes).length === 0) {
    results.push({
      message: swagger2
        ? 'No security schemes are defined: add securityDefinitions saying how clients authenticate.'
        : 'No security schemes are defined: add components.securitySchemes saying how clients authenticate.',
      path: swagger2 ? ['securityDefinitions'] : isRecord(doc.components) ? ['components', 'securitySchemes'] : ['components'],
    });
  }
  const global = coverage(doc.security);
  const uncovered = operations.filter((o) => coverage(o.operation.security ?? doc.security) !== 'covered');
  if (uncovered.length === operations.length && global !== 'covered' && operations.every((o) => o.operation.security === undefined)) {
    results.push({
      message:
        global === 'missing'
          ? "No security requirement: add a global 'security' (or one per operation) so that no operation is anonymous."
          : "The global 'security' requirement allows anonymous access: list at least one scheme and no empty '{}' alternative.",
      path: global === 'missing' ? [] : ['security'],
    });
    return results;
  }
  for (const { path, method, operation } of uncovered) {
    const own = operation.security !== undefined;
    const state = coverage(operation.security ?? doc.security);
    const where: PathToken[] = own ? ['paths', path, method, 'security'] : ['paths', path, method];
    const label = `${method.toUpperCase()} ${path}`;
    const message =
      state === 'empty'
        ? `${label} opts out of security with an empty 'security' list.`
        : state === 'anonymous'
          ? `${label} allows anonymous access (an empty '{}' security requirement).`
          : `${label} has no security requirement (none on the operation, none global).`;
    results.push({ message, path: where });
  }
  return results;
});

/** The `apigov:house` ruleset, ready to be extended alongside `spectral:oas`. */
export const houseRuleset: RulesetDefinition = {
  description: 'apigov:house',
  rules: {
    'apigov-operation-id': {
      description: descriptionOf('apigov-operation-id'),
      message: 'Operation has no operationId.',
      severity: severityOf('apigov-operation-id'),
      given: OPERATIONS,
      then: { field: 'operationId', function: truthy },
    },
    'apigov-operation-summary': {
      description: descriptionOf('apigov-operation-summary'),
      message: 'Operation has no summary.',
      severity: severityOf('apigov-operation-summary'),
      given: OPERATIONS,
      then: { field: 'summary', function: truthy },
    },
    'apigov-security-defined': {
      description: descriptionOf('apigov-security-defined'),
      message: '{{error}}',
      severity: severityOf('apigov-security-defined'),
      given: '$',
      then: { function: securityDefined },
    },
    'apigov-4xx-response': {
      description: descriptionOf('apigov-4xx-response'),
      message: '{{error}}',
      severity: severityOf('apigov-4xx-response'),
      given: OPERATIONS,
      then: { function: hasResponse, functionOptions: { pattern: '^4(\\d\\d|xx)$', label: '4xx (client error)' } },
    },
    'apigov-5xx-response': {
      description: descriptionOf('apigov-5xx-response'),
      message: '{{error}}',
      severity: severityOf('apigov-5xx-response'),
      given: OPERATIONS,
      then: { function: hasResponse, functionOptions: { pattern: '^(5(\\d\\d|xx)|default)$', label: '5xx (server error) or default' } },
    },
    'apigov-owner-contact': {
      description: descriptionOf('apigov-owner-contact'),
      message: '{{error}}',
      severity: severityOf('apigov-owner-contact'),
      given: '$.info',
      then: { function: ownerContact },
    },
    'apigov-kebab-case-paths': {
      description: descriptionOf('apigov-kebab-case-paths'),
      message: '{{error}}',
      severity: severityOf('apigov-kebab-case-paths'),
      given: '$.paths',
      then: { field: '@key', function: kebabPath },
    },
  },
};
