// Validates Backstage entities against Backstage's own schemas (catalog-model 1.10.1, scaffolder-common 2.3.0, in
// test/schemas), as its catalog processor does once an API's `$text` definition has been read: a kind without a
// schema fails.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';

type AjvClass = new (o: Record<string, unknown>) => { addSchema(s: unknown): unknown; getSchema(id: string): ((d: unknown) => boolean) & { errors?: unknown } | undefined };
const Ajv = ((AjvModule as unknown as { default?: AjvClass }).default ?? AjvModule) as unknown as AjvClass;
const SCHEMAS = join(import.meta.dirname, 'schemas');

function schemaFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? schemaFiles(join(dir, f)) : f.endsWith('.json') ? [join(dir, f)] : []));
}

const ajv = new Ajv({ strict: false, allErrors: true });
for (const file of schemaFiles(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(file, 'utf8')));
const KIND_SCHEMA: Record<string, string> = { API: 'ApiV1alpha1', Group: 'GroupV1alpha1', User: 'UserV1alpha1', System: 'SystemV1alpha1', Component: 'ComponentV1alpha1', Template: 'TemplateV1beta3' };

/** The problems of one entity; `definition` is what its `$text` URL serves (required when it has one). */
export function backstageProblems(entity: Record<string, any>, definition?: string): string[] {
  const id = KIND_SCHEMA[entity.kind as string];
  if (id === undefined) return [`no Backstage schema for kind ${entity.kind}`];
  const check = ajv.getSchema(id);
  if (check === undefined) return [`schema ${id} is missing from test/schemas`];
  const resolved = structuredClone(entity);
  if (resolved.spec?.definition?.$text !== undefined) {
    if (definition === undefined) return [`definition ${resolved.spec.definition.$text} was not read`];
    resolved.spec.definition = definition;
  }
  return check(resolved) ? [] : [JSON.stringify(check.errors)];
}
