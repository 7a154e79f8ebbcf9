// diffOpenApi: every change between two OpenAPI documents (2.0, 3.0, 3.1, in any mix), each with its rule id,
// level, operation, JSON pointers, one line of text, a stable fingerprint and a migration note.
import { createHash } from 'node:crypto';
import type { OpenApiDocument } from '../types.js';
import { apiView, escapeToken, type ApiView, type MediaView, type OperationView, type Requirement } from './operations-view.js';
import { ruleOf, SCHEMA_PLACES, schemaRuleId, type ChangeLevel, type SchemaPlace } from './rules.js';
import { SchemaComparer, type SchemaChange, type Step } from './schema-diff.js';
import { SchemaViews } from './schema-view.js';

export interface Change {
  /** stable kebab rule id, e.g. `request-parameter-became-required` */
  id: string;
  level: ChangeLevel;
  /** `METHOD /path` as written in the revision (or the base, for a removed operation); absent for document-wide changes */
  operation?: string;
  /** one line saying what changed */
  text: string;
  /** stable across commits: a hash of the rule id, the operation and the logical location */
  fingerprint: string;
  /** what a client must do */
  migration: string;
  /** JSON pointer (RFC 6901) of what changed in the base document */
  base?: string;
  /** JSON pointer of what changed in the revision */
  revision?: string;
  /** where in the operation, independent of how the document is organised (`/parameters/query/limit`, `/responses/200/content/application~1json/properties/id`) */
  location: string;
}

export interface DiffOptions {
  /** the date sunsets are compared with (default: now) */
  now?: Date;
}

const PLACE = Object.fromEntries(SCHEMA_PLACES.map((p) => [p.root, p])) as Record<string, SchemaPlace>;

interface Emit {
  id: string;
  operation?: string;
  location: string;
  base?: string;
  revision?: string;
  name?: string;
  short?: string;
  detail?: string;
  from?: string;
  to?: string;
}

function fingerprint(id: string, operation: string | undefined, location: string): string {
  return createHash('sha256').update(`${id}\n${operation ?? ''}\n${location}`).digest('hex').slice(0, 20);
}

function render(template: string, e: Emit): string {
  return template
    .replace(/\{name\}/g, e.name ?? '')
    .replace(/\{short\}/g, e.short ?? e.name ?? '')
    .replace(/\{detail\}/g, e.detail ?? '')
    .replace(/\{from\}/g, e.from ?? '')
    .replace(/\{to\}/g, e.to ?? '')
    .replace(/\{op\}/g, e.operation ?? 'the API');
}

function toChange(e: Emit): Change {
  const rule = ruleOf(e.id);
  const change: Change = {
    id: e.id,
    level: rule.level,
    text: e.operation === undefined ? render(rule.text, e) : `${e.operation}: ${render(rule.text, e)}`,
    fingerprint: fingerprint(e.id, e.operation, e.location),
    migration: render(rule.migration, { ...e, name: e.short ?? e.name }),
    location: e.location,
  };
  if (e.operation !== undefined) change.operation = e.operation;
  if (e.base !== undefined) change.base = e.base;
  if (e.revision !== undefined) change.revision = e.revision;
  return change;
}

function stepsText(steps: Step[]): string {
  let out = '';
  for (const s of steps) {
    if ('property' in s) out += out === '' ? s.property : `.${s.property}`;
    else if ('items' in s) out += '[]';
    else if ('values' in s) out += out === '' ? '*' : '.*';
    else out += `<${s.branch} ${s.index + 1}>`;
  }
  return out;
}

function stepsPointer(steps: Step[]): string {
  return steps
    .map((s) => ('property' in s ? `/properties/${escapeToken(s.property)}` : 'items' in s ? '/items' : 'values' in s ? '/additionalProperties' : `/${s.branch}/${s.index}`))
    .join('');
}

/** How a schema's place is named in text: the thing itself, and a member of it. */
interface PlaceNames {
  place: SchemaPlace;
  /** logical location of the schema's root */
  location: string;
  /** `query parameter 'limit'` */
  self: string;
  /** `the query parameter 'limit'` (in migration notes) */
  selfShort: string;
  /** `request property` / `response property` / `property of query parameter 'filter'` */
  member: (path: string) => string;
}

function successStatus(status: string): boolean {
  return /^[23]/.test(status);
}

function mediaBase(type: string): string {
  return type.split(';')[0].trim().toLowerCase();
}

function findMedia(content: Map<string, MediaView>, type: string): MediaView | undefined {
  const exact = content.get(type);
  if (exact) return exact;
  const base = mediaBase(type);
  for (const [t, m] of content) if (mediaBase(t) === base) return m;
  for (const [t, m] of content) {
    const b = mediaBase(t);
    if (b === '*/*' || (b.endsWith('/*') && base.startsWith(b.slice(0, -1)))) return m;
  }
  return undefined;
}

function schemeList(r: Requirement): string {
  return [...r.keys()].sort().join(' + ');
}

function isAnonymous(reqs: Requirement[]): boolean {
  return reqs.length === 0 || reqs.some((r) => r.size === 0);
}

class Differ {
  readonly out: Emit[] = [];
  readonly schemas: SchemaComparer;

  constructor(
    readonly a: ApiView,
    readonly b: ApiView,
    readonly now: Date,
  ) {
    const ids = { next: 1 };
    this.schemas = new SchemaComparer(new SchemaViews(a.refs, ids), new SchemaViews(b.refs, ids));
  }

  emit(e: Emit): void {
    this.out.push(e);
  }

  run(): void {
    for (const [key, opA] of this.a.operations) {
      const opB = this.b.operations.get(key);
      if (opB === undefined) this.removedOperation(opA);
      else this.operation(opA, opB);
    }
    for (const [key, opB] of this.b.operations) {
      if (!this.a.operations.has(key)) this.emit({ id: 'operation-added', operation: opB.label, location: '', revision: opB.pointer });
    }
    this.servers();
    this.securitySchemes();
    this.components();
    this.unreachedComponents();
    if (this.schemas.exhausted) this.emit({ id: 'diff-incomplete', location: '', detail: `stopped after ${this.schemas.pairs - 1} schema pairs` });
  }

  removedOperation(op: OperationView): void {
    const e = { operation: op.label, location: '', base: op.pointer };
    // a deprecation without a sunset date promised nothing about when it goes: removing it still breaks its callers
    const sunset = op.sunset === undefined ? NaN : Date.parse(op.sunset);
    if (!op.deprecated || Number.isNaN(sunset)) return this.emit({ ...e, id: 'operation-removed', detail: op.deprecated ? ' (deprecated, but with no sunset date)' : '' });
    if (sunset > this.now.getTime()) return this.emit({ ...e, id: 'operation-removed-before-sunset', detail: op.sunset });
    this.emit({ ...e, id: 'deprecated-operation-removed', detail: ` (sunset ${op.sunset} passed)` });
  }

  operation(a: OperationView, b: OperationView): void {
    const op = b.label;
    if (!a.deprecated && b.deprecated) this.emit({ id: 'operation-deprecated', operation: op, location: '/deprecated', base: a.pointer, revision: b.pointer, detail: b.sunset ? ` (sunset ${b.sunset})` : '' });
    if (a.sunset && b.sunset && Date.parse(b.sunset) < Date.parse(a.sunset)) {
      this.emit({ id: 'operation-sunset-brought-forward', operation: op, location: '/x-sunset', base: a.pointer, revision: b.pointer, detail: `${a.sunset} → ${b.sunset}`, to: b.sunset });
    }
    if (a.operationId && b.operationId && a.operationId !== b.operationId) {
      this.emit({ id: 'operation-id-changed', operation: op, location: '/operationId', base: `${a.pointer}/operationId`, revision: `${b.pointer}/operationId`, detail: `${a.operationId} → ${b.operationId}`, to: b.operationId });
    }
    this.parameters(a, b);
    this.body(a, b);
    this.responses(a, b);
    this.security(a, b);
  }

  /** Emits the schema changes between two schemas of one place, named for that place. */
  schema(op: string, names: PlaceNames, changes: SchemaChange[]): void {
    const { place } = names;
    for (const c of changes) {
      const nested = c.at.length > 0;
      const path = stepsText(c.at);
      this.emit({
        id: schemaRuleId(place, nested, c.suffix),
        operation: op,
        location: names.location + stepsPointer(c.at),
        base: c.base,
        revision: c.revision,
        name: nested ? names.member(path) : names.self,
        short: nested ? `'${path}'` : names.selfShort,
        detail: c.detail,
        from: c.from,
        to: c.to,
      });
    }
  }

  parameters(a: OperationView, b: OperationView): void {
    const op = b.label;
    const moved = new Set<string>();
    for (const [key, pa] of a.parameters) {
      const pb = b.parameters.get(key);
      const label = pa.in === 'path' ? `path parameter '${pb?.name ?? pa.name}'` : `${pa.in} parameter '${pa.name}'`;
      const location = `/parameters/${pa.in}/${escapeToken(pa.in === 'path' ? key.slice(5) : pa.name)}`;
      const names: PlaceNames = { place: PLACE['request-parameter'], location, self: label, selfShort: `the ${label}`, member: (path) => `property '${path}' of ${label}` };
      if (pb === undefined) {
        const elsewhere = pa.in === 'path' ? undefined : [...b.parameters.entries()].find(([k, p]) => p.in !== pa.in && p.in !== 'path' && p.name.toLowerCase() === pa.name.toLowerCase() && !a.parameters.has(k));
        if (elsewhere) {
          moved.add(elsewhere[0]);
          this.emit({ id: 'request-parameter-moved', operation: op, location, base: pa.pointer, revision: elsewhere[1].pointer, name: label, short: `'${pa.name}'`, detail: `${pa.in} → ${elsewhere[1].in}`, to: elsewhere[1].in });
        } else this.emit({ id: 'request-parameter-removed', operation: op, location, base: pa.pointer, name: label, short: `the ${label}` });
        continue;
      }
      const e = { operation: op, location, base: pa.pointer, revision: pb.pointer, name: label, short: `the ${label}` };
      if (!pa.required && pb.required) this.emit({ ...e, id: 'request-parameter-became-required' });
      if (pa.required && !pb.required) this.emit({ ...e, id: 'request-parameter-became-optional' });
      if (pa.style !== pb.style || pa.explode !== pb.explode) {
        const types = pa.schema ? this.schemas.base.view(pa.schema).types : undefined;
        // style and explode only change how arrays and objects are written
        if (types === undefined || types.has('array') || types.has('object')) {
          const to = `${pb.style}${pb.explode ? ', exploded' : ''}`;
          this.emit({ ...e, id: 'request-parameter-style-changed', detail: `${pa.style}${pa.explode ? ', exploded' : ''} → ${to}`, to });
        }
      }
      this.schema(op, names, this.schemas.compare('request', pa.schema, pb.schema));
    }
    for (const [key, pb] of b.parameters) {
      if (a.parameters.has(key) || moved.has(key)) continue;
      const label = `${pb.in} parameter '${pb.name}'`;
      const hasDefault = pb.schema !== undefined && this.schemas.revision.view(pb.schema).hasDefault;
      this.emit({
        id: pb.required ? (hasDefault && pb.in !== 'path' ? 'request-parameter-added-required-with-default' : 'request-parameter-added-required') : 'request-parameter-added',
        operation: op,
        location: `/parameters/${pb.in}/${escapeToken(pb.name)}`,
        base: a.pointer,
        revision: pb.pointer,
        name: label,
        short: `the ${label}`,
      });
    }
  }

  body(a: OperationView, b: OperationView): void {
    const op = b.label;
    const location = '/requestBody';
    if (a.body === undefined && b.body === undefined) return;
    if (a.body === undefined) return this.emit({ id: b.body!.required ? 'request-body-added-required' : 'request-body-added', operation: op, location, base: a.pointer, revision: b.body!.pointer });
    if (b.body === undefined) return this.emit({ id: 'request-body-removed', operation: op, location, base: a.body.pointer, revision: b.pointer });
    const e = { operation: op, location, base: a.body.pointer, revision: b.body.pointer };
    if (!a.body.required && b.body.required) this.emit({ ...e, id: 'request-body-became-required' });
    if (a.body.required && !b.body.required) this.emit({ ...e, id: 'request-body-became-optional' });
    const matched = new Set<MediaView>();
    for (const [type, ma] of a.body.content) {
      const mb = findMedia(b.body.content, type);
      const mediaLocation = `${location}/content/${escapeToken(mediaBase(type))}`;
      if (mb === undefined) {
        this.emit({ ...e, id: 'request-body-media-type-removed', location: mediaLocation, base: ma.pointer, detail: type, to: [...b.body.content.keys()].join(', ') || 'none' });
        continue;
      }
      matched.add(mb);
      const names: PlaceNames = { place: PLACE['request-body'], location: mediaLocation, self: `request body (${type})`, selfShort: 'the request body', member: (path) => `request property '${path}' (${type})` };
      this.schema(op, names, this.schemas.compare('request', ma.schema, mb.schema));
    }
    for (const [type, mb] of b.body.content) {
      if (!matched.has(mb) && findMedia(a.body.content, type) === undefined) this.emit({ ...e, id: 'request-body-media-type-added', location: `${location}/content/${escapeToken(mediaBase(type))}`, revision: mb.pointer, detail: type });
    }
  }

  responses(a: OperationView, b: OperationView): void {
    const op = b.label;
    const counterpart = (status: string) => b.responses.get(status) ?? (/^\d\d\d$/.test(status) ? b.responses.get(`${status[0]}XX`) : undefined);
    for (const [status, ra] of a.responses) {
      const rb = counterpart(status);
      const location = `/responses/${status}`;
      if (rb === undefined) {
        const others = [...b.responses.keys()].filter(successStatus).join(', ') || 'the documented errors';
        this.emit({ id: successStatus(status) ? 'response-status-removed' : 'response-error-status-removed', operation: op, location, base: ra.pointer, revision: b.pointer, detail: status, to: others });
        continue;
      }
      const e = { operation: op, base: ra.pointer, revision: rb.pointer };
      const matched = new Set<MediaView>();
      for (const [type, ma] of ra.content) {
        const mb = findMedia(rb.content, type);
        const mediaLocation = `${location}/content/${escapeToken(mediaBase(type))}`;
        if (mb === undefined) {
          this.emit({ ...e, id: 'response-media-type-removed', location: mediaLocation, base: ma.pointer, detail: `${status} ${type}`, to: [...rb.content.keys()].join(', ') || 'no body' });
          continue;
        }
        matched.add(mb);
        const names: PlaceNames = {
          place: PLACE['response-body'],
          location: mediaLocation,
          self: `response ${status} (${type})`,
          selfShort: `the ${status} response body`,
          member: (path) => `response property '${path}' (${status}, ${type})`,
        };
        this.schema(op, names, this.schemas.compare('response', ma.schema, mb.schema));
      }
      for (const [type, mb] of rb.content) {
        if (!matched.has(mb) && findMedia(ra.content, type) === undefined) this.emit({ ...e, id: 'response-media-type-added', location: `${location}/content/${escapeToken(mediaBase(type))}`, revision: mb.pointer, detail: `${status} ${type}` });
      }
      for (const [key, ha] of ra.headers) {
        const hb = rb.headers.get(key);
        const label = `response ${status} header '${ha.name}'`;
        const hLocation = `${location}/headers/${escapeToken(key)}`;
        if (hb === undefined) {
          this.emit({ ...e, id: 'response-header-removed', location: hLocation, base: ha.pointer, name: label, short: `the header '${ha.name}'` });
          continue;
        }
        const he = { ...e, location: hLocation, base: ha.pointer, revision: hb.pointer, name: label, short: `the header '${ha.name}'` };
        if (ha.required && !hb.required) this.emit({ ...he, id: 'response-header-became-optional' });
        if (!ha.required && hb.required) this.emit({ ...he, id: 'response-header-became-required' });
        const names: PlaceNames = { place: PLACE['response-header'], location: hLocation, self: label, selfShort: `the header '${ha.name}'`, member: (path) => `property '${path}' of ${label}` };
        this.schema(op, names, this.schemas.compare('response', ha.schema, hb.schema));
      }
      for (const [key, hb] of rb.headers) {
        if (!ra.headers.has(key)) this.emit({ ...e, id: 'response-header-added', location: `${location}/headers/${escapeToken(key)}`, revision: hb.pointer, name: `response ${status} header '${hb.name}'`, short: `the header '${hb.name}'` });
      }
    }
    for (const [status, rb] of b.responses) {
      if (a.responses.has(status)) continue;
      // a specific status under a range the base documented (2XX → 201) is not new
      if (/^\d\d\d$/.test(status) && a.responses.has(`${status[0]}XX`)) continue;
      if (/^\dXX$/.test(status) && [...a.responses.keys()].some((s) => s[0] === status[0])) continue;
      this.emit({ id: successStatus(status) ? 'response-status-added' : 'response-error-status-added', operation: op, location: `/responses/${status}`, base: a.pointer, revision: rb.pointer, detail: status });
    }
  }

  security(a: OperationView, b: OperationView): void {
    const op = b.label;
    const e = { operation: op, base: a.securityPointer, revision: b.securityPointer };
    const anonA = isAnonymous(a.security);
    const anonB = isAnonymous(b.security);
    const listB = b.security.filter((r) => r.size > 0).map(schemeList).join(' or ');
    if (anonA && !anonB) return this.emit({ ...e, id: 'security-added', location: '/security', detail: listB, to: listB });
    if (!anonA && anonB) return this.emit({ ...e, id: 'security-removed', location: '/security' });
    if (anonA && anonB) return;
    const used = new Set<Requirement>();
    for (const ra of a.security) {
      if (ra.size === 0) continue;
      const key = schemeList(ra);
      const rb = b.security.find((r) => !used.has(r) && schemeList(r) === key);
      const location = `/security/${escapeToken(key)}`;
      if (rb === undefined) {
        this.emit({ ...e, id: 'security-requirement-removed', location, detail: key, to: listB });
        continue;
      }
      used.add(rb);
      for (const [scheme, scopes] of rb) {
        const before = ra.get(scheme) ?? new Set();
        for (const scope of scopes) if (!before.has(scope)) this.emit({ ...e, id: 'security-scope-added', location: `${location}/${escapeToken(scope)}`, detail: `'${scope}' (${scheme})` });
        for (const scope of before) if (!scopes.has(scope)) this.emit({ ...e, id: 'security-scope-removed', location: `${location}/${escapeToken(scope)}`, detail: `'${scope}' (${scheme})` });
      }
    }
    for (const rb of b.security) {
      if (rb.size > 0 && !used.has(rb)) this.emit({ ...e, id: 'security-requirement-added', location: `/security/${escapeToken(schemeList(rb))}`, detail: schemeList(rb) });
    }
  }

  securitySchemes(): void {
    for (const [name, sa] of this.a.securitySchemes) {
      const sb = this.b.securitySchemes.get(name);
      if (sb === undefined) continue; // operations that used it report their requirement removed
      const describe = (s: Record<string, unknown>) => {
        const type = s.type === 'basic' ? 'http basic' : String(s.type);
        if (s.type === 'apiKey') return `${type} in ${String(s.in)} '${String(s.name)}'`;
        if (s.type === 'http') return `${type} ${String(s.scheme ?? '').toLowerCase()}`;
        if (s.type === 'openIdConnect') return `${type} ${String(s.openIdConnectUrl)}`;
        return type;
      };
      const da = describe(sa.value);
      const db = describe(sb.value);
      if (da !== db) this.emit({ id: 'security-scheme-changed', location: `/securitySchemes/${escapeToken(name)}`, base: sa.pointer, revision: sb.pointer, detail: `'${name}' (${da} → ${db})`, to: db });
    }
  }

  servers(): void {
    const urlsB = new Set(this.b.servers.map((s) => s.url));
    const urlsA = new Set(this.a.servers.map((s) => s.url));
    for (const s of this.a.servers) {
      if (!urlsB.has(s.url)) this.emit({ id: 'server-removed', location: `/servers/${escapeToken(s.url)}`, base: s.pointer, detail: s.url, to: [...urlsB].join(', ') || 'the API gateway' });
    }
    for (const s of this.b.servers) if (!urlsA.has(s.url)) this.emit({ id: 'server-added', location: `/servers/${escapeToken(s.url)}`, revision: s.pointer, detail: s.url });
  }

  /** Named schemas of both documents that no operation compared (their operations were removed or added): what changed in them, as information. */
  unreachedComponents(): void {
    for (const [name, at] of this.a.schemas) {
      const bt = this.b.schemas.get(name);
      if (bt === undefined || this.schemas.base.has(at)) continue;
      for (const c of this.schemas.compare('response', at, bt)) {
        const path = stepsText(c.at);
        const phrase = render(ruleOf(schemaRuleId(PLACE['response-body'], c.at.length > 0, c.suffix)).text, { id: '', location: '', name: path === '' ? 'it' : `property '${path}'`, detail: c.detail, from: c.from, to: c.to });
        this.emit({ id: 'component-schema-changed', location: `/schemas/${escapeToken(name)}${stepsPointer(c.at)}/${c.suffix}`, base: c.base, revision: c.revision, detail: `${name}: ${phrase}`, name });
      }
    }
  }

  /** A named schema that is gone (and not merely renamed: no new one has its shape) is reported once, as information. */
  components(): void {
    const removed = [...this.a.schemas].filter(([name]) => !this.b.schemas.has(name));
    if (removed.length === 0) return;
    const addedShapes = new Map<string, number>();
    for (const [name, at] of this.b.schemas) {
      if (this.a.schemas.has(name)) continue;
      const s = this.schemas.shape('revision', at);
      addedShapes.set(s, (addedShapes.get(s) ?? 0) + 1);
    }
    for (const [name, at] of removed) {
      // one that operations still reach (inlined, or through another name) is told by what changed in them, if anything
      if (this.schemas.base.has(at)) continue;
      const s = this.schemas.shape('base', at);
      const n = addedShapes.get(s) ?? 0;
      if (n > 0) {
        addedShapes.set(s, n - 1);
        continue;
      }
      this.emit({ id: 'component-schema-removed', location: `/schemas/${escapeToken(name)}`, base: at.pointer, detail: name });
    }
  }
}

/** Every change from `base` to `revision`; breaking first, then warnings, then information, each in document order. */
export function diffOpenApi(base: OpenApiDocument, revision: OpenApiDocument, options: DiffOptions = {}): Change[] {
  const differ = new Differ(apiView(base), apiView(revision), options.now ?? new Date());
  differ.run();
  const seen = new Set<string>();
  const out: Change[] = [];
  for (const e of differ.out) {
    const c = toChange(e);
    if (seen.has(c.fingerprint)) continue;
    seen.add(c.fingerprint);
    out.push(c);
  }
  const rank: Record<ChangeLevel, number> = { breaking: 0, warning: 1, info: 2 };
  return out.map((c, i) => ({ c, i })).sort((x, y) => rank[x.c.level] - rank[y.c.level] || x.i - y.i).map(({ c }) => c);
}
