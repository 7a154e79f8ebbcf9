// The diff engine's rule catalog: every rule id with its default level, the one line it prints and the migration
// note it gives a client. Schema rules exist once per place a schema sits (parameter, body, property, header).

export type ChangeLevel = 'breaking' | 'warning' | 'info';
export const CHANGE_LEVELS: readonly ChangeLevel[] = ['breaking', 'warning', 'info'];

export interface Rule {
  id: string;
  level: ChangeLevel;
  /** what changed, with `{name}` (the thing) and `{detail}` placeholders */
  text: string;
  /** what a client must do */
  migration: string;
}

export type Direction = 'request' | 'response';

/** Schema-level changes, by direction: the same edit breaks a request or a response, rarely both. */
interface SchemaRule {
  request: ChangeLevel;
  /** null: only a sender can meet this change (what a reader sees of it has its own rule) */
  response: ChangeLevel | null;
  text: string;
  migration: { request: string; response: string };
}

const B: ChangeLevel = 'breaking';
const W: ChangeLevel = 'warning';
const I: ChangeLevel = 'info';

const SCHEMA_RULES: Record<string, SchemaRule> = {
  'type-changed': {
    request: B,
    response: B,
    text: '{name} changed type: {detail}',
    migration: { request: 'Send {name} as {to}.', response: 'Read {name} as {to}.' },
  },
  'type-widened': { request: I, response: B, text: '{name} accepts more types: {detail}', migration: { request: 'Nothing to do.', response: 'Handle {name} as {to}.' } },
  'type-narrowed': { request: B, response: I, text: '{name} accepts fewer types: {detail}', migration: { request: 'Send {name} only as {to}.', response: 'Nothing to do.' } },
  'became-nullable': { request: I, response: B, text: '{name} may now be null', migration: { request: 'Nothing to do.', response: 'Handle a null {name}.' } },
  'became-not-nullable': { request: B, response: I, text: '{name} may no longer be null', migration: { request: 'Stop sending null for {name}.', response: 'Nothing to do.' } },
  'enum-value-removed': { request: B, response: I, text: '{name} no longer allows {detail}', migration: { request: 'Stop sending {detail} for {name}.', response: 'Nothing to do.' } },
  'enum-value-added': { request: I, response: W, text: '{name} allows the new value {detail}', migration: { request: 'Nothing to do.', response: 'Handle {detail} in {name} (or treat unknown values gracefully).' } },
  'enum-restricted': { request: B, response: I, text: '{name} is now limited to {detail}', migration: { request: 'Send only {detail} for {name}.', response: 'Nothing to do.' } },
  'max-length-decreased': { request: B, response: I, text: '{name} maxLength lowered: {detail}', migration: { request: 'Send at most {to} characters in {name}.', response: 'Nothing to do.' } },
  'max-length-increased': { request: I, response: W, text: '{name} maxLength raised: {detail}', migration: { request: 'Nothing to do.', response: 'Accept up to {to} characters in {name}.' } },
  'min-length-increased': { request: B, response: I, text: '{name} minLength raised: {detail}', migration: { request: 'Send at least {to} characters in {name}.', response: 'Nothing to do.' } },
  'min-length-decreased': { request: I, response: W, text: '{name} minLength lowered: {detail}', migration: { request: 'Nothing to do.', response: 'Accept values as short as {to} characters in {name}.' } },
  'maximum-decreased': { request: B, response: I, text: '{name} maximum lowered: {detail}', migration: { request: 'Send {name} within the new maximum ({to}).', response: 'Nothing to do.' } },
  'maximum-increased': { request: I, response: W, text: '{name} maximum raised: {detail}', migration: { request: 'Nothing to do.', response: 'Accept {name} up to {to}.' } },
  'minimum-increased': { request: B, response: I, text: '{name} minimum raised: {detail}', migration: { request: 'Send {name} within the new minimum ({to}).', response: 'Nothing to do.' } },
  'minimum-decreased': { request: I, response: W, text: '{name} minimum lowered: {detail}', migration: { request: 'Nothing to do.', response: 'Accept {name} down to {to}.' } },
  'max-items-decreased': { request: B, response: I, text: '{name} maxItems lowered: {detail}', migration: { request: 'Send at most {to} items in {name}.', response: 'Nothing to do.' } },
  'max-items-increased': { request: I, response: W, text: '{name} maxItems raised: {detail}', migration: { request: 'Nothing to do.', response: 'Accept up to {to} items in {name}.' } },
  'min-items-increased': { request: B, response: I, text: '{name} minItems raised: {detail}', migration: { request: 'Send at least {to} items in {name}.', response: 'Nothing to do.' } },
  'min-items-decreased': { request: I, response: W, text: '{name} minItems lowered: {detail}', migration: { request: 'Nothing to do.', response: 'Accept as few as {to} items in {name}.' } },
  'multiple-of-changed': { request: W, response: W, text: '{name} multipleOf changed: {detail}', migration: { request: 'Send {name} as a multiple of {to}.', response: 'Accept {name} as a multiple of {to}.' } },
  'pattern-changed': { request: W, response: W, text: '{name} pattern changed: {detail}', migration: { request: 'Check that {name} matches {to}.', response: 'Check that your parsing of {name} accepts {to}.' } },
  'pattern-removed': { request: I, response: W, text: '{name} no longer has a pattern (was {from})', migration: { request: 'Nothing to do.', response: 'Accept any string in {name}.' } },
  'format-added': { request: W, response: I, text: '{name} now has the format {detail}', migration: { request: 'Send {name} in the {to} format.', response: 'Nothing to do.' } },
  'format-removed': { request: I, response: W, text: '{name} no longer has a format (was {detail})', migration: { request: 'Nothing to do.', response: 'Accept {name} in any format.' } },
  'format-changed': { request: W, response: W, text: '{name} format changed: {detail}', migration: { request: 'Send {name} in the {to} format.', response: 'Parse {name} in the {to} format.' } },
  'default-changed': { request: W, response: I, text: '{name} default changed: {detail}', migration: { request: 'Send {name} explicitly if you relied on {from}.', response: 'Nothing to do.' } },
  'additional-properties-refused': { request: W, response: null, text: '{name} no longer accepts undocumented members', migration: { request: 'Send only the documented members of {name}.', response: 'Nothing to do.' } },
  'one-of-branch-removed': { request: B, response: I, text: '{name} no longer accepts the oneOf branch {detail}', migration: { request: 'Stop sending {name} shaped as {detail}.', response: 'Nothing to do.' } },
  'one-of-branch-added': { request: I, response: W, text: '{name} has a new oneOf branch {detail}', migration: { request: 'Nothing to do.', response: 'Handle {name} shaped as {detail}.' } },
  'any-of-branch-removed': { request: B, response: I, text: '{name} no longer accepts the anyOf branch {detail}', migration: { request: 'Stop sending {name} shaped as {detail}.', response: 'Nothing to do.' } },
  'any-of-branch-added': { request: I, response: W, text: '{name} has a new anyOf branch {detail}', migration: { request: 'Nothing to do.', response: 'Handle {name} shaped as {detail}.' } },
  'became-choice': { request: W, response: null, text: '{name} is now a choice of {detail} schemas, none of which takes everything it took', migration: { request: 'Check that what you send for {name} matches one of its new schemas.', response: 'Handle each of the new schemas of {name}.' } },
  'one-of-branch-split': { request: W, response: null, text: '{name}: the oneOf branch {detail} became several, none of which takes everything it took', migration: { request: 'Check that what you send for {name} matches one of its new branches.', response: 'Handle each of the new branches of {name}.' } },
  'any-of-branch-split': { request: W, response: null, text: '{name}: the anyOf branch {detail} became several, none of which takes everything it took', migration: { request: 'Check that what you send for {name} matches one of its new branches.', response: 'Handle each of the new branches of {name}.' } },
  // members (object properties, parameters, headers): {name} is the member itself
  removed: { request: W, response: B, text: '{name} removed', migration: { request: 'Stop sending {name}; it is ignored or refused now.', response: 'Stop reading {name}; it is no longer returned.' } },
  'removed-and-refused': { request: B, response: null, text: '{name} removed, and undocumented members are refused', migration: { request: 'Stop sending {name}; requests with it are refused.', response: 'Stop reading {name}.' } },
  added: { request: I, response: I, text: '{name} added', migration: { request: 'Nothing to do; you may send {name}.', response: 'Nothing to do; you may read {name}.' } },
  'added-required': { request: B, response: null, text: '{name} added as required', migration: { request: 'Send {name} in every request.', response: 'Nothing to do.' } },
  'added-required-with-default': { request: W, response: null, text: '{name} added as required, with a default', migration: { request: 'Send {name}; a server that does not fill in defaults refuses requests without it.', response: 'Nothing to do.' } },
  'became-required': { request: B, response: I, text: '{name} became required', migration: { request: 'Send {name} in every request.', response: 'Nothing to do.' } },
  'became-optional': { request: I, response: B, text: '{name} became optional', migration: { request: 'Nothing to do.', response: 'Handle answers without {name}.' } },
  'style-changed': { request: B, response: B, text: '{name} is serialised differently: {detail}', migration: { request: 'Serialise {name} as {to}.', response: 'Parse {name} as {to}.' } },
  moved: { request: B, response: B, text: '{name} moved: {detail}', migration: { request: 'Send {name} in the {to} instead.', response: 'Read it from the {to}.' } },
};

/** The level of a schema rule (by its suffix) in one direction. */
export function schemaLevel(suffix: string, direction: Direction): ChangeLevel {
  const r = SCHEMA_RULES[suffix];
  if (r === undefined) throw new Error(`unknown schema rule ${suffix}`);
  return r[direction] ?? r.request;
}

/** Where a schema sits, as a rule-id prefix: the thing itself and its nested members. */
export interface SchemaPlace {
  /** e.g. `request-parameter`, `request-body`, `response-header` */
  root: string;
  /** e.g. `request-property`, `response-property`; a parameter's and a header's members keep their own prefix */
  nested: string;
  direction: Direction;
}

export const SCHEMA_PLACES: SchemaPlace[] = [
  // a parameter's or a header's own members (deepObject parameters, object headers) keep its prefix: the text names them
  { root: 'request-parameter', nested: 'request-parameter', direction: 'request' },
  { root: 'request-body', nested: 'request-property', direction: 'request' },
  { root: 'response-body', nested: 'response-property', direction: 'response' },
  { root: 'response-header', nested: 'response-header', direction: 'response' },
];

/** Rules that are not about a schema. */
const OTHER_RULES: Rule[] = [
  { id: 'operation-removed', level: B, text: 'operation removed{detail}', migration: 'Stop calling {op}; it is no longer served.' },
  { id: 'operation-removed-before-sunset', level: B, text: 'deprecated operation removed before its sunset ({detail})', migration: 'Stop calling {op} now; it was to be served until {detail}.' },
  { id: 'deprecated-operation-removed', level: I, text: 'deprecated operation removed{detail}', migration: 'Stop calling {op}; it was deprecated.' },
  { id: 'operation-added', level: I, text: 'operation added', migration: 'Nothing to do; {op} is new.' },
  { id: 'operation-deprecated', level: I, text: 'operation deprecated{detail}', migration: 'Move off {op} before its sunset.' },
  { id: 'operation-sunset-brought-forward', level: W, text: 'sunset brought forward: {detail}', migration: 'Move off {op} by {to}.' },
  { id: 'operation-id-changed', level: W, text: 'operationId changed: {detail}', migration: 'Regenerate SDKs: the method for {op} is now named {to}.' },
  { id: 'request-body-added', level: I, text: 'request body added (optional)', migration: 'Nothing to do.' },
  { id: 'request-body-added-required', level: B, text: 'request body added as required', migration: 'Send a request body with {op}.' },
  { id: 'request-body-removed', level: W, text: 'request body removed', migration: 'Stop sending a body with {op}; it is ignored or refused.' },
  { id: 'request-body-became-required', level: B, text: 'request body became required', migration: 'Always send a request body with {op}.' },
  { id: 'request-body-became-optional', level: I, text: 'request body became optional', migration: 'Nothing to do.' },
  { id: 'request-body-media-type-removed', level: B, text: 'request body no longer accepts {detail}', migration: 'Send the body as one of: {to}.' },
  { id: 'request-body-media-type-added', level: I, text: 'request body also accepts {detail}', migration: 'Nothing to do.' },
  { id: 'response-status-removed', level: B, text: 'response {detail} removed', migration: 'Stop expecting {detail} from {op}; handle {to}.' },
  { id: 'response-status-added', level: W, text: 'new success response {detail}', migration: 'Handle {detail} from {op}.' },
  { id: 'response-error-status-removed', level: I, text: 'error response {detail} no longer documented', migration: 'Nothing to do.' },
  { id: 'response-error-status-added', level: I, text: 'error response {detail} added', migration: 'Handle {detail} from {op} as an error.' },
  { id: 'response-media-type-removed', level: B, text: 'response {detail} is no longer sent', migration: 'Accept one of: {to}.' },
  { id: 'response-media-type-added', level: I, text: 'response may also be {detail}', migration: 'Nothing to do.' },
  { id: 'security-added', level: B, text: 'authentication now required: {detail}', migration: 'Authenticate calls to {op} with {to}.' },
  { id: 'security-requirement-removed', level: B, text: 'security scheme {detail} no longer accepted', migration: 'Authenticate calls to {op} with {to}.' },
  { id: 'security-requirement-added', level: I, text: 'security scheme {detail} also accepted', migration: 'Nothing to do.' },
  { id: 'security-scope-added', level: B, text: 'scope {detail} now required', migration: 'Ask for the scope {detail} when you get tokens for {op}.' },
  { id: 'security-scope-removed', level: I, text: 'scope {detail} no longer required', migration: 'Nothing to do.' },
  { id: 'security-removed', level: I, text: 'authentication no longer required', migration: 'Nothing to do.' },
  { id: 'security-scheme-changed', level: B, text: 'security scheme {detail} changed', migration: 'Update how you send {detail}: {to}.' },
  { id: 'server-removed', level: W, text: 'server {detail} removed', migration: 'Call {to} instead.' },
  { id: 'server-added', level: I, text: 'server {detail} added', migration: 'Nothing to do.' },
  { id: 'component-schema-removed', level: I, text: 'schema {detail} removed from the components', migration: 'Regenerate SDKs: the type {detail} is gone.' },
  { id: 'component-schema-changed', level: I, text: 'schema {detail}', migration: 'Regenerate SDKs: the type {name} changed.' },
  { id: 'diff-incomplete', level: W, text: 'schemas too large to compare completely: {detail}', migration: 'Review the schemas of {op} by hand.' },
];

function schemaRules(): Rule[] {
  const out: Rule[] = [];
  for (const place of SCHEMA_PLACES) {
    for (const [suffix, r] of Object.entries(SCHEMA_RULES)) {
      const member = ['removed', 'removed-and-refused', 'added', 'added-required', 'added-required-with-default', 'became-required', 'became-optional', 'style-changed', 'moved'].includes(suffix);
      if (place.root === 'request-body' && ['added', 'added-required', 'became-required', 'became-optional', 'removed'].includes(suffix)) {
        // the body's own presence has its own rules (OTHER_RULES); its members are properties
        const level = r[place.direction];
        if (level !== null) out.push({ id: `${place.nested}-${suffix}`, level, text: r.text, migration: r.migration[place.direction] });
        continue;
      }
      if (suffix === 'style-changed' || suffix === 'moved') {
        if (place.root === 'request-parameter') out.push({ id: `${place.root}-${suffix}`, level: r.request, text: r.text, migration: r.migration.request });
        continue;
      }
      const prefixes = member ? (place.root === 'request-parameter' || place.root === 'response-header' ? [place.root, place.nested] : [place.nested]) : [place.root, place.nested];
      const level = r[place.direction];
      if (level === null) continue;
      for (const prefix of new Set(prefixes)) out.push({ id: `${prefix}-${suffix}`, level, text: r.text, migration: r.migration[place.direction] });
    }
  }
  return out;
}

/** Every rule the diff engine applies, by id. */
export const RULES: ReadonlyMap<string, Rule> = new Map([...schemaRules(), ...OTHER_RULES].map((r) => [r.id, r]));

/** The schema rule behind an id (prefix + suffix). */
export function schemaRuleId(place: SchemaPlace, nested: boolean, suffix: string): string {
  return `${nested ? place.nested : place.root}-${suffix}`;
}

export function ruleOf(id: string): Rule {
  const r = RULES.get(id);
  if (r === undefined) throw new Error(`unknown diff rule ${id}`);
  return r;
}
