// The request-validation policy: checks path, query and header parameters (coerced from strings) and JSON bodies
// against the matched OpenAPI operation with ajv (validate phase, priority 100). Validators are made when the snapshot
// loads and compiled by ajv just after it, in the background (or on first use, if a request comes first), so a
// 10,000-route snapshot is served in seconds; answers 404/405 for what the document does not describe when
// rejectUnknownOperations is on.
import { isObject, normalize, validatorCache, type ErrorObject, type Validator } from '@apigov/openapi/validators';
import { requestValidationConfig, type FieldError, type SnapshotOperation, type SnapshotRoute } from '@apigov/model';
import { definePolicy, type RequestContext } from '../policy.js';

type Json = Record<string, unknown>;

/** `/items/0/amount` → `items[0].amount` */
function fieldPath(prefix: string, instancePath: string, extra?: string): string {
  let out = prefix;
  if (instancePath !== '') {
    for (const raw of instancePath.slice(1).split('/')) {
      const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      out += /^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`;
    }
  }
  return extra === undefined ? out : `${out}.${extra}`;
}

function fieldErrors(prefix: string, errors: ErrorObject[] | null | undefined): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    const params = e.params as { missingProperty?: string; additionalProperty?: string };
    let path: string;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required' && params.missingProperty !== undefined) {
      path = fieldPath(prefix, e.instancePath, params.missingProperty);
      message = 'is required';
    } else if (e.keyword === 'additionalProperties' && params.additionalProperty !== undefined) {
      path = fieldPath(prefix, e.instancePath, params.additionalProperty);
      message = 'is not allowed';
    } else path = fieldPath(prefix, e.instancePath);
    const key = `${path}\u0000${message}`;
    if (seen.has(key) || e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'if') continue;
    seen.add(key);
    out.push({ path, message });
  }
  if (out.length === 0 && (errors?.length ?? 0) > 0) out.push({ path: prefix, message: errors![0]!.message ?? 'is invalid' });
  return out.slice(0, 20);
}

const IGNORED_HEADER_PARAMS = new Set(['accept', 'content-type', 'authorization']);

interface ParameterCheck {
  location: 'path' | 'query' | 'header';
  validate: Validator;
  /** declared names (as in the document; headers lower-case) and the router's param name for path params */
  names: Array<{ name: string; key: string; array: boolean }>;
}

interface BodyCheck {
  required: boolean;
  /** validator per accepted JSON media type; undefined when any JSON is accepted */
  validate: Validator | undefined;
  /** declared media types */
  mediaTypes: string[];
  acceptsAny: boolean;
}

interface OperationCheck {
  params: ParameterCheck[];
  body: BodyCheck | undefined;
}

function isJsonMediaType(t: string): boolean {
  const base = t.split(';')[0]!.trim().toLowerCase();
  return base === 'application/json' || base.endsWith('+json');
}

function compileOperation(route: SnapshotRoute, op: SnapshotOperation, documentId: string, config: { body: boolean; parameters: boolean }): OperationCheck | undefined {
  const params: ParameterCheck[] = [];
  if (config.parameters) {
    for (const location of ['path', 'query', 'header'] as const) {
      const declared = op.parameters.filter((p) => p.in === location && !(location === 'header' && IGNORED_HEADER_PARAMS.has(p.name.toLowerCase())));
      if (declared.length === 0) continue;
      const properties: Json = {};
      const required: string[] = [];
      const names: ParameterCheck['names'] = [];
      for (const p of declared) {
        const name = location === 'header' ? p.name.toLowerCase() : p.name;
        const schema = p.schema === undefined ? {} : (normalize(p.schema, documentId) as Json);
        properties[name] = schema;
        if (p.required) required.push(name);
        const type = schema.type;
        names.push({ name, key: location === 'path' ? p.name.replace(/[^A-Za-z0-9_]/g, '_') : name, array: type === 'array' || (Array.isArray(type) && type.includes('array')) });
      }
      const schema: Json = { type: 'object', properties, ...(required.length > 0 && { required }) };
      params.push({ location, validate: validatorCache.compile(schema, true), names });
    }
  }
  let body: BodyCheck | undefined;
  if (config.body && op.requestBody !== undefined) {
    const content = op.requestBody.content;
    const mediaTypes = Object.keys(content);
    const json = mediaTypes.find((t) => isJsonMediaType(t));
    const schema = json === undefined ? undefined : content[json]!.schema;
    body = {
      required: op.requestBody.required,
      validate: schema === undefined ? undefined : validatorCache.compile(normalize(schema, documentId) as Json, false),
      mediaTypes,
      acceptsAny: mediaTypes.length === 0 || mediaTypes.some((t) => t === '*/*' || t.endsWith('/*')),
    };
  }
  if (params.length === 0 && body === undefined) return undefined;
  void route;
  return { params, body };
}

function paramData(ctx: RequestContext, check: ParameterCheck): Json {
  const data: Json = {};
  const names = check.names;
  if (check.location === 'path') {
    for (let i = 0; i < names.length; i++) {
      const v = ctx.params[names[i]!.key];
      if (v !== undefined) data[names[i]!.name] = v;
    }
  } else if (check.location === 'query') {
    const q = ctx.query();
    for (let i = 0; i < names.length; i++) {
      const n = names[i]!;
      const values = q.getAll(n.name);
      if (values.length === 0) continue;
      data[n.name] = values.length === 1 && !n.array ? values[0] : values;
    }
  } else {
    const headers = ctx.req.headers;
    for (let i = 0; i < names.length; i++) {
      const v = headers[names[i]!.name];
      if (v !== undefined) data[names[i]!.name] = v;
    }
  }
  return data;
}

function checkBody(ctx: RequestContext, check: BodyCheck): void | Promise<void> {
  const req = ctx.req;
  const contentType = req.headers['content-type'];
  const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
  if (!hasBody) {
    if (check.required) ctx.reject('APIGOV_ERR_GATEWAY_VALIDATION', 'body: is required', { errors: [{ path: 'body', message: 'is required' }] });
    return;
  }
  const base = contentType === undefined ? '' : contentType.split(';')[0]!.trim().toLowerCase();
  const declared = check.mediaTypes.some((t) => t.toLowerCase() === base);
  if (!declared && !check.acceptsAny) {
    const message = `content type ${base === '' ? '(none)' : base} is not accepted; send one of: ${check.mediaTypes.join(', ')}`;
    ctx.reject('APIGOV_ERR_GATEWAY_VALIDATION', `header.content-type: ${message}`, { errors: [{ path: 'header.content-type', message }] });
    return;
  }
  const validate = check.validate;
  if (validate === undefined || !isJsonMediaType(base)) return;
  return ctx.readBody().then(
    (bytes) => {
      let data: unknown;
      try {
        data = JSON.parse(bytes.toString('utf8'));
      } catch {
        ctx.reject('APIGOV_ERR_GATEWAY_VALIDATION', 'body: is not valid JSON', { errors: [{ path: 'body', message: 'is not valid JSON' }] });
        return;
      }
      if (!validate(data)) {
        const errors = fieldErrors('body', validate.errors);
        ctx.reject('APIGOV_ERR_GATEWAY_VALIDATION', describe(errors), { errors });
      }
    },
    (err: unknown) => {
      if (!ctx.done) throw err;
    },
  );
}

function describe(errors: FieldError[]): string {
  const first = errors[0];
  if (first === undefined) return 'the request does not match the API description';
  return `${first.path}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`;
}

export const requestValidationPolicy = definePolicy({
  id: 'requestValidation',
  phase: 'validate',
  // 100: the only validate-phase policy; runs after auth and limits, so unauthenticated traffic is never parsed
  priority: 100,
  compile(rawConfig, route, operation) {
    const config = requestValidationConfig.parse(rawConfig);
    if (!config.enabled) return null;
    const documentId = validatorCache.schemasDocument(isObject(route.schemas) ? route.schemas : {});
    const checks = new Map<SnapshotOperation, OperationCheck>();
    for (const op of operation === undefined ? route.operations : [operation]) {
      const check = compileOperation(route, op, documentId, config);
      if (check !== undefined) checks.set(op, check);
    }
    const rejectUnknown = config.rejectUnknownOperations && route.operations.length > 0;
    if (checks.size === 0 && !rejectUnknown) return null;
    return {
      handle(ctx) {
        const op = ctx.operation;
        if (op === undefined) {
          if (rejectUnknown) {
            const url = ctx.req.url ?? '/';
            const q = url.indexOf('?');
            const path = q === -1 ? url : url.slice(0, q);
            const allowed = ctx.allowedMethods();
            // the path is an operation's, the method is not: 405 with the methods it takes
            if (allowed.length > 0) ctx.reject('APIGOV_ERR_GATEWAY_METHOD_NOT_ALLOWED', `${path} of ${route.id} takes ${allowed.join(', ')}, not ${ctx.req.method}`, { headers: { allow: allowed.join(', ') } });
            else ctx.reject('APIGOV_ERR_GATEWAY_NO_ROUTE', `${ctx.req.method} ${path} is not an operation of ${route.id}`);
          }
          return;
        }
        const check = checks.get(op);
        if (check === undefined) return;
        const params = check.params;
        for (let i = 0; i < params.length; i++) {
          const p = params[i]!;
          if (!p.validate(paramData(ctx, p))) {
            const errors = fieldErrors(p.location, p.validate.errors);
            ctx.reject('APIGOV_ERR_GATEWAY_VALIDATION', describe(errors), { errors });
            return;
          }
        }
        if (check.body !== undefined) return checkBody(ctx, check.body);
      },
    };
  },
});
