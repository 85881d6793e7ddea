/**
 * Opens the central SQLite file: WAL (readers never block the writer, and a crash loses at most
 * the transaction in flight), a busy timeout so several connections or processes can share the
 * file, foreign keys on, then the numbered migrations. The file (and so its `-wal` and `-shm`) is
 * 0600, and a directory created for it 0700 (see protocol's private-files.ts).
 */
import { dirname } from 'node:path';
import { ensurePrivateDir, preparePrivateDatabase } from '@shelfsense/protocol';
import Database from 'better-sqlite3';
import { ReplenishmentError, ReplenishmentErrorCodes } from './errors.js';
import { MIGRATIONS, type Migration } from './migrations.js';

export type Db = Database.Database;

export interface OpenOptions {
  /** How long a writer waits for another connection's write lock before failing. */
  busyTimeoutMs?: number;
  /**
   * `normal` (default) is durable in WAL mode against process crashes and loses at most the last
   * commits on power loss; `full` fsyncs every commit.
   */
  synchronous?: 'normal' | 'full';
  /** Page cache per connection, MB. */
  cacheSizeMb?: number;
  /**
   * WAL pages before an automatic checkpoint. Checkpoints (which fsync the main file) dominate the
   * cost of small commits, so the default is well above SQLite's 1000.
   */
  walAutocheckpointPages?: number;
  migrations?: readonly Migration[];
}

export function openDatabase(file: string, options: OpenOptions = {}): Db {
  let db: Db;
  try {
    if (file !== ':memory:' && file !== '') {
      ensurePrivateDir(dirname(file));
      // Before the open and before WAL: SQLite gives -wal and -shm the database file's mode.
      preparePrivateDatabase(file);
    }
    db = new Database(file);
  } catch (err) {
    throw new ReplenishmentError(
      ReplenishmentErrorCodes.STORE,
      `cannot open database ${file}: ${(err as Error).message}`,
    );
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5_000))}`);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    db.pragma(`cache_size = ${-Math.max(1, Math.round((options.cacheSizeMb ?? 16) * 1024))}`);
    db.pragma(`wal_autocheckpoint = ${Math.max(1, Math.floor(options.walAutocheckpointPages ?? 10_000))}`);
    migrate(db, options.migrations ?? MIGRATIONS);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** The schema version the file is at. */
export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Applies every migration above the file's version, each in its own IMMEDIATE transaction, so two
 * processes opening a new file at once do not both apply the same step.
 */
export function migrate(db: Db, migrations: readonly Migration[]): number {
  const latest = migrations.length;
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${i + 1} is numbered ${m.version}`);
  });
  const current = schemaVersion(db);
  if (current > latest) {
    throw new ReplenishmentError(
      ReplenishmentErrorCodes.SCHEMA_TOO_NEW,
      `database schema version ${current} is newer than this Shelfsense (${latest})`,
    );
  }
  for (const m of migrations) {
    db.transaction(() => {
      // Re-read inside the write lock: another connection may have migrated meanwhile.
      if (schemaVersion(db) >= m.version) return;
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return schemaVersion(db);
}
