// `apigov gateway` spawns the gateway package's process entry with its flags against a real control plane
// (in this process), and Ctrl-C (SIGINT to the CLI) stops both; its own usage errors exit 2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openStore, type Store } from '@apigov/store';
import { startControlPlane, type RunningControlPlane } from '@apigov/control-plane';
import { BIN, ROOT, run, stderrLines, tempDir } from './helpers.js';

const ENTRY = join(ROOT, 'packages', 'gateway', 'dist', 'main.js');
const USAGE_LINE = /^apigov: .+ \[APIGOV_ERR_CLI_USAGE\]$/;

describe('apigov gateway usage errors', () => {
  it('needs --env, and --control-plane or --snapshot-file; bad values exit 2', async () => {
    const env = { APIGOV_CONFIG: join(tempDir(), 'config.yaml') };
    for (const args of [
      ['gateway', '--control-plane', 'http://127.0.0.1:1'],
      ['gateway', '--env', 'dev'],
      ['gateway', '--env', 'dev', '--control-plane', 'not a url'],
      ['gateway', '--env', 'dev', '--control-plane', 'http://127.0.0.1:1', '--port', '70000'],
      ['gateway', '--env', 'dev', '--control-plane', 'http://127.0.0.1:1', '--workers', '0'],
      ['gateway', '--env', 'dev', '--control-plane', 'http://127.0.0.1:1', '--redis', 'http://127.0.0.1:6379'],
      ['up', '--gateway-port', 'eighty'],
    ]) {
      const r = await run(args, env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(stderrLines(r), args.join(' ')).toEqual([expect.stringMatching(USAGE_LINE)]);
    }
  });
});

describe.skipIf(!existsSync(ENTRY))('apigov gateway', () => {
  let store: Store;
  let cp: RunningControlPlane;
  const adminToken = `bootstrap-${randomBytes(16).toString('hex')}`;

  beforeAll(async () => {
    store = await openStore({ dataDir: 'memory://' });
    cp = await startControlPlane({ store, adminToken });
    const res = await fetch(`${cp.url}/v1/environments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'apigov.dev/v1', kind: 'Environment', metadata: { name: 'dev' }, spec: {} }),
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await cp?.close();
    await store?.close();
  });

  it('runs the gateway process with the given flags and stops it on SIGINT', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'gateway', '--control-plane', cp.url, '--env', 'dev', '--port', '0', '--admin-port', '0', '--token', adminToken, '--access-log', 'off', '--cache-dir', join(tempDir(), 'cache')],
      { cwd: ROOT, env: { ...process.env, APIGOV_CONFIG: join(tempDir(), 'config.yaml') }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
    try {
      const line = await new Promise<string>((ok, ko) => {
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /^apigov gateway \(env dev\) listening on http:\/\/\S+.*$/m.exec(out);
          if (m) ok(m[0]);
        });
        void exited.then((code) => ko(new Error(`apigov gateway exited with ${code}: ${out}`)));
      });
      expect(line).toContain('admin on http://');
    } finally {
      child.kill('SIGINT');
    }
    const code = await exited;
    expect(code === 0 || code === 130, `exit ${code}: ${out}`).toBe(true);
  }, 60_000);
});
