// Accepting a snapshot: schema validation with model's `gatewaySnapshot` (its large collections entry by entry,
// as steps a load runs between requests) and the content-hash check.
// The hash is sha256 (hex) of canonicalJson of the snapshot as received, without version, hash and generatedAt.
import { createHash } from 'node:crypto';
import { canonicalJson, gatewaySnapshot, snapshotFrame, snapshotRecordEntries, snapshotRoute, SNAPSHOT_COLLECTIONS, type GatewaySnapshot, type SnapshotRoute } from '@apigov/model';
import { runToEnd, type LoadSteps } from './load-slices.js';

/** Why a snapshot was refused; reported to the control plane and shown at /snapshot. */
export class SnapshotRefusedError extends Error {
  constructor(
    message: string,
    readonly version: number,
  ) {
    super(message);
    this.name = 'SnapshotRefusedError';
  }
}

/**
 * sha256 (hex) of canonicalJson(snapshot minus `version`, `hash`, `generatedAt`). canonicalJson sorts object keys at
 * every level and drops undefined members; arrays keep their order. Hash the document as sent (before defaults).
 */
export function computeSnapshotHash(snapshot: Record<string, unknown>): string {
  return runToEnd(snapshotHashSteps(snapshot));
}

/** members not covered by the content hash */
const UNHASHED = new Set(['version', 'hash', 'generatedAt']);
/** a large collection's entries are hashed this many at a time between yields */
const HASH_ENTRIES_PER_STEP = 256;

/** the canonical JSON of a snapshot's routes array, kept to hash the next snapshot with the same routes */
export interface CanonicalRoutes {
  text?: string;
}

/** a kept canonical text is hashed this many characters at a time between yields */
const HASH_CHARS_PER_STEP = 1 << 20;

/**
 * computeSnapshotHash as steps: yields inside the top-level arrays and records (routes, keys, consumers). `routes`:
 * `reuse` is the canonical JSON of routes known equal to this snapshot's (hashed instead of them); `capture`
 * receives the canonical JSON of this snapshot's routes.
 */
export function* snapshotHashSteps(snapshot: Record<string, unknown>, routes: { reuse?: string; capture?: CanonicalRoutes } = {}): LoadSteps<string> {
  const hash = createHash('sha256');
  const w = new CanonicalWriter((s) => hash.update(s));
  w.out('{');
  let first = true;
  for (const key of Object.keys(snapshot).sort()) {
    const v = snapshot[key];
    if (UNHASHED.has(key) || v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    w.out(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
    first = false;
    if (key === 'routes' && routes.reuse !== undefined) {
      const text = routes.reuse;
      for (let i = 0; i < text.length; i += HASH_CHARS_PER_STEP) {
        w.out(text.slice(i, i + HASH_CHARS_PER_STEP));
        yield;
      }
    } else if (Array.isArray(v)) {
      // the routes' canonical text, when asked for, is kept while it is hashed
      let captured = '';
      const capture = key === 'routes' ? routes.capture : undefined;
      let a = w;
      if (capture !== undefined) {
        w.flush();
        a = new CanonicalWriter((s) => {
          hash.update(s);
          captured += s;
        });
      }
      a.out('[');
      for (let i = 0; i < v.length; i++) {
        a.item(v[i], i === 0);
        if (i % HASH_ENTRIES_PER_STEP === HASH_ENTRIES_PER_STEP - 1) yield;
      }
      a.out(']');
      if (capture !== undefined) {
        a.flush();
        capture.text = captured;
      }
    } else if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const o = v as Record<string, unknown>;
      w.out('{');
      let firstMember = true;
      let n = 0;
      for (const k of Object.keys(o).sort()) {
        if (w.member(k, o[k], firstMember)) firstMember = false;
        if (++n % HASH_ENTRIES_PER_STEP === 0) yield;
      }
      w.out('}');
    } else w.write(v);
  }
  w.out('}');
  w.flush();
  return hash.digest('hex');
}

/**
 * Streams exactly what model's canonicalJson(value) returns into a hash, for JSON data (plain objects, arrays,
 * strings, numbers, booleans, null), without building sorted copies of a large snapshot first. Anything else
 * (a Date, a class instance) goes through canonicalJson itself.
 */
class CanonicalWriter {
  /** text not handed on yet: appended to (V8 joins it lazily), handed to the sink every 64 K characters */
  private pending = '';

  constructor(private readonly sink: (text: string) => void) {}

  out(s: string): void {
    this.pending += s;
    if (this.pending.length > 65_536) this.flush();
  }

  flush(): void {
    if (this.pending !== '') this.sink(this.pending);
    this.pending = '';
  }

  /** one array element (undefined, functions and symbols as null, as JSON.stringify does) */
  item(item: unknown, first: boolean): void {
    if (!first) this.out(',');
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') this.out('null');
    else this.write(item);
  }

  /** one object member, unless its value is dropped (undefined, function, symbol); whether it was written */
  member(key: string, item: unknown, first: boolean): boolean {
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') return false;
    this.out(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
    this.write(item);
    return true;
  }

  write(v: unknown): void {
    if (v === null || typeof v !== 'object') {
      // top-level and array undefined/function/symbol: as JSON.stringify does
      this.out(JSON.stringify(v) ?? 'null');
      return;
    }
    if (Array.isArray(v)) {
      this.out('[');
      for (let i = 0; i < v.length; i++) this.item(v[i], i === 0);
      this.out(']');
      return;
    }
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      this.out(canonicalJson(v));
      return;
    }
    const o = v as Record<string, unknown>;
    this.out('{');
    let first = true;
    for (const k of Object.keys(o).sort()) if (this.member(k, o[k], first)) first = false;
    this.out('}');
  }
}

function versionOf(raw: unknown): number {
  const v = typeof raw === 'object' && raw !== null ? (raw as { version?: unknown }).version : undefined;
  return typeof v === 'number' && Number.isInteger(v) ? v : 0;
}

interface Issue {
  readonly path: ReadonlyArray<PropertyKey>;
  readonly message: string;
}

function refusal(issues: readonly Issue[], version: number): SnapshotRefusedError {
  const first = issues[0]!;
  const where = first.path.length === 0 ? '' : `${first.path.map(String).join('.')}: `;
  return new SnapshotRefusedError(`snapshot does not match the format: ${where}${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`, version);
}

/** schema checks (per entry) of the collections that grow with the catalog; entries checked between yields */
const COLLECTION_ENTRIES_PER_STEP: Record<(typeof SNAPSHOT_COLLECTIONS)[number], number> = { routes: 8, consumers: 256, apiKeys: 512 };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates a snapshot document (parsed JSON) and checks its hash; throws SnapshotRefusedError. */
export function verifySnapshot(raw: unknown): GatewaySnapshot {
  return runToEnd(verifySnapshotSteps(raw));
}

/**
 * verifySnapshot as steps: the frame at once, then the routes, consumers and API keys entry by entry with model's
 * schemas for them, then the content hash, yielding in between. Every issue is counted; the first is reported.
 */
export function* verifySnapshotSteps(raw: unknown): LoadSteps<GatewaySnapshot> {
  return (yield* verifySnapshotReusing(raw, {})).snapshot;
}

/** Routes a load verified before, with the digest of their text (snapshot-text.ts) and their canonical JSON. */
export interface VerifiedRoutes {
  readonly digest: string;
  readonly routes: SnapshotRoute[];
  readonly canonical: string;
}

export interface VerifiedSnapshot {
  snapshot: GatewaySnapshot;
  /** this snapshot's routes as VerifiedRoutes, when its text gave their digest (`previous` itself when they were reused) */
  routes: VerifiedRoutes | undefined;
}

/**
 * verifySnapshotSteps for a snapshot whose routes' text has digest `routesDigest`: when that is `previous`'s, its
 * routes (checked before, and the same text) are taken as they are and their canonical JSON is hashed again instead
 * of being rebuilt; everything else is checked as always. The result carries this snapshot's VerifiedRoutes.
 */
export function* verifySnapshotReusing(raw: unknown, options: { routesDigest?: string; previous?: VerifiedRoutes }): LoadSteps<VerifiedSnapshot> {
  const reuse = options.routesDigest !== undefined && options.previous !== undefined && options.previous.digest === options.routesDigest ? options.previous : undefined;
  const version = versionOf(raw);
  if (!isRecord(raw)) {
    const whole = gatewaySnapshot.safeParse(raw);
    throw refusal(whole.success ? [{ path: [], message: 'not an object' }] : whole.error.issues, version);
  }
  const issues: Issue[] = [];
  const frameIn: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) if (!(SNAPSHOT_COLLECTIONS as readonly string[]).includes(key)) frameIn[key] = raw[key];
  const frame = snapshotFrame.safeParse(frameIn);
  if (!frame.success) issues.push(...frame.error.issues);
  const out: Record<string, unknown> = frame.success ? { ...frame.data } : {};
  for (const name of SNAPSHOT_COLLECTIONS) {
    const value = raw[name];
    const perStep = COLLECTION_ENTRIES_PER_STEP[name];
    if (name === 'routes' ? !Array.isArray(value) : !isRecord(value)) {
      // missing or of the wrong type: the whole member's schema says what it should be
      const whole = gatewaySnapshot.shape[name].safeParse(value);
      if (!whole.success) for (const i of whole.error.issues) issues.push({ path: [name, ...i.path], message: i.message });
      continue;
    }
    if (name === 'routes' && reuse !== undefined) {
      out.routes = reuse.routes;
      continue;
    }
    if (name === 'routes') {
      const list = value as unknown[];
      const routes: unknown[] = [];
      for (let i = 0; i < list.length; i++) {
        const r = snapshotRoute.safeParse(list[i]);
        if (r.success) routes.push(r.data);
        else for (const issue of r.error.issues) issues.push({ path: [name, i, ...issue.path], message: issue.message });
        if (i % perStep === perStep - 1) yield;
      }
      out.routes = routes;
      continue;
    }
    const schema = snapshotRecordEntries[name];
    const entries: Array<[string, unknown]> = [];
    let n = 0;
    for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
      const k = schema.key.safeParse(key);
      if (!k.success) for (const issue of k.error.issues) issues.push({ path: [name, key], message: `key: ${issue.message}` });
      const v = schema.value.safeParse(entry);
      if (v.success) entries.push([key, v.data]);
      else for (const issue of v.error.issues) issues.push({ path: [name, key, ...issue.path], message: issue.message });
      if (++n % perStep === 0) yield;
    }
    // fromEntries defines own properties: a key such as __proto__ stays a key
    out[name] = Object.fromEntries(entries);
  }
  if (issues.length > 0) throw refusal(issues, version);
  const capture: CanonicalRoutes = {};
  const expected = yield* snapshotHashSteps(raw, reuse !== undefined ? { reuse: reuse.canonical } : options.routesDigest !== undefined ? { capture } : {});
  if (expected !== out.hash) throw new SnapshotRefusedError(`snapshot hash mismatch: content hashes to ${expected}, the snapshot says ${String(out.hash)}`, version);
  const snapshot = out as unknown as GatewaySnapshot;
  let routes: VerifiedRoutes | undefined;
  if (reuse !== undefined) routes = reuse;
  else if (options.routesDigest !== undefined && capture.text !== undefined) routes = { digest: options.routesDigest, routes: snapshot.routes, canonical: capture.text };
  return { snapshot, routes };
}
