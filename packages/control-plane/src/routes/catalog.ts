// Catalog-wide REST: search, server-side lint, declarative apply and export.
import type { FastifyInstance } from 'fastify';
import { ApigovError, KINDS, LIFECYCLE_STATES, isKind, type AnyResource, type Kind, type LifecycleState } from '@apigov/model';
import { lintSpecOffThread, loadSpec, type SpecSource } from '@apigov/openapi';
import { requireSignedIn } from '../auth.js';
import { applyBundle } from '../catalog/apply.js';
import { exportResources, toYamlStream } from '../catalog/export.js';
import { exportFormatOf, exportModel } from '../catalog/exports.js';
import { blockLevel, blocks, lintDocument, loadGovernance } from '../catalog/governance.js';
import { pageLimit, query, type Deps } from '../http.js';
import { viewerOf } from '../rbac.js';

function bool(v: string | undefined, name: string): boolean {
  if (v === undefined || v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw new ApigovError('APIGOV_ERR_INPUT_INVALID', `${name} must be true or false`, { errors: [{ path: name, message: 'must be true or false' }] });
}

export function registerCatalogRoutes(app: FastifyInstance, deps: Deps): void {
  app.get('/v1/search', async (request) => {
    const q = query(request);
    if (q.state !== undefined && !(LIFECYCLE_STATES as readonly string[]).includes(q.state)) {
      throw new ApigovError('APIGOV_ERR_INPUT_INVALID', `state must be one of ${LIFECYCLE_STATES.join(', ')}`, { errors: [{ path: 'state', message: `must be one of ${LIFECYCLE_STATES.join(', ')}` }] });
    }
    if (q.q !== undefined && q.q.length > 500) throw new ApigovError('APIGOV_ERR_INPUT_INVALID', 'q is longer than 500 characters', { errors: [{ path: 'q', message: 'at most 500 characters' }] });
    return deps.store.searchApis({
      text: q.q,
      team: q.team,
      tag: q.tag,
      environment: q.environment,
      state: q.state as LifecycleState | undefined,
      viewer: viewerOf(request.principal),
      limit: pageLimit(q.limit, 20),
      cursor: q.cursor,
    });
  });

  app.post('/v1/lint', async (request) => {
    requireSignedIn(request.principal);
    const body = (request.body ?? {}) as { spec?: string | SpecSource; environment?: string };
    if (body.spec === undefined) throw new ApigovError('APIGOV_ERR_INPUT_INVALID', 'spec: is required', { errors: [{ path: 'spec', message: 'is required' }] });
    const loaded = await loadSpec(body.spec);
    const governance = await deps.store.transaction((tx) => loadGovernance(tx));
    // a single document is linted as sent, so line numbers point into the user's own file
    const findings = typeof body.spec === 'string' ? await lintSpecOffThread({ text: body.spec }, { ruleOverrides: governance.ruleOverrides }) : await lintDocument(loaded.document, governance.ruleOverrides);
    const blockOn = body.environment === undefined ? 'error' : blockLevel(governance, body.environment);
    return { findings, blockOn, blocked: findings.some((f) => blocks(blockOn, f.severity)) };
  });

  app.post('/v1/apply', async (request) => {
    requireSignedIn(request.principal);
    const q = query(request);
    return applyBundle(deps.store, request.principal, String(request.id), request.body, { dryRun: bool(q.dryRun, 'dryRun'), prune: bool(q.prune, 'prune') });
  });

  // the model for another platform: /v1/exports/backstage (or backstage.yaml, a URL a Backstage Location reads)
  app.get<{ Params: { format: string } }>('/v1/exports/:format', async (request, reply) => {
    requireSignedIn(request.principal);
    const format = exportFormatOf(request.params.format.replace(/\.ya?ml$/, ''));
    const resources = (await exportResources(deps.store, request.principal)) as AnyResource[];
    const baseUrl = `${request.protocol}://${request.headers.host ?? request.hostname}`;
    const result = exportModel(format, resources, query(request), baseUrl);
    const wantsJson = !/\.ya?ml$/.test(request.params.format) && (request.headers.accept ?? '').includes('application/json');
    if (wantsJson) return result;
    const header = result.warnings.map((w) => `# warning: ${w.resource} ${w.what}: ${w.message}\n`).join('');
    return reply.type('application/yaml; charset=utf-8').send(header + toYamlStream(result.documents));
  });

  app.get('/v1/export', async (request, reply) => {
    requireSignedIn(request.principal);
    const q = query(request);
    let kinds: readonly Kind[] = KINDS;
    if (q.kind !== undefined) {
      const asked = q.kind.split(',').map((k) => k.trim());
      const bad = asked.find((k) => !isKind(k));
      if (bad !== undefined) throw new ApigovError('APIGOV_ERR_INPUT_INVALID', `kind: unknown kind '${bad}'; expected one of ${KINDS.join(', ')}`, { errors: [{ path: 'kind', message: `unknown kind '${bad}'` }] });
      kinds = asked as Kind[];
    }
    const resources = await exportResources(deps.store, request.principal, kinds);
    if ((request.headers.accept ?? '').includes('application/json')) return { documents: resources };
    return reply.type('application/yaml; charset=utf-8').send(toYamlStream(resources));
  });
}
