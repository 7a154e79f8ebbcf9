// Decides whether parsed data is an OpenAPI document at all: which version line it is
// (Swagger 2.0, OpenAPI 3.0.x, 3.1.x) and whether the top-level containers the rest of apigov relies on are there.
import { ApigovError } from '@apigov/model';
import { isRecord } from './json-path.js';
import type { SpecFormat } from './types.js';

export interface DocumentHeader {
  format: SpecFormat;
  title: string;
  version: string;
}

function invalid(path: string, message: string, prefix = 'not an OpenAPI document'): never {
  throw new ApigovError('APIGOV_ERR_SPEC_INVALID', `${prefix}: ${message}`, { errors: [{ path, message }] });
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

/** The version line of `doc`, or an APIGOV_ERR_SPEC_INVALID error saying why it is not OpenAPI. */
export function detectFormat(doc: unknown): SpecFormat {
  if (!isRecord(doc)) invalid('(root)', `expected a mapping at the top level, got ${describe(doc)}`);
  const { openapi, swagger } = doc;
  if (openapi === undefined && swagger === undefined) invalid('(root)', "missing 'openapi' or 'swagger' field");
  if (openapi !== undefined) {
    const v = typeof openapi === 'number' ? String(openapi) : openapi;
    if (typeof v !== 'string') invalid('openapi', `'openapi' must be a version string such as "3.0.3", got ${describe(openapi)}`);
    if (/^3\.0(\.\d+)?$/.test(v)) return '3.0';
    if (/^3\.1(\.\d+)?$/.test(v)) return '3.1';
    invalid('openapi', `unsupported OpenAPI version '${v}' (supported: swagger 2.0, openapi 3.0.x and 3.1.x)`, 'unsupported OpenAPI document');
  }
  if (swagger === '2.0' || swagger === 2) return '2.0';
  return invalid('swagger', `unsupported Swagger version '${String(swagger)}' (only "2.0" is supported)`, 'unsupported OpenAPI document');
}

/**
 * Checks the containers every OpenAPI document needs: `info` with `title` and `version`,
 * and `paths` (3.1 may instead have only `webhooks` or `components`). Returns format, title and version.
 */
export function checkStructure(doc: unknown): DocumentHeader {
  const format = detectFormat(doc);
  const root = doc as Record<string, unknown>;
  const info = root.info;
  if (info === undefined) invalid('info', "missing 'info' object (it must give at least 'title' and 'version')", 'invalid OpenAPI document');
  if (!isRecord(info)) invalid('info', `'info' must be an object, got ${describe(info)}`, 'invalid OpenAPI document');
  const { title, version } = info;
  if (typeof title !== 'string') invalid('info.title', `'info.title' must be a string, got ${describe(title)}`, 'invalid OpenAPI document');
  if (typeof version !== 'string' && typeof version !== 'number') {
    invalid('info.version', `'info.version' must be a string, got ${describe(version)}`, 'invalid OpenAPI document');
  }
  for (const key of ['paths', 'webhooks', 'components'] as const) {
    if (root[key] !== undefined && !isRecord(root[key])) {
      invalid(key, `'${key}' must be an object, got ${describe(root[key])}`, 'invalid OpenAPI document');
    }
  }
  if (format === '3.1') {
    if (root.paths === undefined && root.webhooks === undefined && root.components === undefined) {
      invalid('paths', "an OpenAPI 3.1 document needs at least one of 'paths', 'webhooks' or 'components'", 'invalid OpenAPI document');
    }
  } else if (root.paths === undefined) {
    invalid('paths', `missing 'paths' object (required in ${format === '2.0' ? 'Swagger 2.0' : 'OpenAPI 3.0'})`, 'invalid OpenAPI document');
  }
  return { format, title, version: String(version) };
}
