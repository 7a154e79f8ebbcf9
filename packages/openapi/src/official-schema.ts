// Checks a parsed document against the official OpenAPI JSON Schema of its version (2.0 and 3.0: draft-04; 3.1:
// 2020-12, without Schema Object validation, as published by the OpenAPI Initiative), naming the JSON pointer of each
// violation. The meta-schemas ship in meta-schemas/ (see its README); each is compiled once, on first use.
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import AjvDraft04Module from 'ajv-draft-04';
import formatsModule from 'ajv-formats';
import { parse } from 'yaml';
import type { OpenApiDocument, SpecFormat } from './types.js';

export interface SchemaViolation {
  /** RFC 6901 pointer into the document; '' is its root */
  pointer: string;
  message: string;
}

type FormatsPlugin = (ajv: unknown) => unknown;
const addFormats = ((formatsModule as unknown as { default?: FormatsPlugin }).default ?? formatsModule) as unknown as FormatsPlugin;
type Draft04Class = new (options: Record<string, unknown>) => { compile(schema: unknown): ValidateFunction; addFormat(name: string, f: unknown): unknown };
const AjvDraft04 = ((AjvDraft04Module as unknown as { default?: Draft04Class }).default ?? AjvDraft04Module) as unknown as Draft04Class;

const FILES: Record<SpecFormat, string> = { '2.0': 'oas-2.0-schema.json', '3.0': 'oas-3.0-schema.yaml', '3.1': 'oas-3.1-schema.yaml' };
const compiled = new Map<SpecFormat, ValidateFunction>();

function metaSchema(format: SpecFormat): unknown {
  let text = readFileSync(new URL(`../meta-schemas/${FILES[format]}`, import.meta.url), 'utf8');
  // 3.1: without a dialect that overrides it, `$dynamicRef: '#meta'` resolves to the schema's own `$defs/schema`
  // (any object or boolean); written as the plain $ref it stands for, because ajv's $dynamicRef support is partial
  if (format === '3.1') text = text.replace(/\$dynamicRef: '#meta'/g, "$ref: '#/$defs/schema'");
  return FILES[format].endsWith('.json') ? JSON.parse(text) : parse(text);
}

function validatorFor(format: SpecFormat): ValidateFunction {
  let v = compiled.get(format);
  if (v === undefined) {
    const options = { strict: false, allErrors: true, validateSchema: false, logger: false as const };
    const ajv = format === '3.1' ? new Ajv2020(options) : new AjvDraft04(options);
    addFormats(ajv);
    v = ajv.compile(metaSchema(format) as object);
    compiled.set(format, v);
  }
  return v;
}

/** How many violations are reported at most (a broken document can produce thousands). */
const MAX_VIOLATIONS = 50;

function describe(e: ErrorObject): string {
  const p = e.params as { additionalProperty?: string; unevaluatedProperty?: string; missingProperty?: string; allowedValues?: unknown[]; pattern?: string };
  if (e.keyword === 'additionalProperties' && p.additionalProperty !== undefined) return `unknown member '${p.additionalProperty}'`;
  if (e.keyword === 'unevaluatedProperties' && p.unevaluatedProperty !== undefined) return `member '${p.unevaluatedProperty}' is unknown or not allowed here`;
  if (e.keyword === 'not') return 'has a combination of members the specification forbids';
  if (e.keyword === 'required' && p.missingProperty !== undefined) return `missing required member '${p.missingProperty}'`;
  if (e.keyword === 'enum' && p.allowedValues !== undefined) return `must be one of ${p.allowedValues.map((x) => JSON.stringify(x)).join(', ')}`;
  return e.message ?? 'is invalid';
}

/**
 * The violations of the official schema, most specific first: one per pointer (the deepest errors of a `oneOf` are
 * what a person can act on), at most MAX_VIOLATIONS.
 */
export function officialSchemaViolations(document: OpenApiDocument, format: SpecFormat): SchemaViolation[] {
  const validate = validatorFor(format);
  if (validate(document)) return [];
  const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && e.keyword !== 'if' && e.keyword !== '$dynamicRef');
  // keep the deepest errors: an error at a pointer that has errors below it only repeats them
  const pointers = new Set(errors.map((e) => e.instancePath));
  const deepest = errors.filter((e) => ![...pointers].some((p) => p !== e.instancePath && p.startsWith(`${e.instancePath}/`)));
  const out: SchemaViolation[] = [];
  const seen = new Set<string>();
  for (const e of (deepest.length > 0 ? deepest : validate.errors ?? [])) {
    const v = { pointer: e.instancePath, message: describe(e) };
    const key = `${v.pointer}\u0000${v.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(v);
    if (out.length >= MAX_VIOLATIONS) break;
  }
  return out;
}
