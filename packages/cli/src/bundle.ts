// Gathers an OpenAPI document and every local file its $refs reach (transitively) into the
// `{entry, files}` bundle the control plane and @apigov/openapi accept; a single-file spec stays plain text.
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import YAML from 'yaml';
import { CliError, EXIT_USAGE, usageError } from './errors.js';
import { displayPath, readLocalFile } from './files.js';
import type { SpecBundle } from './api.js';

const MAX_FILES = 1000;
const MAX_BYTES = 50 * 1024 * 1024;

export interface CollectedSpec {
  /** The text of the entry file when it references no other file, else the bundle. */
  source: string | SpecBundle;
  /** The parsed entry document, when it parses. */
  entryDocument: unknown;
  /** Absolute paths of every file read, the entry first. */
  paths: string[];
}

function refsIn(value: unknown, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) refsIn(v, out);
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.add(v);
      else refsIn(v, out);
    }
  }
}

/** The local file a $ref names (without its fragment), or undefined for internal and remote refs. */
function localTarget(ref: string): string | undefined {
  if (ref.startsWith('#') || /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(ref)) return undefined;
  const file = ref.split('#')[0];
  if (file === '') return undefined;
  try {
    return decodeURI(file);
  } catch {
    return file;
  }
}

function parse(text: string): unknown {
  try {
    return YAML.parse(text, { maxAliasCount: -1, uniqueKeys: false });
  } catch {
    return undefined;
  }
}

function commonDir(paths: readonly string[]): string {
  let base = dirname(paths[0]);
  const outside = (p: string) => {
    const rel = relative(base, p);
    return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  };
  for (const p of paths) {
    while (outside(p) && dirname(base) !== base) base = dirname(base);
  }
  return base;
}

const toPosix = (p: string) => p.split(sep).join('/');

/** Reads `entryPath` and the local files its $refs reach; throws a usage error for an unreadable one. */
export async function collectSpec(entryPath: string): Promise<CollectedSpec> {
  const entry = resolve(entryPath);
  const texts = new Map<string, string>();
  const queue: Array<{ path: string; from?: string }> = [{ path: entry }];
  let bytes = 0;
  let entryDocument: unknown;
  while (queue.length > 0) {
    const { path, from } = queue.shift()!;
    if (texts.has(path)) continue;
    if (texts.size >= MAX_FILES) throw new CliError('APIGOV_ERR_SPEC_TOO_LARGE', `${entryPath} references more than ${MAX_FILES} files`, { exitCode: EXIT_USAGE });
    const text = from === undefined ? await readLocalFile(entryPath) : await readReferenced(path, from);
    bytes += Buffer.byteLength(text);
    if (bytes > MAX_BYTES) throw new CliError('APIGOV_ERR_SPEC_TOO_LARGE', `${entryPath} and the files it references exceed ${MAX_BYTES / 1024 / 1024} MB`, { exitCode: EXIT_USAGE });
    texts.set(path, text);
    const doc = parse(text);
    if (from === undefined) entryDocument = doc;
    const refs = new Set<string>();
    refsIn(doc, refs);
    for (const ref of refs) {
      const target = localTarget(ref);
      if (target !== undefined) queue.push({ path: resolve(dirname(path), target), from: path });
    }
  }
  const paths = [...texts.keys()];
  if (paths.length === 1) return { source: texts.get(entry)!, entryDocument, paths };
  const base = commonDir(paths);
  const files: Record<string, string> = {};
  for (const [p, t] of texts) files[toPosix(relative(base, p))] = t;
  return { source: { entry: toPosix(relative(base, entry)), files }, entryDocument, paths };
}

async function readReferenced(path: string, from: string): Promise<string> {
  try {
    return await readLocalFile(path);
  } catch (e) {
    const why = e instanceof CliError ? e.message.replace(/^cannot read [^:]*: /, '') : String(e);
    throw usageError(`cannot read ${displayPath(path)} (a $ref in ${displayPath(from)}): ${why}`, 'APIGOV_ERR_SPEC_UNRESOLVED_REF');
  }
}
