// Test harness for end-to-end suites: a real control plane over a real store (PGlite or PostgreSQL),
// the built `apigov` CLI run as a child process, and raw SQL access for tampering tests.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '@apigov/store';
import { startControlPlane, type RunningControlPlane, type StartOptions } from '@apigov/control-plane';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'packages', 'cli', 'bin', 'apigov.js');
export const PG_URL = process.env.APIGOV_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type Backend = 'pglite' | 'postgres';

export interface Harness {
  backend: Backend;
  /** replaced when a test restarts the control plane */
  cp: RunningControlPlane;
  store: Store;
  adminToken: string;
  gatewayToken: string;
  dir: string;
  /** raw SQL against the store's database (tampering tests) */
  sql(text: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

/** Whether PostgreSQL answers; on CI a missing PostgreSQL is a failure, never a skip. */
export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch (e) {
    if (process.env.CI === 'true') throw new Error(`PostgreSQL is required on CI at ${PG_URL}: ${(e as Error).message}`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function startHarness(backend: Backend, controlPlane: Partial<StartOptions> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'apigov-e2e-'));
  const adminToken = `bootstrap-${randomBytes(16).toString('hex')}`;
  const gatewayToken = `gateway-${randomBytes(16).toString('hex')}`;
  let store: Store;
  let sql: Harness['sql'];
  let cleanup = async () => undefined as void;
  if (backend === 'pglite') {
    store = await openStore({ dataDir: join(dir, 'data') });
    const raw = store as unknown as { rawQuery(text: string, params?: unknown[]): Promise<Array<Record<string, unknown>>> };
    sql = (text, params) => raw.rawQuery(text, params);
  } else {
    const schema = `e2e_${randomBytes(6).toString('hex')}`;
    store = await openStore({ databaseUrl: PG_URL, schema });
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`SET search_path TO "${schema}"`);
    sql = async (text, params) => (await client.query(text, params)).rows as Array<Record<string, unknown>>;
    cleanup = async () => {
      await client.query(`DROP SCHEMA "${schema}" CASCADE`);
      await client.end();
    };
  }
  const cp = await startControlPlane({ store, adminToken, gatewayToken, ...controlPlane });
  store = cp.store;
  const harness: Harness = {
    backend,
    cp,
    store,
    adminToken,
    gatewayToken,
    dir,
    sql,
    async close() {
      await harness.cp.close();
      await cleanup();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI asynchronously (the control plane lives in this process, so never block it). */
export function cli(h: Harness, token: string | undefined, args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: h.dir,
    APIGOV_CONFIG: join(h.dir, 'config.yaml'),
    APIGOV_URL: h.cp.url,
    NO_COLOR: '1',
    ...extraEnv,
  };
  if (token !== undefined) env.APIGOV_TOKEN = token;
  return new Promise((ok) => {
    execFile(process.execPath, [CLI, ...args], { env, cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      ok({ code, stdout, stderr });
    });
  });
}
