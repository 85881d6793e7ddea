/**
 * Migration 11 on a file written before it: the readings and alerts it rebuilds (to widen their
 * kind checks) keep every row, the agent's mark still deduplicates, and the new kinds go in.
 */
import { MIGRATIONS, openDatabase, SCHEMA_VERSION, Store } from '@shelfsense/central/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventReading, LANE, levelReading, type TempDir, tempDir } from './fixtures.js';

const T0 = 1_760_000_000_000;

describe('store migration 11: observations', () => {
  let tmp: TempDir;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.remove());

  it('keeps the readings and alerts of an older file, and takes observations and their alert kinds', () => {
    const old = openDatabase(tmp.file(), { migrations: MIGRATIONS.slice(0, 10) });
    old
      .prepare(
        `INSERT INTO readings (site, agent, seq, kind, shelf, lane, ts, payload, received_at)
         VALUES ('s1', 'pi-1', 1, 'level', 'a', 'l1', ?, '{}', ?)`,
      )
      .run(T0, T0);
    old
      .prepare(
        `INSERT INTO agent_marks (site, agent, mark, highest, gap_since, last_commit_at, updated_at)
         VALUES ('s1', 'pi-1', 1, 1, NULL, ?, ?)`,
      )
      .run(T0, T0);
    old
      .prepare(
        `INSERT INTO alerts (id, kind, site, shelf, lane, state, message, opened_at, updated_at)
         VALUES ('alr_1', 'stock-out', 's1', 'a', 'l1', 'open', 'the lane is empty', ?, ?)`,
      )
      .run(T0, T0);
    expect(() =>
      old
        .prepare(
          `INSERT INTO alerts (id, kind, site, shelf, lane, state, message, opened_at, updated_at)
           VALUES ('alr_2', 'tamper', 's1', 'a', 'l1', 'open', 'x', ?, ?)`,
        )
        .run(T0, T0),
    ).toThrow(/CHECK/);
    old.close();

    const store = Store.open(tmp.file());
    try {
      expect(store.schemaVersion).toBe(SCHEMA_VERSION);
      expect(store.alerts.get('alr_1')).toMatchObject({ kind: 'stock-out', state: 'open' });
      // The live-alert index came back with the table: a second stock-out is not opened.
      expect(store.alerts.open(LANE, 'stock-out', 'again', T0 + 1).created).toBe(false);
      expect(store.alerts.open(LANE, 'tamper', 'a load cell was swapped', T0 + 1).created).toBe(true);
      // seq 1 is still known: resent, it is a duplicate; the next ones go in, an observation too.
      const r = store.readings.commit(
        [
          levelReading(1, 5, T0),
          eventReading(2, 'pick', -1, 4, T0 + 1),
          {
            ...LANE,
            kind: 'observation',
            payload: {
              agent: 'pi-1',
              serial: 'SN0001',
              sku: 'cola-330',
              observation: 'o-1',
              kind: 'hand',
              state: 'open',
              grams: 640,
              items: null,
              otherLane: null,
              cause: null,
              proposal: null,
              detail: '',
              ts: T0 + 2,
              seq: 3,
              frameSeq: 3,
            },
          },
        ],
        T0 + 5,
      );
      expect(r.duplicates).toBe(1);
      expect(r.accepted.map((a) => a.kind)).toEqual(['event', 'observation']);
      expect(store.readings.mark('s1', 'pi-1')).toBe(3);
      expect(store.history.observations(LANE).map((o) => o.kind)).toEqual(['hand']);
    } finally {
      store.close();
    }
  });
});
