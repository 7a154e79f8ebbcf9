// Drift of Git-managed resources: where a resource came from (status.source), and what a change made outside the
// GitOps sync does to one, per the sync's onDrift setting: allowed and reported, warned about, or refused (409).
import { ApigovError, type AnyResource } from '@apigov/model';
import type { SyncSource, SyncState } from '@apigov/store';
import type { WriteContext } from './writes.js';

export type DriftMode = SyncState['onDrift'];
export const DRIFT_MODES: readonly DriftMode[] = ['allow', 'warn', 'reject'];

export function sourceOf(r: AnyResource): SyncSource | undefined {
  const s = (r.status as Record<string, unknown> | undefined)?.source as SyncSource | undefined;
  return s !== undefined && typeof s === 'object' && typeof s.repo === 'string' ? s : undefined;
}

/** The write policy for a Git-managed resource changed outside a sync, per the sync's onDrift setting. */
export async function assertDriftAllowed(ctx: WriteContext, current: AnyResource, change: 'change' | 'delete'): Promise<void> {
  if (ctx.sync === true) return;
  const source = sourceOf(current);
  if (source === undefined) return;
  const state = (ctx.syncState ??= (await ctx.tx.getSyncState()) ?? undefined);
  const mode: DriftMode = state?.onDrift ?? 'warn';
  const what = `${current.kind} ${current.metadata.name} is managed by Git (${source.repo}, ${source.path})`;
  if (mode === 'reject') {
    throw new ApigovError('APIGOV_ERR_SYNC_MANAGED', `${what}: ${change} it there and let the sync apply it (this control plane refuses changes to Git-managed resources)`, {
      extensions: { repo: source.repo, path: source.path, commit: source.commit },
    });
  }
  if (mode === 'warn') (ctx.warnings ??= []).push(`${what}: this ${change} makes it OutOfSync until Git says the same (or self-heal puts Git's version back)`);
}
