import { MIGRATIONS, openDatabase, Store } from '@shelfsense/central/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventReading, LANE, levelReading, type TempDir, tempDir } from './fixtures.js';

const T0 = 1_700_000_000_000;

describe('store: migrating a version-3 file', () => {
  let tmp: TempDir;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.remove());

  it('[nothing lost] a file keyed by agent alone keeps its readings, marks and gaps, now per site', () => {
    const db = openDatabase(tmp.file(), { migrations: MIGRATIONS.slice(0, 3) });
    const insert = db.prepare(
      `INSERT INTO readings (agent, seq, kind, site, shelf, lane, ts, payload, received_at)
       VALUES (?, ?, 'level', ?, 'a', 'l1', ?, '{}', ?)`,
    );
    for (const seq of [1, 2, 4]) insert.run('pi-1', seq, 's1', T0 + seq, T0);
    insert.run('pi-9', 1, 's2', T0, T0);
    db.prepare(
      `INSERT INTO agent_marks (agent, mark, highest, gap_since, last_commit_at, updated_at)
       VALUES ('pi-1', 4, 4, NULL, ?, ?), ('pi-9', 1, 1, NULL, ?, ?), ('gone', 7, 7, NULL, ?, ?)`,
    ).run(T0, T0, T0, T0, T0, T0);
    db.prepare(`INSERT INTO seq_gaps (agent, first, last, skipped_at) VALUES ('pi-1', 3, 3, ?)`).run(T0);
    // The SQLite history used to create its health table itself; migration 5 keeps what it holds.
    db.exec(`CREATE TABLE health_history (site TEXT NOT NULL, shelf TEXT NOT NULL, ts INTEGER NOT NULL,
      agent TEXT NOT NULL, status TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (site, shelf, ts)) WITHOUT ROWID`);
    db.prepare(`INSERT INTO health_history VALUES ('s1', 'a', ?, 'pi-1', 'ok', '{}')`).run(T0);
    db.close();

    const store = Store.open({ file: tmp.file(), gapTimeoutMs: 1_000 });
    try {
      expect(store.readings.marks()).toEqual([
        expect.objectContaining({ site: 's1', agent: 'pi-1', mark: 4 }),
        expect.objectContaining({ site: 's2', agent: 'pi-9', mark: 1 }),
      ]);
      expect(store.readings.gaps('s1', 'pi-1')).toMatchObject([{ site: 's1', first: 3, last: 3 }]);
      expect(store.db.prepare('SELECT COUNT(*) FROM health_history').pluck().get()).toBe(1);
      // What was committed before stays committed: resent, it is a duplicate.
      const again = store.readings.commit([levelReading(2, 9, T0 + 2)], T0 + 10);
      expect(again.duplicates).toBe(1);
      // A late arrival in the recorded gap is still accepted; the next seq moves the mark on.
      const late = store.readings.commit([levelReading(3, 8, T0 + 3), levelReading(5, 7, T0 + 5)], T0 + 10);
      expect(late.late).toBe(1);
      expect(store.readings.mark('s1', 'pi-1')).toBe(5);
      // Two agents of one name at two sites: each one's event is kept.
      const ev = (site: string) => eventReading(7, 'pick', -1, 6, T0 + 7, { ...LANE, site });
      store.readings.commit([ev('s1'), ev('s2')], T0 + 20);
      expect(
        store.history
          .events({ kind: 'pick' })
          .map((e) => e.site)
          .sort(),
      ).toEqual(['s1', 's2']);
    } finally {
      store.close();
    }
  });
});
