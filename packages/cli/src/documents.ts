// Reads resource documents for apply/diff from one YAML/JSON file or a directory tree of them
// (multi-document YAML), resolves an Api version's `specFile:` into its `openapi:` document, and
// checks every document locally so a mistake names its file before anything is sent.
import { readdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import YAML from 'yaml';
import { checkResource, describeErrors, isApigovError } from '@apigov/model';
import { collectSpec, type CollectedSpec } from './bundle.js';
import { CliError, EXIT_USAGE, usageError } from './errors.js';
import { displayPath as display, isDirectory, readLocalFile } from './files.js';
import { specLibrary } from './spec.js';

/** A resource document and where it came from (`index` counts documents in the file from 1). */
export interface SourcedDocument {
  document: Record<string, unknown>;
  file: string;
  index: number;
}

const RESOURCE_FILE = /\.(ya?ml|json)$/i;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function listResourceFiles(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch (e) {
    throw usageError(`cannot read ${dir}: ${(e as Error).message}`);
  }
  return entries
    .filter((rel) => RESOURCE_FILE.test(rel) && !rel.split(sep).some((segment) => segment.startsWith('.')))
    .sort()
    .map((rel) => join(dir, rel));
}

function flatten(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isRecord(value) && value.kind === undefined && Array.isArray(value.documents)) return value.documents;
  return [value];
}

async function parseFile(path: string): Promise<unknown[]> {
  const text = await readLocalFile(display(path));
  if (/\.json$/i.test(path)) {
    try {
      return flatten(JSON.parse(text));
    } catch (e) {
      throw usageError(`${display(path)}: invalid JSON: ${(e as Error).message}`, 'APIGOV_ERR_INPUT_MALFORMED');
    }
  }
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true });
  if (!Array.isArray(docs)) return [];
  const out: unknown[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw usageError(`${display(path)}: invalid YAML: ${doc.errors[0].message.split('\n')[0]}`, 'APIGOV_ERR_INPUT_MALFORMED');
    const value: unknown = doc.toJS({ maxAliasCount: 10_000 });
    if (value !== null && value !== undefined) out.push(...flatten(value));
  }
  return out;
}

function looksLikeOpenApi(doc: unknown): boolean {
  return isRecord(doc) && doc.kind === undefined && (typeof doc.openapi === 'string' || typeof doc.swagger === 'string');
}

function versionsOf(doc: unknown): Record<string, unknown>[] {
  if (!isRecord(doc) || doc.kind !== 'Api' || !isRecord(doc.spec) || !Array.isArray(doc.spec.versions)) return [];
  return doc.spec.versions.filter(isRecord);
}

async function resolveSpecFiles(doc: Record<string, unknown>, file: string, index: number, specs: Map<string, CollectedSpec>): Promise<Record<string, unknown>> {
  if (versionsOf(doc).every((v) => v.specFile === undefined)) return doc;
  const spec = doc.spec as Record<string, unknown>;
  const versions = await Promise.all(
    (spec.versions as unknown[]).map(async (v, i) => {
      if (!isRecord(v) || v.specFile === undefined) return v;
      const where = `${display(file)} (document ${index}): spec.versions[${i}]`;
      const { specFile, ...rest } = v;
      if (typeof specFile !== 'string') throw usageError(`${where}.specFile: must be a file path`, 'APIGOV_ERR_INPUT_INVALID');
      if (rest.openapi !== undefined) throw usageError(`${where}: give either openapi or specFile, not both`, 'APIGOV_ERR_INPUT_INVALID');
      const collected = specs.get(resolve(dirname(file), specFile))!;
      try {
        const loaded = await (await specLibrary()).loadSpec(collected.source);
        return { ...rest, openapi: loaded.document };
      } catch (e) {
        if (isApigovError(e)) throw new CliError(e.code, `${where}.specFile ${specFile}: ${e.message}`, { exitCode: EXIT_USAGE, errors: e.errors });
        throw e;
      }
    }),
  );
  return { ...doc, spec: { ...spec, versions } };
}

/** Every resource document under `target` (a file or a directory), ready for `POST /v1/apply`. */
export async function loadResourceDocuments(target: string): Promise<SourcedDocument[]> {
  const inDirectory = await isDirectory(target);
  const files = inDirectory ? await listResourceFiles(resolve(target)) : [resolve(target)];
  const parsed: Array<{ file: string; docs: unknown[]; error?: unknown }> = [];
  for (const file of files) {
    try {
      parsed.push({ file, docs: await parseFile(file) });
    } catch (error) {
      // reported below unless the file turns out to be part of a specFile's OpenAPI document
      parsed.push({ file, docs: [], error });
    }
  }

  // OpenAPI documents named by `specFile:` (and the files they reference) are not resources.
  const specs = new Map<string, CollectedSpec>();
  for (const { file, docs } of parsed) {
    for (const [i, doc] of docs.entries()) {
      for (const [j, v] of versionsOf(doc).entries()) {
        if (typeof v.specFile !== 'string') continue;
        const path = resolve(dirname(file), v.specFile);
        if (specs.has(path)) continue;
        try {
          specs.set(path, await collectSpec(display(path)));
        } catch (e) {
          if (!(e instanceof CliError)) throw e;
          const where = `${display(file)} (document ${i + 1}): spec.versions[${j}].specFile`;
          throw new CliError(e.code, `${where}: ${e.message}`, { exitCode: e.exitCode, errors: e.errors });
        }
      }
    }
  }
  const specPaths = new Set([...specs.values()].flatMap((s) => s.paths));

  const out: SourcedDocument[] = [];
  for (const { file, docs, error } of parsed) {
    if (inDirectory && specPaths.has(file)) continue;
    if (error !== undefined) throw error;
    for (const [i, raw] of docs.entries()) {
      if (inDirectory && looksLikeOpenApi(raw)) continue;
      const index = i + 1;
      const document = isRecord(raw) ? await resolveSpecFiles(raw, file, index, specs) : raw;
      const checked = checkResource(document);
      if (!checked.ok) throw usageError(`${display(file)} (document ${index}): ${describeErrors(checked.errors)}`, 'APIGOV_ERR_INPUT_INVALID', checked.errors);
      out.push({ document: document as Record<string, unknown>, file: display(file), index });
    }
  }
  return out;
}
