// Bundles a multi-file OpenAPI source into one document: relative file $refs are inlined where they are
// first met and later uses point there with internal refs, so cycles stay cycles and the result stays JSON.
import { posix } from 'node:path';
import { ApigovError, type ErrorCode, type FieldError } from '@apigov/model';
import { decodePointer, encodePointer, formatPath, getAtPointer, isRecord, type PathToken } from './json-path.js';

export interface BundleInput {
  /** Normalised file path -> text. */
  files: ReadonlyMap<string, string>;
  /** Key of the entry file in `files`. */
  entry: string;
  /** The already parsed entry document. */
  entryDocument: unknown;
  /** Parses a file of the bundle (errors name the file). */
  parse: (text: string, file: string) => unknown;
  /** True when the entry was given as a single text, not as a bundle (changes the wording of errors). */
  single: boolean;
  allowRemoteRefs: boolean;
}

/** Where a $ref points: a file of the bundle and the JSON Pointer tokens inside it. */
interface Target {
  file: string;
  tokens: string[];
  /** A `#name` anchor reference in the entry: kept as written, not checked. */
  anchor?: boolean;
}

interface Issue {
  code: ErrorCode;
  error: FieldError;
}

/** Keys under which `example` names a thing (a property, a component) rather than holding example data. */
const NAMED_MAPS = new Set([
  'properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas', 'schemas', 'parameters',
  'responses', 'headers', 'examples', 'securitySchemes', 'securityDefinitions', 'links', 'callbacks',
  'requestBodies', 'pathItems', 'variables', 'content', 'encoding', 'webhooks',
]);

const MAX_ISSUES = 50;
const MAX_REF_HOPS = 64;

/** Normalises a bundle key or a resolved ref path: forward slashes, no `./`, no `a/../`. */
export function normaliseFilePath(file: string): string {
  const n = posix.normalize(file.replace(/\\/g, '/'));
  return n.startsWith('./') ? n.slice(2) : n;
}

class RefError extends Error {
  constructor(readonly code: ErrorCode, readonly reason: string) {
    super(reason);
  }
}

class Bundler {
  private readonly parsed = new Map<string, unknown>();
  /** `file#pointer` -> location in the output where that target was inlined first. */
  private readonly inlinedAt = new Map<string, PathToken[]>();
  readonly issues: Issue[] = [];

  constructor(private readonly input: BundleInput) {
    this.parsed.set(input.entry, input.entryDocument);
  }

  private label(file: string): string {
    return this.input.single && file === this.input.entry ? 'the document' : file;
  }

  private document(file: string): unknown {
    if (!this.parsed.has(file)) this.parsed.set(file, this.input.parse(this.input.files.get(file) ?? '', file));
    return this.parsed.get(file);
  }

  /** Resolves a $ref string written in `from` to a file of the bundle and a pointer, or throws a RefError. */
  private locate(ref: string, from: string): Target {
    const hash = ref.indexOf('#');
    const filePart = hash === -1 ? ref : ref.slice(0, hash);
    const fragment = hash === -1 ? '' : ref.slice(hash + 1);
    if (fragment !== '' && !fragment.startsWith('/')) {
      // a plain-name fragment (`#pet`, a JSON Schema $anchor): only meaningful inside its own document
      if (filePart === '' && from === this.input.entry) return { file: from, tokens: [], anchor: true };
      throw new RefError('APIGOV_ERR_SPEC_UNRESOLVED_REF', `'#${fragment}' is not a JSON Pointer; $anchor references are only supported inside the entry document`);
    }
    const tokens = decodePointer(fragment);
    if (filePart === '') return { file: from, tokens };
    if (/^(https?:)?\/\//i.test(filePart)) {
      throw new RefError(
        'APIGOV_ERR_SPEC_REMOTE_REF',
        this.input.allowRemoteRefs
          ? 'remote references are not fetched by apigov; add the file to the bundle and refer to it by a relative path'
          : 'remote references are not allowed; add the file to the bundle and refer to it by a relative path',
      );
    }
    if (/^[a-z][a-z0-9+.-]*:/i.test(filePart)) {
      throw new RefError('APIGOV_ERR_SPEC_UNRESOLVED_REF', `unsupported reference '${filePart}': only relative paths to files of the bundle are allowed`);
    }
    if (this.input.single) {
      throw new RefError(
        'APIGOV_ERR_SPEC_UNRESOLVED_REF',
        'a single document was given, so there is no other file to refer to; upload the files together as a bundle',
      );
    }
    const base = posix.dirname(from);
    const candidates = [filePart];
    try {
      const decoded = decodeURI(filePart);
      if (decoded !== filePart) candidates.push(decoded);
    } catch {
      // not percent-encoded
    }
    let first = '';
    for (const candidate of candidates) {
      const resolved = normaliseFilePath(candidate.startsWith('/') ? candidate : posix.join(base, candidate));
      first ||= resolved;
      if (this.input.files.has(resolved)) return { file: resolved, tokens };
    }
    if (first === '..' || first.startsWith('../') || first.startsWith('/')) {
      throw new RefError('APIGOV_ERR_SPEC_UNRESOLVED_REF', `'${filePart}' points outside the bundle`);
    }
    throw new RefError('APIGOV_ERR_SPEC_UNRESOLVED_REF', `file '${first}' is not in the bundle`);
  }

  /** Finds the value a target points at, following $refs met on the way (`a.yaml#/x/y` where `/x` is itself a $ref). */
  private resolve(target: Target, hops = 0): { file: string; value: unknown } {
    if (hops > MAX_REF_HOPS) throw new RefError('APIGOV_ERR_SPEC_UNRESOLVED_REF', 'too many chained $refs (a $ref that points to itself?)');
    let file = target.file;
    let node = this.document(file);
    for (let i = 0; i < target.tokens.length; i++) {
      const token = target.tokens[i]!;
      if (isRecord(node) && typeof node.$ref === 'string' && !Object.prototype.hasOwnProperty.call(node, token)) {
        const followed = this.resolve(this.locate(node.$ref, file), hops + 1);
        file = followed.file;
        node = followed.value;
      }
      const step = getAtPointer(node, [token]);
      if (!step.found) {
        const full = encodePointer(target.tokens);
        const missing = encodePointer(target.tokens.slice(0, i + 1));
        const detail = missing === full ? '' : ` (there is nothing at '${missing}')`;
        throw new RefError('APIGOV_ERR_SPEC_UNRESOLVED_REF', `'${full}' does not exist in ${this.label(target.file)}${detail}`);
      }
      node = step.value;
    }
    return { file, value: node };
  }

  private report(code: ErrorCode, ref: string, file: string, outPath: PathToken[], reason: string): void {
    if (this.issues.length >= MAX_ISSUES) return;
    const location = formatPath(outPath);
    const writtenIn = file === this.input.entry ? '' : ` (written in ${file})`;
    const kind = code === 'APIGOV_ERR_SPEC_REMOTE_REF' ? 'remote $ref' : 'unresolved $ref';
    this.issues.push({ code, error: { path: location, message: `${kind} '${ref}' at ${location}${writtenIn}: ${reason}` } });
  }

  /**
   * Copies `node` with its refs bundled. `lenient` is set inside example data (`example`, JSON Schema
   * `examples` lists): a `$ref` there is inlined when it resolves (some APIs keep examples in files),
   * and otherwise kept as written, as data, without an error.
   */
  walk(node: unknown, file: string, outPath: PathToken[], parentKey?: string, lenient = false): unknown {
    if (Array.isArray(node)) return node.map((item, i) => this.walk(item, file, [...outPath, i], undefined, lenient));
    if (!isRecord(node)) return node;
    const ref = node.$ref;
    const out: Record<string, unknown> = {};
    if (typeof ref !== 'string') {
      const named = parentKey !== undefined && NAMED_MAPS.has(parentKey);
      for (const [key, value] of Object.entries(node)) {
        const isExample = !named && (key === 'example' || (key === 'examples' && Array.isArray(value)));
        out[key] = this.walk(value, file, [...outPath, key], key, lenient || isExample);
      }
      return out;
    }
    const siblings: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key !== '$ref') siblings[key] = this.walk(value, file, [...outPath, key], key, lenient);
    }
    let target: Target;
    try {
      target = this.locate(ref, file);
      if (target.file === this.input.entry) {
        if (!target.anchor) this.resolve(target); // validate only: refs into the entry stay internal refs
        return { $ref: file === this.input.entry ? ref : encodePointer(target.tokens), ...siblings };
      }
      const key = `${target.file}#${encodePointer(target.tokens)}`;
      const seen = this.inlinedAt.get(key);
      if (seen) return { $ref: encodePointer(seen), ...siblings };
      const { file: valueFile, value } = this.resolve(target);
      this.inlinedAt.set(key, outPath);
      const inlined = this.walk(value, valueFile, outPath, parentKey, lenient);
      return isRecord(inlined) && Object.keys(siblings).length > 0 ? { ...inlined, ...siblings } : inlined;
    } catch (e) {
      // inside example data, a target that does not resolve or does not parse is left alone
      if (lenient && (e instanceof RefError || e instanceof ApigovError)) return { $ref: ref, ...siblings };
      if (!(e instanceof RefError)) throw e;
      this.report(e.code, ref, file, outPath, e.reason);
      return { $ref: ref, ...siblings };
    }
  }
}

/**
 * Returns the entry document with every relative file $ref inlined; only `#/...` refs remain.
 * Throws APIGOV_ERR_SPEC_REMOTE_REF / APIGOV_ERR_SPEC_UNRESOLVED_REF listing every bad $ref (up to 50).
 */
export function bundleDocument(input: BundleInput): unknown {
  const bundler = new Bundler(input);
  const result = bundler.walk(input.entryDocument, input.entry, []);
  const issues = bundler.issues;
  if (issues.length > 0) {
    const first = issues[0]!;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more $ref problem${issues.length > 2 ? 's' : ''})` : '';
    throw new ApigovError(first.code, first.error.message + more, { errors: issues.map((i) => i.error) });
  }
  return result;
}
