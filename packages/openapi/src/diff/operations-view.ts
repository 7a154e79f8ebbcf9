// The diff engine's view of a document: each operation with its parameters, request body, responses and security,
// every part with the JSON pointer where it is written; Swagger 2.0 read through its OpenAPI 3.x form.
import { detectFormat } from '../detect.js';
import { isRecord } from '../json-path.js';
import { HTTP_METHODS } from '../operations.js';
import type { OpenApiDocument, SpecFormat } from '../types.js';
import { DocumentRefs, syntheticPointers, type SchemaAt } from './schema-view.js';

export type ParameterLocation = 'path' | 'query' | 'header' | 'cookie';

export interface ParameterView {
  name: string;
  in: ParameterLocation;
  required: boolean;
  /** effective style and explode (OpenAPI 3 defaults applied; 2.0 collectionFormat translated) */
  style: string;
  explode: boolean;
  schema?: SchemaAt;
  pointer: string;
}

export interface MediaView {
  type: string;
  schema?: SchemaAt;
  pointer: string;
}

export interface BodyView {
  required: boolean;
  content: Map<string, MediaView>;
  pointer: string;
}

export interface HeaderView {
  name: string;
  required: boolean;
  schema?: SchemaAt;
  pointer: string;
}

export interface ResponseView {
  status: string;
  headers: Map<string, HeaderView>;
  content: Map<string, MediaView>;
  pointer: string;
}

/** One security requirement: scheme name → scopes. An empty map is "no authentication". */
export type Requirement = Map<string, Set<string>>;

export interface OperationView {
  /** `GET /pets/{petId}` as written */
  label: string;
  /** `GET /pets/{}`: path parameters renamed still match */
  key: string;
  method: string;
  path: string;
  operationId?: string;
  deprecated: boolean;
  sunset?: string;
  /** path parameters by position in the template, the others by `in:name` (header names lower-cased) */
  parameters: Map<string, ParameterView>;
  body?: BodyView;
  responses: Map<string, ResponseView>;
  security: Requirement[];
  securityPointer: string;
  pointer: string;
}

export interface SecuritySchemeView {
  name: string;
  value: Record<string, unknown>;
  pointer: string;
}

export interface ApiView {
  format: SpecFormat;
  refs: DocumentRefs;
  operations: Map<string, OperationView>;
  securitySchemes: Map<string, SecuritySchemeView>;
  servers: Array<{ url: string; pointer: string }>;
  /** named schemas (components.schemas, or definitions in 2.0) */
  schemas: Map<string, SchemaAt>;
}

export function escapeToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointerJoin(base: string, ...tokens: Array<string | number>): string {
  return base + tokens.map((t) => '/' + escapeToken(String(t))).join('');
}

/** `/pets/{petId}` and `/pets/{id}` are one endpoint to a client. */
export function pathShape(path: string): string {
  return path.replace(/\{[^}]*\}/g, '{}');
}

const IGNORED_HEADER_PARAMETERS = new Set(['accept', 'content-type', 'authorization']);

function defaultStyle(location: ParameterLocation): string {
  return location === 'query' || location === 'cookie' ? 'form' : 'simple';
}

/** Swagger 2.0 collectionFormat → OpenAPI 3 style/explode. */
function collectionStyle(location: ParameterLocation, format: unknown): { style: string; explode: boolean } {
  switch (format) {
    case 'multi':
      return { style: 'form', explode: true };
    case 'ssv':
      return { style: 'spaceDelimited', explode: false };
    case 'pipes':
      return { style: 'pipeDelimited', explode: false };
    case 'tsv':
      return { style: 'tabDelimited', explode: false };
    default:
      return { style: defaultStyle(location), explode: false };
  }
}

/** Swagger 2.0 keeps a non-body parameter's schema on the parameter itself. */
const SWAGGER_PARAMETER_ONLY = new Set(['name', 'in', 'required', 'description', 'collectionFormat', 'allowEmptyValue']);

function swaggerParameterSchema(p: Record<string, unknown>, pointer: string): SchemaAt {
  const schema: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) if (!SWAGGER_PARAMETER_ONLY.has(k)) schema[k] = v;
  if (schema.type === 'file') delete schema.type;
  return { node: schema, pointer };
}

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}

function requirements(raw: unknown): Requirement[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter(isRecord).map((r) => new Map(Object.entries(r).map(([scheme, scopes]) => [scheme, new Set(stringList(scopes) ?? [])])));
}

function readContent(refs: DocumentRefs, raw: unknown, pointer: string): Map<string, MediaView> {
  const out = new Map<string, MediaView>();
  const content = refs.resolve(raw, pointer);
  if (!isRecord(content.node)) return out;
  for (const [type, media] of Object.entries(content.node)) {
    const m = refs.resolve(media, pointerJoin(content.pointer, type));
    const view: MediaView = { type, pointer: m.pointer };
    if (isRecord(m.node) && m.node.schema !== undefined) view.schema = { node: m.node.schema, pointer: pointerJoin(m.pointer, 'schema') };
    out.set(type, view);
  }
  return out;
}

function readHeaders(refs: DocumentRefs, raw: unknown, pointer: string, swagger: boolean): Map<string, HeaderView> {
  const out = new Map<string, HeaderView>();
  const headers = refs.resolve(raw, pointer);
  if (!isRecord(headers.node)) return out;
  for (const [name, rawHeader] of Object.entries(headers.node)) {
    const h = refs.resolve(rawHeader, pointerJoin(headers.pointer, name));
    if (!isRecord(h.node)) continue;
    const view: HeaderView = { name, required: h.node.required === true, pointer: h.pointer };
    if (swagger) view.schema = swaggerParameterSchema(h.node, h.pointer);
    else if (h.node.schema !== undefined) view.schema = { node: h.node.schema, pointer: pointerJoin(h.pointer, 'schema') };
    out.set(name.toLowerCase(), view);
  }
  return out;
}

function sunsetOf(op: Record<string, unknown>): string | undefined {
  const s = op['x-sunset'] ?? op['x-sunset-date'];
  if (typeof s === 'string') return s;
  if (s instanceof Date) return s.toISOString().slice(0, 10);
  return undefined;
}

/** Reads every operation of a parsed document (2.0, 3.0 or 3.1) into the diff engine's view. */
export function apiView(document: OpenApiDocument): ApiView {
  const format = detectFormat(document);
  const swagger = format === '2.0';
  const refs = new DocumentRefs(document);
  const operations = new Map<string, OperationView>();
  const rootSecurity = requirements(document.security);
  const rootConsumes = stringList(document.consumes) ?? ['application/json'];
  const rootProduces = stringList(document.produces) ?? ['application/json'];
  const paths = isRecord(document.paths) ? document.paths : {};
  for (const [path, rawItem] of Object.entries(paths)) {
    const item = refs.resolve(rawItem, pointerJoin('', 'paths', path));
    if (!isRecord(item.node)) continue;
    const itemNode = item.node;
    for (const method of HTTP_METHODS) {
      if (!isRecord(itemNode[method])) continue;
      const opAt = refs.resolve(itemNode[method], pointerJoin(item.pointer, method));
      if (!isRecord(opAt.node)) continue;
      const op = opAt.node;
      const METHOD = method.toUpperCase();
      const view: OperationView = {
        label: `${METHOD} ${path}`,
        key: `${METHOD} ${pathShape(path)}`,
        method: METHOD,
        path,
        deprecated: op.deprecated === true,
        parameters: new Map(),
        responses: new Map(),
        security: op.security !== undefined ? requirements(op.security) : rootSecurity,
        securityPointer: op.security !== undefined ? pointerJoin(opAt.pointer, 'security') : '/security',
        pointer: opAt.pointer,
      };
      if (typeof op.operationId === 'string') view.operationId = op.operationId;
      const sunset = sunsetOf(op);
      if (sunset !== undefined) view.sunset = sunset;

      // parameters: the path item's, overridden by the operation's of the same name and location
      const declared = new Map<string, { p: Record<string, unknown>; pointer: string }>();
      const collect = (list: unknown, pointer: string) => {
        if (!Array.isArray(list)) return;
        list.forEach((raw, i) => {
          const at = refs.resolve(raw, pointerJoin(pointer, i));
          if (!isRecord(at.node) || typeof at.node.name !== 'string' || typeof at.node.in !== 'string') return;
          declared.set(`${at.node.in}:${at.node.in === 'header' ? at.node.name.toLowerCase() : at.node.name}`, { p: at.node, pointer: at.pointer });
        });
      };
      collect(itemNode.parameters, pointerJoin(item.pointer, 'parameters'));
      collect(op.parameters, pointerJoin(opAt.pointer, 'parameters'));
      const consumes = stringList(op.consumes) ?? rootConsumes;
      const form: Array<{ p: Record<string, unknown>; pointer: string }> = [];
      const pathNames = [...path.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]);
      for (const { p, pointer } of declared.values()) {
        const location = p.in as string;
        if (swagger && location === 'body') {
          const content = new Map<string, MediaView>();
          for (const type of consumes) content.set(type, { type, pointer, ...(p.schema !== undefined && { schema: { node: p.schema, pointer: pointerJoin(pointer, 'schema') } }) });
          view.body = { required: p.required === true, content, pointer };
          continue;
        }
        if (swagger && location === 'formData') {
          form.push({ p, pointer });
          continue;
        }
        if (location !== 'path' && location !== 'query' && location !== 'header' && location !== 'cookie') continue;
        const name = p.name as string;
        if (location === 'header' && IGNORED_HEADER_PARAMETERS.has(name.toLowerCase())) continue;
        const styled = swagger
          ? collectionStyle(location, p.collectionFormat)
          : {
              style: typeof p.style === 'string' ? p.style : defaultStyle(location),
              explode: typeof p.explode === 'boolean' ? p.explode : (typeof p.style === 'string' ? p.style : defaultStyle(location)) === 'form',
            };
        const parameter: ParameterView = { name, in: location, required: location === 'path' || p.required === true, ...styled, pointer };
        if (swagger) parameter.schema = swaggerParameterSchema(p, pointer);
        else if (p.schema !== undefined) parameter.schema = { node: p.schema, pointer: pointerJoin(pointer, 'schema') };
        else if (isRecord(p.content)) {
          const first = Object.entries(p.content)[0];
          if (first && isRecord(first[1]) && first[1].schema !== undefined) parameter.schema = { node: first[1].schema, pointer: pointerJoin(pointer, 'content', first[0], 'schema') };
        }
        const position = location === 'path' ? pathNames.indexOf(name) : -1;
        const key = location === 'path' ? `path#${position === -1 ? name : position}` : `${location}:${location === 'header' ? name.toLowerCase() : name}`;
        view.parameters.set(key, parameter);
      }
      if (form.length > 0) {
        // 2.0 formData parameters are the properties of one form body
        const properties: Record<string, unknown> = {};
        const required: string[] = [];
        const pointers = new Map<string, string>();
        for (const { p, pointer } of form) {
          const s = swaggerParameterSchema(p, pointer).node as Record<string, unknown>;
          properties[p.name as string] = s;
          pointers.set(p.name as string, pointer);
          syntheticPointers.set(s, pointer);
          if (p.required === true) required.push(p.name as string);
        }
        const schema = { type: 'object', properties, ...(required.length > 0 && { required }) };
        const types = consumes.filter((t) => /form/i.test(t));
        const content = new Map<string, MediaView>();
        for (const type of types.length > 0 ? types : ['application/x-www-form-urlencoded']) content.set(type, { type, pointer: form[0].pointer, schema: { node: schema, pointer: form[0].pointer } });
        view.body = { required: required.length > 0, content, pointer: form[0].pointer };
      }
      if (!swagger && op.requestBody !== undefined) {
        const rb = refs.resolve(op.requestBody, pointerJoin(opAt.pointer, 'requestBody'));
        if (isRecord(rb.node)) view.body = { required: rb.node.required === true, content: readContent(refs, rb.node.content, pointerJoin(rb.pointer, 'content')), pointer: rb.pointer };
      }

      const responses = refs.resolve(op.responses, pointerJoin(opAt.pointer, 'responses'));
      if (isRecord(responses.node)) {
        const produces = stringList(op.produces) ?? rootProduces;
        for (const [status, raw] of Object.entries(responses.node)) {
          if (status.startsWith('x-')) continue;
          const r = refs.resolve(raw, pointerJoin(responses.pointer, status));
          if (!isRecord(r.node)) continue;
          let content: Map<string, MediaView>;
          if (swagger) {
            content = new Map();
            if (r.node.schema !== undefined) for (const type of produces) content.set(type, { type, pointer: r.pointer, schema: { node: r.node.schema, pointer: pointerJoin(r.pointer, 'schema') } });
          } else content = readContent(refs, r.node.content, pointerJoin(r.pointer, 'content'));
          view.responses.set(status.toUpperCase(), { status: status.toUpperCase(), headers: readHeaders(refs, r.node.headers, pointerJoin(r.pointer, 'headers'), swagger), content, pointer: r.pointer });
        }
      }
      if (!operations.has(view.key)) operations.set(view.key, view);
    }
  }

  const securitySchemes = new Map<string, SecuritySchemeView>();
  const schemesAt = swagger ? { node: document.securityDefinitions, pointer: '/securityDefinitions' } : { node: isRecord(document.components) ? document.components.securitySchemes : undefined, pointer: '/components/securitySchemes' };
  if (isRecord(schemesAt.node)) {
    for (const [name, raw] of Object.entries(schemesAt.node)) {
      const s = refs.resolve(raw, pointerJoin(schemesAt.pointer, name));
      if (isRecord(s.node)) securitySchemes.set(name, { name, value: s.node, pointer: s.pointer });
    }
  }

  const servers: ApiView['servers'] = [];
  if (swagger) {
    if (typeof document.host === 'string') {
      const schemes = stringList(document.schemes) ?? ['https'];
      const basePath = typeof document.basePath === 'string' ? document.basePath : '';
      for (const scheme of schemes) servers.push({ url: `${scheme}://${document.host}${basePath}`.replace(/\/+$/, ''), pointer: '/host' });
    }
  } else if (Array.isArray(document.servers)) {
    document.servers.forEach((s, i) => {
      if (isRecord(s) && typeof s.url === 'string') servers.push({ url: s.url.replace(/\/+$/, ''), pointer: pointerJoin('/servers', i) });
    });
  }

  const schemas = new Map<string, SchemaAt>();
  const named = swagger ? { node: document.definitions, pointer: '/definitions' } : { node: isRecord(document.components) ? document.components.schemas : undefined, pointer: '/components/schemas' };
  if (isRecord(named.node)) for (const [name, node] of Object.entries(named.node)) schemas.set(name, { node, pointer: pointerJoin(named.pointer, name) });

  return { format, refs, operations, securitySchemes, servers, schemas };
}
