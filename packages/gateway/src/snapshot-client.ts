// Getting snapshots from the control plane: a long-poll loop on GET /v1/gateway/snapshot?environment&since&wait
// (200 with a newer snapshot, 304 when nothing changed), backoff with jitter on errors, and the last good snapshot
// kept on disk (tmp + rename) so a restart while the control plane is down still serves.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';

export const SNAPSHOT_WAIT_SECONDS = 30;
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10_000;

export interface SnapshotClientOptions {
  controlPlaneUrl: string;
  token: string | undefined;
  environment: string;
  /** where the last good snapshot is kept; undefined: nowhere */
  cacheDir: string | undefined;
  /** applies a snapshot document (JSON text); throws when it is refused */
  apply(text: string, source: 'control-plane' | 'cache'): Promise<void>;
  /** the applied version (0: none) */
  appliedVersion(): number;
  onError(message: string): void;
  waitSeconds?: number;
}

export function snapshotUrl(base: string, environment: string, since: number, wait: number): string {
  const u = new URL('/v1/gateway/snapshot', base.endsWith('/') ? base : `${base}/`);
  u.searchParams.set('environment', environment);
  u.searchParams.set('since', String(since));
  u.searchParams.set('wait', String(wait));
  return u.toString();
}

export class SnapshotClient {
  private stopped = false;
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  /** the last version refused (so a refused snapshot is not re-applied on every poll) */
  private refusedVersion = 0;
  connected = false;
  lastError: string | undefined = undefined;

  constructor(private readonly options: SnapshotClientOptions) {}

  get cacheFile(): string | undefined {
    return this.options.cacheDir === undefined ? undefined : join(this.options.cacheDir, 'snapshot.json');
  }

  /**
   * One quick fetch (no waiting); when the control plane cannot be reached (or has nothing newer), the cached
   * snapshot is loaded if there is one. Then the long-poll loop runs in the background.
   */
  async start(): Promise<void> {
    const got = await this.fetchOnce(0).catch((err: unknown) => {
      this.noteError(err);
      return 'failed' as const;
    });
    if (this.options.appliedVersion() === 0) await this.loadCache();
    void got;
    this.loop = this.run();
  }

  async loadCache(): Promise<boolean> {
    const file = this.cacheFile;
    if (file === undefined) return false;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return false;
    }
    try {
      await this.options.apply(text, 'cache');
      return true;
    } catch (err) {
      this.options.onError(`cached snapshot ${file} refused: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    const wait = this.options.waitSeconds ?? SNAPSHOT_WAIT_SECONDS;
    while (!this.stopped) {
      try {
        await this.fetchOnce(wait);
        failures = 0;
      } catch (err) {
        if (this.stopped) return;
        this.noteError(err);
        failures++;
        const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(failures, 10));
        await this.sleep(ceiling / 2 + Math.random() * (ceiling / 2));
      }
    }
  }

  private noteError(err: unknown): void {
    this.connected = false;
    const message = err instanceof Error ? err.message : String(err);
    if (message !== this.lastError) this.options.onError(`snapshot from ${this.options.controlPlaneUrl}: ${message}`);
    this.lastError = message;
  }

  /** one GET; resolves when it returned 200 (applied or refused) or 304, rejects on a transport or HTTP error */
  private async fetchOnce(wait: number): Promise<'applied' | 'refused' | 'unchanged'> {
    const since = Math.max(this.options.appliedVersion(), this.refusedVersion);
    const url = snapshotUrl(this.options.controlPlaneUrl, this.options.environment, since, wait);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`;
    const res = await request(url, { headers, signal: this.abort.signal, headersTimeout: (wait + 15) * 1000, bodyTimeout: 60_000 });
    const text = await res.body.text();
    if (res.statusCode === 304) {
      this.connected = true;
      this.lastError = undefined;
      return 'unchanged';
    }
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}${text === '' ? '' : `: ${text.slice(0, 300)}`}`);
    this.connected = true;
    this.lastError = undefined;
    try {
      await this.options.apply(text, 'control-plane');
    } catch (err) {
      const v = versionOf(text);
      if (v > 0) this.refusedVersion = v;
      else throw err;
      return 'refused';
    }
    await this.writeCache(text);
    return 'applied';
  }

  /** the last good snapshot, written atomically */
  private async writeCache(text: string): Promise<void> {
    const file = this.cacheFile;
    if (file === undefined) return;
    try {
      await mkdir(this.options.cacheDir!, { recursive: true });
      const tmp = `${file}.tmp-${process.pid}`;
      await writeFile(tmp, text, 'utf8');
      await rename(tmp, file);
    } catch (err) {
      this.options.onError(`could not write the snapshot cache ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.abort.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.loop?.catch(() => {});
  }
}

function versionOf(text: string): number {
  try {
    const v = (JSON.parse(text) as { version?: unknown }).version;
    return typeof v === 'number' ? v : 0;
  } catch {
    return 0;
  }
}
