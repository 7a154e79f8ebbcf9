// GitOps REST: POST /v1/sync applies one commit's resources (the `apigov sync` loop sends them), GET /v1/sync/status
// reports the last sync, each resource's state (Synced, OutOfSync with its field diff, Unmanaged) and the gateways
// running an older snapshot than the control plane.
import type { FastifyInstance } from 'fastify';
import { ApigovError } from '@apigov/model';
import { requireSignedIn } from '../auth.js';
import { resourceStates, syncCommit, syncRequestOf } from '../catalog/sync.js';
import type { Deps } from '../http.js';

export function registerSyncRoutes(app: FastifyInstance, deps: Deps): void {
  app.post('/v1/sync', async (request) => {
    requireSignedIn(request.principal);
    return syncCommit(deps.store, request.principal, syncRequestOf(request.body));
  });

  app.get('/v1/sync/status', async (request) => {
    requireSignedIn(request.principal);
    if (!request.principal.admin) throw new ApigovError('APIGOV_ERR_AUTH_FORBIDDEN', 'the sync status is for platform admins');
    const state = await deps.store.getSyncState();
    const resources = await resourceStates(deps.store);
    const gateways = await deps.store.listGateways();
    const heads = new Map<string, number>();
    for (const e of new Set(gateways.map((g) => g.environment))) heads.set(e, (await deps.store.getSnapshotHead(e))?.version ?? 0);
    const counts = { synced: 0, outOfSync: 0, unmanaged: 0 };
    for (const r of resources) counts[r.state === 'Synced' ? 'synced' : r.state === 'OutOfSync' ? 'outOfSync' : 'unmanaged']++;
    return {
      configured: state !== null,
      ...(state !== null && {
        repo: state.repo,
        branch: state.branch,
        path: state.path,
        settings: { onDrift: state.onDrift, selfHeal: state.selfHeal, prune: state.prune },
        ...(state.last !== undefined && { last: state.last }),
        ...(state.lastGood !== undefined && { lastGood: state.lastGood }),
      }),
      counts,
      resources,
      gateways: gateways.map((g) => ({ gateway: g.gateway, environment: g.environment, appliedVersion: g.appliedVersion, snapshotVersion: heads.get(g.environment) ?? 0, state: g.appliedVersion === heads.get(g.environment) ? 'InSync' : 'Behind' })),
    };
  });
}
