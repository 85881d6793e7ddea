/**
 * Lane counts and count references persisted per shelf serial: the file, what is restored, and
 * when it is written (on change, at most every few seconds, never per frame).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type LaneReading } from '@shelfsense/agent';
import { CountKeeper, LaneCountStore } from '@shelfsense/agent/testing';
import { afterEach, describe, expect, it } from 'vitest';

const log = createLogger('silent');
const dirs: string[] = [];

function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'agent-counts-'));
  dirs.push(d);
  return d;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The parts of a LaneReading the keeper reads. */
function lane(id: string, units: number | null, baselineG: number, channels = [0]): LaneReading {
  return { id, units, baselineG, channels } as unknown as LaneReading;
}

describe('lane count store', () => {
  it('[counts-file] saves atomically per serial and restores counts, and references only for lanes on the same channels', () => {
    const dir = stateDir();
    const store = new LaneCountStore(dir, log);
    store.save('SHELF-1', {
      A: { units: 12, baselineG: 6.5, channels: [0] },
      B: { units: 3, baselineG: -2, channels: [1, 2] },
      C: { units: 7, baselineG: 1, channels: [3] },
    });
    const onDisk = JSON.parse(readFileSync(join(dir, 'counts', 'SHELF-1.json'), 'utf8'));
    expect(onDisk.serial).toBe('SHELF-1');
    expect(onDisk.lanes.A).toEqual({ units: 12, baselineG: 6.5, channels: [0] });

    // B moved to other cells; C is gone; D is new.
    const restored = store.restore('SHELF-1', [
      { lane: 'A', channels: [0] },
      { lane: 'B', channels: [1] },
      { lane: 'D', channels: [3] },
    ]);
    expect(restored.counts).toEqual({ A: 12, B: 3 });
    expect(restored.baselines).toEqual({ A: 6.5 });
    expect(store.restore('SHELF-2', [{ lane: 'A', channels: [0] }]).counts).toEqual({});
  });

  it('[counts-damaged] a damaged file, a file of another shelf or a bad field restores nothing and does not throw', () => {
    const dir = stateDir();
    const store = new LaneCountStore(dir, log);
    mkdirSync(join(dir, 'counts'), { recursive: true });
    writeFileSync(store.file('S1'), '{"serial":"S1","lanes":{"A":{"units":4,');
    writeFileSync(store.file('S2'), JSON.stringify({ serial: 'S9', lanes: {}, updatedAt: 1 }));
    writeFileSync(
      store.file('S3'),
      JSON.stringify({
        serial: 'S3',
        lanes: { A: { units: -1, baselineG: 0, channels: [0] } },
        updatedAt: 1,
      }),
    );
    for (const serial of ['S1', 'S2', 'S3']) {
      expect(store.restore(serial, [{ lane: 'A', channels: [0] }])).toMatchObject({
        counts: {},
        baselines: {},
      });
    }
  });
});

describe('count keeper', () => {
  it('[counts-write-policy] writes on a change of count or reference, at most once per interval, never when nothing changed', () => {
    const dir = stateDir();
    const store = new LaneCountStore(dir, log);
    const keeper = new CountKeeper(store, 'SHELF-1', log, { minIntervalMs: 2_000, baselineStepG: 0.1 });
    const lanes = [lane('A', 10, 0), lane('B', null, 0, [1])];
    const read = () => JSON.parse(readFileSync(store.file('SHELF-1'), 'utf8')).lanes;

    expect(keeper.maybeSave(lanes, 0)).toBe(true);
    expect(read()).toEqual({ A: { units: 10, baselineG: 0, channels: [0] } }); // no count yet on B
    // Called every frame or every second with nothing new: no write.
    for (let t = 1; t < 10_000; t += 100) expect(keeper.maybeSave(lanes, t)).toBe(false);

    lanes[0] = lane('A', 9, 0);
    expect(keeper.maybeSave(lanes, 10_000)).toBe(true);
    lanes[0] = lane('A', 8, 0);
    expect(keeper.maybeSave(lanes, 10_500)).toBe(false); // too soon
    expect(keeper.maybeSave(lanes, 12_000)).toBe(true); // the watch tick writes it later
    expect(read().A.units).toBe(8);

    lanes[0] = lane('A', 8, 0.05); // the reference crept by less than the step
    expect(keeper.maybeSave(lanes, 20_000)).toBe(false);
    lanes[0] = lane('A', 8, 0.15);
    expect(keeper.maybeSave(lanes, 20_000)).toBe(true);
    expect(read().A.baselineG).toBe(0.15);

    lanes[0] = lane('A', 7, 0.15);
    expect(keeper.flush(lanes, 20_001)).toBe(true); // on stop, whatever the interval
    expect(read().A.units).toBe(7);
    expect(keeper.writes).toBe(5);
  });

  it('[counts-restored] what was restored is not written again; a write that fails is counted and retried', () => {
    const dir = stateDir();
    const store = new LaneCountStore(dir, log);
    const keeper = new CountKeeper(store, 'SHELF-1', log, { minIntervalMs: 1_000 });
    keeper.restored({ A: { units: 5, baselineG: 2, channels: [0] } });
    expect(keeper.maybeSave([lane('A', 5, 2)], 0)).toBe(false);

    // The state dir's `counts` is a file: every write fails, counting goes on.
    writeFileSync(join(dir, 'counts'), 'not a directory');
    expect(keeper.maybeSave([lane('A', 4, 2)], 1_000)).toBe(false);
    expect(keeper.failures).toBe(1);
    rmSync(join(dir, 'counts'));
    expect(keeper.maybeSave([lane('A', 4, 2)], 1_500)).toBe(false); // not before the interval
    expect(keeper.maybeSave([lane('A', 4, 2)], 2_000)).toBe(true);
    expect(store.restore('SHELF-1', [{ lane: 'A', channels: [0] }]).counts).toEqual({ A: 4 });
  });
});
