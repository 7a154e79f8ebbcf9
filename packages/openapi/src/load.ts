// loadSpec: from text (one document) or a bundle of files to one parsed, bundled OpenAPI document
// with its format, title and version; size is checked before anything is parsed.
import { ApigovError } from '@apigov/model';
import { bundleDocument, normaliseFilePath } from './bundle.js';
import { checkStructure } from './detect.js';
import { parseText } from './parse.js';
import type { OpenApiDocument, SpecFormat } from './types.js';

/** A bundle of files: path -> text; `entry` is the key of the root document. */
export interface SpecSource {
  entry: string;
  files: Record<string, string>;
}

export interface LoadedSpec {
  document: OpenApiDocument;
  format: SpecFormat;
  title: string;
  /** `info.version` as a string. */
  version: string;
  /** The entry text as given. */
  text: string;
}

export interface LoadOptions {
  /** Limit over the sum of all files, in UTF-8 bytes. Default 20 MiB. */
  maxBytes?: number;
  /** Remote (http/https) refs are never fetched; with this flag they are still refused, with a different message. */
  allowRemoteRefs?: boolean;
}

export const DEFAULT_MAX_SPEC_BYTES = 20 * 1024 * 1024;

const SINGLE_ENTRY = '(document)';

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MiB` : `${n} bytes`;
}

/**
 * Parses, checks and bundles an OpenAPI document (Swagger 2.0, OpenAPI 3.0.x or 3.1.x).
 * Throws ApigovError with APIGOV_ERR_SPEC_TOO_LARGE, _PARSE, _INVALID, _UNRESOLVED_REF or _REMOTE_REF.
 */
export async function loadSpec(source: SpecSource | string, options: LoadOptions = {}): Promise<LoadedSpec> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_SPEC_BYTES;
  const single = typeof source === 'string';
  const files = new Map<string, string>();
  let entry: string;
  if (single) {
    entry = SINGLE_ENTRY;
    files.set(entry, source);
  } else {
    if (!source || typeof source.entry !== 'string' || !source.files || typeof source.files !== 'object') {
      throw new ApigovError('APIGOV_ERR_SPEC_INVALID', "a spec bundle needs 'entry' (a file name) and 'files' (file name -> text)", {
        errors: [{ path: 'entry', message: "missing 'entry' or 'files'" }],
      });
    }
    for (const [name, text] of Object.entries(source.files)) {
      if (typeof text !== 'string') {
        throw new ApigovError('APIGOV_ERR_SPEC_INVALID', `file '${name}' of the bundle is not text`, { errors: [{ path: `files.${name}`, message: 'must be a string' }] });
      }
      const key = normaliseFilePath(name);
      if (!files.has(key)) files.set(key, text);
    }
    entry = normaliseFilePath(source.entry);
    if (!files.has(entry)) {
      throw new ApigovError('APIGOV_ERR_SPEC_INVALID', `entry '${source.entry}' is not one of the bundle's files (${[...files.keys()].slice(0, 10).join(', ')})`, {
        errors: [{ path: 'entry', message: `'${source.entry}' is not in 'files'` }],
      });
    }
  }

  let total = 0;
  for (const text of files.values()) total += Buffer.byteLength(text, 'utf8');
  if (total > maxBytes) {
    throw new ApigovError('APIGOV_ERR_SPEC_TOO_LARGE', `OpenAPI document is ${formatBytes(total)}, over the limit of ${formatBytes(maxBytes)}`, {
      errors: [{ path: single ? '(document)' : 'files', message: `${total} bytes > ${maxBytes} bytes` }],
      extensions: { sizeBytes: total, maxBytes },
    });
  }

  const text = files.get(entry)!;
  const parsed = parseText(text, single ? undefined : entry);
  const header = checkStructure(parsed);
  const document = bundleDocument({
    files,
    entry,
    entryDocument: parsed,
    parse: (t, file) => parseText(t, file),
    single,
    allowRemoteRefs: options.allowRemoteRefs ?? false,
  }) as OpenApiDocument;
  return { document, format: header.format, title: header.title, version: header.version, text };
}
