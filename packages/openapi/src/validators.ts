// Request validators for the gateway: OpenAPI schemas (2.0, 3.0, 3.1) normalised to JSON Schema 2020-12 and compiled
// by ajv lazily or in background slices, cached by content hash across routes and snapshots. Imported by the gateway as
// `@apigov/openapi/validators`, which loads nothing else of this package.
import { createHash } from 'node:crypto';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';

export type { ErrorObject };

export type Json = Record<string, unknown>;
type FormatsPlugin = (ajv: Ajv2020) => Ajv2020;
const addFormats = ((formatsModule as unknown as { default?: FormatsPlugin }).default ?? formatsModule) as unknown as FormatsPlugin;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** OpenAPI formats ajv-formats does not know; int32/int64 are checked, the others are documentation. */
function addOpenApiFormats(ajv: Ajv2020): void {
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -2147483648 && n <= 2147483647 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  for (const f of ['float', 'double']) ajv.addFormat(f, { type: 'number', validate: () => true });
  for (const f of ['byte', 'binary', 'password']) ajv.addFormat(f, true);
}

function newAjv(coerce: boolean): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true, coerceTypes: coerce ? 'array' : false, useDefaults: false, validateFormats: true, logger: false, validateSchema: false });
  addFormats(ajv);
  addOpenApiFormats(ajv);
  return ajv;
}

/** A request validator: compiled by ajv on its first call, or by the background warm-up before it. */
export type Validator = ((data: unknown) => boolean) & {
  readonly errors: ErrorObject[] | null | undefined;
  readonly compiled: boolean;
  /** compiles it now; the refusal when ajv cannot compile the schema */
  warm(): Error | undefined;
};

function lazyValidator(ajv: Ajv2020, schema: Json): Validator {
  let fn: ValidateFunction | undefined;
  let failure: Error | undefined;
  const compile = (): ValidateFunction => {
    if (failure !== undefined) throw failure;
    try {
      return (fn = ajv.compile(schema));
    } catch (err) {
      failure = new Error(`ajv could not compile a request schema: ${err instanceof Error ? err.message : String(err)}`);
      throw failure;
    }
  };
  const v = ((data: unknown) => (fn ?? compile())(data) as boolean) as Validator;
  Object.defineProperty(v, 'errors', { get: () => fn?.errors });
  Object.defineProperty(v, 'compiled', { get: () => fn !== undefined });
  (v as { warm: () => Error | undefined }).warm = () => {
    if (fn !== undefined) return undefined;
    try {
      compile();
      return undefined;
    } catch {
      return failure;
    }
  };
  return v;
}

/** how long one background warm-up step may hold the event loop */
const WARM_SLICE_MS = 5;

/** ajv instances and validators, shared by every route and snapshot; keyed by schema content hash. */
export class ValidatorCache {
  /** `keep`: how many validators the cache may hold between snapshots before starting afresh */
  constructor(private readonly keep = 20_000) {}

  private body = newAjv(false);
  private params = newAjv(true);
  private readonly compiled = new Map<string, Validator>();
  /** validators of the latest snapshot not compiled yet, and the warm-up working through them */
  private cold: Validator[] = [];
  private warming: NodeJS.Immediate | undefined = undefined;
  /** told when ajv refuses a schema during the warm-up (the operation then answers 500 until fixed) */
  onRefusedSchema: (message: string) => void = (message) => process.emitWarning(`apigov gateway: ${message}; requests to its operation answer 500`, 'APIGOV_SCHEMA_REFUSED');
  private readonly documents = new Set<string>();
  hits = 0;

  /** registers a route's shared schemas once (by content hash) and returns the id refs point to */
  schemasDocument(schemas: Json): string {
    const hash = sha256(JSON.stringify(schemas));
    const id = `apigov:schemas:${hash}`;
    if (!this.documents.has(id)) {
      const defs: Json = {};
      for (const [name, s] of Object.entries(schemas)) defs[name] = normalize(s, id);
      const doc = { $id: id, $defs: defs };
      this.body.addSchema(doc);
      this.params.addSchema(doc);
      this.documents.add(id);
    }
    return id;
  }

  /** validators the snapshot being compiled asked for, and how many the previous one used */
  private inUse = new Set<string>();
  private lastUsed = 0;

  /**
   * Called before a snapshot compiles. Never resets during a compile (that would drop the schema documents the
   * route just registered); between compiles it starts afresh once the cache holds far more than a snapshot uses.
   */
  beginSnapshot(): void {
    this.lastUsed = Math.max(this.lastUsed, this.inUse.size);
    if (this.compiled.size > Math.max(this.keep, 2 * this.lastUsed)) this.reset();
    this.inUse = new Set();
  }

  /** Called once the snapshot compiled; remembers what it used, and starts compiling its validators in the background. */
  endSnapshot(): void {
    this.lastUsed = this.inUse.size;
    this.cold = [];
    for (const key of this.inUse) {
      const v = this.compiled.get(key);
      if (v !== undefined && !v.compiled) this.cold.push(v);
    }
    if (this.cold.length > 0 && this.warming === undefined) this.warming = setImmediate(() => this.warmStep());
  }

  /** compiles cold validators for up to WARM_SLICE_MS, then yields to requests */
  private warmStep(): void {
    this.warming = undefined;
    const until = performance.now() + WARM_SLICE_MS;
    while (this.cold.length > 0 && performance.now() < until) {
      const refused = this.cold.pop()!.warm();
      if (refused !== undefined) this.onRefusedSchema(refused.message);
    }
    if (this.cold.length > 0) this.warming = setImmediate(() => this.warmStep());
  }

  /** validators of the latest snapshot still waiting for ajv */
  get pending(): number {
    return this.cold.length;
  }

  /** compiles every waiting validator now (tests, and callers that want the cost up front) */
  warmAll(): void {
    for (const v of this.cold) v.warm();
    this.cold = [];
  }

  compile(schema: Json, forParams: boolean): Validator {
    // JSON.stringify, not canonical: key order differences only cost a duplicate validator, and it is much cheaper
    const key = `${forParams ? 'p' : 'b'}${sha256(JSON.stringify(schema))}`;
    this.inUse.add(key);
    let v = this.compiled.get(key);
    if (v === undefined) {
      v = lazyValidator(forParams ? this.params : this.body, schema);
      this.compiled.set(key, v);
    } else this.hits++;
    return v;
  }

  get size(): number {
    return this.compiled.size;
  }

  private reset(): void {
    this.body = newAjv(false);
    this.params = newAjv(true);
    this.compiled.clear();
    this.documents.clear();
  }
}

export const validatorCache = new ValidatorCache();

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const COMPONENT_REF = /^#\/(?:components\/schemas|definitions|\$defs)\/(.+)$/;

/**
 * OpenAPI 3.0 / 2.0 / 3.1 schema → JSON Schema 2020-12: `nullable`, boolean exclusiveMinimum/Maximum, refs into the
 * route's shared schemas (`#/components/schemas/X`, `#/definitions/X`) made absolute, `$schema`/`$id` dropped.
 */
export function normalize(schema: unknown, documentId: string): unknown {
  if (Array.isArray(schema)) return schema.map((s) => normalize(s, documentId));
  if (!isObject(schema)) return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$schema' || k === '$id' || k === 'nullable' || k === 'example' || k === 'examples' || k === 'xml' || k === 'externalDocs' || k === 'discriminator') continue;
    if (k === '$ref' && typeof v === 'string') {
      const m = COMPONENT_REF.exec(v);
      out.$ref = m === null ? v : `${documentId}#/$defs/${m[1]}`;
      continue;
    }
    if (k === 'properties' || k === 'patternProperties' || k === '$defs' || k === 'definitions' || k === 'dependentSchemas') {
      const props: Json = {};
      if (isObject(v)) for (const [name, s] of Object.entries(v)) props[name] = normalize(s, documentId);
      out[k] = props;
      continue;
    }
    out[k] = normalize(v, documentId);
  }
  for (const [bool, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (typeof out[bool] === 'boolean') {
      if (out[bool] === true && typeof out[bound] === 'number') {
        out[bool] = out[bound];
        delete out[bound];
      } else delete out[bool];
    }
  }
  if (out.type === 'file') delete out.type;
  if (schema.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type)) out.type = out.type.includes('null') ? out.type : [...out.type, 'null'];
    else return { anyOf: [out, { type: 'null' }] };
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  return out;
}

