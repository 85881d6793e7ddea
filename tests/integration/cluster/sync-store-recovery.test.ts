/**
 * SyncPgStore through a Postgres restart, on a real server: the store behind every cluster worker
 * must ride it out. A call while Postgres is away fails alone, with a store error, in bounded time;
 * the same instance works again once Postgres is back; a call that times out or whose thread dies
 * takes its transaction with it (nothing of it committed, nothing after it written outside it); and
 * nothing a dropped thread says later is taken for another call's answer.
 * The thread runs central's built script (dist/), which the test command builds first.
 */
import type { PgDb } from '@shelfsense/central/pg';
import { SyncPgStore } from '@shelfsense/central/pg';
import { isReplenishmentError, ReplenishmentErrorCodes } from '@shelfsense/central/store';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newOrder } from '../../contract/store/orders.contract.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { LANE } from '../../unit/central/store/fixtures.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.close();
});

/** Blocks this thread, as a synchronous caller between two calls does. */
function block(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The error `fn` throws, and how long it took to throw it. */
function failure(fn: () => unknown): { err: unknown; ms: number } {
  const t0 = Date.now();
  try {
    fn();
  } catch (err) {
    return { err, ms: Date.now() - t0 };
  }
  throw new Error('expected the call to fail');
}

function expectStoreError(err: unknown, message?: RegExp): void {
  expect(isReplenishmentError(err, ReplenishmentErrorCodes.STORE), String(err)).toBe(true);
  if (message) expect((err as Error).message).toMatch(message);
}

describe('SyncPgStore recovers from Postgres going away', () => {
  const stores: SyncPgStore[] = [];
  const open = (callTimeoutMs: number) => {
    const s = SyncPgStore.open({ url: server.url, schema: server.schema(), poolSize: 2, callTimeoutMs });
    stores.push(s);
    return s;
  };
  /** Raw SQL on the thread's own PgDb, inside the thread's transaction when one is open. */
  const sql = (s: SyncPgStore) => s.repo<Pick<PgDb, 'one'>>('db');
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
  });

  it('[no wedge] a call while Postgres is stopped fails in bounded time; after the restart the same store works', async () => {
    const store = open(5_000);
    expect(store.orders.insert(newOrder('ord_1'))).toBe(true);
    await server.stop();
    try {
      for (const call of [
        () => store.orders.get('ord_1'),
        () => store.transaction(() => store.ruleState.saveAll([{ ref: LANE, state: 'while down' }], 1)),
      ]) {
        const { err, ms } = failure(call);
        expectStoreError(err, /postgres/);
        expect(ms).toBeLessThan(5_000 + 2_000);
      }
      expect(store.isOpen).toBe(true);
    } finally {
      await server.restart();
    }
    expect(store.orders.get('ord_1')?.id).toBe('ord_1');
    expect(store.ruleState.load(LANE)).toBeUndefined();
    store.ruleState.saveAll([{ ref: LANE, state: 'after' }], 2);
    expect(store.transaction(() => store.ruleState.load(LANE))).toBe('after');
  }, 60_000);

  it('[the restart case] Postgres ending the connection under an open transaction: the next call fails at once, the transaction is gone, the store goes on', () => {
    const store = open(20_000);
    const killer = open(20_000);
    let caught: { err: unknown; ms: number } | undefined;
    expect(() =>
      store.transaction(() => {
        store.orders.insert(newOrder('ord_1'));
        const pid = sql(store).one('SELECT pg_backend_pid() AS pid')?.pid;
        expect(
          killer.repo<Pick<PgDb, 'one'>>('db').one('SELECT pg_terminate_backend($1) AS ok', [pid as number])
            ?.ok,
        ).toBe(true);
        // Between two calls, as a worker's rules run: the connection dies while nothing waits on it.
        block(300);
        caught = failure(() => store.orders.get('ord_1'));
        throw caught.err;
      }),
    ).toThrow();
    // The thread stopped on the connection's error and said so: no wait for callTimeoutMs.
    expectStoreError(caught?.err, /store thread stopped \(terminating connection/);
    expect(caught?.ms).toBeLessThan(5_000);
    expect(store.isOpen).toBe(true);
    expect(store.orders.get('ord_1')).toBeUndefined();
    expect(store.orders.insert(newOrder('ord_2'))).toBe(true);
    expect(store.orders.get('ord_2')?.id).toBe('ord_2');
  });

  it('[no stale answers] a call that times out fails alone; what its thread would say later answers nothing', () => {
    const store = open(1_500);
    const db = sql(store);
    const slow = failure(() => db.one("SELECT 'late' AS who, pg_sleep(3)"));
    expectStoreError(slow.err, /did not answer within 1500 ms/);
    expect(slow.ms).toBeGreaterThanOrEqual(1_500);
    expect(slow.ms).toBeLessThan(1_500 + 2_000);
    expect(db.one("SELECT 'first' AS who")?.who).toBe('first');
    // Past the moment the slow query ends: each call still gets its own answer.
    block(2_000);
    for (let i = 0; i < 5; i++)
      expect(db.one('SELECT $1::text AS who', [`call ${i}`])?.who).toBe(`call ${i}`);
    expect(store.isOpen).toBe(true);
  }, 30_000);

  it('[all or nothing] a transaction whose call timed out is abandoned: none of it commits, nothing after it runs outside it', () => {
    const store = open(1_500);
    const db = sql(store);
    const errors: unknown[] = [];
    expect(() =>
      store.transaction(() => {
        store.orders.insert(newOrder('ord_1'));
        // As the rules do: one failed action is logged and the next one tried.
        for (const step of [
          () => db.one('SELECT pg_sleep(3)'),
          () => store.ruleState.saveAll([{ ref: LANE, state: 'outside' }], 1),
        ]) {
          try {
            step();
          } catch (err) {
            errors.push(err);
          }
        }
      }),
    ).toThrow(/transaction was lost/);
    expectStoreError(errors[0], /did not answer within 1500 ms/);
    expectStoreError(errors[1], /transaction was lost/);
    expect(store.orders.get('ord_1')).toBeUndefined();
    expect(store.ruleState.load(LANE)).toBeUndefined();
    // The abandoned statement ends on its own; its transaction never commits.
    block(2_000);
    expect(store.orders.get('ord_1')).toBeUndefined();
  }, 30_000);

  it('closed by its owner stays closed, also after a thread was dropped', () => {
    const store = open(1_500);
    expect(() => sql(store).one('SELECT pg_sleep(3)')).toThrow(/did not answer/);
    store.close();
    expect(store.isOpen).toBe(false);
    expect(() => store.orders.get('x')).toThrow(/the store is closed/);
  });
});
