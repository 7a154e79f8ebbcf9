// The rule matrix: a hand-labelled list of schema edits (what each does to a client that sends such a value, and to
// one that reads it) and the places a schema sits (a query parameter, a request body, a request property, a response
// body, a response property, a response header), with the rule id and level each edit must give at each place.

export type Level = 'breaking' | 'warning' | 'info';
type Json = Record<string, unknown>;

export interface Edit {
  suffix: string;
  base: Json;
  revision: Json;
  /** the level for a client sending the value; undefined: not a request-side change */
  request?: Level;
  /** the level for a client reading it; undefined: not a response-side change */
  response?: Level;
  /** the suffix a reader sees, when it differs (a required member added is only `added` to a reader) */
  responseSuffix?: string;
  /** a change of an object's members: it sits where members sit (parameters, bodies' properties, headers) */
  member?: boolean;
  openapi?: string;
}

const S = (extra: Json = {}) => ({ type: 'string', ...extra });
const I = (extra: Json = {}) => ({ type: 'integer', ...extra });
const A = (extra: Json = {}) => ({ type: 'array', items: { type: 'string' }, ...extra });
const O = (properties: Json, extra: Json = {}) => ({ type: 'object', properties, ...extra });

/** Labelled by hand: which way each edit breaks (B), may break (W) or informs (I). */
export const EDITS: Edit[] = [
  { suffix: 'type-changed', base: S(), revision: I(), request: 'breaking', response: 'breaking' },
  { suffix: 'type-widened', base: I(), revision: { type: 'number' }, request: 'info', response: 'breaking' },
  { suffix: 'type-narrowed', base: { type: 'number' }, revision: I(), request: 'breaking', response: 'info' },
  { suffix: 'became-nullable', base: S(), revision: S({ nullable: true }), request: 'info', response: 'breaking' },
  { suffix: 'became-not-nullable', base: S({ nullable: true }), revision: S(), request: 'breaking', response: 'info' },
  { suffix: 'enum-value-removed', base: S({ enum: ['a', 'b'] }), revision: S({ enum: ['a'] }), request: 'breaking', response: 'info' },
  { suffix: 'enum-value-added', base: S({ enum: ['a'] }), revision: S({ enum: ['a', 'b'] }), request: 'info', response: 'warning' },
  { suffix: 'enum-restricted', base: S(), revision: S({ enum: ['a'] }), request: 'breaking', response: 'info' },
  { suffix: 'max-length-decreased', base: S({ maxLength: 10 }), revision: S({ maxLength: 5 }), request: 'breaking', response: 'info' },
  { suffix: 'max-length-increased', base: S({ maxLength: 5 }), revision: S({ maxLength: 10 }), request: 'info', response: 'warning' },
  { suffix: 'min-length-increased', base: S({ minLength: 1 }), revision: S({ minLength: 5 }), request: 'breaking', response: 'info' },
  { suffix: 'min-length-decreased', base: S({ minLength: 5 }), revision: S({ minLength: 1 }), request: 'info', response: 'warning' },
  { suffix: 'maximum-decreased', base: I({ maximum: 10 }), revision: I({ maximum: 5 }), request: 'breaking', response: 'info' },
  { suffix: 'maximum-increased', base: I({ maximum: 5 }), revision: I({ maximum: 10 }), request: 'info', response: 'warning' },
  { suffix: 'minimum-increased', base: I({ minimum: 1 }), revision: I({ minimum: 5 }), request: 'breaking', response: 'info' },
  { suffix: 'minimum-decreased', base: I({ minimum: 5 }), revision: I({ minimum: 1 }), request: 'info', response: 'warning' },
  { suffix: 'max-items-decreased', base: A({ maxItems: 10 }), revision: A({ maxItems: 5 }), request: 'breaking', response: 'info' },
  { suffix: 'max-items-increased', base: A({ maxItems: 5 }), revision: A({ maxItems: 10 }), request: 'info', response: 'warning' },
  { suffix: 'min-items-increased', base: A({ minItems: 1 }), revision: A({ minItems: 5 }), request: 'breaking', response: 'info' },
  { suffix: 'min-items-decreased', base: A({ minItems: 5 }), revision: A({ minItems: 1 }), request: 'info', response: 'warning' },
  { suffix: 'multiple-of-changed', base: I({ multipleOf: 5 }), revision: I({ multipleOf: 3 }), request: 'warning', response: 'warning' },
  { suffix: 'pattern-changed', base: S({ pattern: '^a' }), revision: S({ pattern: '^b' }), request: 'warning', response: 'warning' },
  { suffix: 'pattern-removed', base: S({ pattern: '^a' }), revision: S(), request: 'info', response: 'warning' },
  { suffix: 'format-added', base: S(), revision: S({ format: 'uuid' }), request: 'warning', response: 'info' },
  { suffix: 'format-removed', base: S({ format: 'uuid' }), revision: S(), request: 'info', response: 'warning' },
  { suffix: 'format-changed', base: S({ format: 'date' }), revision: S({ format: 'date-time' }), request: 'warning', response: 'warning' },
  { suffix: 'default-changed', base: S({ default: 'a' }), revision: S({ default: 'b' }), request: 'warning', response: 'info' },
  { suffix: 'additional-properties-refused', base: O({ a: S() }), revision: O({ a: S() }, { additionalProperties: false }), request: 'warning' },
  { suffix: 'one-of-branch-removed', base: { oneOf: [S(), I(), { type: 'boolean' }] }, revision: { oneOf: [S(), I()] }, request: 'breaking', response: 'info' },
  { suffix: 'one-of-branch-added', base: { oneOf: [S(), I()] }, revision: { oneOf: [S(), I(), { type: 'boolean' }] }, request: 'info', response: 'warning' },
  { suffix: 'any-of-branch-removed', base: { anyOf: [S(), I(), { type: 'boolean' }] }, revision: { anyOf: [S(), I()] }, request: 'breaking', response: 'info' },
  { suffix: 'any-of-branch-added', base: { anyOf: [S(), I()] }, revision: { anyOf: [S(), I(), { type: 'boolean' }] }, request: 'info', response: 'warning' },
  { suffix: 'became-choice', base: O({ k: S({ enum: ['a', 'b'] }) }), revision: { oneOf: [O({ k: S({ enum: ['a'] }) }, { required: ['k'] }), O({ k: S({ enum: ['b'] }) }, { required: ['k'] })] }, request: 'warning' },
  { suffix: 'one-of-branch-split', base: { oneOf: [S(), O({ k: S({ enum: ['a', 'b'] }) })] }, revision: { oneOf: [S(), O({ k: S({ enum: ['a'] }) }, { required: ['k'] }), O({ k: S({ enum: ['b'] }) }, { required: ['k'] })] }, request: 'warning' },
  { suffix: 'any-of-branch-split', base: { anyOf: [S(), O({ k: S({ enum: ['a', 'b'] }) })] }, revision: { anyOf: [S(), O({ k: S({ enum: ['a'] }) }, { required: ['k'] }), O({ k: S({ enum: ['b'] }) }, { required: ['k'] })] }, request: 'warning' },
  { suffix: 'removed', member: true, base: O({ a: S(), b: S() }), revision: O({ a: S() }), request: 'warning', response: 'breaking' },
  { suffix: 'removed-and-refused', member: true, base: O({ a: S(), b: S() }, { additionalProperties: false }), revision: O({ a: S() }, { additionalProperties: false }), request: 'breaking', response: 'breaking', responseSuffix: 'removed' },
  { suffix: 'added', member: true, base: O({ a: S() }), revision: O({ a: S(), b: S() }), request: 'info', response: 'info' },
  { suffix: 'added-required', member: true, base: O({ a: S() }), revision: O({ a: S(), b: S() }, { required: ['b'] }), request: 'breaking', response: 'info', responseSuffix: 'added' },
  { suffix: 'added-required-with-default', member: true, base: O({ a: S() }), revision: O({ a: S(), b: S({ default: 'x' }) }, { required: ['b'] }), request: 'warning', response: 'info', responseSuffix: 'added' },
  { suffix: 'became-required', member: true, base: O({ a: S() }), revision: O({ a: S() }, { required: ['a'] }), request: 'breaking', response: 'info' },
  { suffix: 'became-optional', member: true, base: O({ a: S() }, { required: ['a'] }), revision: O({ a: S() }), request: 'info', response: 'breaking' },
];

export interface Place {
  /** the rule-id prefix a change of the schema itself gets here, and one of its members */
  prefix: string;
  memberPrefix: string;
  direction: 'request' | 'response';
  operation: string;
  document(schema: Json): Json;
  /** where members of an object sit (the schema is the object itself) */
  members: boolean;
  /** the schema itself sits here (not only as an object's member) */
  self: boolean;
}

const doc = (paths: Json) => ({ openapi: '3.0.3', info: { title: 'matrix', version: '1' }, paths });
const ok = { description: 'ok' };
export const PLACES: Place[] = [
  { prefix: 'request-parameter', memberPrefix: 'request-parameter', direction: 'request', operation: 'GET /x', members: true, self: true, document: (s) => doc({ '/x': { get: { parameters: [{ name: 'q', in: 'query', schema: s }], responses: { '200': ok } } } }) },
  { prefix: 'request-body', memberPrefix: 'request-property', direction: 'request', operation: 'POST /x', members: true, self: true, document: (s) => doc({ '/x': { post: { requestBody: { content: { 'application/json': { schema: s } } }, responses: { '200': ok } } } }) },
  { prefix: 'request-property', memberPrefix: 'request-property', direction: 'request', operation: 'POST /x', members: false, self: true, document: (s) => doc({ '/x': { post: { requestBody: { content: { 'application/json': { schema: O({ p: s }) } } }, responses: { '200': ok } } } }) },
  { prefix: 'response-body', memberPrefix: 'response-property', direction: 'response', operation: 'GET /x', members: true, self: true, document: (s) => doc({ '/x': { get: { responses: { '200': { ...ok, content: { 'application/json': { schema: s } } } } } } }) },
  { prefix: 'response-property', memberPrefix: 'response-property', direction: 'response', operation: 'GET /x', members: false, self: true, document: (s) => doc({ '/x': { get: { responses: { '200': { ...ok, content: { 'application/json': { schema: O({ p: s }) } } } } } } }) },
  { prefix: 'response-header', memberPrefix: 'response-header', direction: 'response', operation: 'GET /x', members: true, self: true, document: (s) => doc({ '/x': { get: { responses: { '200': { ...ok, headers: { 'X-Thing': { schema: s } } } } } } }) },
];

/** The (rule id, level) pairs the matrix expects, for the corpus test's coverage check. */
export function matrixRuleIds(): Set<string> {
  const out = new Set<string>();
  for (const e of EDITS) for (const p of PLACES) {
    const exp = expectation(e, p);
    if (exp !== undefined) out.add(exp.id);
  }
  return out;
}

export function expectation(e: Edit, p: Place): { id: string; level: Level } | undefined {
  const level = p.direction === 'request' ? e.request : e.response;
  if (level === undefined) return undefined;
  if (e.member) {
    if (!p.members) return undefined;
    const suffix = p.direction === 'response' ? (e.responseSuffix ?? e.suffix) : e.suffix;
    return { id: `${p.memberPrefix}-${suffix}`, level };
  }
  if (!p.self) return undefined;
  return { id: `${p.prefix}-${e.suffix}`, level };
}

