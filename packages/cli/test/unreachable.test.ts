// A control plane that does not answer: every server command fails with exit 1 and one line that
// names the URL it tried.
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { run, stderrLines, tempDir } from './helpers.js';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

describe('unreachable control plane', () => {
  it('APIGOV_URL=http://127.0.0.1:1 exits 1 with "cannot reach the control plane at URL"', async () => {
    const r = await run(['search', 'payments'], { APIGOV_CONFIG: join(tempDir(), 'config.yaml'), APIGOV_URL: 'http://127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(stderrLines(r)).toEqual([expect.stringMatching(/^apigov: cannot reach the control plane at http:\/\/127\.0\.0\.1:1 .*\[APIGOV_ERR_UNAVAILABLE\]$/)]);
    expect(r.stdout).toBe('');
  });

  it('a refused connection is reported the same way, for reads and writes alike', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const env = { APIGOV_CONFIG: join(tempDir(), 'config.yaml'), APIGOV_URL: url, APIGOV_TOKEN: 't' };
    for (const args of [['teams', 'list'], ['teams', 'create', 'payments'], ['audit', 'verify'], ['login', '--url', url, '--token', 't']]) {
      const r = await run(args, env);
      expect(r.code, args.join(' ')).toBe(1);
      expect(stderrLines(r), args.join(' ')).toEqual([`apigov: cannot reach the control plane at ${url} (ECONNREFUSED) [APIGOV_ERR_UNAVAILABLE]`]);
    }
  });
});
