/**
 * The catalogue on Postgres (see ../catalogue.ts): every applied catalogue is a row of
 * `catalogue_versions`, never rewritten; the newest is the catalogue in force. Versions are
 * numbered under a table lock, so two processes applying at once append one after the other.
 */
import { Catalogue, parseWith } from '@shelfsense/protocol';
import type {
  CatalogueApplyOptions,
  CatalogueHistoryEntry,
  CatalogueObjectRef,
  CatalogueSummary,
  CatalogueVersion,
} from '../catalogue.js';
import type { AsyncRepository, CatalogueRepository } from '../repositories.js';
import type { PgDb } from './db.js';

export const CATALOGUE_SCHEMA = `
  -- One row per applied version, never rewritten: the newest row is the catalogue in force.
  CREATE TABLE catalogue_versions (
    version INTEGER PRIMARY KEY CHECK (version > 0),
    catalogue TEXT NOT NULL,
    applied_at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    summary TEXT NOT NULL
  );
  -- Why a catalogue change cancelled an order (the order event carries no reason field).
  CREATE TABLE catalogue_cancellations (
    order_id TEXT PRIMARY KEY REFERENCES orders (id),
    version INTEGER NOT NULL REFERENCES catalogue_versions (version),
    reason TEXT NOT NULL
  );
  CREATE INDEX catalogue_cancellations_version ON catalogue_cancellations (version, order_id);
  -- The version in which each object last changed; an object absent here has not changed since 1.
  CREATE TABLE catalogue_revisions (
    what TEXT NOT NULL,
    id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    PRIMARY KEY (what, id)
  );
`;

type VersionRow = {
  version: number;
  catalogue: string;
  appliedAt: number;
  actor: string;
};

const VERSION_COLUMNS = 'version, catalogue, applied_at AS "appliedAt", actor';

export class PgCatalogueRepo implements AsyncRepository<CatalogueRepository> {
  constructor(readonly db: PgDb) {}

  async current(): Promise<CatalogueVersion | null> {
    const row = await this.db.one<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM catalogue_versions ORDER BY version DESC LIMIT 1`,
    );
    return row ? toVersion(row) : null;
  }

  async get(version: number): Promise<CatalogueVersion | undefined> {
    const row = await this.db.one<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM catalogue_versions WHERE version = $1`,
      [version],
    );
    return row && toVersion(row);
  }

  async version(): Promise<number> {
    const row = await this.db.one<{ v: number }>(
      'SELECT COALESCE(MAX(version), 0) AS v FROM catalogue_versions',
    );
    return row?.v ?? 0;
  }

  async apply(
    catalogue: Catalogue,
    actor: string,
    summary: CatalogueSummary,
    options: CatalogueApplyOptions = {},
  ): Promise<number> {
    // Stored as validated (defaults filled), so every reader sees the same document.
    const valid = parseWith(Catalogue, catalogue, 'catalogue');
    const now = options.now ?? Date.now();
    return this.db.transaction(async () => {
      // Taken before reading MAX, and held to the end of the (caller's) transaction: a second
      // process applying at the same moment waits here, then reads this version and appends the
      // next. Readers (ACCESS SHARE) are not blocked.
      await this.db.run('LOCK TABLE catalogue_versions IN SHARE ROW EXCLUSIVE MODE');
      const version = (await this.version()) + 1;
      await this.db.run(
        'INSERT INTO catalogue_versions (version, catalogue, applied_at, actor, summary) VALUES ($1, $2, $3, $4, $5)',
        [version, JSON.stringify(valid), now, actor, JSON.stringify(summary)],
      );
      const cancelled = options.cancelled ?? [];
      if (cancelled.length > 0) {
        // Only the reason is kept here: the caller moves the order itself to `cancelled` in the
        // same transaction, as on SQLite.
        await this.db.run(
          `INSERT INTO catalogue_cancellations (order_id, version, reason)
           SELECT o, $2::integer, r FROM unnest($1::text[], $3::text[]) AS t (o, r)`,
          [cancelled.map((c) => c.orderId), version, cancelled.map((c) => c.reason)],
        );
      }
      await this.touch(options.touched ?? [], version);
      return version;
    });
  }

  /** Sets or drops the revision of each touched object; an object named twice keeps its last. */
  private async touch(touched: readonly CatalogueObjectRef[], version: number): Promise<void> {
    const last = new Map<string, CatalogueObjectRef>();
    for (const t of touched) last.set(`${t.what}\u0000${t.id}`, t);
    const dropped = [...last.values()].filter((t) => t.removed);
    const set = [...last.values()].filter((t) => !t.removed);
    if (dropped.length > 0) {
      await this.db.run(
        `DELETE FROM catalogue_revisions r USING unnest($1::text[], $2::text[]) AS t (w, i)
         WHERE r.what = t.w AND r.id = t.i`,
        [dropped.map((t) => t.what), dropped.map((t) => t.id)],
      );
    }
    if (set.length > 0) {
      await this.db.run(
        `INSERT INTO catalogue_revisions (what, id, revision)
         SELECT w, i, $3::integer FROM unnest($1::text[], $2::text[]) AS t (w, i)
         ON CONFLICT (what, id) DO UPDATE SET revision = excluded.revision`,
        [set.map((t) => t.what), set.map((t) => t.id), version],
      );
    }
  }

  async revision(what: string, id: string): Promise<number> {
    const row = await this.db.one<{ revision: number }>(
      'SELECT revision FROM catalogue_revisions WHERE what = $1 AND id = $2',
      [what, id],
    );
    return row?.revision ?? Math.min(1, await this.version());
  }

  async revisions(): Promise<Map<string, number>> {
    const rows = await this.db.query<{ what: string; id: string; revision: number }>(
      'SELECT what, id, revision FROM catalogue_revisions',
    );
    return new Map(rows.map((r) => [`${r.what} ${r.id}`, r.revision]));
  }

  async cancellation(orderId: string): Promise<{ version: number; reason: string } | undefined> {
    return this.db.one<{ version: number; reason: string }>(
      'SELECT version, reason FROM catalogue_cancellations WHERE order_id = $1',
      [orderId],
    );
  }

  async cancellationsSince(version: number): Promise<{ orderId: string; version: number; reason: string }[]> {
    // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
    return this.db.query<{ orderId: string; version: number; reason: string }>(
      `SELECT order_id AS "orderId", version, reason FROM catalogue_cancellations
       WHERE version > $1 ORDER BY version, order_id COLLATE "C"`,
      [version],
    );
  }

  async history(limit = 100): Promise<CatalogueHistoryEntry[]> {
    const n = Math.max(1, Math.min(Math.floor(limit), 10_000));
    const rows = await this.db.query<{ version: number; appliedAt: number; actor: string; summary: string }>(
      `SELECT version, applied_at AS "appliedAt", actor, summary FROM catalogue_versions
       ORDER BY version DESC LIMIT $1`,
      [n],
    );
    return rows.map((r) => ({ ...r, summary: JSON.parse(r.summary) as CatalogueSummary }));
  }
}

function toVersion(row: VersionRow): CatalogueVersion {
  // Validated on the way out too: a version written by an older Shelfsense gets today's defaults.
  const catalogue = parseWith(Catalogue, JSON.parse(row.catalogue), `catalogue version ${row.version}`);
  return { version: row.version, catalogue, appliedAt: row.appliedAt, actor: row.actor };
}
