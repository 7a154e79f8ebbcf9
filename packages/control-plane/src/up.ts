// `apigov up`: starts the control plane on the embedded store (or DATABASE_URL), optionally with the demo
// world and the example payments service. The CLI spawns this file; it parses the same flags.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cidrSchema } from '@apigov/model';
import { loadDemo } from './demo.js';
import { startControlPlane } from './server.js';
import { webhookOptionsFromEnv } from './webhooks/worker.js';

function fail(message: string): never {
  process.stderr.write(`apigov up: ${message}\n`);
  process.exit(2);
}

async function startPaymentsExample(port: number): Promise<{ url: string; child: ChildProcess; specPath: string } | undefined> {
  let main: string;
  try {
    main = createRequire(import.meta.url).resolve('@apigov/example-payments/package.json');
  } catch {
    return undefined;
  }
  const dir = dirname(main);
  const child = spawn(process.execPath, [join(dir, 'dist', 'main.js'), '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((ok, ko) => {
    let out = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) ok(m[1]);
    });
    child.on('exit', (code) => ko(new Error(`the payments example exited with ${code}`)));
  });
  return { url, child, specPath: join(dir, 'openapi.yaml') };
}

interface GatewayProcessOptions {
  controlPlane: string;
  environment: string;
  port: number;
  adminPort: number;
  host: string;
  cacheDir: string;
  token: string;
  redis?: string;
}

/** Spawns `apigov gateway` for one environment and waits until it says where it listens. */
async function startGatewayProcess(o: GatewayProcessOptions): Promise<{ child: ChildProcess; url: string; adminUrl: string }> {
  const main = createRequire(import.meta.url).resolve('@apigov/gateway/main');
  const args = [main, '--control-plane', o.controlPlane, '--env', o.environment, '--port', String(o.port), '--admin-port', String(o.adminPort), '--host', o.host, '--cache-dir', o.cacheDir, '--access-log', join(o.cacheDir, 'access.log')];
  if (o.redis) args.push('--redis', o.redis);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, APIGOV_GATEWAY_TOKEN: o.token } });
  return new Promise((ok, ko) => {
    let outText = '';
    const onData = (b: Buffer) => {
      outText += b.toString();
      if (/listening on/.test(outText)) {
        child.stdout?.off('data', onData);
        child.stdout?.pipe(process.stdout);
        ok({ child, url: `http://${o.host}:${o.port}`, adminUrl: `http://${o.host}:${o.adminPort}` });
      }
    };
    child.stdout?.on('data', onData);
    child.on('exit', (code) => ko(new Error(`the ${o.environment} gateway exited with ${code}: ${outText.trim()}`)));
  });
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        demo: { type: 'boolean', default: false },
        'data-dir': { type: 'string', default: './.apigov/data' },
        port: { type: 'string', default: '4000' },
        host: { type: 'string', default: '127.0.0.1' },
        'database-url': { type: 'string' },
        'payments-port': { type: 'string', default: '4100' },
        'gateway-port': { type: 'string', default: '8080' },
        'gateway-admin-port': { type: 'string', default: '9080' },
        'no-gateways': { type: 'boolean', default: false },
        redis: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'trusted-proxies': { type: 'string' },
        'public-url': { type: 'string' },
        'events-nats': { type: 'string' },
      },
      strict: true,
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a port number, got '${values.port}'`);
  const dataDir = resolve(values['data-dir'] as string);
  const databaseUrl = (values['database-url'] as string | undefined) ?? process.env.DATABASE_URL;
  if (!databaseUrl) mkdirSync(dataDir, { recursive: true });
  const gatewayPort = Number(values['gateway-port']);
  const gatewayAdminPort = Number(values['gateway-admin-port']);
  if (!Number.isInteger(gatewayPort) || gatewayPort < 1 || gatewayPort > 65500) fail(`--gateway-port must be a port number, got '${values['gateway-port']}'`);
  if (!Number.isInteger(gatewayAdminPort) || gatewayAdminPort < 1 || gatewayAdminPort > 65500) fail(`--gateway-admin-port must be a port number, got '${values['gateway-admin-port']}'`);
  const gatewayToken = process.env.APIGOV_GATEWAY_TOKEN ?? `gw_${randomBytes(24).toString('base64url')}`;
  const started = Date.now();
  const tlsCert = values['tls-cert'] as string | undefined;
  const tlsKey = values['tls-key'] as string | undefined;
  if ((tlsCert === undefined) !== (tlsKey === undefined)) fail('--tls-cert and --tls-key go together');
  const trustedProxies = (values['trusted-proxies'] as string | undefined)?.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of trustedProxies ?? []) if (!cidrSchema.safeParse(p).success) fail(`--trusted-proxies: '${p}' is not an address or CIDR`);
  const publicUrl = values['public-url'] as string | undefined;
  if (publicUrl !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(publicUrl)) fail(`--public-url must be an origin like https://apigov.example.com, got '${publicUrl}'`);
  let cp;
  try {
    cp = await startControlPlane({
      port,
      host: values.host as string,
      dataDir,
      databaseUrl,
      adminToken: process.env.APIGOV_ADMIN_TOKEN,
      gatewayToken,
      logger: { level: process.env.APIGOV_LOG_LEVEL ?? 'warn' },
      ...(tlsCert !== undefined && tlsKey !== undefined && { tlsCert: resolve(tlsCert), tlsKey: resolve(tlsKey) }),
      ...(trustedProxies !== undefined && { trustedProxies }),
      ...(publicUrl !== undefined && { sso: { publicUrl } }),
      webhooks: webhookOptionsFromEnv(),
      ...(values['events-nats'] !== undefined && { eventsNats: values['events-nats'] as string }),
    });
  } catch (e) {
    fail((e as Error).message);
  }
  // gateways started here reach the control plane over its TLS; a self-signed certificate is its own CA
  if (tlsCert !== undefined && process.env.NODE_EXTRA_CA_CERTS === undefined) process.env.NODE_EXTRA_CA_CERTS = resolve(tlsCert);
  const children: ChildProcess[] = [];
  const out = (s: string) => process.stdout.write(s + '\n');
  out(`apigov control plane listening on ${cp.url} (store: ${cp.store.dialect}${databaseUrl ? '' : ` in ${dataDir}`})`);
  if (values.demo) {
    mkdirSync(dataDir, { recursive: true });
    const payments = await startPaymentsExample(Number(values['payments-port']));
    if (!payments) fail('the demo needs the examples/payments workspace; run it from the repository');
    children.push(payments.child);
    out(`payments example service listening on ${payments.url}`);
    const gatewayUrls = values['no-gateways'] ? undefined : Object.fromEntries(['dev', 'staging', 'prod'].map((env, i) => [env, `http://${values.host as string}:${gatewayPort + i}`]));
    const tokens = await loadDemo(cp.store, { dataDir, paymentsSpecPath: payments.specPath, paymentsUpstream: payments.url, gatewayUrls, portalOrigin: cp.url });
    out(`demo loaded: teams payments, orders, platform; environments dev, staging, prod; API payments (v1 published in dev)`);
    out(`demo tokens (also in ${join(dataDir, 'demo-tokens.json')}):`);
    for (const [user, token] of Object.entries(tokens)) if (user !== 'bobAppKey') out(`  ${user.padEnd(6)} ${token}`);
    out(`API key of bob's application bob-app (subscribed to payments v1 in dev on the free plan): ${tokens.bobAppKey}`);
    out(`try:  npx apigov login --url ${cp.url} --token ${tokens.bob} && npx apigov search payments`);
    if (!values['no-gateways']) out(`      curl -H 'x-api-key: ${tokens.bobAppKey}' http://${values.host as string}:${gatewayPort}/payments/v1/payments`);
  }
  let gatewaysAvailable = true;
  try {
    createRequire(import.meta.url).resolve('@apigov/gateway/main');
  } catch {
    gatewaysAvailable = false;
    if (!values['no-gateways']) out('the gateway package is not built; starting without gateways (npm run build)');
  }
  if (!values['no-gateways'] && gatewaysAvailable) {
    const envs = (await cp.store.list('Environment', { limit: 1000 })).sort(
      (a, b) => (a.resource.kind === 'Environment' && b.resource.kind === 'Environment' ? a.resource.spec.order - b.resource.spec.order : 0) || a.resource.metadata.name.localeCompare(b.resource.metadata.name),
    );
    for (const [i, env] of envs.entries()) {
      const name = env.resource.metadata.name;
      const g = await startGatewayProcess({
        controlPlane: cp.url,
        environment: name,
        port: gatewayPort + i,
        adminPort: gatewayAdminPort + i,
        host: values.host as string,
        cacheDir: join(dataDir, '..', `gateway-${name}`),
        token: gatewayToken,
        redis: values.redis as string | undefined,
      });
      children.push(g.child);
      out(`gateway for ${name} listening on ${g.url} (admin ${g.adminUrl})`);
    }
  }
  out(`ready in ${Date.now() - started} ms`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    for (const c of children) c.kill('SIGTERM');
    await cp.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`apigov up: ${(e as Error).message}\n`);
  process.exit(1);
});
