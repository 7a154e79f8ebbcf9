// headers on Envoy: the rule's RequestHeaderModifier and ResponseHeaderModifier filters (set and remove); renames
// have no Gateway API filter.
import type { PolicyMapping } from '../rule-export.js';

export const headers: PolicyMapping<'headers'> = (config, rule) => {
  for (const [side, edits, target] of [
    ['request', config.request, rule.requestHeaders],
    ['response', config.response, rule.responseHeaders],
  ] as const) {
    if (edits === undefined) continue;
    for (const [name, value] of Object.entries(edits.add)) target.set.push({ name, value });
    target.remove.push(...edits.remove);
    for (const [from, to] of Object.entries(edits.rename)) rule.unsupported('headers', `${side} header rename ${from} → ${to}: Gateway API header filters set and remove, they do not rename`);
  }
};
