// The headers policy: request header add/remove/rename before forwarding (transform phase, priority 100, before
// path rewrite), and the response side (add/remove/rename) compiled into the route's answer headers.
import { headersConfig, type PolicyConfigs } from '@apigov/model';
import { definePolicy } from '../policy.js';

type HeadersConfig = NonNullable<PolicyConfigs['headers']>;

/** The response half of the headers policy, as the core applies it to every answer of the route. */
export function responseHeaderEdits(config: HeadersConfig | undefined): { add: string[]; remove: Set<string> | undefined; rename: Map<string, string> | undefined } {
  const r = config?.response;
  if (r === undefined) return { add: [], remove: undefined, rename: undefined };
  const add: string[] = [];
  for (const [k, v] of Object.entries(r.add)) add.push(k.toLowerCase(), v);
  const remove = new Set([...r.remove.map((h) => h.toLowerCase()), ...Object.keys(r.add).map((h) => h.toLowerCase())]);
  const renames = Object.entries(r.rename);
  return { add, remove: remove.size === 0 ? undefined : remove, rename: renames.length === 0 ? undefined : new Map(renames.map(([from, to]) => [from.toLowerCase(), to])) };
}

export const headersPolicy = definePolicy({
  id: 'headers',
  phase: 'transform',
  // 100: header edits first, so path rewrite (200) and anything after sees the final request
  priority: 100,
  compile(rawConfig) {
    const config = headersConfig.parse(rawConfig);
    const r = config.request;
    if (r === undefined) return null;
    const renames = Object.entries(r.rename).map(([from, to]) => [from.toLowerCase(), to.toLowerCase()] as const);
    const removes = r.remove.map((h) => h.toLowerCase());
    const adds = Object.entries(r.add).map(([k, v]) => [k.toLowerCase(), v] as const);
    if (renames.length === 0 && removes.length === 0 && adds.length === 0) return null;
    return {
      handle(ctx) {
        const headers = ctx.req.headers;
        for (let i = 0; i < renames.length; i++) {
          const [from, to] = renames[i]!;
          const value = headers[from];
          if (value === undefined) continue;
          ctx.removeRequestHeaders.add(from);
          ctx.setRequestHeaders[to] = Array.isArray(value) ? value.join(', ') : value;
        }
        for (let i = 0; i < removes.length; i++) {
          ctx.removeRequestHeaders.add(removes[i]!);
          delete ctx.setRequestHeaders[removes[i]!];
        }
        for (let i = 0; i < adds.length; i++) ctx.setRequestHeaders[adds[i]![0]] = adds[i]![1];
      },
    };
  },
});
