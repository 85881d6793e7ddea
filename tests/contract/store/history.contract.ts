/**
 * The history repository: what committed readings become — downsampled level history, the newest
 * level per lane, events and calibration records — queried per lane and [from, to) range, oldest
 * first, within a row limit. It is written only by the readings repository's commit.
 */

import type {
  AsyncRepository,
  HistoryRepository,
  ReadingInput,
  ReadingsRepository,
} from '@shelfsense/central/store';
import type { CalibrationRecord, ObservationPayload } from '@shelfsense/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventReading, LANE, levelReading } from '../../unit/central/store/fixtures.js';
import { type Opened, type RepoFactory, T0 } from './types.js';

const L2 = { ...LANE, lane: 'l2' };
const OTHER_SHELF = { ...LANE, shelf: 'b' };
const INTERVAL_MS = 60_000;

export interface HistoryFixture {
  /** The history is written through commits: it is what they derive. */
  readings: AsyncRepository<ReadingsRepository>;
}

function calibration(seq: number, ts: number): ReadingInput {
  const record: CalibrationRecord = {
    agent: 'pi-1',
    serial: 'SN0001',
    shelf: LANE.shelf,
    lane: LANE.lane,
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

function observationReading(
  seq: number,
  ts: number,
  over: Partial<ObservationPayload> = {},
  lane: typeof LANE | typeof L2 = LANE,
): ReadingInput {
  const payload: ObservationPayload = {
    agent: 'pi-1',
    serial: 'SN0001',
    sku: 'cola',
    observation: 'o-1',
    kind: 'foreign-object',
    state: 'open',
    grams: 212.5,
    items: 0.6,
    otherLane: null,
    cause: null,
    proposal: null,
    detail: '',
    ts,
    seq,
    frameSeq: seq,
    ...over,
  };
  return { ...lane, kind: 'observation', payload };
}

export function historyContract(make: RepoFactory<HistoryRepository, HistoryFixture>): void {
  describe('history repository', () => {
    let opened: Opened<HistoryRepository> & HistoryFixture;
    let history: AsyncRepository<HistoryRepository>;
    let readings: AsyncRepository<ReadingsRepository>;

    beforeEach(async () => {
      opened = await make({ historyIntervalMs: INTERVAL_MS });
      history = opened.repo;
      readings = opened.readings;
    });
    afterEach(async () => {
      await opened.close();
    });

    it('keeps one level row per lane per interval plus every change, and the newest level whatever it dropped', async () => {
      const batch: ReadingInput[] = [];
      for (let s = 0; s < 600; s++) batch.push(levelReading(s + 1, s < 300 ? 10 : 9, T0 + s * 1_000));
      await readings.commit(batch, T0);
      const rows = await history.levels(LANE);
      expect(rows.map((r) => (r.ts - T0) / 1_000)).toEqual([0, 60, 120, 180, 240, 300, 360, 420, 480, 540]);
      expect(rows.find((r) => r.ts === T0 + 300_000)).toMatchObject({
        units: 9,
        stable: true,
        agent: 'pi-1',
      });
      // A change of stability or of state is a change too.
      await readings.commit([levelReading(601, 9, T0 + 600_500, { stable: false })], T0);
      await readings.commit([levelReading(602, 9, T0 + 600_700, { stable: false, state: 'unstable' })], T0);
      expect(await history.levels({ ...LANE, from: T0 + 600_000 })).toHaveLength(2);
      expect((await history.latest(LANE))[0]?.level.seq).toBe(602);
    });

    it('returns level rows whole, with stable as a boolean', async () => {
      await readings.commit([levelReading(1, 7, T0, { fill: null, sku: null, stable: false })], T0);
      expect(await history.levels(LANE)).toEqual([
        {
          ...LANE,
          ts: T0,
          units: 7,
          grams: 7 * 350,
          fill: null,
          stable: false,
          confidence: 0.95,
          state: 'ok',
          sku: null,
          agent: 'pi-1',
          seq: 1,
        },
      ]);
    });

    it('queries levels, events and calibrations per lane and [from, to) range', async () => {
      await readings.commit(
        [
          levelReading(1, 10, T0),
          levelReading(2, 5, T0 + 1_000, {}, L2),
          eventReading(3, 'pick', -1, 9, T0 + 2_000),
          levelReading(4, 9, T0 + 2_000),
          eventReading(5, 'restock', 3, 8, T0 + 3_000, L2),
          calibration(6, T0 + 4_000),
          eventReading(7, 'pick', -2, 7, T0 + 5_000),
          levelReading(8, 4, T0 + 6_000, {}, OTHER_SHELF),
        ],
        T0,
      );
      expect((await history.levels(LANE)).map((r) => r.units)).toEqual([10, 9]);
      expect(await history.levels({ ...LANE, from: T0 + 1, to: T0 + 2_000 })).toEqual([]);
      expect((await history.levels({ ...LANE, from: T0 + 2_000 })).map((r) => r.seq)).toEqual([4]);
      expect((await history.levels({ site: 's1' })).map((r) => r.seq)).toEqual([1, 2, 4, 8]);
      expect((await history.levels({ site: 's1', shelf: 'a' })).map((r) => r.seq)).toEqual([1, 2, 4]);
      expect(await history.levels({ site: 's9' })).toEqual([]);

      expect((await history.events(LANE)).map((e) => e.seq)).toEqual([3, 7]);
      expect((await history.events({ ...LANE, from: T0, to: T0 + 5_000 })).map((e) => e.delta)).toEqual([-1]);
      expect(await history.events({ site: 's1', shelf: 'a', kind: 'restock' })).toEqual([
        {
          ...L2,
          agent: 'pi-1',
          seq: 5,
          kind: 'restock',
          delta: 3,
          units: 8,
          sku: 'cola-330',
          ts: T0 + 3_000,
        },
      ]);

      const cal = await history.calibrations({ ...LANE, from: T0 + 4_000, to: T0 + 4_001 });
      expect(cal).toEqual([
        expect.objectContaining({ ...LANE, agent: 'pi-1', seq: 6, kind: 'calibrate', ts: T0 + 4_000 }),
      ]);
      expect(cal[0]?.record).toEqual(calibration(6, T0 + 4_000).payload);
      expect(await history.calibrations({ ...LANE, to: T0 + 4_000 })).toEqual([]);
    });

    it('the newest level per lane, ordered by site, shelf, lane, ignoring time bounds', async () => {
      await readings.commit(
        [
          levelReading(1, 10, T0, {}, OTHER_SHELF),
          levelReading(2, 5, T0 + 1_000, {}, L2),
          levelReading(3, 9, T0 + 2_000),
          // A late (older) reading does not replace the newer one.
          levelReading(4, 1, T0 + 500),
        ],
        T0,
      );
      const latest = await history.latest({ site: 's1' });
      expect(latest.map((r) => [r.shelf, r.lane, r.level.units])).toEqual([
        ['a', 'l1', 9],
        ['a', 'l2', 5],
        ['b', 'l1', 10],
      ]);
      expect(latest[0]?.level).toEqual(levelReading(3, 9, T0 + 2_000).payload);
      expect((await history.latest({ ...LANE, lane: 'l2' })).map((r) => r.lane)).toEqual(['l2']);
      expect(await history.latest({ site: 's9' })).toEqual([]);
      expect(await history.latest()).toHaveLength(3);
    });

    it('returns at most `limit` rows, oldest first', async () => {
      const batch: ReadingInput[] = [];
      for (let i = 0; i < 10; i++) {
        batch.push(levelReading(2 * i + 1, i, T0 + i * 1_000));
        batch.push(eventReading(2 * i + 2, 'pick', -1, i, T0 + i * 1_000 + 1));
      }
      await readings.commit(batch, T0);
      expect((await history.levels({ ...LANE, limit: 3 })).map((r) => r.units)).toEqual([0, 1, 2]);
      expect((await history.events({ ...LANE, limit: 2 })).map((r) => r.seq)).toEqual([2, 4]);
      expect(await history.levels({ ...LANE, from: T0 + 5_000, limit: 1 })).toEqual([
        expect.objectContaining({ units: 5 }),
      ]);
      expect(await history.levels(LANE)).toHaveLength(10);
    });

    it('keeps an event or calibration record once, however often its reading is resent', async () => {
      await readings.commit([eventReading(1, 'pick', -1, 9, T0), calibration(2, T0 + 1)], T0);
      await readings.commit([eventReading(1, 'pick', -1, 9, T0), calibration(2, T0 + 1)], T0 + 1);
      expect(await history.events(LANE)).toHaveLength(1);
      expect(await history.calibrations(LANE)).toHaveLength(1);
    });

    it('prunes level history and events older than a horizon', async () => {
      await readings.commit([levelReading(1, 10, T0), eventReading(2, 'pick', -1, 9, T0 + 10)], T0);
      await readings.commit([levelReading(3, 5, T0 + 100_000)], T0);
      expect(await history.prune(T0 + 50_000)).toBe(2);
      expect((await history.levels(LANE)).map((r) => r.seq)).toEqual([3]);
      expect(await history.events(LANE)).toEqual([]);
      expect(await history.prune(T0 + 50_000)).toBe(0);
    });

    it('keeps each observation record once, whole, queryable by lane, kind, state and range', async () => {
      const proposal = { unitWeightG: 355.2, confidence: 0.9, steps: 8, wrong: true };
      const batch = [
        observationReading(1, T0),
        observationReading(2, T0 + 1_000, { observation: 'u-1', kind: 'unit-weight', proposal }),
        levelReading(3, 5, T0 + 1_500),
        observationReading(4, T0 + 2_000, { state: 'cleared', grams: 0 }),
        observationReading(
          5,
          T0 + 3_000,
          { observation: 'm-1', kind: 'misplaced-item', otherLane: 'l1' },
          L2,
        ),
      ];
      await readings.commit(batch, T0);
      await readings.commit(batch, T0 + 1); // resent: nothing new
      const all = await history.observations({ site: 's1' });
      expect(all.map((r) => r.seq)).toEqual([1, 2, 4, 5]);
      expect(all[1]).toEqual({
        ...LANE,
        agent: 'pi-1',
        seq: 2,
        observation: 'u-1',
        kind: 'unit-weight',
        state: 'open',
        ts: T0 + 1_000,
        payload: expect.objectContaining({ proposal, grams: 212.5, items: 0.6 }),
        acceptedAt: null,
        acceptedBy: null,
      });
      expect((await history.observations(LANE)).map((r) => r.seq)).toEqual([1, 2, 4]);
      expect((await history.observations({ ...LANE, kind: 'foreign-object' })).map((r) => r.seq)).toEqual([
        1, 4,
      ]);
      expect((await history.observations({ site: 's1', state: 'cleared' })).map((r) => r.seq)).toEqual([4]);
      expect((await history.observations({ site: 's1', observation: 'm-1' }))[0]?.payload.otherLane).toBe(
        'l1',
      );
      expect(
        (await history.observations({ site: 's1', from: T0 + 1_000, to: T0 + 3_000 })).map((r) => r.seq),
      ).toEqual([2, 4]);
      expect(await history.observations({ site: 's9' })).toEqual([]);
    });

    it('marks a unit-weight proposal accepted once, with who and when', async () => {
      const proposal = { unitWeightG: 355.2, confidence: 0.9, steps: 8, wrong: true };
      await readings.commit([observationReading(1, T0, { kind: 'unit-weight', proposal })], T0);
      expect(await history.acceptProposal({ site: 's1', agent: 'pi-1', seq: 1 }, 'tech-ann', T0 + 5)).toBe(
        true,
      );
      expect(await history.acceptProposal({ site: 's1', agent: 'pi-1', seq: 1 }, 'tech-bob', T0 + 6)).toBe(
        false,
      );
      expect(await history.acceptProposal({ site: 's1', agent: 'pi-1', seq: 9 }, 'tech-bob', T0 + 6)).toBe(
        false,
      );
      expect((await history.observations(LANE))[0]).toMatchObject({
        acceptedAt: T0 + 5,
        acceptedBy: 'tech-ann',
      });
    });

    it('prunes observations older than a horizon with the events', async () => {
      await readings.commit(
        [observationReading(1, T0), observationReading(2, T0 + 100_000, { state: 'cleared' })],
        T0,
      );
      expect(await history.prune(T0 + 50_000)).toBe(1);
      expect((await history.observations(LANE)).map((r) => r.seq)).toEqual([2]);
    });
  });
}
