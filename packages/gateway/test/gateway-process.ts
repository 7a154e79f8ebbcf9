// A real `apigov gateway` process for the tests that need one (cluster mode, NODE_EXTRA_CA_CERTS): started from
// dist/main.js with the given flags, ready once it prints where it listens, stopped with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

export interface GatewayProcess {
  child: ChildProcess;
  /** the line it printed once listening */
  line: string;
  url: string;
  adminUrl: string | undefined;
  stop(): Promise<void>;
}

export async function startGatewayProcess(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const l = out.split('\n').find((x) => x.includes('listening on'));
      if (l !== undefined) resolve(l);
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`gateway exited ${code}: ${err}`)));
    setTimeout(() => reject(new Error(`no listening line: ${out} ${err}`)), 20_000);
  });
  const m = /listening on (\S+?)(?:, admin on (\S+?))?,/.exec(line);
  if (m === null) throw new Error(`unexpected listening line: ${line}`);
  return {
    child,
    line,
    url: m[1]!,
    adminUrl: m[2],
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
