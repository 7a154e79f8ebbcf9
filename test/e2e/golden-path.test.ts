// The golden path of the catalog through the real CLI against a running control plane, on PGlite and on
// PostgreSQL: teams and users, register and publish, the governance gate, search and describe, visibility,
// deprecation, and the audit trail with its hash chain (including tampering).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { cli, postgresAvailable, ROOT, startHarness, type Backend, type Harness } from './harness.js';

const PAYMENTS_SPEC = join(ROOT, 'examples', 'payments', 'openapi.yaml');
const BAD_SPEC = join(ROOT, 'test', 'fixtures', 'ledger-bad.openapi.yaml');
const BROKEN_V1 = join(ROOT, 'test', 'fixtures', 'payments-v1-broken.openapi.yaml');

for (const backend of ['pglite', 'postgres'] as Backend[]) {
  describe(`golden path on ${backend}`, () => {
    let h: Harness;
    const tokens: Record<string, string> = {};
    let skip = false;

    beforeAll(async () => {
      if (backend === 'postgres' && !(await postgresAvailable())) {
        skip = true;
        return;
      }
      h = await startHarness(backend);
    });
    afterAll(async () => {
      await h?.close();
    });

    const run = (who: string | undefined, ...args: string[]) => cli(h, who === undefined ? undefined : who === 'bootstrap' ? h.adminToken : tokens[who], args);

    it('pooja creates teams, environments and users', async ({ skip: skipTest }) => {
      if (skip) skipTest();
      const pooja = await run('bootstrap', 'users', 'create', 'pooja', '--role', 'platform-admin', '-o', 'json');
      expect(pooja.stderr).toBe('');
      // platform-admin needs no team; the bootstrap admin only creates pooja, she does the rest
      tokens.pooja = JSON.parse(pooja.stdout).token;
      expect(tokens.pooja).toMatch(/^agv_/);
      for (const team of ['payments', 'orders', 'platform']) {
        const r = await run('pooja', 'teams', 'create', team);
        expect(r.code, r.stderr).toBe(0);
      }
      for (const [i, env] of ['dev', 'staging', 'prod'].entries()) {
        const r = await run('pooja', 'envs', 'create', env, '--order', String(i), ...(env === 'prod' ? ['--production'] : []));
        expect(r.code, r.stderr).toBe(0);
      }
      for (const [user, team, role] of [
        ['alex', 'payments', 'owner'],
        ['bob', 'orders', 'member'],
      ]) {
        const r = await run('pooja', 'users', 'create', user, '--team', team, '--role', role, '-o', 'json');
        expect(r.code, r.stderr).toBe(0);
        tokens[user] = JSON.parse(r.stdout).token;
      }
      const list = await run('pooja', 'teams', 'list');
      expect(list.stdout).toMatch(/payments/);
      expect(list.stdout).toMatch(/orders/);
    });

    it('alex registers payments from its spec and publishes it to dev', async ({ skip: skipTest }) => {
      if (skip) skipTest();
      const reg = await run('alex', 'register', '--spec', PAYMENTS_SPEC, '--name', 'payments', '--team', 'payments', '--upstream', 'dev=http://127.0.0.1:4100', '--upstream', 'prod=http://127.0.0.1:4100', '--tag', 'payments', '--tag', 'billing');
      expect(reg.code, reg.stderr).toBe(0);
      expect(reg.stdout).toMatch(/payments/);
      const pub = await run('alex', 'publish', 'payments', '--env', 'dev');
      expect(pub.code, pub.stderr).toBe(0);
      const versions = await run('alex', 'versions', 'payments', '-o', 'json');
      const v = JSON.parse(versions.stdout);
      expect(v[0].name).toBe('v1');
      expect(v[0].environments.dev.state).toBe('published');
    });

    it('a spec with lint errors is refused for prod, with the findings listed', async ({ skip: skipTest }) => {
      if (skip) skipTest();
      const reg = await run('alex', 'register', '--spec', BAD_SPEC, '--name', 'ledger', '--team', 'payments', '--upstream', 'prod=http://127.0.0.1:4100', '--upstream', 'dev=http://127.0.0.1:4100');
      expect(reg.code, reg.stderr).toBe(0);
      const prod = await run('alex', 'publish', 'ledger', '--env', 'prod');
      expect(prod.code).toBe(1);
      const all = prod.stdout + prod.stderr;
      expect(all).toMatch(/APIGOV_ERR_GOVERNANCE_BLOCKED/);
      expect(all).toMatch(/apigov-operation-id/);
      expect(all).toMatch(/apigov-owner-contact/);
      // the refusal changed nothing: still draft in prod
      const v = JSON.parse((await run('alex', 'versions', 'ledger', '-o', 'json')).stdout);
      expect(v[0].environments.prod.state).toBe('draft');
      // dev is not gated on errors by default
      const dev = await run('alex', 'publish', 'ledger', '--env', 'dev');
      expect(dev.code, dev.stderr).toBe(0);
    });

    it('a breaking change to the published v1 is refused with what breaks', async ({ skip: skipTest }) => {
      if (skip) skipTest();
      const r = await run('alex', 'register', '--spec', BROKEN_V1, '--name', 'payments', '--version', '1');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/APIGOV_ERR_SPEC_BREAKING_CHANGE/);
      expect(r.stdout).toMatch(/Breaking changes \(\d+\)/);
      expect(r.stdout).toMatch(/\/invoices/);
    });

    it('bob finds payments with search and reads it with describe', async ({ skip: skipTest }) => {
      if (skip) skipTest();
      const s = await run('bob', 'search', 'payment');
      expect(s.code, s.stderr).toBe(0);
      expect(s.stdout).toMatch(/^payments\b/m);
      const json = JSON.parse((await run('bob', 'search', 'payments', '--env', 'dev', '--state', 'published', '-o', 'json')).stdout);
      expect(json.map((x: { name: string }) => x.name)).toContain('payments');
      const d = await run('bob', 'describe', 'payments');
      expect(d.code, d.stderr).toBe(0);
      expect(d.stdout).toMatch(/payments@example\.com/);
      expect(d.stdout).toMatch(/published/);
      expect(d.stdout).toMatch(/dev/);
    });

    it('a team-only API of payments is invisible to bob and visible to pooja', async ({ skip: skipTest }) => {
      if (skip) skipTest();
      const reg = await run('alex', 'register', '--spec', PAYMENTS_SPEC, '--name', 'payments-internal', '--team', 'payments', '--visibility', 'team-only', '--title', 'Payments reconciliation (internal)');
      expect(reg.code, reg.stderr).toBe(0);
      const bobSearch = JSON.parse((await run('bob', 'search', 'payments', '-o', 'json')).stdout);
      expect(bobSearch.map((x: { name: string }) => x.name)).not.toContain('payments-internal');
      const bobDescribe = await run('bob', 'describe', 'payments-internal');
      expect(bobDescribe.code).toBe(1);
      expect(bobDescribe.stderr).toMatch(/not found/);
      expect(bobDescribe.stderr).toMatch(/APIGOV_ERR_RESOURCE_NOT_FOUND/);
      const poojaSearch = JSON.parse((await run('pooja', 'search', 'payments', '-o', 'json')).stdout);
      expect(poojaSearch.map((x: { name: string }) => x.name)).toContain('payments-internal');
      const poojaDescribe = await run('pooja', 'describe', 'payments-internal');
      expect(poojaDescribe.code, poojaDescribe.stderr).toBe(0);
      // a member of another team publishing payments is acting above herself
      const bobPublish = await run('bob', 'publish', 'payments', '--env', 'prod');
      expect(bobPublish.code).toBe(1);
      expect(bobPublish.stderr).toMatch(/APIGOV_ERR_AUTH_FORBIDDEN/);
    });

    it('alex deprecates v1 with a sunset date', async ({ skip: skipTest }) => {
      if (skip) skipTest();
      const r = await run('alex', 'deprecate', 'payments', '--version', '1', '--sunset', '2027-06-30');
      expect(r.code, r.stderr).toBe(0);
      const d = await run('bob', 'describe', 'payments');
      expect(d.stdout).toMatch(/deprecated/);
      expect(d.stdout).toMatch(/2027-06-30/);
    });

    it('audit lists each action with its actor, and the chain verifies', async ({ skip: skipTest }) => {
      if (skip) skipTest();
      const a = await run('pooja', 'audit', '--limit', '200', '-o', 'json');
      expect(a.code, a.stderr).toBe(0);
      const events = JSON.parse(a.stdout) as Array<{ actor: string; action: string; kind: string; name: string }>;
      const has = (actor: string, action: string, name: string) => events.some((e) => e.actor === actor && e.action === action && e.name === name);
      expect(has('admin', 'create', 'pooja')).toBe(true);
      expect(has('pooja', 'create', 'payments')).toBe(true);
      expect(has('pooja', 'create', 'alex')).toBe(true);
      expect(has('alex', 'register', 'payments')).toBe(true);
      expect(has('alex', 'publish', 'payments')).toBe(true);
      expect(has('alex', 'deprecate', 'payments')).toBe(true);
      // refusals leave no trace
      expect(events.some((e) => e.actor === 'bob')).toBe(false);
      const table = await run('pooja', 'audit');
      expect(table.stdout).toMatch(/alex\s+deprecate\s+Api\s+payments/);
      const ok = await run('pooja', 'audit', 'verify');
      expect(ok.code, ok.stderr + ok.stdout).toBe(0);
      expect(ok.stdout).toMatch(/verified/);
    });

    it('an anchor kept outside finds the newest events deleted, which the chain alone cannot', async ({ skip: skipTest }) => {
      if (skip) skipTest();
      const first = await run('pooja', 'audit', 'verify');
      expect(first.code, first.stderr).toBe(0);
      const anchor = /^anchor: (\d+:[0-9a-f]{64})$/m.exec(first.stdout)![1]!;
      const seq = Number(anchor.split(':')[0]);
      // someone with database access removes the last two events
      await h.sql('DELETE FROM audit_events WHERE seq > $1', [seq - 2]);
      const alone = await run('pooja', 'audit', 'verify');
      expect(alone.code).toBe(0);
      expect(alone.stdout).toContain(`audit chain verified: ${seq - 2} events`);
      const anchored = await run('pooja', 'audit', 'verify', '--anchor', anchor);
      expect(anchored.code).toBe(1);
      expect(anchored.stdout).toBe(`audit chain BROKEN at seq ${seq - 1}: the chain ends at seq ${seq - 2}, before the anchored seq ${seq} (events deleted from its end)\n`);
      const bad = await run('pooja', 'audit', 'verify', '--anchor', 'latest');
      expect(bad.code).toBe(2);
    });

    it('after one audit row is altered, audit verify fails and names that row', async ({ skip: skipTest }) => {
      if (skip) skipTest();
      const rows = await h.sql(`SELECT seq FROM audit_events WHERE action = 'publish' ORDER BY seq LIMIT 1`);
      const seq = Number(rows[0].seq);
      await h.sql(`UPDATE audit_events SET actor = 'mallory' WHERE seq = $1`, [seq]);
      const bad = await run('pooja', 'audit', 'verify');
      expect(bad.code).toBe(1);
      expect(bad.stdout + bad.stderr).toMatch(new RegExp(`seq ${seq}\\b`));
    });
  });
}
