// The subscription workflow: a plan approved by the owners and then the platform, in order; an approval SLA that
// raises subscription.approval-overdue for the platform; apigov renew and apigov revoke; apigov approve --all-pending;
// expiry warnings and expiry; and the fix that a consumer can no longer extend an approved subscription himself.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT, startHarness, type Harness } from './harness.js';

const SPEC = readFileSync(join(ROOT, 'examples', 'payments', 'openapi.yaml'), 'utf8');
const res = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'apigov.dev/v1', kind, metadata: { name }, spec });
const tokens: Record<string, string> = {};
let h: Harness;

async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(h.cp.url + path, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text === '' ? null : JSON.parse(text) };
}

const events = async (who: string, type: string) => ((await call(tokens[who]!, 'GET', `/v1/events?type=${type}&limit=500`)).body.items as Array<{ subject: { name: string }; data: any }>).map((e) => e.subject.name);
const subscribe = async (app: string, plan: string, env = 'dev') => (await call(tokens.bob!, 'POST', `/v1/applications/${app}/subscriptions`, { api: 'payments', version: 'v1', environment: env, plan })).body;

beforeAll(async () => {
  h = await startHarness('pglite', { subscriptionClockMs: 200 });
  const docs = [
    res('Team', 'payments', {}),
    res('Team', 'orders', {}),
    res('Environment', 'dev', {}),
    res('Environment', 'prod', {}),
    res('GovernanceRuleset', 'open', { gates: [{ environment: '*', blockOn: 'never' }] }),
    res('Plan', 'partner', { approval: 'manual', approvers: ['owners', 'platform'], approvalOrder: 'sequential', approvalSlaHours: 0.0004 }),
    res('Plan', 'gold', { approval: 'manual' }),
    res('Plan', 'joint', { approval: 'manual', approvers: ['owners', 'platform'], approvalOrder: 'parallel' }),
    res('Plan', 'free', { approval: 'auto' }),
  ];
  expect((await call(h.adminToken, 'POST', '/v1/apply', { documents: docs })).status).toBe(200);
  for (const [name, team, role] of [
    ['alex', 'payments', 'owner'],
    ['bob', 'orders', 'member'],
  ]) tokens[name] = (await call(h.adminToken, 'POST', '/v1/users', res('User', name, { team, role }))).body.token;
  tokens.pooja = (await call(h.adminToken, 'POST', '/v1/users', res('User', 'pooja', { role: 'platform-admin' }))).body.token;
  expect((await call(tokens.alex!, 'POST', '/v1/apis/register', { name: 'payments', team: 'payments', spec: SPEC, upstreams: { dev: 'http://127.0.0.1:9', prod: 'http://127.0.0.1:9' } })).status).toBe(201);
  for (const env of ['dev', 'prod']) expect((await call(tokens.alex!, 'POST', '/v1/apis/payments/versions/v1/publish', { environment: env })).status).toBe(200);
  for (const app of ['checkout', 'mobile', 'web', 'batch', 'kiosk', 'tablet']) expect((await call(tokens.bob!, 'POST', '/v1/applications', res('Application', app, { owner: 'orders' }))).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('subscription workflow', () => {
  it('a two-step plan: the owners approve, then the platform; the platform cannot go first', async () => {
    const sub = await subscribe('checkout', 'partner');
    expect(sub.spec.state).toBe('pending');
    const name = sub.metadata.name as string;
    const early = await cli(h, tokens.pooja, ['approve', name]);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain(`Subscription ${name} waits for the owners' approval first (the plan approves in order: owners, then platform)`);
    const first = await cli(h, tokens.alex, ['approve', name]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`Subscription ${name} approved by you: now pending, waiting for the other approval`);
    const second = await cli(h, tokens.pooja, ['approve', name]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`Subscription ${name} approved`);
    const stored = (await call(h.adminToken, 'GET', `/v1/subscriptions/${name}`)).body.spec;
    expect(stored).toMatchObject({ state: 'approved', decidedBy: 'pooja' });
    expect(stored.approvals.map((a: any) => [a.by, a.who])).toEqual([
      ['owners', 'alex'],
      ['platform', 'pooja'],
    ]);
    expect(await events('bob', 'subscription.approved')).toContain(name);
  });

  it('a parallel plan takes the platform first as well', async () => {
    const name = (await subscribe('tablet', 'joint')).metadata.name as string;
    const platform = await cli(h, tokens.pooja, ['approve', name]);
    expect(platform.code, platform.stderr).toBe(0);
    expect((await call(h.adminToken, 'GET', `/v1/subscriptions/${name}`)).body.spec.state).toBe('pending');
    const again = await cli(h, tokens.pooja, ['approve', name]);
    expect(again.code).toBe(1);
    const owners = await cli(h, tokens.alex, ['approve', name]);
    expect(owners.code, owners.stderr).toBe(0);
    expect((await call(h.adminToken, 'GET', `/v1/subscriptions/${name}`)).body.spec.state).toBe('approved');
    // the owners revoke it too, not only its consumer
    expect((await cli(h, tokens.alex, ['revoke', name])).code).toBe(0);
  });

  it('a request past its SLA raises subscription.approval-overdue for the platform, once', async () => {
    const name = (await subscribe('mobile', 'partner')).metadata.name as string;
    await new Promise((r) => setTimeout(r, 2500));
    expect((await events('pooja', 'subscription.approval-overdue')).filter((n) => n === name)).toHaveLength(1);
    // the platform's, not the teams'
    expect(await events('bob', 'subscription.approval-overdue')).not.toContain(name);
    expect((await call(h.adminToken, 'GET', `/v1/subscriptions/${name}`)).body.spec.overdueNotifiedAt).toBeDefined();
  });

  it('a consumer cannot extend an approved subscription himself; apigov renew by the owners can, and revoke ends it', async () => {
    const sub = await subscribe('web', 'gold');
    const name = sub.metadata.name as string;
    expect((await call(tokens.alex!, 'POST', `/v1/subscriptions/${name}/approve`, {})).status).toBe(200);
    const current = (await call(tokens.bob!, 'GET', `/v1/subscriptions/${name}`)).body;
    const extended = await call(tokens.bob!, 'PUT', `/v1/subscriptions/${name}`, { ...current, spec: { ...current.spec, expiresAt: '2099-01-01' } });
    expect(extended.status).toBe(403);
    expect(extended.body.detail).toContain('may not change the plan, state or expiry');
    const bobRenew = await cli(h, tokens.bob, ['renew', name, '--until', '2027-12-31']);
    expect(bobRenew.code).toBe(1);
    expect(bobRenew.stderr).toContain("is on the manual plan gold: its renewal is the owners' of payments or a platform admin's decision");
    const renewed = await cli(h, tokens.alex, ['renew', name, '--until', '2027-12-31']);
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(renewed.stdout).toBe(`Subscription ${name} renewed until 2027-12-31T00:00:00.000Z.\n`);
    expect(await events('bob', 'subscription.renewed')).toContain(name);
    const revoked = await cli(h, tokens.bob, ['revoke', name]);
    expect(revoked.stdout).toBe(`Subscription ${name} revoked.\n`);
    expect((await call(h.adminToken, 'GET', `/v1/subscriptions/${name}`)).status).toBe(404);
    expect(await events('alex', 'subscription.revoked')).toContain(name);
    // on a self-service plan the consumer renews his own
    const free = (await subscribe('web', 'free')).metadata.name as string;
    const own = await cli(h, tokens.bob, ['renew', free]);
    expect(own.code, own.stderr).toBe(0);
  });

  it('apigov approve --all-pending --api approves every pending subscription it can, and says which wait', async () => {
    const names: string[] = [];
    for (const app of ['batch', 'kiosk']) names.push((await subscribe(app, 'gold', 'prod')).metadata.name as string);
    const two = (await subscribe('mobile', 'partner', 'prod')).metadata.name as string;
    const bulk = await cli(h, tokens.alex, ['approve', '--all-pending', '--api', 'payments', '-o', 'json']);
    expect(bulk.code, bulk.stderr).toBe(0);
    const out = JSON.parse(bulk.stdout);
    expect(out.approved.sort()).toEqual(names.sort());
    expect(out.waiting.map((w: any) => w.subscription)).toEqual(expect.arrayContaining([two]));
    for (const n of names) expect((await call(h.adminToken, 'GET', `/v1/subscriptions/${n}`)).body.spec.state).toBe('approved');
    expect((await cli(h, tokens.bob, ['approve', '--all-pending', '--api', 'payments'])).code).toBe(1);
    expect((await cli(h, tokens.alex, ['approve', '--all-pending'])).code).toBe(2);
    // who still calls v1 in prod (no traffic here: 0 calls, no last call)
    const consumers = await cli(h, tokens.alex, ['consumers', 'payments', '--version', 'v1']);
    expect(consumers.code, consumers.stderr).toBe(0);
    const lines = consumers.stdout.trim().split('\n');
    expect(lines[0]!.split(/\s{2,}/)).toEqual(['SUBSCRIPTION', 'APP', 'TEAM', 'ENV', 'PLAN', 'STATE', 'CALLS (7 D)', 'LAST CALL']);
    expect(lines.find((l) => l.startsWith(names[0]!))!.split(/\s{2,}/).slice(-2)).toEqual(['0', '-']);
  });

  it('expiry: subscription.expiring within 7 days, then expired at its time', async () => {
    const soon = (await subscribe('kiosk', 'free')).metadata.name as string;
    const doc = (await call(h.adminToken, 'GET', `/v1/subscriptions/${soon}`)).body;
    const inThreeDays = new Date(Date.now() + 3 * 86_400_000).toISOString();
    expect((await call(h.adminToken, 'PUT', `/v1/subscriptions/${soon}`, { ...doc, spec: { ...doc.spec, expiresAt: inThreeDays } })).status).toBe(200);
    const gone = (await subscribe('checkout', 'free', 'prod')).metadata.name as string;
    const doc2 = (await call(h.adminToken, 'GET', `/v1/subscriptions/${gone}`)).body;
    expect((await call(h.adminToken, 'PUT', `/v1/subscriptions/${gone}`, { ...doc2, spec: { ...doc2.spec, expiresAt: new Date(Date.now() + 500).toISOString() } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await events('bob', 'subscription.expiring')).toContain(soon);
    expect((await call(h.adminToken, 'GET', `/v1/subscriptions/${gone}`)).body.spec.state).toBe('expired');
    expect(await events('bob', 'subscription.expired')).toContain(gone);
    // renewing an expired one brings it back
    expect((await cli(h, tokens.bob, ['renew', gone])).code).toBe(0);
    expect((await call(h.adminToken, 'GET', `/v1/subscriptions/${gone}`)).body.spec.state).toBe('approved');
  });
});
