import { Store } from '@shelfsense/central/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventReading, LANE, levelReading, type TempDir, tempDir } from './fixtures.js';

const T0 = 1_700_000_000_000;

const markOf = (r: { marks: { agent: string; mark: number }[] }, agent: string) =>
  r.marks.find((m) => m.agent === agent)?.mark;

describe('store: readings, deduplication and the stored high-water mark', () => {
  let tmp: TempDir;
  let store: Store;

  beforeEach(() => {
    tmp = tempDir();
    store = Store.open({ file: tmp.file(), gapTimeoutMs: 1_000 });
  });
  afterEach(() => {
    store.close();
    tmp.remove();
  });

  it('[nothing lost] drops duplicates by (site, agent, seq), within a batch and across batches', () => {
    const batch = [levelReading(1, 10, T0), levelReading(2, 9, T0 + 1), levelReading(2, 9, T0 + 1)];
    const first = store.readings.commit(batch, T0);
    expect(first.accepted.map((r) => r.payload.seq)).toEqual([1, 2]);
    expect(first.duplicates).toBe(1);

    // The same records replayed (a broker redelivery, an agent restart) change nothing.
    const again = store.readings.commit([levelReading(1, 10, T0), levelReading(2, 9, T0 + 1)], T0 + 5);
    expect(again.accepted).toEqual([]);
    expect(again.duplicates).toBe(2);
    const n = store.db.prepare('SELECT count(*) FROM readings').pluck().get();
    expect(n).toBe(2);

    // The key is (site, agent, seq): another agent's seq 1 is a different record...
    const other = store.readings.commit([levelReading(1, 3, T0, { agent: 'pi-2' })], T0);
    expect(other.accepted).toHaveLength(1);
    // ...and so is seq 1 of an agent of the same name at another site, with a mark of its own.
    const elsewhere = store.readings.commit([levelReading(1, 3, T0, {}, { ...LANE, site: 's2' })], T0);
    expect(elsewhere.accepted).toHaveLength(1);
    expect(elsewhere.marks).toEqual([expect.objectContaining({ site: 's2', agent: 'pi-1', mark: 1 })]);
    expect(store.readings.mark('s1', 'pi-1')).toBe(2);
  });

  it('[nothing lost] the mark is the highest contiguous committed seq', () => {
    const r = store.readings.commit(
      [
        levelReading(1, 10, T0),
        levelReading(2, 9, T0 + 1),
        levelReading(3, 8, T0 + 2),
        levelReading(5, 6, T0 + 4),
      ],
      T0,
    );
    expect(markOf(r, 'pi-1')).toBe(3);
    expect(store.readings.mark('s1', 'pi-1')).toBe(3);
    // The hole at 4 fills: the mark runs on to 5, then 6.
    const r2 = store.readings.commit(
      [eventReading(4, 'pick', -1, 7, T0 + 3), levelReading(6, 6, T0 + 5)],
      T0 + 10,
    );
    expect(markOf(r2, 'pi-1')).toBe(6);
    expect(store.readings.marks()).toEqual([
      expect.objectContaining({ site: 's1', agent: 'pi-1', mark: 6, highest: 6, gapSince: null }),
    ]);
    expect(store.readings.mark('s1', 'unknown-agent')).toBe(0);
  });

  it('[nothing lost] a resent record at or below the mark stays a duplicate after raw readings are pruned', () => {
    store.readings.commit([levelReading(1, 10, T0), levelReading(2, 9, T0 + 1)], T0);
    expect(store.readings.prune(T0 + 1)).toBe(2);
    const r = store.readings.commit([levelReading(2, 9, T0 + 1), levelReading(3, 8, T0 + 2)], T0 + 2);
    expect(r.accepted.map((x) => x.payload.seq)).toEqual([3]);
    expect(r.duplicates).toBe(1);
    expect(markOf(r, 'pi-1')).toBe(3);
  });

  it('[nothing lost] a hole that never fills is stepped over after the gap timeout while the agent keeps sending, recorded, and a late arrival is still accepted', () => {
    store.readings.commit([levelReading(1, 10, T0), levelReading(3, 8, T0 + 2)], T0);
    expect(store.readings.mark('s1', 'pi-1')).toBe(1);
    // Within the timeout the mark waits for seq 2.
    store.readings.commit([levelReading(4, 8, T0 + 3)], T0 + 500);
    expect(store.readings.mark('s1', 'pi-1')).toBe(1);
    // The agent kept sending for longer than the timeout: seq 2 is given up.
    const r = store.readings.commit([levelReading(5, 8, T0 + 4)], T0 + 1_000);
    expect(markOf(r, 'pi-1')).toBe(5);
    expect(store.readings.gaps('s1', 'pi-1')).toEqual([
      { site: 's1', agent: 'pi-1', first: 2, last: 2, skippedAt: T0 + 1_000, late: 0 },
    ]);
    // If seq 2 does turn up, it is stored (not a duplicate) and counted as late.
    const late = store.readings.commit([levelReading(2, 9, T0 + 1)], T0 + 2_000);
    expect(late.accepted).toHaveLength(1);
    expect(late.late).toBe(1);
    expect(store.readings.gaps('s1', 'pi-1')[0]?.late).toBe(1);
    // ...but only once.
    expect(store.readings.commit([levelReading(2, 9, T0 + 1)], T0 + 2_001).duplicates).toBe(1);
  });

  it('[nothing lost] a hole is not given up while the agent is silent: its clock restarts when the agent comes back', () => {
    store.readings.commit([levelReading(1, 10, T0), levelReading(3, 8, T0 + 2)], T0);
    // The agent was away far longer than the timeout; its first batch back does not skip the hole...
    store.readings.commit([levelReading(4, 8, T0 + 3)], T0 + 60_000);
    expect(store.readings.mark('s1', 'pi-1')).toBe(1);
    // ...because its resend from mark+1 comes first, and fills it.
    store.readings.commit([levelReading(2, 9, T0 + 1)], T0 + 60_010);
    expect(store.readings.mark('s1', 'pi-1')).toBe(4);
    expect(store.readings.gaps('s1', 'pi-1')).toEqual([]);
  });

  it('[nothing lost] committed readings and marks survive closing and reopening the file', () => {
    store.readings.commit(
      [levelReading(1, 10, T0), levelReading(2, 9, T0 + 1), levelReading(4, 7, T0 + 3)],
      T0,
    );
    store.close();
    store = Store.open({ file: tmp.file(), gapTimeoutMs: 1_000 });
    expect(store.readings.mark('s1', 'pi-1')).toBe(2);
    expect(store.readings.commit([levelReading(2, 9, T0 + 1)], T0 + 1).duplicates).toBe(1);
    expect(
      store.readings.commit([levelReading(3, 8, T0 + 2)], T0 + 1).marks.find((m) => m.agent === 'pi-1')?.mark,
    ).toBe(4);
  });

  it('commits a large batch in one transaction', () => {
    const batch = Array.from({ length: 20_000 }, (_, i) =>
      i % 10 === 0
        ? eventReading(i + 1, 'pick', -1, 100 - (i % 100), T0 + i, { ...LANE, lane: `l${i % 8}` })
        : levelReading(i + 1, 100 - (i % 100), T0 + i, {}, { ...LANE, lane: `l${i % 8}` }),
    );
    const r = store.readings.commit(batch, T0);
    expect(r.accepted).toHaveLength(20_000);
    expect(markOf(r, 'pi-1')).toBe(20_000);
    expect(store.history.events({ kind: 'pick' })).toHaveLength(2_000);
  });
});
