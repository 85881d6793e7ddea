import { type ReadingInput, Store } from '@shelfsense/central/store';
import type { CalibrationRecord } from '@shelfsense/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventReading, LANE, levelReading, type TempDir, tempDir } from './fixtures.js';

const T0 = 1_700_000_000_000;
const L2 = { ...LANE, lane: 'l2' };

function calibration(seq: number, ts: number): ReadingInput {
  const record: CalibrationRecord = {
    agent: 'pi-1',
    serial: 'SN0001',
    shelf: 'a',
    lane: 'l1',
    kind: 'calibrate',
    by: { user: 'tech-ann', role: 'technician' },
    channels: [0],
    referenceG: 1000,
    items: null,
    before: { scale: 1 },
    after: { scale: 1.02 },
    residualG: 0.4,
    ts,
    seq,
  };
  return { ...LANE, kind: 'calibration', payload: record };
}

describe('store: level history, events and calibration records by lane and time range', () => {
  let tmp: TempDir;
  let store: Store;

  beforeEach(() => {
    tmp = tempDir();
    store = Store.open({ file: tmp.file(), historyIntervalMs: 60_000 });
  });
  afterEach(() => {
    store.close();
    tmp.remove();
  });

  it('downsamples level history to one row per interval plus every change', () => {
    // Ten minutes of a level heartbeat every second, with one change at minute 5.
    const batch: ReadingInput[] = [];
    for (let s = 0; s < 600; s++) batch.push(levelReading(s + 1, s < 300 ? 10 : 9, T0 + s * 1_000));
    store.readings.commit(batch, T0);
    const rows = store.history.levels(LANE);
    // One row per minute (10) plus the change at 300 s (which also restarts the minute).
    expect(rows.map((r) => (r.ts - T0) / 1_000)).toEqual([0, 60, 120, 180, 240, 300, 360, 420, 480, 540]);
    expect(rows.find((r) => r.ts === T0 + 300_000)?.units).toBe(9);
    // A change of stability or state is a change too.
    store.readings.commit([levelReading(601, 9, T0 + 600_500, { stable: false })], T0);
    store.readings.commit([levelReading(602, 9, T0 + 600_700, { stable: false, state: 'unstable' })], T0);
    expect(store.history.levels({ ...LANE, from: T0 + 600_000 })).toHaveLength(2);
    // The newest level is kept whatever the downsampling dropped.
    expect(store.history.latest(LANE)[0]?.level.seq).toBe(602);
  });

  it('queries levels, events and calibrations per lane and [from, to) range', () => {
    store.readings.commit(
      [
        levelReading(1, 10, T0),
        levelReading(2, 5, T0 + 1_000, {}, L2),
        eventReading(3, 'pick', -1, 9, T0 + 2_000),
        levelReading(4, 9, T0 + 2_000),
        eventReading(5, 'restock', 3, 8, T0 + 3_000, L2),
        calibration(6, T0 + 4_000),
        eventReading(7, 'pick', -2, 7, T0 + 5_000),
      ],
      T0,
    );
    expect(store.history.levels(LANE).map((r) => r.units)).toEqual([10, 9]);
    expect(store.history.levels({ ...LANE, from: T0 + 1, to: T0 + 2_000 })).toEqual([]);
    expect(store.history.levels({ ...LANE, from: T0 + 2_000 }).map((r) => r.seq)).toEqual([4]);
    expect(store.history.levels({ site: 's1' }).map((r) => r.seq)).toEqual([1, 2, 4]);

    expect(store.history.events(LANE).map((e) => e.seq)).toEqual([3, 7]);
    expect(store.history.events({ ...LANE, from: T0, to: T0 + 5_000 }).map((e) => e.delta)).toEqual([-1]);
    expect(store.history.events({ site: 's1', shelf: 'a', kind: 'restock' })).toEqual([
      expect.objectContaining({ lane: 'l2', delta: 3, units: 8, seq: 5 }),
    ]);

    const cal = store.history.calibrations({ ...LANE, from: T0 + 4_000, to: T0 + 4_001 });
    expect(cal).toHaveLength(1);
    expect(cal[0]?.record.by).toEqual({ user: 'tech-ann', role: 'technician' });
    expect(store.history.calibrations({ ...LANE, to: T0 + 4_000 })).toEqual([]);

    expect(store.history.latest({ site: 's1' }).map((r) => [r.lane, r.level.units])).toEqual([
      ['l1', 9],
      ['l2', 5],
    ]);
  });

  it('prunes history older than a horizon', () => {
    store.readings.commit([levelReading(1, 10, T0), eventReading(2, 'pick', -1, 9, T0 + 10)], T0);
    store.readings.commit([levelReading(3, 5, T0 + 100_000)], T0);
    expect(store.history.prune(T0 + 50_000)).toBe(2);
    expect(store.history.levels(LANE).map((r) => r.seq)).toEqual([3]);
  });
});
