// The lock on an embedded store's data directory: PGlite is one process's database, and a second process
// opening the same directory would corrupt it. `apigov.lock` (created exclusively) names the holder; a lock
// whose process is gone is taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ApigovError } from '@apigov/model';

export const LOCK_FILE = 'apigov.lock';
/** lock files this process holds (a lock naming this pid that is not here was left by an earlier process) */
const held = new Set<string>();

interface LockHolder {
  pid: number;
  host: string;
  since: string;
}

/** The lock this process holds; release() removes it (only while it is still this process's). */
export interface DataDirLock {
  readonly path: string;
  release(): void;
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (typeof h.pid === 'number' && typeof h.host === 'string') return { pid: h.pid, host: h.host, since: String(h.since ?? '') };
  } catch {
    // unreadable or half-written: treated as held by nobody we can check (see lockDataDir)
  }
  return undefined;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock of `dir` or throws APIGOV_ERR_STORE_LOCKED naming the process holding it. A lock left by a process
 * that no longer runs on this host is taken over; a lock from another host (a shared disk) is never taken over.
 */
export function lockDataDir(dir: string): DataDirLock {
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(path);
      const stale = holder !== undefined && holder.host === me.host && (holder.pid === process.pid ? !held.has(path) : !isRunning(holder.pid));
      if (stale && attempt === 0) {
        unlinkSync(path);
        continue;
      }
      const who = holder === undefined ? 'another process (the lock file cannot be read)' : `process ${holder.pid} on ${holder.host}${holder.since === '' ? '' : ` (since ${holder.since})`}`;
      throw new ApigovError('APIGOV_ERR_STORE_LOCKED', `the data directory ${dir} is in use by ${who}; stop it or use another directory (if it is gone, delete ${path})`, {
        extensions: { lockFile: path, ...(holder !== undefined && { holder }) },
      });
    }
    try {
      writeSync(fd, `${JSON.stringify(me)}\n`);
    } finally {
      closeSync(fd);
    }
    held.add(path);
    let released = false;
    return {
      path,
      release() {
        if (released) return;
        released = true;
        held.delete(path);
        const holder = readHolder(path);
        if (holder !== undefined && holder.pid === me.pid && holder.host === me.host && holder.since === me.since) unlinkSync(path);
      },
    };
  }
  throw new ApigovError('APIGOV_ERR_STORE_LOCKED', `the data directory ${dir} is in use by another process`);
}
