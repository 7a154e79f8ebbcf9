#!/usr/bin/env node
// Command-line entry: `node examples/payments/dist/main.js [--port 4100] [--host 127.0.0.1]`.
import { parseArgs } from 'node:util';
import { startPaymentsService } from './index.js';

const USAGE = 'usage: payments-service [--port <0-65535>] [--host <address>]   (default 127.0.0.1:4100; PORT env also honoured)';

async function main(): Promise<void> {
  let values: { port?: string; host?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: { port: { type: 'string', short: 'p' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const rawPort = values.port ?? process.env.PORT ?? '4100';
  const port = /^\d{1,5}$/.test(rawPort) ? Number(rawPort) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    console.error(`invalid port ${JSON.stringify(rawPort)}\n${USAGE}`);
    process.exit(2);
  }
  const service = await startPaymentsService({ port, host: values.host ?? '127.0.0.1' });
  console.log(`payments service listening on ${service.url}`);

  const stop = (signal: NodeJS.Signals): void => {
    service.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`payments service: error while stopping on ${signal}:`, err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error('payments service failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
