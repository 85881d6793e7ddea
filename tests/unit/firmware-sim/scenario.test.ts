import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUILTIN_NAMES,
  loadScenario,
  Rng,
  resolveShelves,
  Scheduler,
  ShelfEngine,
  type TruthLineFault,
  type TruthRecord,
  type TruthState,
} from '@shelfsense/firmware-sim';
import { decodeDeviceLine, isShelfError } from '@shelfsense/protocol';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'shelfsense-scn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (isShelfError(err)) return err.issues.map((i) => i.path);
    throw err;
  }
  throw new Error('did not throw');
}

/** Plays a built-in on one 4-lane shelf for `seconds` of device time; returns output lines and truth. */
function play(name: string, seconds: number, seed = 1) {
  const scenario = loadScenario(name);
  const [shelf] = resolveShelves({ seed, count: 1 });
  const records: TruthRecord[] = [];
  const e = new ShelfEngine({
    shelf: shelf!,
    events: scenario.events,
    hooks: { truth: (r) => records.push(r) },
  });
  let text = '';
  for (let i = 0; i < seconds * 80; i++) text += e.next();
  const states = records.filter((r): r is TruthState => r.kind === 'state');
  const faults = records.filter((r): r is TruthLineFault => r.kind === 'fault');
  return { e, lines: text.split('\n').slice(0, -1), states, faults };
}

describe('scenario files', () => {
  it('[sim-scenario-validate] errors name the field at fault', () => {
    expect(issuesOf(() => loadScenario({ events: [{ at: '5q', action: 'remove', lane: 0 }] }))).toEqual([
      'events.0.at',
    ]);
    expect(issuesOf(() => loadScenario({ events: [{ action: 'remove', lane: 'x' }] }))).toEqual([
      'events.0.lane',
    ]);
    expect(issuesOf(() => loadScenario({ events: [{ action: 'explode' }] }))).toEqual(['events.0.action']);
    expect(issuesOf(() => loadScenario({ shelves: [{ lanes: [{ unitWeightG: -1 }] }] }))).toEqual([
      'shelves.0.lanes.0.unitWeightG',
    ]);
    expect(issuesOf(() => loadScenario({ rate: 40 as 10 }))).toEqual(['rate']);
    expect(issuesOf(() => loadScenario({ extends: 'nonsense' }))).toEqual(['extends']);
  });

  it('[sim-scenario-validate] a YAML file is read, and a broken one is reported as a file error', () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(
      good,
      [
        'seed: 7',
        'rate: 10',
        'extends: steady',
        'shelves:',
        '  - serial: SHELF-A',
        '    lanes: [{ unitWeightG: 250, items: 12 }]',
        'events:',
        '  - { at: 10s, action: remove, lane: 0, count: 2 }',
      ].join('\n'),
    );
    const s = loadScenario(good);
    expect(s.seed).toBe(7);
    expect(s.rate).toBe(10);
    expect(s.events).toHaveLength(2);
    expect(s.events[1]).toMatchObject({ at: 10_000, action: { action: 'remove', lane: 0, count: 2 } });
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'events: [ {');
    expect(() => loadScenario(bad)).toThrow(/not valid YAML/);
    expect(() => loadScenario(join(dir, 'missing.yaml'))).toThrow(/neither a built-in/);
  });

  it('every built-in scenario is valid', () => {
    for (const name of BUILTIN_NAMES) expect(() => loadScenario(name)).not.toThrow();
  });
});

describe('scheduler', () => {
  const act = { action: 'add' as const, lane: 0, count: 1 };

  it('[sim-scenario] fires in time order, file order breaking ties; repeats honour times and until', () => {
    const s = new Scheduler(
      [
        { at: 500, jitter: 0, action: { ...act, count: 2 } },
        { at: 100, every: 100, times: 3, jitter: 0, action: act },
        { at: 500, jitter: 0, action: { ...act, count: 3 } },
        { at: 0, every: 250, until: 600, jitter: 0, action: { ...act, lane: 1 } },
      ],
      new Rng(1),
    );
    const fired: string[] = [];
    for (let t = 0; t <= 1000; t += 50) {
      for (let a = s.take(t); a; a = s.take(t))
        fired.push(`${t}:${a.action === 'add' ? `${a.lane}/${a.count}` : ''}`);
    }
    expect(fired).toEqual([
      '0:1/1',
      '100:0/1',
      '200:0/1',
      '250:1/1',
      '300:0/1',
      '500:0/2',
      '500:0/3',
      '500:1/1',
    ]);
    expect(s.size).toBe(0);
  });

  it('[sim-scenario] jitter spreads repeats within ±jitter × every, the same way each run', () => {
    const times = (seed: number) => {
      const s = new Scheduler([{ at: 0, every: 1000, jitter: 0.5, action: act }], new Rng(seed));
      const out: number[] = [];
      for (let t = 0; out.length < 50; t++) if (s.take(t)) out.push(t);
      return out;
    };
    const a = times(1);
    expect(times(1)).toEqual(a);
    for (let i = 1; i < a.length; i++) {
      const gap = (a[i] as number) - (a[i - 1] as number);
      expect(gap).toBeGreaterThanOrEqual(500);
      expect(gap).toBeLessThanOrEqual(1501);
    }
    expect(new Set(a.slice(1).map((t, i) => t - (a[i] as number))).size).toBeGreaterThan(10);
  });
});

describe('built-in scenarios produce what they announce', () => {
  it('[sim-scenario-steady] steady picking takes items from random lanes, never below zero', () => {
    const { states } = play('steady', 600);
    const picks = states.filter((s) => s.cause === 'remove');
    expect(picks.length).toBeGreaterThan(15);
    const total = (s: TruthState) => s.lanes.reduce((a, l) => a + l.items, 0);
    expect(total(states.at(-1) as TruthState)).toBeLessThan(total(states[0] as TruthState));
    expect(states.every((s) => s.lanes.every((l) => l.items >= 0))).toBe(true);
  });

  it('[sim-scenario-restock] a restock delivery fills every lane to capacity one item at a time', () => {
    const { states } = play('restock', 140);
    const full = states.find((s) => s.lanes.every((l) => l.items === l.capacity));
    expect(full).toBeDefined();
    const adds = states.filter((s) => s.cause === 'add');
    expect(adds.length).toBeGreaterThan(10);
    expect(adds.every((s, i) => i === 0 || s.seq > (adds[i - 1] as TruthState).seq)).toBe(true);
  });

  it('[sim-scenario-lean] a hand leans for seconds with a force that is not a whole number of items, then lets go', () => {
    const { states } = play('lean', 45);
    const lean = states.find((s) => s.cause === 'lean') as TruthState;
    const lane = lean.lanes.find((l) => l.leanG > 0);
    expect(lane).toBeDefined();
    expect(lane!.leanG).toBeGreaterThanOrEqual(150);
    expect((lane!.leanG / lane!.unitWeightG) % 1).not.toBe(0);
    const release = states.find((s) => s.cause === 'release' && s.seq > lean.seq) as TruthState;
    const heldS = (release.seq - lean.seq) / 80;
    expect(heldS).toBeGreaterThanOrEqual(2);
    expect(heldS).toBeLessThanOrEqual(6.1);
    expect(release.lanes.every((l) => l.leanG === 0)).toBe(true);
    expect(release.lanes.map((l) => l.items)).toEqual(lean.lanes.map((l) => l.items));
  });

  it('[sim-scenario-move] an item moved to another lane leaves one lane and weighs on another', () => {
    const { states } = play('move', 30);
    const moved = states.find((s) => s.cause === 'move') as TruthState;
    const before = states[0] as TruthState;
    const from = moved.lanes.findIndex((l, i) => l.items === (before.lanes[i]?.items ?? 0) - 1);
    const to = moved.lanes.findIndex((l) => l.extraG > 0);
    expect(from).toBeGreaterThanOrEqual(0);
    expect(to).not.toBe(from);
    expect(moved.lanes[to]?.extraG).toBe(moved.lanes[from]?.unitWeightG);
  });

  it('[sim-scenario-unplug] the unplugged cell saturates exactly between unplug and replug', () => {
    const { states, lines } = play('unplug', 90);
    const un = states.find((s) => s.cause === 'unplug') as TruthState;
    const re = states.find((s) => s.cause === 'replug') as TruthState;
    expect(un.seq).toBe(20 * 80);
    expect(re.seq).toBe(80 * 80);
    for (const l of lines) {
      const f = decodeDeviceLine(l);
      if (f.type !== 'sample') continue;
      const saturated = f.raw[0] === 8_388_607;
      if (f.seq >= un.seq && f.seq < re.seq) expect(saturated).toBe(true);
    }
  });

  it('[sim-scenario-faults] corrupted, dropped and garbage lines are exactly those the truth lists', () => {
    const { lines, faults } = play('faults', 60, 3);
    const corrupt = new Set(faults.filter((f) => f.fault === 'corrupt').map((f) => f.seq));
    const dropped = new Set(faults.filter((f) => f.fault === 'drop').map((f) => f.seq));
    const garbage = faults.filter((f) => f.fault === 'garbage');
    expect(corrupt.size).toBeGreaterThan(5);
    expect(dropped.size).toBeGreaterThan(5);
    expect(garbage.length).toBeGreaterThan(3);
    const seen = new Set<number>();
    let checksumFails = 0;
    let framingFails = 0;
    for (const l of lines) {
      try {
        const f = decodeDeviceLine(l);
        if (f.type === 'sample') seen.add(f.seq);
      } catch (err) {
        if (isShelfError(err, 'SHELF_ERR_CHECKSUM')) checksumFails++;
        else framingFails++;
      }
    }
    expect(checksumFails).toBe(corrupt.size);
    expect(framingFails).toBe(garbage.length);
    for (let seq = 0; seq < 60 * 80; seq++) {
      expect(seen.has(seq)).toBe(!dropped.has(seq) && !corrupt.has(seq));
    }
  });

  it('[sim-scenario-vanish] the port vanishes for 2 s at 15 s', () => {
    const vanished: number[] = [];
    const scenario = loadScenario('vanish');
    const [shelf] = resolveShelves({ seed: 1, count: 1 });
    const records: TruthRecord[] = [];
    const e = new ShelfEngine({
      shelf: shelf!,
      events: scenario.events,
      hooks: { truth: (r) => records.push(r), vanish: (ms) => vanished.push(ms) },
    });
    for (let i = 0; i < 20 * 80; i++) e.next();
    expect(vanished).toEqual([2000]);
    expect(records.filter((r) => r.kind === 'state').map((s) => [s.seq, s.cause])).toEqual([
      [0, 'start'],
      [1200, 'vanish'],
      [1360, 'return'],
    ]);
  });

  it('the demo scenario runs an hour of device time', () => {
    const { states } = play('demo', 3600);
    expect(states.filter((s) => s.cause === 'remove').length).toBeGreaterThan(50);
  });
});
