import {
  isReplenishmentError,
  MIGRATIONS,
  openDatabase,
  ReplenishmentErrorCodes,
  SCHEMA_VERSION,
  Store,
} from '@shelfsense/central/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type TempDir, tempDir } from './fixtures.js';

describe('store: one SQLite file, WAL, numbered migrations', () => {
  let tmp: TempDir;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.remove());

  it('creates the file in WAL mode at the latest schema version, numbered 1..n', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    const store = Store.open(tmp.file('nested/dir/central.db'));
    try {
      expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
      expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(store.schemaVersion).toBe(SCHEMA_VERSION);
      const tables = store.db
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
        .pluck()
        .all();
      expect(tables).toEqual(
        expect.arrayContaining([
          'readings',
          'agent_marks',
          'level_history',
          'orders',
          'webhook_outbox',
          'rule_state',
        ]),
      );
    } finally {
      store.close();
    }
  });

  it('migrates an older file forward and leaves a current one alone', () => {
    const db = openDatabase(tmp.file(), { migrations: MIGRATIONS.slice(0, 1) });
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    db.close();
    const store = Store.open(tmp.file());
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    store.close();
    const again = Store.open(tmp.file());
    expect(again.schemaVersion).toBe(SCHEMA_VERSION);
    again.close();
  });

  it('refuses a file written by a newer schema, with a code', () => {
    const store = Store.open(tmp.file());
    store.db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    store.close();
    try {
      Store.open(tmp.file());
      expect.unreachable();
    } catch (err) {
      expect(isReplenishmentError(err, ReplenishmentErrorCodes.SCHEMA_TOO_NEW)).toBe(true);
    }
  });

  it('rejects invalid options naming the field', () => {
    expect(() => Store.open({ file: tmp.file(), gapTimeoutMs: -1 } as never)).toThrow(/gapTimeoutMs/);
    expect(() => Store.open({ file: tmp.file(), historyIntervalMs: '5 parsecs' } as never)).toThrow(
      /historyIntervalMs/,
    );
  });
});
