// What the portal reads from an OpenAPI document itself: its operations, and the changes between two versions.
export interface Operation {
  method: string;
  path: string;
  summary?: string;
  key: string;
  shape: string;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

export function operations(doc: Record<string, unknown> | undefined): Operation[] {
  const paths = (doc?.paths ?? {}) as Record<string, Record<string, unknown>>;
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(paths)) {
    for (const m of METHODS) {
      const op = item?.[m] as Record<string, unknown> | undefined;
      if (!op) continue;
      const shape = JSON.stringify({ parameters: op.parameters ?? [], requestBody: op.requestBody ?? null, responses: Object.keys((op.responses as object) ?? {}).sort() });
      out.push({ method: m.toUpperCase(), path, summary: typeof op.summary === 'string' ? op.summary : undefined, key: `${m.toUpperCase()} ${path}`, shape });
    }
  }
  return out;
}

export interface Change {
  kind: 'added' | 'removed' | 'changed';
  operation: string;
  summary?: string;
}

/** Operations added, removed or changed (parameters, request body or response codes) from `from` to `to`. */
export function diffOperations(from: Record<string, unknown>, to: Record<string, unknown>): Change[] {
  const a = new Map(operations(from).map((o) => [o.key, o]));
  const b = new Map(operations(to).map((o) => [o.key, o]));
  const out: Change[] = [];
  for (const [k, o] of b) {
    const before = a.get(k);
    if (!before) out.push({ kind: 'added', operation: k, summary: o.summary });
    else if (before.shape !== o.shape) out.push({ kind: 'changed', operation: k, summary: o.summary });
  }
  for (const [k, o] of a) if (!b.has(k)) out.push({ kind: 'removed', operation: k, summary: o.summary });
  return out.sort((x, y) => x.operation.localeCompare(y.operation));
}
