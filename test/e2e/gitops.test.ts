// GitOps end to end on a real local git repository and the real CLI: Alex commits an Api YAML and its OpenAPI
// file (registered), a commit that publishes it to dev (the gateway serves it, the audit names the commit and its
// author), an invalid commit refused while the last good one stays applied, a CLI edit of a Git-managed resource
// shown as OutOfSync with its diff and, with --on-drift reject, refused; self-heal; prune of a deleted file; a second
// sync of the same commit reports 0 created, 0 updated, 0 deleted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { join } from 'node:path';
import { startGateway, type Gateway } from '@apigov/gateway';
import { startPaymentsService } from '../../examples/payments/src/index.js';
import { cli, ROOT, startHarness, type Harness } from './harness.js';

let h: Harness;
let repo: string;
let gateway: Gateway;
let payments: Awaited<ReturnType<typeof startPaymentsService>>;

const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();

function write(file: string, text: string): void {
  mkdirSync(join(repo, file, '..'), { recursive: true });
  writeFileSync(join(repo, file), text);
}

function commit(message: string, author = 'Alex <alex@example.com>'): string {
  git('add', '-A');
  git('-c', `user.name=${author.split(' <')[0]}`, '-c', `user.email=${author.split('<')[1]!.replace('>', '')}`, 'commit', '-q', '-m', message);
  return git('rev-parse', 'HEAD');
}

function apiYaml(state: string): string {
  return `apiVersion: apigov.dev/v1
kind: Api
metadata: {name: payments}
spec:
  owner: payments
  title: Payments API
  versions:
    - name: v1
      specFile: openapi.yaml
      environments:
        dev: {state: ${state}, upstream: '${payments.url}'}
`;
}

const sync = (...args: string[]) => cli(h, h.adminToken, ['sync', '--repo', repo, '--path', 'platform', '--once', ...args]);

async function status(): Promise<any> {
  const r = await cli(h, h.adminToken, ['sync', 'status', '-o', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

async function rest(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(h.cp.url + path, { method, headers: { authorization: `Bearer ${h.adminToken}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text === '' ? null : JSON.parse(text), headers: r.headers };
}

let shas: Record<string, string> = {};
const CHROMIUM = process.env.APIGOV_CHROMIUM ?? '/usr/bin/chromium';
const PORTAL_BUILT = existsSync(join(ROOT, 'packages', 'portal', 'dist', 'index.html'));

beforeAll(async () => {
  h = await startHarness('pglite');
  payments = await startPaymentsService({ port: 0 });
  repo = join(h.dir, 'config-repo');
  mkdirSync(repo);
  git('init', '-q', '-b', 'main');
  write('README.md', '# platform configuration\n');
  write('platform/teams.yaml', `apiVersion: apigov.dev/v1
kind: Team
metadata: {name: payments}
spec: {displayName: Payments}
---
apiVersion: apigov.dev/v1
kind: Environment
metadata: {name: dev}
spec: {order: 0}
`);
  write('platform/plans/gold.yaml', `apiVersion: apigov.dev/v1
kind: Plan
metadata: {name: gold}
spec: {rateLimit: {perMinute: 600}, approval: manual}
`);
  write('platform/payments/openapi.yaml', readFileSync(join(ROOT, 'examples', 'payments', 'openapi.yaml'), 'utf8'));
  write('platform/payments/api.yaml', apiYaml('draft'));
  shas.first = commit('payments: register v1');
  gateway = await startGateway({ controlPlaneUrl: h.cp.url, token: h.gatewayToken, environment: 'dev', port: 0, adminPort: null, accessLog: 'off', reportIntervalMs: 300, cacheDir: join(h.dir, 'gw') });
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await payments?.close();
  await h?.close();
  if (repo) rmSync(repo, { recursive: true, force: true });
});

describe('Alex runs the platform from Git', () => {
  it('the first sync registers the API from its YAML and OpenAPI file, each resource recording its source', async () => {
    const r = await sync();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`synced ${shas.first!.slice(0, 12)} (Alex <alex@example.com>): 4 created, 0 updated, 0 deleted, 0 unchanged\n`);
    const api = await rest('GET', '/v1/apis/payments');
    expect(api.body.spec.versions[0].openapi.info.title).toBe('Payments API');
    expect(api.body.status.source).toEqual({ repo, path: 'platform/payments/api.yaml', commit: shas.first, author: 'Alex <alex@example.com>' });
    const s = await status();
    expect(s.last).toMatchObject({ commit: shas.first, created: 4, updated: 0, deleted: 0 });
    expect(s.counts).toEqual({ synced: 4, outOfSync: 0, unmanaged: 0 });
  });

  it('a commit that publishes to dev makes the gateway serve it, and the audit names the commit and its author', async () => {
    write('platform/payments/api.yaml', apiYaml('published'));
    shas.publish = commit('payments: publish v1 to dev');
    const r = await sync();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/: 0 created, 1 updated, 0 deleted, 3 unchanged\n$/);
    let served = 0;
    for (let i = 0; i < 100 && served !== 200; i++) {
      served = (await fetch(`${gateway.url}/payments/v1/payments`, { headers: { 'x-api-key': 'any' } })).status;
      if (served !== 200) await new Promise((res) => setTimeout(res, 50));
    }
    expect(served).toBe(200);
    const audit = await rest('GET', '/v1/audit?kind=Api&name=payments');
    const [latest, first] = audit.body.items;
    expect(latest).toMatchObject({ action: 'sync.update', actor: 'git:Alex <alex@example.com>', requestId: `git:${shas.publish}` });
    expect(latest.after.status.source.commit).toBe(shas.publish);
    expect(first).toMatchObject({ action: 'sync.create', requestId: `git:${shas.first}` });
  });

  it('a commit with an invalid document is refused with its SHA; the last good commit stays applied and served', async () => {
    write('platform/plans/broken.yaml', `apiVersion: apigov.dev/v1
kind: Plan
metadata: {name: broken}
spec: {rateLimit: {perMinute: -5}}
`);
    write('platform/teams.yaml', readFileSync(join(repo, 'platform/teams.yaml'), 'utf8').replace('displayName: Payments', 'displayName: Payments (renamed)'));
    shas.broken = commit('plans: add broken plan');
    const r = await sync();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^refused ${shas.broken!.slice(0, 12)} \\(Alex <alex@example.com>\\): .*rateLimit\\.perMinute`));
    const s = await status();
    expect(s.last).toMatchObject({ commit: shas.broken, refused: { reason: expect.stringMatching(/perMinute/) } });
    expect(s.lastGood.commit).toBe(shas.publish);
    // nothing of the refused commit was applied: not the broken plan, not the team rename in the same commit
    expect((await rest('GET', '/v1/plans/broken')).status).toBe(404);
    expect((await rest('GET', '/v1/teams/payments')).body.spec.displayName).toBe('Payments');
    expect((await fetch(`${gateway.url}/payments/v1/payments`)).status).toBe(200);
    const text = await cli(h, h.adminToken, ['sync', 'status']);
    expect(text.stdout).toContain(`commit ${shas.broken!.slice(0, 12)} refused`);
    expect(text.stdout).toContain(`(${shas.publish!.slice(0, 12)} stays applied)`);
    // the fix
    rmSync(join(repo, 'platform/plans/broken.yaml'));
    write('platform/teams.yaml', readFileSync(join(repo, 'platform/teams.yaml'), 'utf8').replace('displayName: Payments (renamed)', 'displayName: Payments'));
    shas.fixed = commit('plans: drop the broken plan');
    expect((await sync()).code).toBe(0);
  });

  it('a CLI edit of a Git-managed resource is OutOfSync with its diff; with --on-drift reject the next edit is refused with 409', async () => {
    const edited = join(h.dir, 'team-edit.yaml');
    writeFileSync(edited, 'apiVersion: apigov.dev/v1\nkind: Team\nmetadata: {name: payments}\nspec: {displayName: Payments (edited by hand)}\n');
    const applied = await cli(h, h.adminToken, ['apply', '-f', edited]);
    expect(applied.code, applied.stderr).toBe(0);
    const s = await status();
    const team = s.resources.find((x: any) => x.kind === 'Team' && x.name === 'payments');
    expect(team).toEqual({ kind: 'Team', name: 'payments', state: 'OutOfSync', path: 'platform/teams.yaml', commit: shas.first, diff: [{ path: 'spec.displayName', git: 'Payments', live: 'Payments (edited by hand)' }] });
    expect(s.counts.outOfSync).toBe(1);
    // the platform console shows the same drift, field by field, in Debian's chromium
    if (process.env.CI === 'true' || (existsSync(CHROMIUM) && PORTAL_BUILT)) {
      let browser: Browser | undefined;
      try {
        browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
        const page = await (await browser.newContext({ baseURL: h.cp.url })).newPage();
        page.setDefaultTimeout(20_000);
        await page.goto('/');
        await page.getByLabel('Access token').fill(h.adminToken);
        await page.getByRole('button', { name: 'Sign in', exact: true }).click();
        await page.getByText('Signed in as').waitFor();
        await page.goto('/platform');
        const section = page.getByRole('region', { name: 'Git sync' });
        await section.getByText(/1 out of sync/).waitFor();
        const table = section.getByRole('table', { name: /Out of sync/ });
        const row = table.getByRole('row').filter({ hasText: 'Team payments' });
        expect((await row.innerText()).split('\t').map((c) => c.trim())).toEqual(['Team payments', 'platform/teams.yaml', 'spec.displayName', 'Payments', 'Payments (edited by hand)']);
        expect(await section.innerText()).toContain(`Commit ${shas.fixed!.slice(0, 12)} by Alex <alex@example.com> applied`);
      } finally {
        await browser?.close();
      }
    }
    // a resource made outside Git is unmanaged
    expect((await rest('POST', '/v1/teams', { apiVersion: 'apigov.dev/v1', kind: 'Team', metadata: { name: 'orders' }, spec: {} })).status).toBe(201);
    expect((await status()).resources.find((x: any) => x.name === 'orders')).toEqual({ kind: 'Team', name: 'orders', state: 'Unmanaged' });
    // the sync (Git did not change the team) leaves the drift alone and now rejects edits
    const again = await sync('--on-drift', 'reject');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/0 created, 0 updated, 0 deleted/);
    // the same content again is no change, so it is not refused
    const same = await cli(h, h.adminToken, ['apply', '-f', edited]);
    expect(same.code, same.stderr).toBe(0);
    writeFileSync(edited, 'apiVersion: apigov.dev/v1\nkind: Team\nmetadata: {name: payments}\nspec: {displayName: Payments (second edit)}\n');
    const second = await cli(h, h.adminToken, ['apply', '-f', edited]);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/Team payments is managed by Git \(.*config-repo, platform\/teams\.yaml\).*\[APIGOV_ERR_SYNC_MANAGED\]/);
    const put = await rest('PUT', '/v1/teams/payments', { apiVersion: 'apigov.dev/v1', kind: 'Team', metadata: { name: 'payments' }, spec: { displayName: 'x' } });
    expect(put.status).toBe(409);
    expect(put.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(put.body).toMatchObject({ code: 'APIGOV_ERR_SYNC_MANAGED', repo, path: 'platform/teams.yaml' });
    expect((await rest('DELETE', '/v1/plans/gold')).status).toBe(409);
    expect((await rest('GET', '/v1/teams/payments')).body.spec.displayName).toBe('Payments (edited by hand)');
  });

  it("with warn, an edit goes through with a Warning header; self-heal puts Git's version back", async () => {
    expect((await sync('--on-drift', 'warn')).code).toBe(0);
    const put = await rest('PUT', '/v1/plans/gold', { apiVersion: 'apigov.dev/v1', kind: 'Plan', metadata: { name: 'gold' }, spec: { rateLimit: { perMinute: 9 }, approval: 'manual' } });
    expect(put.status).toBe(200);
    expect(put.headers.get('warning')).toMatch(/^299 apigov "Plan gold is managed by Git .*OutOfSync/);
    expect(put.body.status.source.path).toBe('platform/plans/gold.yaml');
    const healed = await sync('--on-drift', 'warn', '--self-heal');
    expect(healed.code, healed.stderr).toBe(0);
    expect(healed.stdout).toMatch(/0 created, 0 updated, 0 deleted, 2 unchanged, 2 healed\n$/);
    expect((await rest('GET', '/v1/teams/payments')).body.spec.displayName).toBe('Payments');
    expect((await rest('GET', '/v1/plans/gold')).body.spec.rateLimit.perMinute).toBe(600);
    const s = await status();
    expect(s.resources.filter((x: any) => x.state === 'OutOfSync')).toEqual([]);
    const heal = (await rest('GET', '/v1/audit?kind=Plan&name=gold')).body.items[0];
    expect(heal).toMatchObject({ action: 'sync.heal', requestId: `git:${shas.fixed}` });
  });

  it('a deleted file is pruned; a second sync of the same commit reports 0 created, 0 updated, 0 deleted', async () => {
    rmSync(join(repo, 'platform/plans/gold.yaml'));
    shas.pruned = commit('plans: retire gold', 'Pooja <pooja@example.com>');
    const withoutPrune = await sync();
    expect(withoutPrune.stdout).toMatch(/0 deleted/);
    expect((await status()).resources.find((x: any) => x.name === 'gold')).toMatchObject({ state: 'OutOfSync', diff: [{ path: '(resource)', git: null, live: 'present' }] });
    const pruned = await sync('--prune');
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toBe(`synced ${shas.pruned!.slice(0, 12)} (Pooja <pooja@example.com>): 0 created, 0 updated, 1 deleted, 3 unchanged\n`);
    expect((await rest('GET', '/v1/plans/gold')).status).toBe(404);
    expect((await rest('GET', '/v1/audit?kind=Plan&name=gold')).body.items[0]).toMatchObject({ action: 'sync.prune', actor: 'git:Pooja <pooja@example.com>', requestId: `git:${shas.pruned}` });
    const repeat = await sync('--prune', '-o', 'json');
    expect(repeat.code, repeat.stderr).toBe(0);
    expect(JSON.parse(repeat.stdout)).toMatchObject({ commit: shas.pruned, created: 0, updated: 0, deleted: 0, unchanged: 3, healed: 0 });
    const s = await status();
    expect(s.counts).toEqual({ synced: 3, outOfSync: 0, unmanaged: 1 });
    expect(s.gateways.length).toBeGreaterThan(0);
    expect(s.gateways.every((g: any) => g.environment === 'dev')).toBe(true);
  });

  it('as a long-lived process it applies each new commit within its interval', async () => {
    const { spawn } = await import('node:child_process');
    const { CLI } = await import('./harness.js');
    const child = spawn(process.execPath, [CLI, 'sync', '--repo', repo, '--path', 'platform', '--interval', '200ms', '--prune'], {
      env: { PATH: process.env.PATH ?? '', HOME: h.dir, APIGOV_CONFIG: join(h.dir, 'config.yaml'), APIGOV_URL: h.cp.url, APIGOV_TOKEN: h.adminToken, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const waitFor = async (text: string) => {
      for (let i = 0; i < 200 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain(text);
    };
    try {
      await waitFor(`synced ${shas.pruned!.slice(0, 12)}`);
      write('platform/plans/silver.yaml', 'apiVersion: apigov.dev/v1\nkind: Plan\nmetadata: {name: silver}\nspec: {rateLimit: {perMinute: 120}}\n');
      const silver = commit('plans: add silver');
      await waitFor(`synced ${silver.slice(0, 12)} (Alex <alex@example.com>): 1 created, 0 updated, 0 deleted, 3 unchanged`);
      expect((await rest('GET', '/v1/plans/silver')).body.status.source.commit).toBe(silver);
      // an unchanged head is not sent again: one line per commit
      await new Promise((r) => setTimeout(r, 600));
      expect(out.match(/^synced /gm)).toHaveLength(2);
      expect(out).toMatch(/^apigov sync: following .* main every 200ms/);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('bad input gets a one-line error and exit code 2', async () => {
    const noRepo = await cli(h, h.adminToken, ['sync', '--once']);
    expect(noRepo.code).toBe(2);
    expect(noRepo.stderr).toMatch(/give --repo/);
    const badInterval = await cli(h, h.adminToken, ['sync', '--repo', repo, '--interval', 'often']);
    expect(badInterval.code).toBe(2);
    const missing = await cli(h, h.adminToken, ['sync', '--repo', join(h.dir, 'nope'), '--once']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const branch = await cli(h, h.adminToken, ['sync', '--repo', repo, '--branch', 'nope', '--once']);
    expect(branch.code).toBe(2);
    expect(branch.stderr).toMatch(/branch nope does not exist/);
  });
});
