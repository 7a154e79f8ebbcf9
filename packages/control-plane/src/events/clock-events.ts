// Events that time raises, once each: a key expiring within 7 days (key.expiring, to its application's team), a
// gateway that has not applied its environment's newest snapshot for a minute (gateway.out-of-sync, to the
// platform), and once a day the audit chain's newest SEQ:HASH (audit.anchor), so the anchor lands outside apigov.
import type { Store } from '@apigov/store';

const SYSTEM = 'system:clock';
const WEEK = 7 * 86_400_000;
const OUT_OF_SYNC_AFTER_MS = 60_000;

export async function runEventClock(store: Store, now = Date.now()): Promise<number> {
  const gateways = await store.listGateways();
  const heads = new Map<string, number>();
  for (const g of gateways) if (!heads.has(g.environment)) heads.set(g.environment, (await store.getSnapshotHead(g.environment))?.version ?? 0);
  // when the newest snapshot of an environment with a gateway behind it was made (read only then: it carries the body)
  const madeAt = new Map<string, number>();
  for (const g of gateways) {
    if (g.appliedVersion >= (heads.get(g.environment) ?? 0) || madeAt.has(g.environment)) continue;
    const snap = await store.getSnapshot(g.environment);
    if (snap !== null) madeAt.set(g.environment, Date.parse(snap.generatedAt));
  }
  const [newest] = await store.listAudit({ limit: 1 });
  return store.transaction(async (tx) => {
    let emitted = 0;
    const seen = new Set((await tx.listEvents({ types: ['key.expiring', 'gateway.out-of-sync', 'audit.anchor'], since: new Date(now - 8 * 86_400_000).toISOString(), limit: 100_000 })).map((e) => `${e.type}/${e.subject.name}/${String(e.data.snapshotVersion ?? e.data.expiresAt ?? e.at.slice(0, 10))}`));
    for (const c of await tx.list('Credential', { limit: 100_000 })) {
      if (c.resource.kind !== 'Credential' || c.resource.spec.type !== 'api-key' || c.resource.spec.expiresAt === undefined) continue;
      const expires = Date.parse(c.resource.spec.expiresAt);
      const name = c.resource.metadata.name;
      if (!(expires > now && expires - now <= WEEK) || seen.has(`key.expiring/${name}/${c.resource.spec.expiresAt}`)) continue;
      const app = await tx.get('Application', c.resource.spec.application);
      const team = app?.resource.kind === 'Application' ? app.resource.spec.owner : undefined;
      await tx.emit({ type: 'key.expiring', actor: SYSTEM, subject: { kind: 'Credential', name }, teams: team === undefined ? [] : [team], data: { credential: name, application: c.resource.spec.application, ...(c.resource.spec.prefix !== undefined && { prefix: c.resource.spec.prefix }), expiresAt: c.resource.spec.expiresAt } });
      emitted++;
    }
    for (const g of gateways) {
      const head = heads.get(g.environment) ?? 0;
      if (g.appliedVersion >= head || now - Date.parse(g.lastSeenAt) > 10 * 60_000) continue;
      // a live gateway still without a snapshot made more than a minute ago
      const made = madeAt.get(g.environment);
      if (made === undefined || now - made < OUT_OF_SYNC_AFTER_MS || seen.has(`gateway.out-of-sync/${g.gateway}/${head}`)) continue;
      await tx.emit({ type: 'gateway.out-of-sync', actor: SYSTEM, subject: { kind: 'Gateway', name: g.gateway, environment: g.environment }, teams: [], data: { gateway: g.gateway, environment: g.environment, appliedVersion: g.appliedVersion, snapshotVersion: head, lastSeenAt: g.lastSeenAt } });
      emitted++;
    }
    const today = new Date(now).toISOString().slice(0, 10);
    if (newest !== undefined && !seen.has(`audit.anchor/audit/${today}`)) {
      await tx.emit({ type: 'audit.anchor', actor: SYSTEM, subject: { kind: 'Audit', name: 'audit' }, teams: [], data: { anchor: `${newest.seq}:${newest.hash}`, seq: newest.seq, hash: newest.hash, at: newest.at } });
      emitted++;
    }
    return emitted;
  });
}
