/**
 * Level downsampling for InfluxDB must keep exactly the rows the SQLite level history keeps, so a
 * chart looks the same whichever store is configured. The property runs both on random readings
 * (late ones included) — the SQLite side is the real HistoryRepo on an in-memory database.
 */
import { Downsampler } from '@shelfsense/central/history';
import { Store } from '@shelfsense/central/store';
import type { LevelPayload } from '@shelfsense/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const reading = fc.record({
  lane: fc.constantFrom('l1', 'l2'),
  dt: fc.integer({ min: -3_000, max: 4_000 }),
  units: fc.integer({ min: 3, max: 5 }),
  stable: fc.boolean(),
  state: fc.constantFrom('ok', 'unstable') as fc.Arbitrary<LevelPayload['state']>,
});

describe('Downsampler', () => {
  it('[HIST-DOWNSAMPLE] keeps a change at once, an unchanged lane once per interval', () => {
    const d = new Downsampler(1_000);
    const r = (ts: number, units: number) => ({ ts, units, stable: true, state: 'ok' as const });
    expect(d.keep('a', r(0, 5))).toBe(true);
    expect(d.keep('a', r(500, 5))).toBe(false);
    expect(d.keep('b', r(500, 5))).toBe(true);
    expect(d.keep('a', r(600, 4))).toBe(true);
    expect(d.keep('a', r(1_599, 4))).toBe(false);
    expect(d.keep('a', r(1_600, 4))).toBe(true);
  });

  it('[HIST-DOWNSAMPLE] forgets the least recently kept lane past its bound', () => {
    const d = new Downsampler(1_000, 2);
    const r = { ts: 0, units: 1, stable: true, state: 'ok' as const };
    d.keep('a', r);
    d.keep('b', r);
    d.keep('c', r);
    expect(d.size).toBe(2);
    expect(d.keep('b', r)).toBe(false);
    expect(d.keep('a', r)).toBe(true); // forgotten: kept again
  });

  it('[HIST-DOWNSAMPLE] property: keeps the same readings as the SQLite level history', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000 }),
        fc.array(reading, { maxLength: 60 }),
        (interval, rs) => {
          const store = Store.open({ file: ':memory:', historyIntervalMs: interval });
          try {
            const d = new Downsampler(interval);
            const expected: number[] = [];
            let ts = 1_700_000_000_000;
            rs.forEach((r, i) => {
              ts += r.dt;
              const seq = i + 1;
              const payload: LevelPayload = {
                agent: 'ag',
                serial: 'SN',
                sku: null,
                units: r.units,
                grams: r.units * 100,
                fill: null,
                stable: r.stable,
                confidence: 1,
                state: r.state,
                ts,
                seq,
                frameSeq: seq,
              };
              if (d.keep(`s/a/${r.lane}`, payload)) expected.push(seq);
              store.readings.commit([{ site: 's', shelf: 'a', lane: r.lane, kind: 'level', payload }]);
            });
            const kept = store.history
              .levels({})
              .map((row) => row.seq)
              .sort((a, b) => a - b);
            expect(kept).toEqual(expected);
          } finally {
            store.close();
          }
        },
      ),
      { seed: 424242, numRuns: 200 },
    );
  });
});
