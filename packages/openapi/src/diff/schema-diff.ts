// Compares two schemas in one direction (what a client sends, or what it reads): each pair of schema nodes is
// compared once (memoised, so shared components cost nothing more), cycles stop where they close, and the work is bounded.
import { isRecord } from '../json-path.js';
import { schemaLevel, type Direction } from './rules.js';
import { canonicalValue, SchemaViews, typeCovered, type Bound, type SchemaAt, type SchemaView } from './schema-view.js';

/** One step into a schema: a property, the items of an array, the values of a map, a oneOf/anyOf branch. */
export type Step = { property: string } | { items: true } | { values: true } | { branch: 'oneOf' | 'anyOf'; index: number };

/** A change found inside a schema, relative to the schema compared. */
export interface SchemaChange {
  suffix: string;
  /** steps from the compared schema to what changed; a member change ends with the member's step */
  at: Step[];
  base?: string;
  revision?: string;
  detail?: string;
  from?: string;
  to?: string;
}

/** Beyond this many schema pairs a diff stops descending and says so. */
export const MAX_SCHEMA_PAIRS = 250_000;

export class SchemaComparer {
  private readonly memo = new Map<string, SchemaChange[]>();
  private readonly inProgress = new Set<string>();
  pairs = 0;
  exhausted = false;


  constructor(
    readonly base: SchemaViews,
    readonly revision: SchemaViews,
  ) {}

  compare(direction: Direction, a: SchemaAt | undefined, b: SchemaAt | undefined): SchemaChange[] {
    if (a === undefined || b === undefined) return [];
    const va = this.base.view(a);
    const vb = this.revision.view(b);
    const key = `${direction}|${va.id}|${vb.id}`;
    const hit = this.memo.get(key);
    if (hit !== undefined) return hit;
    if (this.inProgress.has(key)) return []; // a cycle: the comparison further up reports what differs
    if (++this.pairs > MAX_SCHEMA_PAIRS) {
      this.exhausted = true;
      return [];
    }
    this.inProgress.add(key);
    try {
      const out = compareViews(this, direction, va, vb);
      this.memo.set(key, out);
      return out;
    } finally {
      this.inProgress.delete(key);
    }
  }

  /** A structural digest of a schema (descriptions and examples ignored), for matching oneOf branches and renamed components. */
  shape(side: 'base' | 'revision', at: SchemaAt): string {
    const views = side === 'base' ? this.base : this.revision;
    return shapeOf(views, at, new Set(), 0);
  }
}

const IGNORED_FOR_SHAPE = new Set(['description', 'title', 'example', 'examples', 'externalDocs', 'xml', 'deprecated', '$comment', 'discriminator']);
const shapeMemo = new WeakMap<object, string>();

function shapeOf(views: SchemaViews, at: SchemaAt, onPath: Set<object>, depth: number): string {
  const { node } = views.refs.resolve(at.node, at.pointer);
  if (!isRecord(node)) return canonicalValue(node);
  const cached = shapeMemo.get(node);
  if (cached !== undefined) return cached;
  if (onPath.has(node) || depth > 64) return '<cycle>';
  onPath.add(node);
  const parts: string[] = [];
  for (const k of Object.keys(node).sort()) {
    if (IGNORED_FOR_SHAPE.has(k) || k.startsWith('x-')) continue;
    const v = node[k];
    if (k === 'properties' && isRecord(v)) {
      parts.push(`properties:{${Object.keys(v).sort().map((p) => `${JSON.stringify(p)}:${shapeOf(views, { node: v[p], pointer: '' }, onPath, depth + 1)}`).join(',')}}`);
    } else if ((k === 'allOf' || k === 'oneOf' || k === 'anyOf') && Array.isArray(v)) {
      parts.push(`${k}:[${v.map((s) => shapeOf(views, { node: s, pointer: '' }, onPath, depth + 1)).join(',')}]`);
    } else if ((k === 'items' || k === 'additionalProperties' || k === 'not') && isRecord(v)) {
      parts.push(`${k}:${shapeOf(views, { node: v, pointer: '' }, onPath, depth + 1)}`);
    } else if (k === '$ref' && typeof v === 'string') {
      parts.push(`$ref:${shapeOf(views, { node: { $ref: v }, pointer: '' }, onPath, depth + 1)}`);
    } else parts.push(`${k}:${canonicalValue(v)}`);
  }
  onPath.delete(node);
  const shape = `{${parts.join(',')}}`;
  shapeMemo.set(node, shape);
  return shape;
}

function typeList(types: Set<string> | undefined, nullable = false): string {
  const list = types === undefined ? ['any'] : [...types].sort();
  if (nullable) list.push('null');
  return list.length === 0 ? 'nothing' : list.join('|');
}

function boundText(b: Bound | undefined, upper: boolean): string {
  if (b === undefined) return 'none';
  return `${b.exclusive ? (upper ? '<' : '>') : ''}${b.value}`;
}

/** -1: `a` allows less than `b`; 1: more; 0: the same. For upper bounds. */
function compareUpper(a: Bound | undefined, b: Bound | undefined): number {
  if (a === undefined && b === undefined) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  if (a.value !== b.value) return a.value < b.value ? -1 : 1;
  if (a.exclusive === b.exclusive) return 0;
  return a.exclusive ? -1 : 1;
}

function compareLower(a: Bound | undefined, b: Bound | undefined): number {
  if (a === undefined && b === undefined) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  if (a.value !== b.value) return a.value > b.value ? -1 : 1;
  if (a.exclusive === b.exclusive) return 0;
  return a.exclusive ? -1 : 1;
}

function prefixed(step: Step, changes: SchemaChange[]): SchemaChange[] {
  return changes.map((c) => ({ ...c, at: [step, ...c.at] }));
}

interface CompareOptions {
  /** nullability was compared by the caller (a schema against one branch of the choice that replaced it) */
  skipNullable?: boolean;
}

function compareViews(cmp: SchemaComparer, dir: Direction, a: SchemaView, b: SchemaView, options: CompareOptions = {}): SchemaChange[] {
  const out: SchemaChange[] = [];
  const here = (suffix: string, extra: Partial<SchemaChange> = {}) => out.push({ suffix, at: [], base: a.pointer, revision: b.pointer, ...extra });
  const sends = dir === 'request';

  if (a.externalRef !== undefined || b.externalRef !== undefined) {
    if (a.externalRef !== b.externalRef) here('type-changed', { detail: `${a.externalRef ?? 'inline schema'} → ${b.externalRef ?? 'inline schema'}`, from: a.externalRef ?? 'inline', to: b.externalRef ?? 'inline' });
    return out;
  }

  // one schema became a choice of several (or the reverse): the old one is one of the branches
  const composedA = a.oneOf ?? a.anyOf;
  const composedB = b.oneOf ?? b.anyOf;
  if ((composedA === undefined) !== (composedB === undefined)) {
    const plainA = composedA === undefined;
    const composed = plainA ? b : a;
    if (composed.types === undefined && composed.properties.size === 0) {
      const combiner = composed.oneOf !== undefined ? 'oneOf' : 'anyOf';
      const single = plainA ? a : b;
      const asBranch = { ...single, [combiner]: [single.self] } as SchemaView;
      if (a.nullable !== b.nullable) here(b.nullable ? 'became-nullable' : 'became-not-nullable');
      if (plainA && dir === 'request') {
        // what a client sent must still match one branch: the one that takes everything it took, if any
        const branches = composed[combiner]!;
        const fits = branches.findIndex((y) => compareViews(cmp, dir, a, cmp.revision.view(y), { skipNullable: true }).every((c) => schemaLevel(c.suffix, dir) !== 'breaking'));
        if (fits === -1) {
          here('became-choice', { detail: String(branches.length) });
          return out;
        }
        const fitChanges = compareViews(cmp, dir, a, cmp.revision.view(branches[fits]), { skipNullable: true });
        out.push(...prefixed({ branch: combiner, index: fits }, fitChanges));
        branches.forEach((y, k) => {
          if (k !== fits) out.push({ suffix: `${combiner === 'oneOf' ? 'one-of' : 'any-of'}-branch-added`, at: [], base: a.pointer, revision: y.pointer, detail: branchLabel(cmp.revision, y, k) });
        });
        return out;
      }
      compareBranches(cmp, dir, combiner, plainA ? asBranch : a, plainA ? b : asBranch, out, true);
      return out;
    }
  }

  // types: what a sender may put here must still be accepted by the reader
  const lost = a.types === undefined ? (b.types === undefined ? [] : ['any']) : [...a.types].filter((t) => !typeCovered(b.types, t));
  const gained = b.types === undefined ? (a.types === undefined ? [] : ['any']) : [...b.types].filter((t) => !typeCovered(a.types, t));
  if (lost.length > 0 || gained.length > 0) {
    const from = typeList(a.types);
    const to = typeList(b.types);
    const detail = `${from} → ${to}`;
    // lost: a sender's value is no longer accepted; gained: a reader may get a value it did not expect
    here(lost.length > 0 && gained.length > 0 ? 'type-changed' : lost.length > 0 ? 'type-narrowed' : 'type-widened', { detail, from, to });
    const overlap = a.types === undefined || b.types === undefined || [...a.types].some((t) => typeCovered(b.types, t)) || [...b.types].some((t) => typeCovered(a.types, t));
    if (!overlap) return out; // object ↔ array and the like: one change, not one per member
  }

  if (a.nullable !== b.nullable && !options.skipNullable) here(b.nullable ? 'became-nullable' : 'became-not-nullable');

  // enums
  if (a.enum !== undefined || b.enum !== undefined) {
    if (a.enum !== undefined && b.enum !== undefined) {
      for (const [k, v] of a.enum) if (!b.enum.has(k)) here('enum-value-removed', { detail: JSON.stringify(v), from: JSON.stringify(v) });
      for (const [k, v] of b.enum) if (!a.enum.has(k)) here('enum-value-added', { detail: JSON.stringify(v), to: JSON.stringify(v) });
    } else if (b.enum !== undefined) here('enum-restricted', { detail: [...b.enum.values()].map((v) => JSON.stringify(v)).join(', '), to: [...b.enum.values()].map((v) => JSON.stringify(v)).join(', ') });
  }

  // bounds: tighter is breaking for what a client sends, looser for what it reads
  const lengths: Array<[keyof SchemaView, string, string, boolean]> = [
    ['maxLength', 'max-length-decreased', 'max-length-increased', true],
    ['minLength', 'min-length-increased', 'min-length-decreased', false],
    ['maxItems', 'max-items-decreased', 'max-items-increased', true],
    ['minItems', 'min-items-increased', 'min-items-decreased', false],
  ];
  for (const [field, tighter, looser, upper] of lengths) {
    const x = a[field] as number | undefined;
    const y = b[field] as number | undefined;
    const X = x ?? (upper ? Infinity : 0);
    const Y = y ?? (upper ? Infinity : 0);
    if (X === Y) continue;
    const tightened = upper ? Y < X : Y > X;
    here(tightened ? tighter : looser, { detail: `${x ?? 'none'} → ${y ?? 'none'}`, from: String(x ?? 'none'), to: String(y ?? 'none') });
  }
  const maxCmp = compareUpper(b.maximum, a.maximum);
  if (maxCmp !== 0) here(maxCmp < 0 ? 'maximum-decreased' : 'maximum-increased', { detail: `${boundText(a.maximum, true)} → ${boundText(b.maximum, true)}`, from: boundText(a.maximum, true), to: boundText(b.maximum, true) });
  const minCmp = compareLower(b.minimum, a.minimum);
  if (minCmp !== 0) here(minCmp < 0 ? 'minimum-increased' : 'minimum-decreased', { detail: `${boundText(a.minimum, false)} → ${boundText(b.minimum, false)}`, from: boundText(a.minimum, false), to: boundText(b.minimum, false) });
  if (a.multipleOf !== b.multipleOf && b.multipleOf !== undefined && (a.multipleOf === undefined || a.multipleOf % b.multipleOf !== 0 || !sends)) {
    here('multiple-of-changed', { detail: `${a.multipleOf ?? 'none'} → ${b.multipleOf}`, from: String(a.multipleOf ?? 'none'), to: String(b.multipleOf) });
  }
  if (a.pattern !== b.pattern) {
    if (b.pattern === undefined) here('pattern-removed', { from: a.pattern });
    else here('pattern-changed', { detail: `${a.pattern ?? 'none'} → ${b.pattern}`, from: a.pattern ?? 'none', to: b.pattern });
  }
  if (a.format !== b.format) {
    if (a.format === undefined) here('format-added', { detail: b.format, to: b.format });
    else if (b.format === undefined) here('format-removed', { detail: a.format, from: a.format });
    else here('format-changed', { detail: `${a.format} → ${b.format}`, from: a.format, to: b.format });
  }
  if (a.hasDefault && b.hasDefault && canonicalValue(a.default) !== canonicalValue(b.default)) {
    here('default-changed', { detail: `${JSON.stringify(a.default)} → ${JSON.stringify(b.default)}`, from: JSON.stringify(a.default), to: JSON.stringify(b.default) });
  }

  // object members
  if (a.properties.size > 0 || b.properties.size > 0 || a.required.size > 0 || b.required.size > 0) compareMembers(cmp, dir, a, b, out);
  if (sends && a.additionalProperties === undefined && b.additionalProperties === false) here('additional-properties-refused');
  if (isSchema(a.additionalProperties) && isSchema(b.additionalProperties)) out.push(...prefixed({ values: true }, cmp.compare(dir, a.additionalProperties, b.additionalProperties)));

  // arrays
  if (a.items !== undefined && b.items !== undefined) out.push(...prefixed({ items: true }, cmp.compare(dir, a.items, b.items)));

  // alternatives
  for (const combiner of ['oneOf', 'anyOf'] as const) compareBranches(cmp, dir, combiner, a, b, out);
  return out;
}

function isSchema(x: false | SchemaAt | undefined): x is SchemaAt {
  return x !== undefined && x !== false;
}

function compareMembers(cmp: SchemaComparer, dir: Direction, a: SchemaView, b: SchemaView, out: SchemaChange[]): void {
  const sends = dir === 'request';
  // a property the client never sends (readOnly) or never reads (writeOnly) is not part of this direction
  const relevant = (views: SchemaViews, at: SchemaAt) => {
    const v = views.view(at);
    return sends ? !v.readOnly : !v.writeOnly;
  };
  for (const [name, pa] of a.properties) {
    if (!relevant(cmp.base, pa)) continue;
    const step: Step = { property: name };
    const pb = b.properties.get(name);
    if (pb === undefined) {
      // a property the reader may still receive as an undocumented member is not gone for a sender
      const refused = sends && b.additionalProperties === false;
      out.push({ suffix: refused ? 'removed-and-refused' : 'removed', at: [step], base: pa.pointer, revision: b.pointer });
      continue;
    }
    const wasRequired = a.required.has(name);
    const isRequired = b.required.has(name);
    if (!relevant(cmp.revision, pb)) {
      // became readOnly (a sender may no longer set it) or writeOnly (a reader no longer gets it)
      out.push({ suffix: 'removed', at: [step], base: pa.pointer, revision: pb.pointer });
      continue;
    }
    if (!wasRequired && isRequired) out.push({ suffix: 'became-required', at: [step], base: pa.pointer, revision: pb.pointer });
    if (wasRequired && !isRequired) out.push({ suffix: 'became-optional', at: [step], base: pa.pointer, revision: pb.pointer });
    out.push(...prefixed(step, cmp.compare(dir, pa, pb)));
  }
  for (const [name, pb] of b.properties) {
    if (a.properties.has(name) || !relevant(cmp.revision, pb)) continue;
    const step: Step = { property: name };
    const required = b.required.has(name);
    // a property that was already allowed as an undocumented member of a typed map is checked against that schema
    if (required && sends) {
      const withDefault = cmp.revision.view(pb).hasDefault;
      out.push({ suffix: withDefault ? 'added-required-with-default' : 'added-required', at: [step], base: a.pointer, revision: pb.pointer });
    } else out.push({ suffix: 'added', at: [step], base: a.pointer, revision: pb.pointer });
  }
  // required names without a declared property (a required list over a free-form object)
  if (sends) {
    for (const name of b.required) {
      if (a.required.has(name) || a.properties.has(name) || b.properties.has(name)) continue;
      out.push({ suffix: 'added-required', at: [{ property: name }], base: a.pointer, revision: b.pointer });
    }
  }
}

function branchLabel(views: SchemaViews, at: SchemaAt, index: number): string {
  const raw = at.node;
  if (isRecord(raw) && typeof raw.$ref === 'string') return raw.$ref.split('/').pop() ?? raw.$ref;
  const v = views.view(at);
  if (isRecord(raw) && typeof raw.title === 'string') return raw.title;
  return `#${index + 1} (${typeList(v.types)})`;
}

/** How alike two branches are: the same types, shared property names and enum values. */
function similarity(x: SchemaView, y: SchemaView): number {
  let score = 0;
  const tx = x.types === undefined ? 'any' : [...x.types].sort().join();
  const ty = y.types === undefined ? 'any' : [...y.types].sort().join();
  if (tx === ty) score += 1;
  for (const p of x.properties.keys()) if (y.properties.has(p)) score += 2;
  if (x.enum && y.enum) for (const e of x.enum.keys()) if (y.enum.has(e)) score += 2;
  return tx === ty || score > 1 ? score : 0;
}

function compareBranches(cmp: SchemaComparer, dir: Direction, combiner: 'oneOf' | 'anyOf', a: SchemaView, b: SchemaView, out: SchemaChange[], selfBranch = false): void {
  const xs = a[combiner] ?? [];
  const ys = b[combiner] ?? [];
  if (xs.length === 0 && ys.length === 0) return;
  const kebab = combiner === 'oneOf' ? 'one-of' : 'any-of';
  const used = new Set<number>();
  const pairs: Array<[number, number]> = [];
  const unmatched: number[] = [];
  const shapesB = ys.map((y) => cmp.shape('revision', y));
  // 1. the same shape; 2. the same component name or title; 3. what is left, in order
  xs.forEach((x, i) => {
    const shape = cmp.shape('base', x);
    const j = shapesB.findIndex((s, k) => !used.has(k) && s === shape);
    if (j !== -1) {
      used.add(j);
      pairs.push([i, j]);
    } else unmatched.push(i);
  });
  const leftover: number[] = [];
  for (const i of unmatched) {
    const label = branchLabel(cmp.base, xs[i], i);
    const j = ys.findIndex((y, k) => !used.has(k) && branchLabel(cmp.revision, y, k) === label && !label.startsWith('#'));
    if (j !== -1) {
      used.add(j);
      pairs.push([i, j]);
    } else leftover.push(i);
  }
  // 3. in a request, a branch that one of the new branches takes whole; one split into several is a warning
  const splits: number[] = [];
  if (dir === 'request' && !selfBranch) {
    for (const i of [...leftover]) {
      const vx = cmp.base.view(xs[i]);
      const fit = ys.findIndex((y) => compareViews(cmp, dir, vx, cmp.revision.view(y)).every((c) => schemaLevel(c.suffix, dir) !== 'breaking'));
      if (fit !== -1) {
        used.add(fit);
        pairs.push([i, fit]);
        leftover.splice(leftover.indexOf(i), 1);
      } else if (ys.length > xs.length) {
        splits.push(i);
        leftover.splice(leftover.indexOf(i), 1);
        out.push({ suffix: `${kebab}-branch-split`, at: [], base: xs[i].pointer, revision: b.pointer, detail: branchLabel(cmp.base, xs[i], i) });
      }
    }
  }
  // 4. the most alike of what is left (a branch that was edited)
  for (const i of leftover) {
    const vx = cmp.base.view(xs[i]);
    let best = -1;
    let bestScore = 0;
    ys.forEach((y, k) => {
      if (used.has(k)) return;
      const score = similarity(vx, cmp.revision.view(y));
      if (score > bestScore) {
        best = k;
        bestScore = score;
      }
    });
    if (best !== -1) {
      used.add(best);
      pairs.push([i, best]);
    } else out.push({ suffix: `${kebab}-branch-removed`, at: [], base: xs[i].pointer, revision: b.pointer, detail: branchLabel(cmp.base, xs[i], i) });
  }
  ys.forEach((y, k) => {
    if (!used.has(k) && splits.length === 0) out.push({ suffix: `${kebab}-branch-added`, at: [], base: a.pointer, revision: y.pointer, detail: branchLabel(cmp.revision, y, k) });
  });
  for (const [i, j] of pairs) {
    // a schema compared with a branch of the choice that replaced it (or the reverse): compared as itself, its nullability already seen
    const changes = selfBranch ? compareViews(cmp, dir, cmp.base.view(xs[i]), cmp.revision.view(ys[j]), { skipNullable: true }) : cmp.compare(dir, xs[i], ys[j]);
    out.push(...prefixed({ branch: combiner, index: j }, changes));
  }
}
