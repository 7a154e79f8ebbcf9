// `apigov up`: starts the control plane on the embedded store (or DATABASE_URL), optionally with the demo
// world and the example payments service. The CLI spawns this file; it parses the same flags.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadDemo } from './demo.js';
import { startControlPlane } from './server.js';

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
  const started = Date.now();
  const cp = await startControlPlane({ port, host: values.host as string, dataDir, databaseUrl, adminToken: process.env.APIGOV_ADMIN_TOKEN, logger: { level: process.env.APIGOV_LOG_LEVEL ?? 'warn' } });
  const children: ChildProcess[] = [];
  const out = (s: string) => process.stdout.write(s + '\n');
  out(`apigov control plane listening on ${cp.url} (store: ${cp.store.dialect}${databaseUrl ? '' : ` in ${dataDir}`})`);
  if (values.demo) {
    mkdirSync(dataDir, { recursive: true });
    const payments = await startPaymentsExample(Number(values['payments-port']));
    if (!payments) fail('the demo needs the examples/payments workspace; run it from the repository');
    children.push(payments.child);
    out(`payments example service listening on ${payments.url}`);
    const tokens = await loadDemo(cp.store, { dataDir, paymentsSpecPath: payments.specPath, paymentsUpstream: payments.url });
    out(`demo loaded: teams payments, orders, platform; environments dev, staging, prod; API payments (v1 published in dev)`);
    out(`demo tokens (also in ${join(dataDir, 'demo-tokens.json')}):`);
    for (const [user, token] of Object.entries(tokens)) out(`  ${user.padEnd(6)} ${token}`);
    out(`try:  npx apigov login --url ${cp.url} --token ${tokens.bob} && npx apigov search payments`);
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
