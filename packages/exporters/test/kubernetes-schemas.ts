// Validates Kubernetes objects as the API server would admit them: the CRD's openAPIV3Schema (ajv, with the
// Kubernetes formats), every x-kubernetes-validations CEL rule on the way (@bufbuild/cel, with the strings
// extension Kubernetes enables), and metadata's name and label syntax. CRDs are the copies in test/schemas
// (SOURCES.tsv says where each came from); an object whose apiVersion and kind no CRD defines fails.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { celEnv, celError, isCelError, parse as parseCel, plan, type CelInput, type CelResult } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

type Json = Record<string, any>;
type Check = ((d: unknown) => boolean) & { errors?: unknown };
type AjvLike = { compile(s: unknown): Check; addFormat(name: string, f: unknown): unknown };
const Ajv = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as new (o: Record<string, unknown>) => AjvLike;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: AjvLike) => void;

export const SCHEMAS = join(import.meta.dirname, 'schemas');
export const CRD_DIRS = ['gateway-api-v1.6.1', 'envoy-gateway-v1.9.0'];

interface CrdVersion {
  schema: Json;
  check: Check;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** the schema of member `key` of an object under `schema`: its property, else additionalProperties */
function childSchema(schema: Json | undefined, key: string): Json | undefined {
  return (schema?.properties as Json | undefined)?.[key] ?? (typeof schema?.additionalProperties === 'object' ? (schema.additionalProperties as Json) : undefined);
}

const ENV = celEnv({ funcs: strings });
const plans = new Map<string, (ctx: { self: CelInput }) => CelResult>();

/** one CEL rule, planned once per rule text */
function runRule(rule: string, self: CelInput): CelResult {
  let p = plans.get(rule);
  if (p === undefined) {
    try {
      p = plan(ENV, parseCel(rule)) as (ctx: { self: CelInput }) => CelResult;
    } catch (e) {
      p = () => celError(e as Error);
    }
    plans.set(rule, p);
  }
  try {
    return p({ self });
  } catch (e) {
    return celError(e as Error);
  }
}

/** what the API server stores: the object with its schema's defaults filled in (defaulting runs before validation) */
function withDefaults(schema: Json | undefined, value: unknown): unknown {
  if (schema === undefined || value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map((v) => withDefaults(schema.items as Json | undefined, v));
  if (typeof value !== 'object') return value;
  const out: Json = {};
  const props = (schema.properties ?? {}) as Json;
  for (const [k, v] of Object.entries(value as Json)) out[k] = withDefaults(childSchema(schema, k), v);
  for (const [k, sub] of Object.entries(props)) if (out[k] === undefined && (sub as Json).default !== undefined) out[k] = withDefaults(sub as Json, structuredClone((sub as Json).default));
  return out;
}

export class KubernetesSchemas {
  private readonly crds = new Map<string, CrdVersion>();
  /** CEL rules that could not be evaluated (an unknown function): a test asserts there are none */
  readonly unevaluated = new Set<string>();
  /** how many CEL rules were evaluated, for the test to show the check ran */
  celEvaluations = 0;

  constructor(dirs: readonly string[] = CRD_DIRS) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
    ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
    ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
    for (const dir of dirs) {
      const files = readdirSync(join(SCHEMAS, dir)).filter((f) => f.endsWith('.yaml'));
      if (files.length === 0) throw new Error(`no CRDs in ${join(SCHEMAS, dir)}`);
      for (const file of files) {
        const crd = parse(readFileSync(join(SCHEMAS, dir, file), 'utf8')) as Json;
        for (const v of crd.spec.versions as Json[]) {
          const schema = v.schema.openAPIV3Schema as Json;
          this.crds.set(`${crd.spec.group}/${v.name} ${crd.spec.names.kind}`, { schema, check: ajv.compile(schema) });
        }
      }
    }
  }

  kinds(): string[] {
    return [...this.crds.keys()].sort();
  }

  /** The problems of one object; empty when the API server would admit it. */
  validate(given: Json): string[] {
    const id = `${given.apiVersion} ${given.kind}`;
    const crd = this.crds.get(id);
    if (crd === undefined) return [`no CRD in test/schemas defines ${id}`];
    const object = withDefaults(crd.schema, given) as Json;
    const problems: string[] = [];
    if (!crd.check(object)) problems.push(`schema: ${JSON.stringify(crd.check.errors)}`);
    const name = object.metadata?.name;
    if (typeof name !== 'string' || name.length > 253 || !DNS_SUBDOMAIN.test(name)) problems.push(`metadata.name ${JSON.stringify(name)} is not a DNS subdomain`);
    for (const [k, v] of Object.entries((object.metadata?.labels ?? {}) as Record<string, string>)) {
      if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) problems.push(`label ${k}=${JSON.stringify(v)} is not a valid label value`);
    }
    this.cel(crd.schema, object, '', problems);
    return problems;
  }

  /** walks the object along its schema and evaluates the CEL rules of every node that is present */
  private cel(schema: Json | undefined, value: unknown, path: string, problems: string[]): void {
    if (schema === undefined || value === undefined || value === null) return;
    const rules = schema['x-kubernetes-validations'] as Array<{ rule: string; message?: string; messageExpression?: string }> | undefined;
    if (rules !== undefined) {
      const self = toCel(schema, value);
      for (const r of rules) {
        if (r.rule.includes('oldSelf')) continue; // transition rules apply to updates only
        const result = runRule(r.rule, self);
        this.celEvaluations++;
        if (isCelError(result)) this.unevaluated.add(`${r.rule}: ${String(result)}`);
        else if (result !== true) problems.push(`${path || '(root)'}: ${r.message ?? r.messageExpression ?? r.rule}`);
      }
    }
    if (Array.isArray(value)) value.forEach((item, i) => this.cel(schema.items as Json | undefined, item, `${path}[${i}]`, problems));
    else if (typeof value === 'object') {
      for (const [k, v] of Object.entries(value as Json)) this.cel(childSchema(schema, k), v, `${path}.${k}`, problems);
    }
  }
}

/** A JSON value as CEL sees it under its schema: objects as maps, integers as int */
function toCel(schema: Json | undefined, value: unknown): CelInput {
  if (Array.isArray(value)) return value.map((v) => toCel(schema?.items as Json | undefined, v));
  if (value !== null && typeof value === 'object') {
    const m = new Map<string, CelInput>();
    for (const [k, v] of Object.entries(value as Json)) m.set(k, toCel(childSchema(schema, k), v));
    return m;
  }
  if (typeof value === 'number' && Number.isInteger(value) && (schema?.type === 'integer' || schema?.['x-kubernetes-int-or-string'] === true)) return BigInt(value);
  return value as CelInput;
}
