/**
 * The CSV export reads a lane's history page by page; pages must add up to exactly the rows one
 * query gives — also when many rows share a timestamp across a page boundary.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteHistoryStore } from '@shelfsense/central/history';
import { type ReadingInput, Store } from '@shelfsense/central/store';
import { levelPages } from '@shelfsense/central/testing';
import type { LaneInfo } from '@shelfsense/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const T0 = 1_760_000_000_000;
const LANE: LaneInfo = {
  site: 's1',
  shelf: 'a',
  lane: 'l1',
  sku: 'cola',
  supplier: 'acme',
  unitWeightG: 350,
  capacity: 24,
  channels: [0],
  agent: 'pi-1',
  serial: 'S1',
};

describe('export paging', () => {
  let dir: string;
  let store: Store;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'shelfsense-export-'));
    store = Store.open(join(dir, 'central.db'));
    // Timestamps with runs of equal values (several readings in one millisecond), units alternating so
    // every reading is kept as a change.
    const rng = fc.sample(fc.integer({ min: 0, max: 3 }), { seed: 11, numRuns: 300 });
    const batch: ReadingInput[] = [];
    let ts = T0;
    rng.forEach((step, i) => {
      ts += step === 0 ? 0 : step * 10;
      batch.push({
        site: LANE.site,
        shelf: LANE.shelf,
        lane: LANE.lane,
        kind: 'level',
        payload: {
          agent: 'pi-1',
          serial: 'S1',
          sku: 'cola',
          units: i % 2 === 0 ? 5 : 6,
          grams: i,
          fill: null,
          stable: true,
          confidence: 1,
          state: 'ok',
          ts,
          seq: i + 1,
          frameSeq: i + 1,
        },
      });
    });
    store.readings.commit(batch, T0);
  });
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const collect = async (gen: AsyncIterable<unknown[]>) => {
    const out: unknown[] = [];
    for await (const page of gen) out.push(...page);
    return out;
  };

  it('pages of any size add up to the single-query result, in order, without loss or repeats', async () => {
    const history = new SqliteHistoryStore(store);
    const ref = { site: LANE.site, shelf: LANE.shelf, lane: LANE.lane };
    const all = store.history.levels({ ...ref, from: T0, to: T0 + 1_000_000 });
    expect(all.length).toBe(300);
    for (const size of [1, 2, 3, 7, 50, 299, 300, 1_000]) {
      const paged = (await collect(levelPages(history, LANE, T0, T0 + 1_000_000, size))) as typeof all;
      expect(
        paged.map((r) => r.grams),
        `page size ${size}`,
      ).toEqual(all.map((r) => r.grams));
    }
    // A bounded range too.
    const mid = (all[150] as { ts: number }).ts;
    const part = store.history.levels({ ...ref, from: T0 + 100, to: mid });
    expect(await collect(levelPages(history, LANE, T0 + 100, mid, 4))).toEqual(part);
  });
});
