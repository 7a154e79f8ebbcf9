// One process per embedded data directory: a second opener (in this process or another) is refused with
// APIGOV_ERR_STORE_LOCKED naming the holder; the lock goes with close(); a lock left by a killed process is taken over.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApigovError } from '@apigov/model';
import { openStore } from '../src/index.js';
import { LOCK_FILE } from '../src/data-dir-lock.js';

const root = mkdtempSync(join(tmpdir(), 'apigov-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function refusal(open: Promise<unknown>): Promise<ApigovError> {
  const err = await open.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApigovError);
  expect((err as ApigovError).code).toBe('APIGOV_ERR_STORE_LOCKED');
  return err as ApigovError;
}

describe('the data directory lock', () => {
  it('refuses a second store on the same directory in this process until the first is closed', async () => {
    const dir = join(root, 'same-process');
    const first = await openStore({ dataDir: dir });
    const err = await refusal(openStore({ dataDir: dir }));
    expect(err.message).toContain(`is in use by process ${process.pid}`);
    await first.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const again = await openStore({ dataDir: dir });
    await again.close();
  });

  it('refuses while another process holds it, and takes over the lock once that process was killed', async () => {
    const dir = join(root, 'other-process');
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', `const { openStore } = await import('@apigov/store'); await openStore({ dataDir: ${JSON.stringify(dir)} }); console.log('open'); setInterval(() => {}, 1000);`],
      { cwd: new URL('../../..', import.meta.url), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('open')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`the holder exited (${code})`)));
    });
    const err = await refusal(openStore({ dataDir: dir }));
    expect(err.message).toContain(`is in use by process ${child.pid}`);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    // the killed process left its lock file behind: it names a process that no longer runs
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: child.pid });
    const store = await openStore({ dataDir: dir });
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    await store.close();
  }, 30_000);

  it('never takes over a lock written on another host (a shared disk)', async () => {
    const dir = join(root, 'other-host');
    const store = await openStore({ dataDir: dir });
    await store.close();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 999_999_999, host: 'another-host.example', since: '2026-12-01T00:00:00.000Z' }));
    const err = await refusal(openStore({ dataDir: dir }));
    expect(err.message).toContain('process 999999999 on another-host.example');
    expect(err.message).toContain(`delete ${join(dir, LOCK_FILE)}`);
  });
});
