/**
 * The history contract, written once and run against every store (as MQTT.js runs
 * test/node/abstract_store.ts against each of its stores): stores.test.ts calls it with SQLite on a
 * temp file and with a real influxd. Each test gets a fresh, empty store from the factory.
 */
import type { EventRow, HistoryPoint, HistoryStore, LevelRow } from '@shelfsense/central/history';
import { isShelfError } from '@shelfsense/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { BASE_TS, type Lane, Points } from './fixtures.js';

export interface StoreFactoryOptions {
  /** Level downsampling: one row per lane per interval plus every change; 0 keeps every reading. */
  levelIntervalMs: number;
}

export interface OpenedStore {
  store: HistoryStore;
  close(): Promise<void>;
}

export type StoreFactory = (o: StoreFactoryOptions) => Promise<OpenedStore>;

const L1: Lane = { site: 's1', shelf: 'a', lane: 'l1' };
const L2: Lane = { site: 's1', shelf: 'a', lane: 'l2' };
const L3: Lane = { site: 's1', shelf: 'b', lane: 'l1' };
const L4: Lane = { site: 's2', shelf: 'a', lane: 'l1' };

function levelRow(p: HistoryPoint & { kind: 'level' }): LevelRow {
  const l = p.payload;
  return {
    site: p.site,
    shelf: p.shelf,
    lane: p.lane,
    ts: l.ts,
    units: l.units,
    grams: l.grams,
    fill: l.fill,
    stable: l.stable,
    confidence: l.confidence,
    state: l.state,
    sku: l.sku,
    agent: l.agent,
    seq: l.seq,
  };
}

function eventRow(p: HistoryPoint & { kind: 'event' }): EventRow {
  const e = p.payload;
  return {
    site: p.site,
    shelf: p.shelf,
    lane: p.lane,
    agent: e.agent,
    seq: e.seq,
    kind: e.kind,
    delta: e.delta,
    units: e.units,
    sku: e.sku,
    ts: e.ts,
  };
}

async function refusedField(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    if (isShelfError(err, 'SHELF_ERR_INVALID')) return err.issues[0]?.path;
    throw err;
  }
  return undefined;
}

export function historyStoreContract(name: string, factory: StoreFactory): void {
  describe(`history contract: ${name}`, () => {
    let opened: OpenedStore | null = null;
    const open = async (o: StoreFactoryOptions = { levelIntervalMs: 0 }) => {
      opened = await factory(o);
      return opened.store;
    };
    afterEach(async () => {
      await opened?.close();
      opened = null;
    });

    it('[HIST-EMPTY] an empty store answers every query with no rows', async () => {
      const s = await open();
      expect(await s.levels()).toEqual([]);
      expect(await s.events()).toEqual([]);
      expect(await s.calibrations()).toEqual([]);
      expect(await s.health()).toEqual([]);
      expect(await s.latest()).toEqual([]);
    });

    it('[HIST-LEVELS] a mixed batch of levels reads back per lane, shelf, site and range, oldest first', async () => {
      const s = await open();
      const pts = new Points();
      const batch: (HistoryPoint & { kind: 'level' })[] = [];
      for (let i = 0; i < 5; i++) {
        for (const lane of [L1, L2, L3, L4]) {
          batch.push(pts.level(lane, BASE_TS + i * 1000, { units: 10 - i, grams: 330 * (10 - i) + 0.5 }));
        }
      }
      expect(await s.write(batch)).toEqual({ written: 20, rejected: 0 });

      const l1 = batch.filter((p) => p.lane === 'l1' && p.shelf === 'a' && p.site === 's1');
      expect(await s.levels(L1)).toEqual(l1.map(levelRow));
      expect(await s.levels({ ...L1, from: BASE_TS + 1000, to: BASE_TS + 3000 })).toEqual(
        l1.slice(1, 3).map(levelRow),
      );
      expect(await s.levels({ ...L1, limit: 2 })).toEqual(l1.slice(0, 2).map(levelRow));
      expect(await s.levels({ site: 's1', shelf: 'a' })).toHaveLength(10);
      expect(await s.levels({ site: 's1' })).toHaveLength(15);
      const all = await s.levels();
      expect(all).toHaveLength(20);
      expect(all.map((r) => r.ts)).toEqual([...all.map((r) => r.ts)].sort((a, b) => a - b));
    });

    it('[HIST-NULLS] a level without SKU, capacity or supplier keeps its nulls', async () => {
      const s = await open();
      const p = new Points().level(L2, BASE_TS, { sku: null, fill: null }, null);
      await s.write([p]);
      expect(await s.levels(L2)).toEqual([levelRow(p)]);
      expect((await s.latest(L2))[0]?.level).toEqual(p.payload);
    });

    it('[HIST-ONCE] a batch written again (a retried write) is kept once', async () => {
      const s = await open();
      const pts = new Points();
      const batch = [
        pts.level(L1, BASE_TS, { units: 7 }),
        pts.event(L1, BASE_TS + 10),
        pts.calibration(L1, BASE_TS + 20),
      ];
      await s.write(batch);
      await s.write(batch);
      expect(await s.levels(L1)).toHaveLength(1);
      expect(await s.events(L1)).toHaveLength(1);
      expect(await s.calibrations(L1)).toHaveLength(1);
    });

    it('[HIST-SAME-MS] two readings of one lane in the same millisecond are both kept, in sequence order', async () => {
      const s = await open();
      const pts = new Points();
      const a = pts.level(L1, BASE_TS + 5, { units: 4 });
      const b = pts.level(L1, BASE_TS + 5, { units: 3 });
      const e1 = pts.event(L1, BASE_TS + 5, { delta: -1, units: 4 });
      const e2 = pts.event(L1, BASE_TS + 5, { delta: -1, units: 3 });
      await s.write([a, b, e1, e2]);
      expect(await s.levels(L1)).toEqual([levelRow(a), levelRow(b)]);
      expect(await s.events(L1)).toEqual([eventRow(e1), eventRow(e2)]);
    });

    it('[HIST-EVENTS] events read back per lane, kind and range', async () => {
      const s = await open();
      const pts = new Points();
      const batch = [
        pts.event(L1, BASE_TS, { kind: 'pick', delta: -2, units: 8 }),
        pts.event(L2, BASE_TS + 100, { kind: 'pick', delta: -1, units: 4 }),
        pts.event(L1, BASE_TS + 200, { kind: 'restock', delta: 12, units: 20 }),
        pts.event(L1, BASE_TS + 300, { kind: 'adjust', delta: 1, units: 21, sku: null }),
        pts.event(L4, BASE_TS + 400, { kind: 'pick', delta: -3, units: 1 }),
      ];
      await s.write(batch);
      const [a, b, c, d, e] = batch as [
        (typeof batch)[0],
        (typeof batch)[0],
        (typeof batch)[0],
        (typeof batch)[0],
        (typeof batch)[0],
      ];
      expect(await s.events(L1)).toEqual([a, c, d].map(eventRow));
      expect(await s.events({ ...L1, kind: 'restock' })).toEqual([eventRow(c)]);
      expect(await s.events({ site: 's1', kind: 'pick' })).toEqual([a, b].map(eventRow));
      expect(await s.events({ from: BASE_TS + 100, to: BASE_TS + 400 })).toEqual([b, c, d].map(eventRow));
      expect(await s.events({ site: 's2' })).toEqual([eventRow(e)]);
    });

    it('[HIST-CALIBRATION] calibration records read back whole, per lane and range', async () => {
      const s = await open();
      const pts = new Points();
      const tare = pts.calibration(L1, BASE_TS, {
        kind: 'tare',
        by: null,
        referenceG: null,
        residualG: null,
        after: { offset: 1001 },
      });
      const learn = pts.calibration(L1, BASE_TS + 1000, { kind: 'learn-unit', items: 12, referenceG: null });
      const other = pts.calibration(L3, BASE_TS + 500);
      await s.write([tare, learn, other]);
      const rows = await s.calibrations(L1);
      expect(rows.map((r) => r.record)).toEqual([tare.payload, learn.payload]);
      expect(rows[0]).toMatchObject({
        ...L1,
        agent: 'agent-s1',
        seq: tare.payload.seq,
        kind: 'tare',
        ts: BASE_TS,
      });
      expect((await s.calibrations({ ...L1, from: BASE_TS + 1 })).map((r) => r.record)).toEqual([
        learn.payload,
      ]);
      expect((await s.calibrations({ site: 's1', shelf: 'b' })).map((r) => r.record)).toEqual([
        other.payload,
      ]);
    });

    it('[HIST-HEALTH] shelf health reads back with every channel and reject counter, per shelf and range', async () => {
      const s = await open();
      const pts = new Points();
      const h1 = pts.health('s1', 'a', BASE_TS);
      const h2 = pts.health('s1', 'b', BASE_TS + 10, {
        status: 'disconnected',
        channels: [{ channel: 3, status: 'disconnected', noiseG: 0, driftG: 0 }],
        rejects: {},
      });
      const h3 = pts.health('s1', 'a', BASE_TS + 1000, { status: 'ok', channels: [] });
      expect(await s.write([h1, h2, h3])).toEqual({ written: 3, rejected: 0 });
      const row = (p: typeof h1) => ({ site: p.site, shelf: p.shelf, ...p.payload });
      expect(await s.health({ site: 's1', shelf: 'a' })).toEqual([row(h1), row(h3)]);
      expect(await s.health({ site: 's1' })).toEqual([row(h1), row(h2), row(h3)]);
      expect(await s.health({ from: BASE_TS + 5, to: BASE_TS + 1000 })).toEqual([row(h2)]);
      await s.write([h1]);
      expect(await s.health({ site: 's1', shelf: 'a' })).toHaveLength(2);
    });

    it('[HIST-LATEST] the newest level per lane, ordered by site, shelf, lane; a late older reading does not replace it', async () => {
      const s = await open();
      const pts = new Points();
      const newest = new Map<string, HistoryPoint & { kind: 'level' }>();
      const batch: HistoryPoint[] = [];
      for (const lane of [L4, L3, L2, L1]) {
        for (let i = 0; i < 3; i++) {
          const p = pts.level(lane, BASE_TS + i * 1000, { units: 5 + i });
          batch.push(p);
          newest.set(`${lane.site}/${lane.shelf}/${lane.lane}`, p);
        }
      }
      await s.write(batch);
      await s.write([pts.level(L1, BASE_TS + 500, { units: 1 })]);
      const latest = await s.latest();
      expect(latest.map((r) => `${r.site}/${r.shelf}/${r.lane}`)).toEqual([
        's1/a/l1',
        's1/a/l2',
        's1/b/l1',
        's2/a/l1',
      ]);
      for (const r of latest) expect(r.level).toEqual(newest.get(`${r.site}/${r.shelf}/${r.lane}`)?.payload);
      expect((await s.latest({ site: 's1', shelf: 'a' })).map((r) => r.lane)).toEqual(['l1', 'l2']);
      expect(await s.latest({ site: 's3' })).toEqual([]);
    });

    it('[HIST-DOWNSAMPLE] with an interval, a lane keeps one level per interval plus every change', async () => {
      const s = await open({ levelIntervalMs: 10_000 });
      const pts = new Points();
      const t = BASE_TS;
      const r = [
        pts.level(L1, t, { units: 5 }), // first: kept
        pts.level(L1, t + 1_000, { units: 5 }), // unchanged, not due
        pts.level(L1, t + 2_000, { units: 4 }), // count changed
        pts.level(L1, t + 3_000, { units: 4, stable: false }), // stability changed
        pts.level(L1, t + 4_000, { units: 4, stable: false }), // unchanged
        pts.level(L1, t + 13_000, { units: 4, stable: false }), // interval due
        pts.level(L1, t + 2_500, { units: 4, stable: true }), // late and different: kept
        pts.level(L1, t + 14_000, { units: 4, stable: false, state: 'fault' }), // state changed
      ];
      await s.write(r.slice(0, 4));
      await s.write(r.slice(4));
      const kept = [r[0], r[2], r[6], r[3], r[5], r[7]] as (typeof r)[number][];
      expect(await s.levels(L1)).toEqual(kept.map(levelRow));
    });

    it('[HIST-QUERY] a bad query is refused with SHELF_ERR_INVALID naming the field', async () => {
      const s = await open();
      expect(await refusedField(s.levels({ from: -5 }))).toBe('from');
      expect(await refusedField(s.levels({ site: "s1' OR '1'='1" }))).toBe('site');
      expect(await refusedField(s.events({ kind: 'steal' as 'pick' }))).toBe('kind');
      expect(await refusedField(s.health({ limit: 0 }))).toBe('limit');
      expect(await refusedField(s.latest({ lane: '' }))).toBe('lane');
      expect(await refusedField(s.calibrations({ to: 1.5 }))).toBe('to');
    });
  });
}
