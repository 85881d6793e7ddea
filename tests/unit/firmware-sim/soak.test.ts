import {
  crossings,
  DAY_MS,
  HOUR_MS,
  loadScenario,
  resolveShelves,
  ShelfEngine,
  simLabel,
  soakWeek,
  Timeline,
  type TruthState,
} from '@shelfsense/firmware-sim';
import { describe, expect, it } from 'vitest';

describe('soak week timeline', () => {
  it('maps simulated hours onto their device slices and back', () => {
    const t = new Timeline([2_000, 20_000, 20_000, 2_000]);
    expect(t.hours).toBe(4);
    expect(t.deviceMs).toBe(44_000);
    expect(t.hourStart(2)).toBe(22_000);
    expect(t.toDevice(1.5 * HOUR_MS)).toBe(12_000);
    expect(t.toSim(12_000)).toBe(1.5 * HOUR_MS);
    expect(t.toSim(0)).toBe(0);
    expect(t.toSim(10_000_000)).toBe(4 * HOUR_MS);
    for (let d = 0; d < 44_000; d += 997) expect(t.toDevice(t.toSim(d))).toBeCloseTo(d, 6);
    expect(() => new Timeline([1_000, 0])).toThrow(RangeError);
  });

  it('labels simulated time by day and clock', () => {
    expect(simLabel(0)).toBe('day 1 00:00');
    expect(simLabel(DAY_MS + 13.5 * HOUR_MS)).toBe('day 2 13:30');
  });
});

describe('soak week', () => {
  const week = soakWeek({ seed: 5, shelves: 6, days: 7 });

  it('is the same for the same seed, and different for another', () => {
    expect(soakWeek({ seed: 5, shelves: 6, days: 7 })).toEqual(week);
    expect(soakWeek({ seed: 6, shelves: 6, days: 7 }).scenario.events).not.toEqual(week.scenario.events);
  });

  it('compresses closed hours: open hours get the long slices, nights the short ones', () => {
    const t = week.timeline;
    expect(t.hours).toBe(7 * 24);
    // Monday–Saturday 8–20 (12 h) and Sunday 10–16 (6 h) open.
    const open = 6 * 12 + 6;
    expect(t.deviceMs).toBe(open * 20_000 + (168 - open) * 2_000);
    expect(t.hourDeviceMs[3]).toBe(2_000);
    expect(t.hourDeviceMs[9]).toBe(20_000);
  });

  it('picks and leaning hands only while the store is open, ≥ 2.5 s of device time apart on each shelf', () => {
    const events = week.scenario.events as {
      at: number;
      shelf: string;
      action: string;
      count?: number;
      grams?: number;
      ms?: number;
    }[];
    expect(events.length).toBe(week.picks + week.leans);
    expect(week.picks).toBeGreaterThan(6 * 78 * 4 * 0.5 * 0.7);
    expect(week.leans).toBeGreaterThan(6 * 78 * 0.25 * 0.5);
    const byShelf = new Map<string, typeof events>();
    for (const e of events) {
      if (e.action === 'remove') expect(e.count).toBeGreaterThanOrEqual(1);
      else {
        expect(e.action).toBe('lean');
        expect(e.grams).toBeGreaterThanOrEqual(150);
        expect(e.grams).toBeLessThanOrEqual(600);
      }
      const sim = week.timeline.toSim(e.at);
      const hod = Math.floor((sim % DAY_MS) / HOUR_MS);
      const weekday = Math.floor(sim / DAY_MS) % 7;
      expect(hod).toBeGreaterThanOrEqual(weekday === 6 ? 10 : 8);
      expect(hod).toBeLessThan(weekday === 6 ? 16 : 20);
      byShelf.set(e.shelf, [...(byShelf.get(e.shelf) ?? []), e]);
    }
    expect(byShelf.size).toBe(6);
    for (const list of byShelf.values()) {
      const sorted = [...list].sort((a, b) => a.at - b.at);
      for (let i = 1; i < sorted.length; i++) {
        const prev = sorted[i - 1]!;
        expect(sorted[i]!.at - prev.at).toBeGreaterThanOrEqual(2_500);
        // A hand lets go at least 0.15 slot (≥ 0.75 s) before the next event on the shelf.
        if (prev.action === 'lean') expect(sorted[i]!.at - prev.at - prev.ms!).toBeGreaterThanOrEqual(750);
      }
    }
  });

  it('stocks every lane above its reorder point and is a valid scenario for the simulator', () => {
    for (const s of week.shelves) {
      for (const l of s.lanes) {
        expect(l.items).toBeGreaterThan(l.sku.reorderPoint);
        expect(l.items).toBeLessThanOrEqual(l.sku.capacity);
      }
    }
    const scenario = loadScenario(week.scenario);
    expect(scenario.shelves).toHaveLength(6);
    const shelves = resolveShelves({ seed: 5, count: 6, specs: scenario.shelves ?? [] });
    expect(shelves.map((s) => s.serial)).toEqual(week.shelves.map((s) => s.serial));
    expect(shelves[0]?.lanes.map((l) => l.unitWeightG)).toEqual(
      week.shelves[0]?.lanes.map((l) => l.sku.unitWeightG),
    );
  });

  it('rejects impossible sizes', () => {
    expect(() => soakWeek({ seed: 1, shelves: 0 })).toThrow(RangeError);
    expect(() => soakWeek({ seed: 1, shelves: 65 })).toThrow(RangeError);
    expect(() => soakWeek({ seed: 1, shelves: 1, days: 0 })).toThrow(RangeError);
  });
});

describe('reorder-point crossings in the ground truth', () => {
  const state = (seq: number, items: number[]): TruthState => ({
    kind: 'state',
    serial: 'S',
    seq,
    deviceMs: seq * 12,
    cause: 'remove',
    source: 'scenario',
    lanes: items.map((n, lane) => ({
      lane,
      channels: [lane],
      unitWeightG: 100,
      items: n,
      capacity: 20,
      extraG: 0,
      leanG: 0,
    })),
    cells: [],
    unplugged: [],
    vanished: false,
  });

  it('counts each fall to or below the threshold once, until the lane is above it again', () => {
    const states = [
      state(0, [10, 3]),
      state(5, [6, 3]),
      state(9, [5, 2]),
      state(12, [4, 2]),
      state(20, [18, 2]),
      state(30, [5, 9]),
      state(31, [5, 1]),
    ];
    expect(crossings(states, 0, 5)).toEqual([
      { seq: 9, deviceMs: 108 },
      { seq: 30, deviceMs: 360 },
    ]);
    // Lane 1 starts below: that is no crossing; it rises above and falls again once.
    expect(crossings(states, 1, 5)).toEqual([{ seq: 31, deviceMs: 372 }]);
  });

  it('an engine playing the week records crossings at the truth of its frames', () => {
    const week = soakWeek({
      seed: 3,
      shelves: 1,
      days: 1,
      openHourMs: 2_000,
      closedHourMs: 200,
      minGapMs: 200,
    });
    const scenario = loadScenario(week.scenario);
    const [shelf] = resolveShelves({ seed: 3, count: 1, specs: scenario.shelves ?? [] });
    const states: TruthState[] = [];
    const engine = new ShelfEngine({
      shelf: shelf!,
      events: scenario.events,
      hooks: { truth: (r) => r.kind === 'state' && states.push(r) },
    });
    const frames = Math.ceil((week.timeline.deviceMs / 1000) * 80);
    for (let i = 0; i < frames; i++) engine.next();
    const picked = states.filter((s) => s.cause === 'remove').length;
    expect(picked).toBeGreaterThan(0);
    expect(picked).toBeLessThanOrEqual(week.picks);
    expect(states.filter((s) => s.cause === 'lean').length).toBe(week.leans);
    for (const l of week.shelves[0]!.lanes) {
      for (const c of crossings(states, l.lane, l.sku.reorderPoint)) {
        const at = states.find((s) => s.seq === c.seq);
        expect(at?.lanes[l.lane]?.items).toBeLessThanOrEqual(l.sku.reorderPoint);
      }
    }
  });
});
