// `apigov up` spawns the real control plane launcher; `login` then talks to it, and Ctrl-C (SIGINT to
// the CLI) stops both processes.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, run, tempDir } from './helpers.js';

const LAUNCHER = join(ROOT, 'packages', 'control-plane', 'dist', 'up.js');
const ADMIN = 'cli-test-admin-token-0123456789';

describe.skipIf(!existsSync(LAUNCHER))('apigov up', () => {
  it('starts the control plane as a child process, serves login, and stops on SIGINT', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, [BIN, 'up', '--data-dir', join(dir, 'data'), '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, APIGOV_ADMIN_TOKEN: ADMIN, APIGOV_CONFIG: join(dir, 'config.yaml') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
    try {
      const url = await new Promise<string>((ok, ko) => {
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) ok(m[1]);
        });
        void exited.then((code) => ko(new Error(`apigov up exited with ${code}: ${out}`)));
      });
      const login = await run(['login', '--url', url, '--token', ADMIN], { APIGOV_CONFIG: join(dir, 'config.yaml') });
      expect(login.stderr).toBe('');
      expect(login.code).toBe(0);
      expect(login.stdout).toContain('platform-admin');
    } finally {
      child.kill('SIGINT');
    }
    const code = await exited;
    expect(code === 0 || code === 130).toBe(true);
  }, 120_000);
});
