/**
 * The control API over HTTP, against a simulator in virtual time read over TCP: every action
 * changes the frames from the sequence number the reply announces, and the ground truth with them.
 */
import { JUNK_VALUES, type Simulator, startSimulator, type TruthState } from '@shelfsense/firmware-sim';
import { decodeDeviceLine, isShelfError, RAW_MAX, type SampleFrame } from '@shelfsense/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LineReader } from './reader.js';
import { openTcp } from './reader.js';

let sim: Simulator;
let reader: LineReader & { socket: import('node:net').Socket };
let serial: string;
let base: string;
const UNIT = 350;
const SCALE = 420;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 21,
    virtual: true,
    transport: 'tcp',
    shelves: [
      {
        serial: 'CTRL-1',
        lanes: [{ unitWeightG: UNIT, items: 10 }, { unitWeightG: 120, items: 20 }, {}, {}],
        cells: [{ scale: SCALE }, { scale: SCALE }],
        // No HX711 junk values: one of them reads 8388607, like an unplugged cell.
        model: { junkProbability: 0 },
      },
    ],
  });
  serial = 'CTRL-1';
  base = `${sim.controlUrl}/shelves/${serial}`;
  reader = await openTcp(sim.shelves[0]?.tcpPort as number);
  reader.socket.pause();
});
afterAll(async () => {
  await reader?.close();
  await sim?.stop();
});

/** Lets frames flow until seq `seq` has arrived, then holds the simulator back again. */
async function readUntil(seq: number): Promise<void> {
  reader.socket.resume();
  await reader.waitFor((r) => r.frame?.type === 'sample' && r.frame.seq >= seq, 10_000, 0, `seq ${seq}`);
  reader.socket.pause();
}

async function post(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}/actions`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function act(body: unknown): Promise<{ seq: number; truth: TruthState }> {
  const { status, json } = await post(body);
  expect(status).toBe(200);
  return { seq: json.appliesFromSeq as number, truth: json.truth as TruthState };
}

function frames(from: number, to: number): SampleFrame[] {
  return reader.samples().filter((f) => f.seq >= from && f.seq < to);
}

function meanRaw(from: number, to: number, ch: number): number {
  const v = frames(from, to)
    .map((f) => f.raw[ch] as number)
    .filter((x) => !(JUNK_VALUES as readonly number[]).includes(x));
  return v.reduce((a, b) => a + b, 0) / v.length;
}

describe('control API', () => {
  it('[sim-control] lists shelves with lanes and cells, and answers the current truth', async () => {
    const list = (await (await fetch(`${sim.controlUrl}/shelves`)).json()) as Record<string, unknown>[];
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ serial, channels: 4, rate: 80, transport: { kind: 'tcp' } });
    const one = (await (await fetch(base)).json()) as { truth: TruthState; stats: Record<string, number> };
    expect(one.truth.lanes[0]).toMatchObject({ items: 10, unitWeightG: UNIT });
    expect(one.stats).toHaveProperty('frames');
    const all = (await (await fetch(`${sim.controlUrl}/truth`)).json()) as Record<string, TruthState>;
    expect(Object.keys(all)).toEqual([serial]);
  });

  it('[sim-control] remove 2 items: from the announced seq the raw mean drops by 2 × unit × scale, and the truth says 8', async () => {
    await readUntil(300);
    const { seq, truth } = await act({ action: 'remove', lane: 0, count: 2 });
    expect(truth.lanes[0]?.items).toBe(8);
    await readUntil(seq + 400);
    const dropG = (meanRaw(seq - 200, seq, 0) - meanRaw(seq, seq + 200, 0)) / SCALE;
    expect(dropG).toBeGreaterThan(2 * UNIT - 1);
    expect(dropG).toBeLessThan(2 * UNIT + 1);
    // The frame just before still weighed 10 items: the change is exactly at the announced seq.
    const step = (meanRaw(seq - 40, seq, 0) - (frames(seq, seq + 1)[0]?.raw[0] as number)) / SCALE;
    expect(step).toBeGreaterThan(2 * UNIT - 6);
    const at = (q: number) => fetch(`${base}/truth?seq=${q}`).then((r) => r.json() as Promise<TruthState>);
    expect((await at(seq - 1)).lanes[0]?.items).toBe(10);
    expect((await at(seq)).lanes[0]?.items).toBe(8);
    expect(sim.truth(serial, seq + 100).lanes[0]?.items).toBe(8);
  });

  it('[sim-control] a reference mass placed and lifted shows in the frames and the truth', async () => {
    const placed = await act({ action: 'place', lane: 1, grams: 500 });
    expect(placed.truth.lanes[1]?.extraG).toBe(500);
    await readUntil(placed.seq + 200);
    const rise =
      (meanRaw(placed.seq, placed.seq + 200, 1) - meanRaw(placed.seq - 200, placed.seq, 1)) / SCALE;
    expect(rise).toBeGreaterThan(499);
    expect(rise).toBeLessThan(501);
    const lifted = await act({ action: 'lift', lane: 1 });
    expect(lifted.truth.lanes[1]?.extraG).toBe(0);
  });

  it('[sim-control] unplug saturates the channel from the announced seq; replug ends it', async () => {
    const un = await act({ action: 'unplug', channel: 2 });
    expect(un.truth.unplugged).toEqual([2]);
    await readUntil(un.seq + 50);
    const re = await act({ action: 'replug', channel: 2 });
    await readUntil(re.seq + 50);
    for (const f of frames(un.seq - 50, re.seq + 50)) {
      expect(f.raw[2] === RAW_MAX).toBe(f.seq >= un.seq && f.seq < re.seq);
    }
  });

  it('[sim-control] corrupt, drop and garbage hit exactly the announced lines', async () => {
    const c = await act({ action: 'corrupt', lines: 2 });
    await readUntil(c.seq + 10);
    const d = await act({ action: 'drop', lines: 3 });
    await readUntil(d.seq + 10);
    const g = await act({ action: 'garbage', bytes: 20 });
    await readUntil(g.seq + 10);
    const seqs = new Set(reader.samples().map((f) => f.seq));
    for (let q = c.seq - 5; q < g.seq + 10; q++) {
      const missing = (q >= c.seq && q < c.seq + 2) || (q >= d.seq && q < d.seq + 3);
      expect(seqs.has(q)).toBe(!missing);
    }
    const bad = reader.received.filter((r) => r.error);
    expect(bad.filter((r) => isShelfError(r.error, 'SHELF_ERR_CHECKSUM'))).toHaveLength(2);
    const garbage = bad.filter((r) => !isShelfError(r.error, 'SHELF_ERR_CHECKSUM'));
    expect(garbage).toHaveLength(1);
    // The junk line comes right before frame g.seq.
    const i = reader.received.indexOf(garbage[0]!);
    expect(decodeDeviceLine(reader.received[i + 1]?.line as string)).toMatchObject({ seq: g.seq });
    const faults = sim.groundTruth.faults(serial).map((f) => [f.fault, f.seq]);
    expect(faults).toEqual([
      ['corrupt', c.seq],
      ['corrupt', c.seq + 1],
      ['drop', d.seq],
      ['drop', d.seq + 1],
      ['drop', d.seq + 2],
      ['garbage', g.seq],
    ]);
  });

  it('[sim-control] a lean shows in the truth until released; a new offset shifts the raw counts', async () => {
    const lean = await act({ action: 'lean', lane: 3, grams: 275.5 });
    expect(lean.truth.lanes[3]?.leanG).toBe(275.5);
    const release = await act({ action: 'release', lane: 3 });
    expect(release.truth.lanes[3]?.leanG).toBe(0);
    await readUntil(release.seq + 100);
    const before = meanRaw(release.seq, release.seq + 100, 0);
    const cell = await act({ action: 'cell', channel: 0, offset: 10_000 });
    expect(cell.truth.cells[0]?.offset).toBe(10_000);
    await readUntil(cell.seq + 100);
    const shift = before - meanRaw(cell.seq, cell.seq + 100, 0);
    const oldOffset = release.truth.cells[0]?.offset as number;
    expect(Math.abs(shift - (oldOffset - 10_000)) / SCALE).toBeLessThan(1);
  });

  it('[sim-control-validate] bad requests get 400/404/405/413 with a JSON {code, message} naming the field', async () => {
    const bad = await post({ action: 'remove', lane: 'left' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'SHELF_ERR_INVALID' });
    expect(bad.json.message).toMatch(/lane/);
    const noLane = await post({ action: 'remove', lane: 6 });
    expect(noLane.status).toBe(400);
    expect(noLane.json.message).toMatch(/lane: no lane 6/);
    const unknown = await post({ action: 'explode' });
    expect(unknown.json.message).toMatch(/action/);
    expect((await post('{oops')).json.message).toMatch(/not JSON/);
    const missing = await fetch(`${sim.controlUrl}/shelves/NOPE/actions`, {
      method: 'POST',
      body: '{"action":"drop"}',
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'SHELF_ERR_SIM_NOT_FOUND' });
    expect((await fetch(`${sim.controlUrl}/nowhere`)).status).toBe(404);
    expect((await fetch(`${base}/actions`)).status).toBe(405);
    expect((await fetch(`${base}/truth?seq=-1`)).status).toBe(400);
    const huge = await fetch(`${base}/actions`, { method: 'POST', body: 'x'.repeat(100_000) });
    expect(huge.status).toBe(413);
  });
});
