// GitOps as a control-plane setting: `apigov up --sync-repo REPO` runs the control plane and follows the repository
// for as long as it runs — the first commit is applied once it listens, a new commit within the interval.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'apigov-up-sync-'));
const repo = join(dir, 'repo');
const TOKEN = `agt_test_${Date.now()}`;
let child: ChildProcess | undefined;

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
function commit(file: string, text: string): string {
  writeFileSync(join(repo, file), text);
  git('add', '-A');
  git('-c', 'user.name=Pooja', '-c', 'user.email=pooja@example.com', 'commit', '-q', '-m', `add ${file}`);
  return git('rev-parse', 'HEAD');
}

afterAll(() => {
  child?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

describe('apigov up --sync-repo', () => {
  it('applies the branch head once the control plane listens, then each new commit', async () => {
    mkdirSync(repo);
    git('init', '-q', '-b', 'main');
    const first = commit('teams.yaml', 'apiVersion: apigov.dev/v1\nkind: Team\nmetadata: {name: from-git}\nspec: {displayName: From Git}\n');
    const port = await freePort();
    const gatewayPort = await freePort();
    child = spawn(process.execPath, [CLI, 'up', '--port', String(port), '--gateway-port', String(gatewayPort), '--data-dir', join(dir, 'data'), '--sync-repo', repo, '--sync-interval', '200ms', '--sync-on-drift', 'reject'], {
      env: { ...process.env, HOME: dir, APIGOV_HOME: join(dir, 'home'), APIGOV_ADMIN_TOKEN: TOKEN, APIGOV_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const waitFor = async (text: string) => {
      for (let i = 0; i < 600 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out, out).toContain(text);
    };
    await waitFor(`synced ${first.slice(0, 12)} (Pooja <pooja@example.com>): 1 created`);
    const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    expect((await get('/v1/teams/from-git')).body.status.source.commit).toBe(first);
    const second = commit('plans.yaml', 'apiVersion: apigov.dev/v1\nkind: Plan\nmetadata: {name: git-plan}\nspec: {rateLimit: {perMinute: 10}}\n');
    await waitFor(`synced ${second.slice(0, 12)} (Pooja <pooja@example.com>): 1 created, 0 updated, 0 deleted, 1 unchanged`);
    const status = await get('/v1/sync/status');
    expect(status.body).toMatchObject({ configured: true, repo, settings: { onDrift: 'reject' }, last: { commit: second } });
    // the admin token the sync used was never printed
    expect(out).not.toContain(TOKEN);
  }, 120_000);
});
