import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroundTruth, loadTruth, type TruthState, TruthWriter } from '@shelfsense/firmware-sim';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'shelfsense-truth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function state(serial: string, seq: number, items: number, cause = 'remove'): TruthState {
  return {
    kind: 'state',
    serial,
    seq,
    deviceMs: Math.floor(seq * 12.5),
    cause,
    source: 'scenario',
    lanes: [{ lane: 0, channels: [0], unitWeightG: 100, items, capacity: 20, extraG: 0, leanG: 0 }],
    cells: [{ offset: 100_000, scale: 420, trayG: 300 }],
    unplugged: [],
    vanished: false,
  };
}

describe('ground truth', () => {
  it('[sim-truth] answers "truth at (serial, seq)" from the first frame each state applies to', () => {
    const t = new GroundTruth();
    t.add(state('A', 0, 10, 'start'));
    t.add(state('A', 100, 9));
    t.add(state('A', 100, 8)); // two changes before one frame: the last wins
    t.add(state('A', 250, 7));
    t.add(state('B', 0, 3, 'start'));
    t.add({ kind: 'fault', serial: 'A', seq: 120, fault: 'drop' });
    expect(t.at('A', 0)?.lanes[0]?.items).toBe(10);
    expect(t.at('A', 99)?.lanes[0]?.items).toBe(10);
    expect(t.at('A', 100)?.lanes[0]?.items).toBe(8);
    expect(t.at('A', 249)?.lanes[0]?.items).toBe(8);
    expect(t.at('A', 10_000)?.lanes[0]?.items).toBe(7);
    expect(t.at('B', 500)?.lanes[0]?.items).toBe(3);
    expect(t.at('C', 1)).toBeUndefined();
    expect(t.faults('A', 'drop').map((f) => f.seq)).toEqual([120]);
    expect(t.serials()).toEqual(['A', 'B']);
  });

  it('[sim-truth] keeps a bounded history in memory, forgetting the oldest first', () => {
    const t = new GroundTruth(20);
    for (let i = 0; i <= 100; i++) t.add(state('A', i * 10, i));
    expect(t.states('A').length).toBeLessThanOrEqual(20);
    expect(t.current('A')?.lanes[0]?.items).toBe(100);
    expect(t.at('A', 995)?.lanes[0]?.items).toBe(99);
    expect(t.at('A', 5)).toBeUndefined();
  });

  it('[sim-truth] is written as JSON lines and loads back identical', async () => {
    const file = join(dir, 'truth.jsonl');
    const w = new TruthWriter(file);
    const records = [state('A', 0, 10, 'start'), state('A', 40, 9)];
    for (const r of records) w.write(r);
    w.write({ kind: 'fault', serial: 'A', seq: 41, fault: 'garbage', bytes: 12 });
    await w.close();
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(3);
    const t = loadTruth(file);
    expect(t.states('A')).toEqual(records);
    expect(t.faults('A')).toEqual([{ kind: 'fault', serial: 'A', seq: 41, fault: 'garbage', bytes: 12 }]);
  });

  it('[sim-truth] a damaged truth file is refused with its line number and field', () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify(state('A', 0, 1))}\n${JSON.stringify({ ...state('A', 5, 1), seq: -1 })}\n`,
    );
    expect(() => loadTruth(file)).toThrow(/line 2: seq/);
    writeFileSync(file, '{not json\n');
    expect(() => loadTruth(file)).toThrow(/line 1 is not JSON/);
    expect(() => new TruthWriter(join(dir, 'no', 'such', 'dir.jsonl'))).toThrow(/cannot write truth file/);
  });
});
