// Running another package's process entry as a child (`apigov up`, `apigov gateway`): find its file by
// package specifier without importing it, inherit stdio, forward Ctrl-C / SIGTERM, exit with its code.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliError } from './errors.js';

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** The file behind a package export such as `@apigov/gateway/main`; a missing or unbuilt one is a failure. */
export function entryPath(specifier: string, what: string): string {
  let path: string | undefined;
  try {
    path = fileURLToPath(import.meta.resolve(specifier));
  } catch {
    path = undefined;
  }
  if (path === undefined || !existsSync(path)) {
    throw new CliError('APIGOV_ERR_UNAVAILABLE', `cannot find the ${what} (${specifier}); build it with \`npm run build\``);
  }
  return path;
}

/**
 * Runs `node <args...>` with this process's stdio (and `env`), passing SIGINT and SIGTERM on to it, and resolves
 * with its exit code (130/143 when a signal ended it). With `onStdout`, its output also goes to that callback.
 */
export async function runNodeChild(args: readonly string[], what: string, env: NodeJS.ProcessEnv = process.env, onStdout?: (text: string) => void): Promise<number> {
  const child = spawn(process.execPath, args, { stdio: onStdout === undefined ? 'inherit' : ['inherit', 'pipe', 'inherit'], env });
  // a caller that watches the child's output still shows all of it
  child.stdout?.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    onStdout?.(chunk.toString());
  });
  const forward = (signal: NodeJS.Signals) => () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (e) => reject(new CliError('APIGOV_ERR_UNAVAILABLE', `cannot start the ${what}: ${e.message}`, { cause: e })));
      child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : (SIGNAL_EXIT[signal] ?? 1))));
    });
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
