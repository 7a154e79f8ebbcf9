// Declarative apply: a bundle of resources is validated whole, then applied in one transaction or not at
// all; dry-run runs every check and rolls back, returning the plan; prune deletes what the bundle no longer names.
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { ApigovError, KINDS, checkResource, type AnyResource, type FieldError, type Kind } from '@apigov/model';
import type { Store } from '@apigov/store';
import type { Principal } from '../auth.js';
import { sees } from '../visibility.js';
import { deleteResource, writeResource, type WriteContext } from './writes.js';

export interface PlanEntry {
  action: 'create' | 'update' | 'unchanged' | 'delete';
  kind: Kind;
  name: string;
}

export interface ApplyResult {
  dryRun: boolean;
  applied: boolean;
  plan: PlanEntry[];
}

export const MAX_DOCUMENTS = 5000;

/** Reads a bundle: multi-document YAML/JSON text, or `{documents: [...]}`. Syntax errors name the line. */
export function readBundle(body: unknown): unknown[] {
  if (typeof body === 'string') {
    const docs = parseAllDocuments(body, { uniqueKeys: true });
    const list = Array.isArray(docs) ? docs : [docs];
    const out: unknown[] = [];
    for (const [i, d] of list.entries()) {
      if (d.errors.length > 0) {
        const e = d.errors[0];
        const line = e.linePos?.[0]?.line;
        throw new ApigovError('APIGOV_ERR_INPUT_MALFORMED', `document ${i + 1}${line ? `, line ${line}` : ''}: ${e.message.split('\n')[0]}`, {
          errors: [{ path: `documents[${i}]`, message: e.message.split('\n')[0] }],
        });
      }
      const value: unknown = d.toJS({ maxAliasCount: 10000 });
      if (value !== null && value !== undefined) out.push(value);
    }
    return out;
  }
  if (typeof body === 'object' && body !== null && Array.isArray((body as { documents?: unknown }).documents)) return (body as { documents: unknown[] }).documents;
  throw new ApigovError('APIGOV_ERR_INPUT_MALFORMED', 'send multi-document YAML (application/yaml) or JSON {"documents": [...]}');
}

/** Validates every document; all errors of all documents are reported together, each path prefixed `documents[i]`. */
export function validateBundle(docs: unknown[]): AnyResource[] {
  if (docs.length > MAX_DOCUMENTS) throw new ApigovError('APIGOV_ERR_INPUT_TOO_LARGE', `a bundle holds at most ${MAX_DOCUMENTS} documents; this one has ${docs.length}`);
  const errors: FieldError[] = [];
  const resources: AnyResource[] = [];
  const seen = new Map<string, number>();
  docs.forEach((doc, i) => {
    const r = checkResource(doc, `documents[${i}]`);
    if (!r.ok) {
      errors.push(...r.errors);
      return;
    }
    const id = `${r.resource.kind}/${r.resource.metadata.name}`;
    const dup = seen.get(id);
    if (dup !== undefined) errors.push({ path: `documents[${i}].metadata.name`, message: `${id} is also documents[${dup}]` });
    seen.set(id, i);
    resources.push(r.resource);
  });
  if (errors.length > 0) {
    throw new ApigovError('APIGOV_ERR_INPUT_INVALID', `${errors[0].path}: ${errors[0].message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}; nothing was applied`, { errors });
  }
  return resources;
}

class DryRunRollback extends Error {}

export async function applyBundle(store: Store, principal: Principal, requestId: string, body: unknown, options: { dryRun: boolean; prune: boolean }): Promise<ApplyResult> {
  const docs = readBundle(body);
  const resources = validateBundle(docs);
  const index = new Map(resources.map((r, i) => [r, i]));
  const ordered = [...resources].sort((a, b) => KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind));
  const plan: PlanEntry[] = [];
  const run = async () =>
    store.transaction(async (tx) => {
      const ctx: WriteContext = { tx, principal, requestId, bulk: true };
      for (const r of ordered) {
        const { outcome } = await writeResource(ctx, r, { prefix: `documents[${index.get(r)}].`, action: undefined });
        plan.push({ action: outcome, kind: r.kind, name: r.metadata.name });
      }
      if (options.prune) {
        const kinds = [...new Set(resources.map((r) => r.kind))].sort((a, b) => KINDS.indexOf(b) - KINDS.indexOf(a));
        for (const kind of kinds) {
          const keep = new Set(resources.filter((r) => r.kind === kind).map((r) => r.metadata.name));
          const doomed: string[] = [];
          let after: string | undefined;
          for (;;) {
            const page = await tx.list(kind, { after, limit: 500 });
            for (const s of page) if (!keep.has(s.resource.metadata.name) && (await sees(tx, principal, s.resource))) doomed.push(s.resource.metadata.name);
            if (page.length < 500) break;
            after = page[page.length - 1].resource.metadata.name;
          }
          for (const name of doomed) {
            await deleteResource(ctx, kind, name, { action: 'prune' });
            plan.push({ action: 'delete', kind, name });
          }
        }
      }
      if (options.dryRun) throw new DryRunRollback();
    });
  try {
    await run();
  } catch (e) {
    if (!(e instanceof DryRunRollback)) throw e;
    return { dryRun: true, applied: false, plan };
  }
  return { dryRun: false, applied: true, plan };
}

/** Parses a single YAML or JSON resource body (REST create/replace). */
export function readOneDocument(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return parseYaml(body, { uniqueKeys: true });
  } catch (e) {
    throw new ApigovError('APIGOV_ERR_INPUT_MALFORMED', `malformed YAML: ${(e as Error).message.split('\n')[0]}`);
  }
}
