// HTTPS upstreams through a real `apigov gateway` process: a certificate from a private CA is trusted once the
// gateway runs with NODE_EXTRA_CA_CERTS (by name and by IP address, keep-alive connections reused); a certificate
// nobody vouches for, or one for another name, is refused with a 502 problem+json and the upstream gets nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { buildSnapshot, paymentsRoute } from './snapshot-fixture.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';

const TLS = fileURLToPath(new URL('./fixtures/tls/', import.meta.url));
const pem = (name: string): string => readFileSync(join(TLS, name), 'utf8');

interface TlsUpstream {
  server: Server;
  port: number;
  /** requests it received, and on how many distinct connections */
  hits: number;
  connections: Set<unknown>;
}

async function startTlsUpstream(cert: string, key: string, host = '127.0.0.1'): Promise<TlsUpstream> {
  const up: TlsUpstream = { server: undefined as unknown as Server, port: 0, hits: 0, connections: new Set() };
  up.server = createServer({ cert: pem(cert), key: pem(key) }, (req, res) => {
    up.hits++;
    up.connections.add(req.socket);
    const body = JSON.stringify({ path: req.url, tls: true });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((r) => up.server.listen(0, host, r));
  up.port = (up.server.address() as AddressInfo).port;
  return up;
}

describe('HTTPS upstreams', () => {
  let trusted: TlsUpstream;
  let untrusted: TlsUpstream;
  /** the trusted certificate (for localhost and 127.0.0.1), served at an address it does not name */
  let elsewhere: TlsUpstream;
  let gateway: GatewayProcess | undefined;
  let dir: string;
  let url = '';

  beforeAll(async () => {
    trusted = await startTlsUpstream('server.pem', 'server.key');
    untrusted = await startTlsUpstream('other.pem', 'other.key');
    elsewhere = await startTlsUpstream('server.pem', 'server.key', '127.0.0.2');
    dir = await mkdtemp(join(tmpdir(), 'apigov-tls-'));
    const route = async (id: string, upstream: string) => paymentsRoute(upstream, { id, withoutOperations: true, policies: {} });
    const snapshot = buildSnapshot({
      routes: [
        await route('by-name/v1', `https://localhost:${trusted.port}/base`),
        await route('by-ip/v1', `https://127.0.0.1:${trusted.port}`),
        await route('untrusted/v1', `https://localhost:${untrusted.port}`),
        await route('wrong-name/v1', `https://127.0.0.2:${elsewhere.port}`),
      ],
    });
    const file = join(dir, 'snapshot.json');
    await writeFile(file, JSON.stringify(snapshot));
    gateway = await startGatewayProcess(['--env', 'dev', '--snapshot-file', file, '--port', '0', '--admin-port', '0', '--access-log', 'off'], { ...process.env, NODE_EXTRA_CA_CERTS: join(TLS, 'ca.pem') });
    url = gateway.url;
  });

  afterAll(async () => {
    await gateway?.stop();
    for (const up of [trusted, untrusted, elsewhere]) up?.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('forwards to an upstream whose certificate a private CA signed, by name and by IP address, on kept-alive connections', async () => {
    const agent = new Agent({ connections: 1, pipelining: 1 });
    for (let i = 0; i < 5; i++) {
      const byName = await request(`${url}/by-name/v1/payments?n=${i}`, { dispatcher: agent });
      expect(byName.statusCode).toBe(200);
      expect(await byName.body.json()).toEqual({ path: `/base/payments?n=${i}`, tls: true });
      const byIp = await request(`${url}/by-ip/v1/payments`, { dispatcher: agent });
      expect(byIp.statusCode).toBe(200);
      expect(await byIp.body.json()).toEqual({ path: '/payments', tls: true });
    }
    await agent.close();
    expect(trusted.hits).toBe(10);
    // one connection per upstream origin, reused for every request (the gateway's TLS handshakes are not per request)
    expect(trusted.connections.size).toBe(2);
  });

  it('refuses an upstream certificate nobody vouches for: 502 problem+json, nothing reaches the upstream', async () => {
    const res = await request(`${url}/untrusted/v1/payments`, { headers: { 'x-request-id': 'tls-untrusted-1' } });
    expect(res.statusCode).toBe(502);
    expect(res.headers['content-type']).toBe('application/problem+json');
    const problem = (await res.body.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({ status: 502, type: 'https://apigov.dev/errors/APIGOV_ERR_GATEWAY_UPSTREAM', requestId: 'tls-untrusted-1' });
    expect(String(problem.detail)).toContain('untrusted/v1');
    expect(untrusted.hits).toBe(0);
  });

  it('refuses an upstream whose certificate is for another name', async () => {
    const res = await request(`${url}/wrong-name/v1/payments`);
    expect(res.statusCode).toBe(502);
    await res.body.dump();
    expect(elsewhere.hits).toBe(0);
  });
});
