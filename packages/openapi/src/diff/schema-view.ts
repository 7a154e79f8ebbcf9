// What a schema accepts, read once per schema node for the diff engine: internal $refs followed, allOf merged,
// nullability from 3.0 `nullable`, 2.0 `x-nullable`, 3.1 type arrays and `anyOf: [X, {type: null}]`, bounds normalised.
import { decodePointer, getAtPointer, isRecord } from '../json-path.js';

/** A schema (or a $ref to one) and the JSON pointer where it is written. */
export interface SchemaAt {
  node: unknown;
  pointer: string;
}

/** Pointers of schemas the 2.0 reading builds (a formData parameter becomes a body property). */
export const syntheticPointers = new WeakMap<object, string>();

export interface Bound {
  value: number;
  exclusive: boolean;
}

export interface SchemaView {
  /** identity for memoising comparisons */
  id: number;
  /** the schema this view reads */
  self: SchemaAt;
  pointer: string;
  /** JSON types allowed besides null; undefined: any */
  types?: Set<string>;
  nullable: boolean;
  /** allowed values (canonical JSON → value), null excluded; undefined: not an enum */
  enum?: Map<string, unknown>;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  multipleOf?: number;
  minimum?: Bound;
  maximum?: Bound;
  properties: Map<string, SchemaAt>;
  required: Set<string>;
  /** false: refused; a schema: what extra members must be; undefined: allowed */
  additionalProperties?: false | SchemaAt;
  items?: SchemaAt;
  oneOf?: SchemaAt[];
  anyOf?: SchemaAt[];
  readOnly: boolean;
  writeOnly: boolean;
  hasDefault: boolean;
  default?: unknown;
  /** a $ref outside the document: compared by its text */
  externalRef?: string;
}

const NUMERIC_TYPES = new Set(['integer', 'number']);

/** Follows internal $refs of one document, keeping track of where the target is written. */
export class DocumentRefs {
  constructor(readonly root: unknown) {}

  resolve(raw: unknown, pointer: string): SchemaAt {
    let node = raw;
    let at = pointer;
    for (let hop = 0; hop < 32 && isRecord(node) && typeof node.$ref === 'string' && node.$ref.startsWith('#') && isPureRef(node); hop++) {
      const target = node.$ref.slice(1);
      const found = getAtPointer(this.root, decodePointer(target));
      if (!found.found) break;
      node = found.value;
      at = canonicalPointer(target);
    }
    return { node, pointer: at };
  }
}

/** A $ref whose siblings only document it (3.1 lets a schema $ref carry keywords, which then apply too). */
function isPureRef(node: Record<string, unknown>): boolean {
  for (const k of Object.keys(node)) if (k !== '$ref' && k !== 'description' && k !== 'summary' && k !== 'title' && !k.startsWith('x-')) return false;
  return true;
}

/** A $ref's fragment as an RFC 6901 pointer (percent-escapes decoded). */
function canonicalPointer(fragment: string): string {
  return decodePointer(fragment)
    .map((t) => '/' + t.replace(/~/g, '~0').replace(/\//g, '~1'))
    .join('');
}

function childPointer(parent: string, node: unknown, ...tokens: string[]): string {
  const synthetic = isRecord(node) ? syntheticPointers.get(node) : undefined;
  if (synthetic !== undefined) return synthetic;
  return parent + tokens.map((t) => '/' + t.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isRecord(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  return JSON.stringify(value) ?? 'undefined';
}

export { canonical as canonicalValue };

function isNullSchema(node: unknown): boolean {
  return isRecord(node) && (node.type === 'null' || (Array.isArray(node.type) && node.type.length === 1 && node.type[0] === 'null')) && Object.keys(node).every((k) => ['type', 'description', 'title'].includes(k));
}

function tighterUpper(a: Bound | undefined, b: Bound | undefined): Bound | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a.value !== b.value) return a.value < b.value ? a : b;
  return a.exclusive ? a : b;
}

function tighterLower(a: Bound | undefined, b: Bound | undefined): Bound | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a.value !== b.value) return a.value > b.value ? a : b;
  return a.exclusive ? a : b;
}

function min(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

function max(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

/** Builds (and memoises per schema node) the views of one document's schemas. */
export class SchemaViews {
  private readonly byNode = new WeakMap<object, SchemaView>();
  private readonly building = new Set<object>();
  private nextId: () => number;

  constructor(
    readonly refs: DocumentRefs,
    ids: { next: number },
  ) {
    this.nextId = () => ids.next++;
  }

  /** True once the schema was read (compared, or merged into one that was). */
  has(at: SchemaAt): boolean {
    const { node } = this.refs.resolve(at.node, at.pointer);
    return isRecord(node) && this.byNode.has(node);
  }

  view(at: SchemaAt): SchemaView {
    const resolved = this.refs.resolve(at.node, at.pointer);
    const node = resolved.node;
    if (!isRecord(node)) return this.empty(resolved.pointer, at.node);
    const hit = this.byNode.get(node);
    if (hit !== undefined) return hit;
    if (this.building.has(node)) return this.empty(resolved.pointer); // allOf cycle: contributes nothing further
    this.building.add(node);
    try {
      const view = this.build(node, resolved.pointer);
      this.byNode.set(node, view);
      return view;
    } finally {
      this.building.delete(node);
    }
  }

  private empty(pointer: string, raw?: unknown): SchemaView {
    const v: SchemaView = { id: this.nextId(), self: { node: raw ?? {}, pointer }, pointer, nullable: false, properties: new Map(), required: new Set(), readOnly: false, writeOnly: false, hasDefault: false };
    if (isRecord(raw) && typeof raw.$ref === 'string') v.externalRef = raw.$ref;
    if (raw === false) v.types = new Set();
    return v;
  }

  private build(node: Record<string, unknown>, pointer: string): SchemaView {
    const v = this.empty(pointer);
    v.self = { node, pointer };
    if (typeof node.$ref === 'string') {
      const target = node.$ref.startsWith('#') ? this.refs.resolve({ $ref: node.$ref }, pointer) : undefined;
      // a $ref with sibling keywords (3.1, or the common 3.0 `nullable` idiom): the target and the siblings both apply
      if (target !== undefined && !(isRecord(target.node) && typeof target.node.$ref === 'string')) this.merge(v, this.view(target));
      else v.externalRef = node.$ref;
    }
    // types and nullability
    const type = node.type;
    if (typeof type === 'string') {
      if (type === 'null') {
        v.types = new Set();
        v.nullable = true;
      } else v.types = new Set([type]);
    } else if (Array.isArray(type)) {
      const names = type.filter((t): t is string => typeof t === 'string');
      v.nullable = names.includes('null');
      v.types = new Set(names.filter((t) => t !== 'null'));
    }
    if (node.nullable === true || node['x-nullable'] === true) v.nullable = true;
    if (Array.isArray(node.enum)) {
      v.enum = new Map();
      for (const value of node.enum) {
        if (value === null) v.nullable = true;
        else v.enum.set(canonical(value), value);
      }
    }
    if (node.const !== undefined) {
      if (node.const === null) v.nullable = true;
      else v.enum = new Map([[canonical(node.const), node.const]]);
    }
    if (typeof node.format === 'string') v.format = node.format;
    if (typeof node.pattern === 'string') v.pattern = node.pattern;
    for (const k of ['minLength', 'maxLength', 'minItems', 'maxItems', 'multipleOf'] as const) if (typeof node[k] === 'number') v[k] = node[k] as number;
    if (typeof node.minimum === 'number') v.minimum = { value: node.minimum, exclusive: node.exclusiveMinimum === true };
    if (typeof node.exclusiveMinimum === 'number') v.minimum = tighterLower(v.minimum, { value: node.exclusiveMinimum, exclusive: true });
    if (typeof node.maximum === 'number') v.maximum = { value: node.maximum, exclusive: node.exclusiveMaximum === true };
    if (typeof node.exclusiveMaximum === 'number') v.maximum = tighterUpper(v.maximum, { value: node.exclusiveMaximum, exclusive: true });
    if (isRecord(node.properties)) {
      for (const [name, sub] of Object.entries(node.properties)) v.properties.set(name, { node: sub, pointer: childPointer(pointer, sub, 'properties', name) });
    }
    if (Array.isArray(node.required)) for (const r of node.required) if (typeof r === 'string') v.required.add(r);
    if (node.additionalProperties === false) v.additionalProperties = false;
    else if (isRecord(node.additionalProperties) && Object.keys(node.additionalProperties).length > 0) {
      v.additionalProperties = { node: node.additionalProperties, pointer: `${pointer}/additionalProperties` };
    }
    if (isRecord(node.items)) v.items = { node: node.items, pointer: childPointer(pointer, node.items, 'items') };
    else if (Array.isArray(node.items) && node.items.length > 0) v.items = { node: node.items[0], pointer: `${pointer}/items/0` };
    v.readOnly = node.readOnly === true;
    v.writeOnly = node.writeOnly === true;
    if (node.default !== undefined) {
      v.hasDefault = true;
      v.default = node.default;
    }
    for (const combiner of ['oneOf', 'anyOf'] as const) {
      const list = node[combiner];
      if (!Array.isArray(list)) continue;
      const branches: SchemaAt[] = [];
      list.forEach((sub, i) => {
        const resolved = this.refs.resolve(sub, `${pointer}/${combiner}/${i}`);
        if (isNullSchema(resolved.node)) v.nullable = true;
        else branches.push({ node: sub, pointer: `${pointer}/${combiner}/${i}` });
      });
      // `anyOf: [X, {type: 'null'}]` is X, nullable
      if (branches.length === 1) this.merge(v, this.view(branches[0]));
      else if (branches.length > 1) v[combiner] = branches;
    }
    if (Array.isArray(node.allOf)) node.allOf.forEach((sub, i) => this.merge(v, this.view({ node: sub, pointer: `${pointer}/allOf/${i}` })));
    // a schema that only describes an object's members (or an array's items) is an object (an array)
    if (v.types === undefined && (v.properties.size > 0 || v.additionalProperties !== undefined)) v.types = new Set(['object']);
    if (v.types === undefined && v.items !== undefined) v.types = new Set(['array']);
    return v;
  }

  /** Merges an allOf member (or a $ref target) into `into`: everything both say must hold. */
  private merge(into: SchemaView, part: SchemaView): void {
    if (part.types !== undefined) {
      if (into.types === undefined) into.types = new Set(part.types);
      else {
        const both = new Set<string>();
        for (const t of into.types) {
          if (part.types.has(t)) both.add(t);
          else if (t === 'number' && part.types.has('integer')) both.add('integer');
          else if (t === 'integer' && part.types.has('number')) both.add('integer');
        }
        into.types = both;
      }
    }
    into.nullable ||= part.nullable;
    if (part.enum !== undefined) into.enum = into.enum === undefined ? new Map(part.enum) : new Map([...into.enum].filter(([k]) => part.enum!.has(k)));
    into.format ??= part.format;
    into.pattern ??= part.pattern;
    into.minLength = max(into.minLength, part.minLength);
    into.maxLength = min(into.maxLength, part.maxLength);
    into.minItems = max(into.minItems, part.minItems);
    into.maxItems = min(into.maxItems, part.maxItems);
    into.multipleOf ??= part.multipleOf;
    into.minimum = tighterLower(into.minimum, part.minimum);
    into.maximum = tighterUpper(into.maximum, part.maximum);
    for (const [name, sub] of part.properties) if (!into.properties.has(name)) into.properties.set(name, sub);
    for (const r of part.required) into.required.add(r);
    if (part.additionalProperties === false) into.additionalProperties = false;
    else if (part.additionalProperties !== undefined && into.additionalProperties === undefined) into.additionalProperties = part.additionalProperties;
    into.items ??= part.items;
    into.oneOf ??= part.oneOf;
    into.anyOf ??= part.anyOf;
    into.readOnly ||= part.readOnly;
    into.writeOnly ||= part.writeOnly;
    if (!into.hasDefault && part.hasDefault) {
      into.hasDefault = true;
      into.default = part.default;
    }
    into.externalRef ??= part.externalRef;
  }
}

/** True when a value of JSON type `t` is one of `types` (an integer is a number). */
export function typeCovered(types: Set<string> | undefined, t: string): boolean {
  if (types === undefined) return true;
  return types.has(t) || (t === 'integer' && types.has('number'));
}

export function isNumericOnly(types: Set<string> | undefined): boolean {
  return types !== undefined && types.size > 0 && [...types].every((t) => NUMERIC_TYPES.has(t));
}
