// The gateway process with --workers 2 (node:cluster): one long-poll in the primary fanned out to the workers,
// both workers take traffic on the shared port (each reports its own usage), metrics aggregated on the admin port.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startPaymentsService, type PaymentsService } from '../../../examples/payments/src/index.js';
import { buildSnapshot, paymentsRoute } from './snapshot-fixture.js';
import { startControlPlaneStandIn, type ControlPlaneStandIn } from './control-plane-stand-in.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';

describe('cluster mode', () => {
  let service: PaymentsService;
  let cp: ControlPlaneStandIn;
  let gateway: GatewayProcess | undefined;
  let dir: string;
  let url = '';
  let adminUrl = '';

  beforeAll(async () => {
    service = await startPaymentsService();
    cp = await startControlPlaneStandIn();
    cp.publish(buildSnapshot({ version: 7, routes: [await paymentsRoute(service.url)] }));
    dir = await mkdtemp(join(tmpdir(), 'apigov-cluster-'));
    gateway = await startGatewayProcess(['--env', 'dev', '--control-plane', cp.url, '--port', '0', '--admin-port', '0', '--workers', '2', '--access-log', 'off', '--cache-dir', dir, '--report-interval', '300']);
    expect(gateway.line).toMatch(/^apigov gateway \(env dev\) listening on http:\/\/127\.0\.0\.1:\d+, admin on http:\/\/127\.0\.0\.1:\d+, snapshot v7 \(2 workers\)$/);
    url = gateway.url;
    adminUrl = gateway.adminUrl!;
  });

  afterAll(async () => {
    await gateway?.stop();
    await cp?.stop();
    await service?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves on the shared port from both workers, and aggregates their metrics on the admin port', async () => {
    expect((await request(`${adminUrl}/ready`)).statusCode).toBe(200);
    const agent = new Agent({ connections: 16, pipelining: 1 });
    const n = 200;
    await Promise.all(
      Array.from({ length: n }, async () => {
        const res = await request(`${url}/payments/v1/payments`, { dispatcher: agent, headers: { connection: 'close' } });
        await res.body.dump();
        expect(res.statusCode).toBe(200);
      }),
    );
    await agent.close();
    const deadline = Date.now() + 10_000;
    const perGateway = () => {
      const m = new Map<string, number>();
      for (const r of cp.reports) for (const u of r.usage) m.set(r.gateway, (m.get(r.gateway) ?? 0) + u.count);
      return m;
    };
    while ([...perGateway().values()].reduce((a, b) => a + b, 0) < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const counts = perGateway();
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(n);
    expect(counts.size).toBe(2);
    for (const c of counts.values()) expect(c).toBeGreaterThan(0);
    const metrics = await (await request(`${adminUrl}/metrics`)).body.text();
    const total = [...metrics.matchAll(/^apigov_requests_total\{[^}]*route="payments\/v1"[^}]*status_class="2xx"\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
    expect(total).toBe(n);
    const snap = (await (await request(`${adminUrl}/snapshot`)).body.json()) as { version: number; workers: Array<{ version: number }> };
    expect(snap.version).toBe(7);
    expect(snap.workers.map((w) => w.version)).toEqual([7, 7]);
  });

  it('hands a new snapshot to every worker', async () => {
    cp.publish(buildSnapshot({ version: 8, routes: [await paymentsRoute(service.url, { prefix: '/p/v1' })] }));
    const deadline = Date.now() + 5000;
    let snap = { version: 0, workers: [] as Array<{ version: number }> };
    while (Date.now() < deadline) {
      snap = (await (await request(`${adminUrl}/snapshot`)).body.json()) as typeof snap;
      if (snap.version === 8) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(snap.workers.map((w) => w.version)).toEqual([8, 8]);
    for (let i = 0; i < 10; i++) {
      const res = await request(`${url}/p/v1/payments`, { headers: { connection: 'close' } });
      await res.body.dump();
      expect(res.statusCode).toBe(200);
    }
  });
});
