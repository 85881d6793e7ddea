/**
 * The workers' partition leases on a real Postgres, with four workers' rounds running at once
 * from four connections: no round fails (the table lock comes first, so two rounds never wait on
 * each other), every partition ends with exactly one holder, the shares are fair, a dead worker's
 * partitions go to the others once its lease runs out (with a new epoch, so its fencing check
 * fails), and a worker that leaves gives its partitions back at once.
 */
import { PgStore, type PgStore as PgStoreType } from '@shelfsense/central/pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';

const P = 16;
const LEASE = 10_000;

let server: TestPostgres;
let stores: PgStoreType[] = [];
beforeAll(async () => {
  server = await startPostgres();
  const schema = server.schema();
  stores = await Promise.all([0, 1, 2, 3].map(() => PgStore.open({ url: server.url, schema, poolSize: 2 })));
}, 60_000);
afterAll(async () => {
  for (const s of stores) await s.close();
  await server?.close();
});

const workers = ['w0', 'w1', 'w2', 'w3'];

describe('partition leases', () => {
  it('shares the partitions fairly among concurrent workers, one holder each, no deadlock', async () => {
    let now = 1_000_000;
    for (let round = 0; round < 12; round++) {
      now += 1_000;
      const at = now;
      // Every worker's round at the same moment, each from its own connection.
      await Promise.all(workers.map((w, i) => (stores[i] as PgStoreType).leases.round(w, P, LEASE, at)));
    }
    const owners = await (stores[0] as PgStoreType).leases.owners();
    expect(owners).toHaveLength(P);
    const counts = new Map<string, number>();
    for (const o of owners) {
      expect(o.owner).not.toBeNull();
      counts.set(o.owner as string, (counts.get(o.owner as string) ?? 0) + 1);
    }
    expect([...counts.values()].sort()).toEqual([4, 4, 4, 4]);
  });

  it('moves a dead worker’s partitions once its lease runs out, under a new epoch', async () => {
    const s0 = stores[0] as PgStoreType;
    const before = (await s0.leases.owners()).filter((o) => o.owner === 'w3');
    expect(before.length).toBe(4);
    const late = Math.max(...before.map((o) => o.expiresAt)) + 1;
    // w3 stops renewing; the others go on.
    for (let i = 0; i < 3; i++)
      await (stores[i] as PgStoreType).leases.round(workers[i] as string, P, LEASE, late + i);
    for (let i = 0; i < 3; i++)
      await (stores[i] as PgStoreType).leases.round(workers[i] as string, P, LEASE, late + 10 + i);
    const after = await s0.leases.owners();
    expect(after.some((o) => o.owner === 'w3')).toBe(false);
    for (const b of before) {
      const a = after.find((o) => o.partition === b.partition);
      expect(a?.epoch).toBeGreaterThan(b.epoch);
      // w3's fencing check fails: a batch it was still committing would roll back.
      expect(await s0.leases.holds('w3', b.partition, b.epoch, late)).toBe(false);
    }
  });

  it('gives a leaving worker’s partitions back at once', async () => {
    const s0 = stores[0] as PgStoreType;
    await s0.leases.leave('w0');
    expect((await s0.leases.owners()).filter((o) => o.owner === 'w0')).toEqual([]);
    expect((await s0.leases.owners()).filter((o) => o.owner === null).length).toBeGreaterThan(0);
  });
});
