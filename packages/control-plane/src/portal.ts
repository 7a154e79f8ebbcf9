// Serves the developer portal (the built single-page app of @apigov/portal) at `/`: its files with long-lived
// caching for hashed assets, and index.html for any other GET outside /v1 so client-side routes work.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ApigovError } from '@apigov/model';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** The portal's build directory, or undefined when the portal is not built. */
export function portalDir(explicit?: string): string | undefined {
  if (explicit !== undefined) return existsSync(join(explicit, 'index.html')) ? explicit : undefined;
  try {
    const pkg = createRequire(import.meta.url).resolve('@apigov/portal/package.json');
    const dist = join(dirname(pkg), 'dist');
    return existsSync(join(dist, 'index.html')) ? dist : undefined;
  } catch {
    return undefined;
  }
}

export function registerPortal(app: FastifyInstance, dir: string | undefined): void {
  if (dir === undefined) {
    app.get('/', async (_request, reply) =>
      reply.type('text/plain; charset=utf-8').send('apigov control plane. The portal is not built (npm run build); the REST API is at /v1 and described at /v1/openapi.json.\n'),
    );
    return;
  }
  const root = normalize(dir);
  const index = readFileSync(join(root, 'index.html'));
  const sendIndex = (reply: import('fastify').FastifyReply) => reply.type(TYPES['.html']).header('cache-control', 'no-cache').send(index);
  app.get('/', async (_request, reply) => sendIndex(reply));
  app.get('/*', async (request, reply) => {
    const path = decodeURIComponent(request.url.split('?')[0]);
    if (path === '/v1' || path.startsWith('/v1/')) {
      throw new ApigovError('APIGOV_ERR_RESOURCE_NOT_FOUND', `no route GET ${path}`);
    }
    const file = normalize(join(root, path));
    if (file.startsWith(root + sep) && existsSync(file) && statSync(file).isFile()) {
      const type = TYPES[extname(file)] ?? 'application/octet-stream';
      // Vite puts content hashes in asset names: those never change
      const immutable = path.startsWith('/assets/');
      return reply.type(type).header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache').send(readFileSync(file));
    }
    if (extname(path) !== '') return reply.code(404).type('text/plain').send('not found\n');
    return sendIndex(reply);
  });
}
