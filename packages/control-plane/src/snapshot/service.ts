// Keeps every environment's gateway snapshot current: recompiles after each committed change (reusing the routes
// of unchanged Apis, yielding to requests between steps), stores a new version only when the content hash
// changes, and wakes gateways long-polling for a newer version.
import { KINDS, type Kind, type SpecOf } from '@apigov/model';
import type { SnapshotRecord, Store } from '@apigov/store';
import { compileSnapshot, RouteCache, snapshotHash, type Named } from './compile.js';

const POLL_OTHER_REPLICAS_MS = 1000;
/** resources read per query */
const PAGE = 1000;

/** lets requests waiting on the event loop run between the steps of a refresh (the embedded database runs in it) */
function betweenSteps(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class SnapshotService {
  private pending: Promise<void> | undefined;
  private again = false;
  private readonly waiters = new Set<() => void>();
  private closed = false;

  /** routes compiled by the last refresh, reused for unchanged Apis and policies */
  readonly routes = new RouteCache();

  constructor(private readonly store: Store) {}

  /** Recompile soon (coalescing bursts of changes into one compile). */
  schedule(): void {
    if (this.closed) return;
    if (this.pending) {
      this.again = true;
      return;
    }
    this.pending = (async () => {
      try {
        do {
          this.again = false;
          await this.refresh();
        } while (this.again && !this.closed);
      } catch (e) {
        if (!this.closed) process.emitWarning(`snapshot compile failed: ${(e as Error).message}`);
      } finally {
        this.pending = undefined;
      }
    })();
  }

  /** Resolves once every change made so far is compiled. */
  async settled(): Promise<void> {
    while (this.pending) await this.pending;
  }

  /** a kind's names, specs and versions, a page at a time, letting requests in between pages */
  private async all<K extends Kind>(kind: K): Promise<Named<SpecOf[K]>[]> {
    const out: Named<SpecOf[K]>[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.store.listSpecs(kind, { after, limit: PAGE });
      for (const s of page) out.push({ name: s.name, spec: s.spec as SpecOf[K], version: s.resourceVersion });
      if (page.length < PAGE) return out;
      after = page[page.length - 1].name;
      await betweenSteps();
    }
  }

  /** Compiles every environment now; returns the environments whose snapshot changed. */
  async refresh(): Promise<string[]> {
    const [environments, apis, policies, plans, applications, subscriptions, credentials] = await Promise.all([
      this.all('Environment'),
      this.all('Api'),
      this.all('Policy'),
      this.all('Plan'),
      this.all('Application'),
      this.all('Subscription'),
      this.all('Credential'),
    ]);
    const changed: string[] = [];
    const now = new Date();
    for (const env of environments) {
      await betweenSteps();
      const content = compileSnapshot({ environment: env.name, apis, policies, plans, applications, subscriptions, credentials, now, cache: this.routes });
      await betweenSteps();
      const hash = snapshotHash(content);
      await betweenSteps();
      const r = await this.store.putSnapshot(env.name, hash, (version, generatedAt) => JSON.stringify({ ...content, version, hash, generatedAt }));
      if (r.changed) changed.push(env.name);
    }
    this.routes.sweep();
    if (changed.length > 0) this.wake();
    return changed;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /**
   * The environment's snapshot once its version is above `since`, or null after `waitMs` without one.
   * Also polls the database, so a change made through another control plane replica is seen within a second.
   */
  async next(environment: string, since: number, waitMs: number): Promise<SnapshotRecord | null> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      // the version first: the body (tens of MB for a large catalog) is read only when it is newer
      const head = await this.store.getSnapshotHead(environment);
      if (head && head.version > since) {
        const current = await this.store.getSnapshot(environment);
        if (current && current.version > since) return current;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) return null;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, POLL_OTHER_REPLICAS_MS));
        this.waiters.add(done);
      });
    }
  }

  /** Snapshots include time-dependent state (subscription and key expiry): recompile every minute too. */
  startClock(intervalMs = 60_000): () => void {
    const t = setInterval(() => this.schedule(), intervalMs);
    t.unref();
    return () => clearInterval(t);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake();
    await this.settled();
  }
}

export const SNAPSHOT_KINDS: readonly Kind[] = KINDS;
