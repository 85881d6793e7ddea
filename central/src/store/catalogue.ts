/**
 * The `catalogue_versions` table: every catalogue ever applied, one row per version, as JSON. The
 * newest row is the catalogue in force; older rows are kept, so a change can be read back, diffed
 * or restored. Versions only grow, and each is written in one IMMEDIATE transaction (joined by the
 * caller's, when the same change also cancels orders). `catalogue_cancellations` keeps why a
 * version cancelled an order, since an order event has no field for it.
 */
import { Catalogue, parseWith } from '@shelfsense/protocol';
import type { Db } from './database.js';
import type { CatalogueRepository } from './repositories.js';

/** Counts of what a version changed (added, changed, removed, orders cancelled …), as JSON. */
export type CatalogueSummary = Readonly<Record<string, number>>;

export interface CatalogueVersion {
  version: number;
  catalogue: Catalogue;
  appliedAt: number;
  actor: string;
}

export interface CatalogueHistoryEntry {
  version: number;
  appliedAt: number;
  actor: string;
  summary: CatalogueSummary;
}

/** An order a version cancelled, and why. */
export interface CatalogueCancellation {
  orderId: string;
  reason: string;
}

export interface CatalogueApplyOptions {
  now?: number;
  /** Orders this version cancels (the caller cancels them in the same transaction). */
  cancelled?: readonly CatalogueCancellation[];
  /** The objects this version adds, changes or removes: their revision becomes this version. */
  touched?: readonly CatalogueObjectRef[];
}

/** One object of the catalogue, named as its diff names it (`lane`, `store-1/shelf-a/L0`). */
export interface CatalogueObjectRef {
  what: string;
  id: string;
  removed?: boolean;
}

interface VersionRow {
  version: number;
  catalogue: string;
  appliedAt: number;
  actor: string;
}

const VERSION_COLUMNS = 'version, catalogue, applied_at AS appliedAt, actor';

export class CatalogueRepo implements CatalogueRepository {
  private readonly q;

  constructor(private readonly db: Db) {
    this.q = {
      max: db.prepare<[], number>('SELECT COALESCE(MAX(version), 0) FROM catalogue_versions').pluck(),
      current: db.prepare<[], VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM catalogue_versions ORDER BY version DESC LIMIT 1`,
      ),
      get: db.prepare<[number], VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM catalogue_versions WHERE version = ?`,
      ),
      insert: db.prepare(
        'INSERT INTO catalogue_versions (version, catalogue, applied_at, actor, summary) VALUES (?, ?, ?, ?, ?)',
      ),
      cancel: db.prepare('INSERT INTO catalogue_cancellations (order_id, version, reason) VALUES (?, ?, ?)'),
      cancellationsSince: db.prepare<[number], { orderId: string; version: number; reason: string }>(
        'SELECT order_id AS orderId, version, reason FROM catalogue_cancellations WHERE version > ? ORDER BY version, order_id',
      ),
      cancellation: db.prepare<[string], { version: number; reason: string }>(
        'SELECT version, reason FROM catalogue_cancellations WHERE order_id = ?',
      ),
      revision: db
        .prepare<[string, string], number>(
          'SELECT revision FROM catalogue_revisions WHERE what = ? AND id = ?',
        )
        .pluck(),
      revisions: db.prepare<[], { what: string; id: string; revision: number }>(
        'SELECT what, id, revision FROM catalogue_revisions',
      ),
      setRevision: db.prepare(
        `INSERT INTO catalogue_revisions (what, id, revision) VALUES (?, ?, ?)
         ON CONFLICT (what, id) DO UPDATE SET revision = excluded.revision`,
      ),
      dropRevision: db.prepare('DELETE FROM catalogue_revisions WHERE what = ? AND id = ?'),
      history: db.prepare<[number], { version: number; appliedAt: number; actor: string; summary: string }>(
        `SELECT version, applied_at AS appliedAt, actor, summary FROM catalogue_versions
         ORDER BY version DESC LIMIT ?`,
      ),
    };
  }

  /** The catalogue in force, or null before the first version. */
  current(): CatalogueVersion | null {
    const row = this.q.current.get();
    return row ? toVersion(row) : null;
  }

  get(version: number): CatalogueVersion | undefined {
    const row = this.q.get.get(version);
    return row && toVersion(row);
  }

  /** The newest version number, 0 before any: one index lookup, cheap enough to poll. */
  version(): number {
    return this.q.max.get() as number;
  }

  /** Writes the next version; returns its number. Nothing is written when the catalogue is invalid. */
  apply(
    catalogue: Catalogue,
    actor: string,
    summary: CatalogueSummary,
    options: CatalogueApplyOptions = {},
  ): number {
    // Stored as validated (defaults filled), so every reader sees the same document.
    const valid = parseWith(Catalogue, catalogue, 'catalogue');
    const now = options.now ?? Date.now();
    return this.db
      .transaction(() => {
        const version = (this.q.max.get() as number) + 1;
        this.q.insert.run(version, JSON.stringify(valid), now, actor, JSON.stringify(summary));
        for (const c of options.cancelled ?? []) this.q.cancel.run(c.orderId, version, c.reason);
        for (const t of options.touched ?? []) {
          if (t.removed) this.q.dropRevision.run(t.what, t.id);
          else this.q.setRevision.run(t.what, t.id, version);
        }
        return version;
      })
      .immediate();
  }

  /**
   * The version in which an object last changed: 1 for an object unchanged since the first
   * version, 0 for none before any version. Callers check the object exists.
   */
  revision(what: string, id: string): number {
    return (this.q.revision.get(what, id) as number | undefined) ?? Math.min(1, this.version());
  }

  /** Every object's revision that differs from 1, keyed `what id` (`lane store-1/shelf-a/L0`). */
  revisions(): Map<string, number> {
    return new Map(this.q.revisions.all().map((r) => [`${r.what} ${r.id}`, r.revision]));
  }

  /** Which version cancelled an order, and why; undefined for an order no catalogue change cancelled. */
  cancellation(orderId: string): { version: number; reason: string } | undefined {
    return this.q.cancellation.get(orderId);
  }

  /** The orders cancelled by versions after `version`, oldest version first. */
  cancellationsSince(version: number): { orderId: string; version: number; reason: string }[] {
    return this.q.cancellationsSince.all(version);
  }

  /** The newest versions first, without their catalogues. */
  history(limit = 100): CatalogueHistoryEntry[] {
    const n = Math.max(1, Math.min(Math.floor(limit), 10_000));
    return this.q.history.all(n).map((r) => ({ ...r, summary: JSON.parse(r.summary) as CatalogueSummary }));
  }
}

function toVersion(row: VersionRow): CatalogueVersion {
  // Validated on the way out too: a version written by an older Shelfsense gets today's defaults.
  const catalogue = parseWith(Catalogue, JSON.parse(row.catalogue), `catalogue version ${row.version}`);
  return { version: row.version, catalogue, appliedAt: row.appliedAt, actor: row.actor };
}
