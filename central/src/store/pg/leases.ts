/**
 * Partition leases: which worker processes which partition of the readings, in Postgres so every
 * worker sees the same answer. A worker heartbeats its row in `cluster_workers`; each round it
 * renews its leases, takes free or expired partitions up to its fair share (the partitions divided
 * by the live workers, rounded up) and gives back what is beyond it. Every take bumps the
 * partition's epoch, the fencing token: a batch commits only while `holds()` still finds the
 * worker's lease under that epoch, checked inside the batch's transaction.
 */
import type { PgDb } from './db.js';

export const LEASES_SCHEMA = `
  CREATE TABLE cluster_workers (
    id TEXT PRIMARY KEY,
    seen_at BIGINT NOT NULL,
    started_at BIGINT NOT NULL
  );
  CREATE TABLE partition_leases (
    partition INTEGER PRIMARY KEY,
    owner TEXT,
    epoch BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL DEFAULT 0
  );
`;

export interface Lease {
  partition: number;
  epoch: number;
  expiresAt: number;
}

export interface LeaseRound {
  /** Every lease the worker holds after the round. */
  held: Lease[];
  /** Live workers, this one included. */
  workers: number;
}

/** One advisory lock key for the catalogue's first seeding. */
const SEED_LOCK = 'shelfsense:catalogue-seed';

export class PgLeasesRepo {
  constructor(private readonly db: PgDb) {}

  /**
   * One round for `worker`: heartbeat, renew, take up to the fair share, give back the excess.
   * Runs in one transaction; the partitions table is locked so two workers balance one at a time.
   */
  async round(worker: string, partitions: number, leaseMs: number, now: number): Promise<LeaseRound> {
    return this.db.transaction(async () => {
      // First: a lock taken after this transaction's own writes to the table would deadlock with
      // another round doing the same (each holding ROW EXCLUSIVE, each waiting for the other).
      await this.db.run('LOCK TABLE partition_leases IN SHARE ROW EXCLUSIVE MODE');
      await this.db.run(
        `INSERT INTO cluster_workers (id, seen_at, started_at) VALUES ($1, $2, $2)
         ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at`,
        [worker, now],
      );
      await this.db.run(
        `INSERT INTO partition_leases (partition)
         SELECT generate_series(0, $1::int - 1) ON CONFLICT (partition) DO NOTHING`,
        [partitions],
      );
      const live = await this.db.one<{ n: number }>(
        'SELECT count(*) AS n FROM cluster_workers WHERE seen_at > $1',
        [now - leaseMs],
      );
      const workers = Math.max(1, live?.n ?? 1);
      const share = Math.ceil(partitions / workers);
      await this.db.run('UPDATE partition_leases SET expires_at = $3 WHERE owner = $1 AND partition < $2', [
        worker,
        partitions,
        now + leaseMs,
      ]);
      const mine = await this.db.query<{ partition: number }>(
        'SELECT partition FROM partition_leases WHERE owner = $1 AND partition < $2 ORDER BY partition',
        [worker, partitions],
      );
      if (mine.length > share) {
        // Give back the highest-numbered ones; their next owner takes them with a new epoch.
        const extra = mine.slice(share).map((r) => r.partition);
        await this.db.run(
          'UPDATE partition_leases SET owner = NULL, expires_at = 0 WHERE owner = $1 AND partition = ANY($2::int[])',
          [worker, extra],
        );
      } else if (mine.length < share) {
        await this.db.run(
          `UPDATE partition_leases SET owner = $1, epoch = epoch + 1, expires_at = $2
           WHERE partition IN (
             SELECT partition FROM partition_leases
             WHERE partition < $3 AND (owner IS NULL OR expires_at <= $4)
             ORDER BY partition LIMIT $5)`,
          [worker, now + leaseMs, partitions, now, share - mine.length],
        );
      }
      const held = await this.db.query<{ partition: number; epoch: number; expires_at: number }>(
        'SELECT partition, epoch, expires_at FROM partition_leases WHERE owner = $1 AND partition < $2 ORDER BY partition',
        [worker, partitions],
      );
      return {
        held: held.map((r) => ({ partition: r.partition, epoch: r.epoch, expiresAt: r.expires_at })),
        workers,
      };
    });
  }

  /**
   * True while `worker` holds `partition` under `epoch` and the lease has not run out; the row is
   * share-locked until the caller's transaction ends, so no one takes it over meanwhile.
   */
  async holds(worker: string, partition: number, epoch: number, now: number): Promise<boolean> {
    const row = await this.db.one(
      `SELECT 1 FROM partition_leases
       WHERE partition = $1 AND owner = $2 AND epoch = $3 AND expires_at > $4 FOR SHARE`,
      [partition, worker, epoch, now],
    );
    return row !== undefined;
  }

  /** Gives back every lease and removes the worker (a clean stop: others take over at once). */
  async leave(worker: string): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run('UPDATE partition_leases SET owner = NULL, expires_at = 0 WHERE owner = $1', [
        worker,
      ]);
      await this.db.run('DELETE FROM cluster_workers WHERE id = $1', [worker]);
    });
  }

  /** Who holds what now, for operators and tests. */
  async owners(): Promise<{ partition: number; owner: string | null; epoch: number; expiresAt: number }[]> {
    const rows = await this.db.query<{
      partition: number;
      owner: string | null;
      epoch: number;
      expires_at: number;
    }>('SELECT partition, owner, epoch, expires_at FROM partition_leases ORDER BY partition');
    return rows.map((r) => ({
      partition: r.partition,
      owner: r.owner,
      epoch: r.epoch,
      expiresAt: r.expires_at,
    }));
  }

  /** Holds, until the caller's transaction ends, the lock that serialises the catalogue's seeding. */
  async seedLock(): Promise<void> {
    await this.db.run('SELECT pg_advisory_xact_lock(hashtext($1))', [SEED_LOCK]);
  }
}
