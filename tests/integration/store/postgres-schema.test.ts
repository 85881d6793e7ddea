/**
 * What only the Postgres schema can prove, on a real server (tests/helpers/postgres.ts): the
 * audit log refuses every change from any connection, whatever the repository offers; two
 * processes applying catalogues at once get consecutive versions; processes starting together on
 * a fresh schema migrate it once; a schema newer than the code, or bad options, are refused.
 */
import { PG_SCHEMA_VERSION, PgStore } from '@shelfsense/central/pg';
import { ErrorCodes, isShelfError } from '@shelfsense/protocol';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { small } from '../../unit/central/catalogue/fixtures.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.close();
});

/** Every store and client a test opens, closed after it. */
const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) await o.close().catch(() => undefined);
});

async function openStore(schema: string): Promise<PgStore> {
  const s = await PgStore.open({ url: server.url, schema, poolSize: 4 });
  opened.push(s);
  return s;
}

/** A plain connection on the schema, as psql or another program would have. */
async function rawClient(schema: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: server.url, options: `-c search_path=${schema}` });
  await c.connect();
  opened.push({ close: () => c.end() });
  return c;
}

/** The code of what `p` rejected with, or 'resolved'. */
async function rejection(p: Promise<unknown>): Promise<{ code?: string; message: string } | 'resolved'> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return { code: isShelfError(err) ? err.code : undefined, message: (err as Error).message };
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Postgres audit log: append-only in the schema', () => {
  let schema: string;
  let store: PgStore;
  let client: pg.Client;
  const rows = async () =>
    (await client.query('SELECT seq, actor, action FROM audit_log ORDER BY seq')).rows.map((r) => ({
      seq: Number(r.seq),
      actor: r.actor,
      action: r.action,
    }));
  const TWO_ROWS = [
    { seq: 1, actor: 'alice', action: 'order.cancelled' },
    { seq: 2, actor: 'bob', action: 'order.open' },
  ];

  const seed = async () => {
    schema = server.schema();
    store = await openStore(schema);
    await store.audit.append({ at: 1, actor: 'alice', role: 'admin', action: 'order.cancelled', site: 's1' });
    await store.audit.append({ at: 2, actor: 'bob', action: 'order.open' });
    client = await rawClient(schema);
  };

  const STATEMENTS = [
    "UPDATE audit_log SET actor = 'mallory'",
    "UPDATE audit_log SET action = 'order.acknowledged' WHERE seq = 1",
    'DELETE FROM audit_log WHERE seq = 1',
    'DELETE FROM audit_log',
    // Refused even when no row matches: the triggers are per statement.
    'DELETE FROM audit_log WHERE seq = 999',
    'TRUNCATE audit_log',
    'TRUNCATE audit_log RESTART IDENTITY CASCADE',
    `INSERT INTO audit_log (seq, at, actor, action) OVERRIDING SYSTEM VALUE VALUES (1, 3, 'mallory', 'x.y')
       ON CONFLICT (seq) DO UPDATE SET actor = excluded.actor`,
    `MERGE INTO audit_log a USING (SELECT 1::bigint AS seq) s ON a.seq = s.seq
       WHEN MATCHED THEN DELETE`,
    `MERGE INTO audit_log a USING (SELECT 2::bigint AS seq) s ON a.seq = s.seq
       WHEN MATCHED THEN UPDATE SET actor = 'mallory'`,
  ];

  describe('each statement, on one schema (nothing it refuses changes a row)', () => {
    // One schema for all: opening a store migrates a fresh schema, the slow part of each test.
    let shared: { close(): Promise<void> }[] = [];
    beforeAll(async () => {
      await seed();
      shared = opened.splice(0);
    });
    afterAll(async () => {
      for (const o of shared) await o.close();
    });
    afterEach(async () => {
      expect(await rows()).toEqual(TWO_ROWS);
    });

    it.each(STATEMENTS)('[append-only] refuses, from a plain connection: %s', async (sql) => {
      await expect(client.query(sql)).rejects.toThrow(/append-only/);
    });

    it.each(STATEMENTS)("[append-only] refuses, from the store's own pool: %s", async (sql) => {
      await expect(store.db.run(sql)).rejects.toThrow(/append-only/);
    });
  });

  describe('around the triggers', () => {
    beforeEach(seed);

    it('[append-only] refuses a superuser session that turns ordinary triggers off (replica role)', async () => {
      await client.query('SET session_replication_role = replica');
      await expect(client.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
      await expect(client.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
      await client.query('RESET session_replication_role');
      expect(await rows()).toHaveLength(2);
    });

    it('[append-only] refused inside a transaction that goes on: its other writes commit, the rows stand', async () => {
      await store.transaction(async () => {
        await store.audit.append({ at: 3, actor: 'carol', action: 'order.acknowledged' });
        for (const sql of [
          "UPDATE audit_log SET actor = 'mallory'",
          'DELETE FROM audit_log',
          'TRUNCATE audit_log',
        ]) {
          // A nested transaction is a savepoint: the refusal rolls back to it and the outer goes on.
          await expect(store.db.transaction(() => store.db.run(sql))).rejects.toThrow(/append-only/);
        }
        await store.audit.append({ at: 4, actor: 'carol', action: 'order.shipped' });
      });
      // The same on a plain connection, by hand.
      await client.query('BEGIN');
      await client.query('SAVEPOINT s');
      await expect(client.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
      await client.query('ROLLBACK TO SAVEPOINT s');
      await client.query("INSERT INTO audit_log (at, actor, action) VALUES (5, 'dave', 'login.ok')");
      await client.query('COMMIT');
      expect(await rows()).toEqual([
        { seq: 1, actor: 'alice', action: 'order.cancelled' },
        { seq: 2, actor: 'bob', action: 'order.open' },
        { seq: 3, actor: 'carol', action: 'order.acknowledged' },
        { seq: 4, actor: 'carol', action: 'order.shipped' },
        { seq: 5, actor: 'dave', action: 'login.ok' },
      ]);
    });

    it('[append-only] a row cannot be written over with a sequence number of its own', async () => {
      // The identity is GENERATED ALWAYS: a plain insert naming seq is refused outright.
      await expect(
        client.query("INSERT INTO audit_log (seq, at, actor, action) VALUES (1, 3, 'mallory', 'x.y')"),
      ).rejects.toThrow(/seq/);
      await expect(
        client.query(
          "INSERT INTO audit_log (seq, at, actor, action) OVERRIDING SYSTEM VALUE VALUES (1, 3, 'mallory', 'x.y')",
        ),
      ).rejects.toThrow(/duplicate key/);
      expect(await rows()).toHaveLength(2);
    });
  });
});

describe('Postgres catalogue versions: two processes applying at once', () => {
  it('[versions only grow] applies racing from two stores get distinct, consecutive versions', async () => {
    const schema = server.schema();
    const [a, b] = [await openStore(schema), await openStore(schema)];
    const versions = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 ? a : b).catalogue.apply(small(), `actor-${i}`, {}, { now: i }),
      ),
    );
    expect([...versions].sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect((await a.catalogue.history()).map((h) => h.version)).toEqual(
      Array.from({ length: 12 }, (_, i) => 12 - i),
    );
  });

  it('[versions only grow] the second apply waits for the first transaction, then appends the next', async () => {
    const schema = server.schema();
    const [a, b] = [await openStore(schema), await openStore(schema)];
    const watcher = await rawClient(schema);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let applied!: (v: number) => void;
    const firstApplied = new Promise<number>((r) => {
      applied = r;
    });
    // A's apply is written but not committed while B applies.
    const first = a.transaction(async () => {
      const v = await a.catalogue.apply(small(), 'alice', {}, { now: 1 });
      applied(v);
      await gate;
      return v;
    });
    expect(await firstApplied).toBe(1);
    const second = b.catalogue.apply(small(), 'bob', {}, { now: 2 });
    try {
      await until('the second apply to wait on the lock', async () => {
        const r = await watcher.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE wait_event_type = 'Lock' AND query LIKE 'LOCK TABLE catalogue_versions%'`,
        );
        return r.rows[0].n === 1;
      });
      expect(await b.catalogue.version()).toBe(0);
    } finally {
      // Also on failure, so neither transaction is left open past the test.
      release();
    }
    expect(await first).toBe(1);
    expect(await second).toBe(2);
    expect((await b.catalogue.current())?.actor).toBe('bob');
  });
});

describe('Postgres schema: migrations', () => {
  it('processes opening a fresh schema at the same moment migrate it once', async () => {
    const schema = server.schema();
    const stores = await Promise.all([openStore(schema), openStore(schema), openStore(schema)]);
    for (const s of stores) expect(await s.schemaVersion).toBe(PG_SCHEMA_VERSION);
    const client = await rawClient(schema);
    expect((await client.query('SELECT id, version FROM schema_version')).rows).toEqual([
      { id: 1, version: PG_SCHEMA_VERSION },
    ]);
    // Every store works on the one set of tables.
    await stores[0]?.audit.append({ at: 1, actor: 'alice', action: 'login.ok' });
    expect((await stores[2]?.audit.list())?.map((e) => e.actor)).toEqual(['alice']);
  });

  it('refuses a schema at a newer version than this code with SHELF_ERR_SCHEMA_TOO_NEW', async () => {
    const schema = server.schema();
    const first = await openStore(schema);
    await first.close();
    const client = await rawClient(schema);
    const newer = PG_SCHEMA_VERSION + 1;
    await client.query('UPDATE schema_version SET version = $1 WHERE id = 1', [newer]);
    const err = await rejection(openStore(schema));
    expect(err).toMatchObject({ code: 'SHELF_ERR_SCHEMA_TOO_NEW' });
    expect((err as { message: string }).message).toContain(`version ${newer}`);
    // Nothing was changed by the refused open.
    expect((await client.query('SELECT version FROM schema_version')).rows).toEqual([{ version: newer }]);
  });
});

describe('Postgres store options', () => {
  it.each([
    [{ url: 'http://x' }, 'url'],
    [{ url: 'postgres://127.0.0.1/x', schema: 'Bad-Name' }, 'schema'],
    [{ url: 'postgres://127.0.0.1/x', schema: '1abc' }, 'schema'],
    [{ url: 'postgres://127.0.0.1/x', schema: 'x; DROP TABLE audit_log' }, 'schema'],
    [{ url: 'postgres://127.0.0.1/x', poolSize: 0 }, 'poolSize'],
  ])('refuses %j with SHELF_ERR_INVALID naming %s', async (options, field) => {
    const err = await rejection(PgStore.open(options));
    expect(err).toMatchObject({ code: ErrorCodes.INVALID });
    expect((err as { message: string }).message).toContain(field);
  });
});
