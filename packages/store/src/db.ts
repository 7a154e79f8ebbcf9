// The one seam between the store and its database: a tiny `Db` adapter over PGlite (one embedded
// connection, so every use is serialised through a queue) or a PostgreSQL `pg` Pool; the SQL is the same.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { ApigovError } from '@apigov/model';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';

export type Row = Record<string, unknown>;

/** Runs SQL: `query` is one statement with $n parameters; `exec` runs a parameterless script. */
export interface Queryable {
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly dialect: 'pglite' | 'postgres';
  /** BEGIN … COMMIT around `fn`; ROLLBACK when `fn` throws or when any statement inside it failed. */
  transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A FIFO mutex: callers run one at a time in arrival order. */
export class Queue {
  private tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/**
 * Wraps the queries of one transaction: remembers the first failing statement, because after an error
 * PostgreSQL ignores the rest of the transaction and a COMMIT silently becomes a ROLLBACK.
 */
class TxQueryable implements Queryable {
  failure: unknown = undefined;
  finished = false;

  constructor(private readonly inner: Queryable) {}

  private check(): void {
    if (this.finished) throw new ApigovError('APIGOV_ERR_INTERNAL', 'the transaction is already finished; statements must run inside the transaction callback');
  }

  async query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    this.check();
    try {
      return await this.inner.query<R>(sql, params);
    } catch (e) {
      if (this.failure === undefined) this.failure = e;
      throw e;
    }
  }

  async exec(sql: string): Promise<void> {
    this.check();
    try {
      await this.inner.exec(sql);
    } catch (e) {
      if (this.failure === undefined) this.failure = e;
      throw e;
    }
  }
}

async function runTransaction<T>(raw: Queryable, fn: (q: Queryable) => Promise<T>): Promise<T> {
  await raw.exec('BEGIN');
  const tx = new TxQueryable(raw);
  let result: T;
  try {
    result = await fn(tx);
    if (tx.failure !== undefined) throw tx.failure;
  } catch (e) {
    tx.finished = true;
    try {
      await raw.exec('ROLLBACK');
    } catch {
      // the connection is gone; the server rolls back on its own
    }
    throw e;
  }
  tx.finished = true;
  await raw.exec('COMMIT');
  return result;
}

class PgliteDb implements Db {
  readonly dialect = 'pglite' as const;
  private readonly queue = new Queue();

  constructor(
    private readonly pglite: PGlite,
    private readonly lock?: DataDirLock,
  ) {}

  private readonly direct: Queryable = {
    query: async <R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]> =>
      (await this.pglite.query<R>(sql, params === undefined ? undefined : [...params])).rows,
    exec: async (sql: string): Promise<void> => {
      await this.pglite.exec(sql);
    },
  };

  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    return this.queue.run(() => this.direct.query<R>(sql, params));
  }

  exec(sql: string): Promise<void> {
    return this.queue.run(() => this.direct.exec(sql));
  }

  transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return this.queue.run(() => runTransaction(this.direct, fn));
  }

  close(): Promise<void> {
    return this.queue.run(async () => {
      try {
        await this.pglite.close();
      } finally {
        this.lock?.release();
      }
    });
  }
}

function clientQueryable(client: pg.PoolClient): Queryable {
  return {
    async query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]> {
      return (await client.query<R>(sql, params === undefined ? undefined : [...params])).rows;
    },
    async exec(sql: string): Promise<void> {
      const res = (await client.query(sql)) as pg.QueryResult | pg.QueryResult[];
      // COMMIT of a transaction that had failed comes back as ROLLBACK without an error
      const last = Array.isArray(res) ? res[res.length - 1] : res;
      if (sql.trim().toUpperCase() === 'COMMIT' && last?.command === 'ROLLBACK') {
        throw new ApigovError('APIGOV_ERR_INTERNAL', 'the transaction was rolled back by the database');
      }
    },
  };
}

class PostgresDb implements Db {
  readonly dialect = 'postgres' as const;

  constructor(private readonly pool: pg.Pool) {}

  async query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    return (await this.pool.query<R>(sql, params === undefined ? undefined : [...params])).rows;
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      return await runTransaction(clientQueryable(client), fn);
    } catch (e) {
      // a client whose connection failed must not go back to the pool
      if (isConnectionError(e)) broken = e instanceof Error ? e : new Error(String(e));
      throw e;
    } finally {
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('08') || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNREFUSED');
}

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function openPglite(dataDir: string): Promise<Db> {
  if (dataDir.startsWith('memory://')) return new PgliteDb(await PGlite.create(dataDir));
  const target = resolve(dataDir);
  mkdirSync(target, { recursive: true });
  // one process per data directory: a second one would corrupt it
  const lock = lockDataDir(target);
  try {
    return new PgliteDb(await PGlite.create(target), lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

export async function openPostgres(databaseUrl: string, schema: string): Promise<Db> {
  const pool = new pg.Pool({ connectionString: databaseUrl });
  // an idle client losing its connection must not crash the process; pg discards it
  pool.on('error', () => undefined);
  if (schema !== 'public') {
    const setPath = `SET search_path TO ${quoteIdent(schema)}`;
    // queued on the new client before any other query it will run
    pool.on('connect', (client) => {
      client.query(setPath).catch(() => undefined);
    });
  }
  try {
    const client = await pool.connect();
    client.release();
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new ApigovError('APIGOV_ERR_UNAVAILABLE', `cannot connect to PostgreSQL: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return new PostgresDb(pool);
}
