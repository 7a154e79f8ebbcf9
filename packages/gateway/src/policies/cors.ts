// The CORS policy: answers preflight requests itself (204, or 403 for an origin not on the allow list) and adds
// Access-Control-* headers and `Vary: Origin` to answers for allowed origins. onRequest phase, priority 200:
// after the IP filter, before authentication (preflights carry no credentials).
import { corsConfig } from '@apigov/model';
import { definePolicy } from '../policy.js';

export const corsPolicy = definePolicy({
  id: 'cors',
  phase: 'onRequest',
  priority: 200,
  compile(rawConfig) {
    const config = corsConfig.parse(rawConfig);
    const any = config.allowOrigins.includes('*');
    const origins = new Set(config.allowOrigins);
    // with credentials, `*` is not allowed by browsers: the request's origin is echoed instead
    const wildcard = any && !config.allowCredentials;
    const methods = config.allowMethods.join(', ');
    const allowHeaders = config.allowHeaders.length === 0 ? undefined : config.allowHeaders.join(', ');
    const expose = config.exposeHeaders.length === 0 ? undefined : config.exposeHeaders.join(', ');
    const maxAge = String(config.maxAgeSeconds);
    return {
      handle(ctx) {
        const req = ctx.req;
        const origin = req.headers.origin;
        if (origin === undefined) return;
        const allowed = any || origins.has(origin);
        const requestedMethod = req.method === 'OPTIONS' ? req.headers['access-control-request-method'] : undefined;
        if (requestedMethod !== undefined) {
          if (!allowed) {
            ctx.responseHeaders.push(['vary', 'Origin']);
            ctx.reject('APIGOV_ERR_GATEWAY_CORS_ORIGIN', `origin ${origin} may not call this API from a browser`);
            return;
          }
          const headers: string[] = [
            'access-control-allow-origin', wildcard ? '*' : origin,
            'access-control-allow-methods', methods,
            'access-control-max-age', maxAge,
            'vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
            'content-length', '0',
            'x-request-id', ctx.requestId,
          ];
          // no configured list: allow what the browser asks for (the origin check is what protects)
          const requested = req.headers['access-control-request-headers'];
          const h = allowHeaders ?? requested;
          if (h !== undefined && h !== '') headers.push('access-control-allow-headers', h);
          if (config.allowCredentials) headers.push('access-control-allow-credentials', 'true');
          ctx.res.writeHead(204, headers);
          ctx.res.end();
          return;
        }
        const out = ctx.responseHeaders;
        out.push(['vary', 'Origin']);
        if (!allowed) return;
        out.push(['access-control-allow-origin', wildcard ? '*' : origin]);
        if (config.allowCredentials) out.push(['access-control-allow-credentials', 'true']);
        if (expose !== undefined) out.push(['access-control-expose-headers', expose]);
      },
    };
  },
});
