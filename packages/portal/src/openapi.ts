// What the portal reads from an OpenAPI document itself: its operations (the changes between versions come from
// the control plane's diff engine, POST /v1/apis/{name}/diff).
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
