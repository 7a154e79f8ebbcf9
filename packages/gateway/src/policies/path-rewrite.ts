// The path-rewrite policy: the route prefix is replaced by `replacePrefix` instead of being stripped
// (transform phase, priority 200: after header edits, last before the upstream).
import { pathRewriteConfig } from '@apigov/model';
import { definePolicy } from '../policy.js';

export const pathRewritePolicy = definePolicy({
  id: 'pathRewrite',
  phase: 'transform',
  priority: 200,
  compile(rawConfig) {
    const { replacePrefix } = pathRewriteConfig.parse(rawConfig);
    const prefix = replacePrefix.endsWith('/') ? replacePrefix.slice(0, -1) : replacePrefix;
    if (prefix === '') return null; // stripping is what the gateway does anyway
    return {
      handle(ctx) {
        // ctx.upstreamPath is the path after the route prefix (always starting with '/'), plus the query
        const rest = ctx.upstreamPath;
        ctx.upstreamPath = rest === '/' ? prefix : rest.charCodeAt(1) === 63 /* ? */ ? prefix + rest.slice(1) : prefix + rest;
      },
    };
  },
});
