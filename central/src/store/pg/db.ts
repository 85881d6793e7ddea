/**
 * The Postgres connection pool of the central store, in one schema, with transactions that follow
 * the async context: a query issued anywhere inside `transaction(fn)` runs on that transaction's
 * connection, so repositories compose into one transaction without passing a client around.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { ReplenishmentError, ReplenishmentErrorCodes } from '../errors.js';
import type { Migration } from '../migrations.js';

/** Epoch milliseconds and counts are BIGINT; they fit a double exactly (below 2^53). */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

export type Row = Record<string, unknown>;
export type Param = string | number | boolean | null | readonly string[] | readonly number[];

interface TxContext {
  client: pg.PoolClient;
  depth: number;
}

/** A transaction opened by `begin()`: queries inside `run(fn)` join it; it ends once. */
export interface TxHandle {
  run<T>(fn: () => Promise<T>): Promise<T>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

export interface PgDbOptions {
  url: string;
  schema: string;
  poolSize: number;
  statementTimeoutMs: number;
}

export class PgDb {
  readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly tx = new AsyncLocalStorage<TxContext>();
  private ended = false;

  constructor(options: PgDbOptions) {
    this.schema = options.schema;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize,
      types,
      options: `-c search_path=${options.schema} -c statement_timeout=${options.statementTimeoutMs}`,
    });
    // An idle connection that dies (Postgres restarted) is dropped by the pool; the next query
    // opens a new one. Without a listener the error would end the process.
    this.pool.on('error', () => undefined);
  }

  get closed(): boolean {
    return this.ended;
  }

  /** True inside `transaction(fn)`. */
  get inTransaction(): boolean {
    return this.tx.getStore() !== undefined;
  }

  async query<R extends Row = Row>(text: string, values: readonly Param[] = []): Promise<R[]> {
    const ctx = this.tx.getStore();
    try {
      const res = await (ctx ? ctx.client : this.pool).query<R>(text, values as unknown[]);
      return res.rows;
    } catch (err) {
      throw storeError(err);
    }
  }

  /** The first row, or undefined. */
  async one<R extends Row = Row>(text: string, values: readonly Param[] = []): Promise<R | undefined> {
    return (await this.query<R>(text, values))[0];
  }

  /** How many rows a statement changed. */
  async run(text: string, values: readonly Param[] = []): Promise<number> {
    const ctx = this.tx.getStore();
    try {
      const res = await (ctx ? ctx.client : this.pool).query(text, values as unknown[]);
      return res.rowCount ?? 0;
    } catch (err) {
      throw storeError(err);
    }
  }

  /** Runs `fn` in one transaction (READ COMMITTED); nested calls become savepoints. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const ctx = this.tx.getStore();
    if (ctx) {
      const name = `tx_${ctx.depth + 1}`;
      await ctx.client.query(`SAVEPOINT ${name}`);
      try {
        const out = await this.tx.run({ client: ctx.client, depth: ctx.depth + 1 }, fn);
        await ctx.client.query(`RELEASE SAVEPOINT ${name}`);
        return out;
      } catch (err) {
        await ctx.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
        throw err;
      }
    }
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw storeError(err);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      const out = await this.tx.run({ client, depth: 0 }, fn);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * Opens a transaction on a connection of its own, for a caller that cannot hold an async context
   * across its steps (the synchronous store's thread): each step runs inside `handle.run(fn)`.
   */
  async begin(): Promise<TxHandle> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw storeError(err);
    }
    try {
      await client.query('BEGIN');
    } catch (err) {
      client.release(true);
      throw storeError(err);
    }
    const ctx: TxContext = { client, depth: 0 };
    let done = false;
    const finish = async (sql: string) => {
      if (done) return;
      done = true;
      let broken = false;
      try {
        await client.query(sql);
      } catch (err) {
        broken = true;
        if (sql === 'COMMIT') throw storeError(err);
      } finally {
        client.release(broken);
      }
    };
    return {
      run: (fn) => this.tx.run(ctx, fn),
      commit: () => finish('COMMIT'),
      rollback: () => finish('ROLLBACK'),
    };
  }

  /**
   * Applies every migration above the schema's version, each in its own transaction under an
   * advisory lock, so processes starting together apply each step once.
   */
  async migrate(migrations: readonly Migration[]): Promise<number> {
    migrations.forEach((m, i) => {
      if (m.version !== i + 1) throw new Error(`migration ${i + 1} is numbered ${m.version}`);
    });
    const lock = async () => {
      await this.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`shelfsense:${this.schema}`]);
    };
    await this.transaction(async () => {
      await lock();
      await this.run(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await this.run(
        'CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)',
      );
      await this.run('INSERT INTO schema_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING');
    });
    const current = await this.version();
    if (current > migrations.length) {
      throw new ReplenishmentError(
        ReplenishmentErrorCodes.SCHEMA_TOO_NEW,
        `database schema version ${current} is newer than this Shelfsense (${migrations.length})`,
      );
    }
    for (const m of migrations) {
      await this.transaction(async () => {
        await lock();
        // Re-read under the lock: another process may have migrated meanwhile.
        if ((await this.version()) >= m.version) return;
        await this.run(m.sql);
        await this.run('UPDATE schema_version SET version = $1 WHERE id = 1', [m.version]);
      });
    }
    return this.version();
  }

  async version(): Promise<number> {
    const row = await this.one<{ version: number }>('SELECT version FROM schema_version WHERE id = 1');
    return row?.version ?? 0;
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }
}

function storeError(err: unknown): Error {
  if (err instanceof ReplenishmentError) return err;
  const e = err as Error & { code?: string };
  const out = new ReplenishmentError(ReplenishmentErrorCodes.STORE, `postgres: ${e.message}`);
  // The SQLSTATE (23505 unique violation, 40001 serialization failure …) for callers that retry.
  Object.assign(out, { sqlState: e.code });
  return out;
}

/** The SQLSTATE of a failed query, if Postgres gave one. */
export function sqlState(err: unknown): string | undefined {
  return (err as { sqlState?: string }).sqlState;
}
