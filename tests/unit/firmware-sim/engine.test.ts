import {
  type EngineOptions,
  JUNK_VALUES,
  resolveShelves,
  ShelfEngine,
  ShelfSpec,
  type ShelfSpecInput,
  type TruthRecord,
} from '@shelfsense/firmware-sim';
import {
  type DeviceFrame,
  decodeDeviceLine,
  encodeCommand,
  encodeDeviceFrame,
  frameLine,
  isShelfError,
  RAW_MAX,
  type SampleFrame,
} from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';
import { COMMAND_CASES } from '../../helpers/shelf-commands.js';

function engine(spec: ShelfSpecInput = {}, opts: Partial<EngineOptions> = {}, seed = 1) {
  const [shelf] = resolveShelves({ seed, count: 1, specs: [ShelfSpec.parse(spec)] });
  const records: TruthRecord[] = [];
  const e = new ShelfEngine({ shelf: shelf!, hooks: { truth: (r) => records.push(r) }, ...opts });
  return { e, records };
}

/** Splits the engine's output for n ticks into lines (without the newline). */
function lines(e: ShelfEngine, n: number): string[] {
  let text = '';
  for (let i = 0; i < n; i++) text += e.next();
  return text.split('\n').slice(0, -1);
}

function samples(ls: string[]): SampleFrame[] {
  return ls.map((l) => decodeDeviceLine(l)).filter((f): f is SampleFrame => f.type === 'sample');
}

const rawOf = (frames: SampleFrame[], ch: number) =>
  frames.map((f) => f.raw[ch] as number).filter((v) => !(JUNK_VALUES as readonly number[]).includes(v));
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

describe('protocol engine', () => {
  it('[sim-protocol] announces itself with a valid ID line', () => {
    const { e } = engine({ serial: 'SHELF-7', firmware: '2.1.0', lanes: [{}, {}, {}] });
    expect(decodeDeviceLine(e.identityLine())).toEqual({
      type: 'identity',
      serial: 'SHELF-7',
      firmware: '2.1.0',
      channels: 3,
      rate: 80,
    });
  });

  it('[sim-protocol] emits one valid sample frame per tick: contiguous seq, device clock exactly 1000/rate ms per frame', () => {
    const { e } = engine({ lanes: [{}, {}, {}, {}] });
    const out = lines(e, 2000);
    // The engine's own fast encoder writes exactly what the contract's encoder writes.
    for (const l of out) expect(`${l}\n`).toBe(encodeDeviceFrame(decodeDeviceLine(l)));
    const frames = samples(out);
    expect(frames).toHaveLength(2000);
    frames.forEach((f, k) => {
      expect(f.seq).toBe(k);
      expect(f.deviceMs).toBe(Math.floor(k * 12.5));
      expect(f.raw).toHaveLength(4);
    });
    expect(e.tickUs).toBe(12_500);
  });

  it('[sim-protocol] answers ID, PING and RATE; a new rate changes the frame interval', () => {
    const { e } = engine({ serial: 'S1' });
    expect(decodeDeviceLine(e.handleCommand(encodeCommand({ type: 'identify' })))).toMatchObject({
      type: 'identity',
      serial: 'S1',
    });
    expect(decodeDeviceLine(e.handleCommand(encodeCommand({ type: 'ping', token: 'abc123' })))).toEqual({
      type: 'pong',
      token: 'abc123',
    });
    lines(e, 8); // 8 frames at 80 SPS: 100 ms
    expect(decodeDeviceLine(e.handleCommand(encodeCommand({ type: 'rate', rate: 10 })))).toEqual({
      type: 'rate-ok',
      rate: 10,
    });
    const frames = samples(lines(e, 3));
    expect(frames.map((f) => f.deviceMs)).toEqual([100, 200, 300]);
    expect(decodeDeviceLine(e.identityLine())).toMatchObject({ rate: 10 });
  });

  it('[sim-protocol] refuses bad commands with ERR,BADCRC / BADCMD / BADARG and keeps sampling', () => {
    const { e } = engine();
    const err = (line: string) =>
      decodeDeviceLine(e.handleCommand(line)) as Extract<DeviceFrame, { type: 'error' }>;
    expect(err('ID*0000\n').code).toBe('BADCRC');
    expect(err('ID\n').code).toBe('BADCRC');
    expect(err(frameLine('FOO,1')).code).toBe('BADCMD');
    expect(err(frameLine('RATE,20'))).toEqual({ type: 'error', code: 'BADARG', detail: 'bad rate' });
    expect(err(frameLine('PING,no way')).code).toBe('BADARG');
    expect(e.handleCommand('\r\n')).toBe('');
    expect(e.stats.badCommands).toBe(5);
    expect(samples(lines(e, 3))).toHaveLength(3);
  });

  it.each(COMMAND_CASES)('[sim-protocol] $what: the reply protocol v1 requires', ({ line, reply }) => {
    const { e } = engine();
    const id = decodeDeviceLine(e.identityLine()) as Extract<DeviceFrame, { type: 'identity' }>;
    const want =
      reply === null
        ? ''
        : frameLine(
            reply
              .replace('{serial}', id.serial)
              .replace('{firmware}', id.firmware)
              .replace('{channels}', String(id.channels))
              .replace('{rate}', String(id.rate)),
          );
    expect(e.handleCommand(line)).toBe(want);
  });

  it('[sim-seed] a seeded run is byte-for-byte reproducible; another seed differs', () => {
    const spec = { lanes: [{}, {}, {}] };
    const a = lines(engine(spec, {}, 3).e, 500).join('\n');
    const b = lines(engine(spec, {}, 3).e, 500).join('\n');
    const c = lines(engine(spec, {}, 4).e, 500).join('\n');
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  it('[sim-fault-corrupt] a corrupted line fails its checksum and only that line', () => {
    const { e, records } = engine();
    lines(e, 10);
    const r = e.apply({ action: 'corrupt', lines: 3 });
    expect(r.appliesFromSeq).toBe(10);
    const out = lines(e, 10);
    const bad = out.filter((l) => {
      try {
        decodeDeviceLine(l);
        return false;
      } catch (err) {
        expect(isShelfError(err, 'SHELF_ERR_CHECKSUM')).toBe(true);
        return true;
      }
    });
    expect(bad).toHaveLength(3);
    expect(out.indexOf(bad[0] as string)).toBe(0);
    const faults = records.filter((x) => x.kind === 'fault');
    expect(faults.map((f) => [f.seq, f.kind === 'fault' && f.fault])).toEqual([
      [10, 'corrupt'],
      [11, 'corrupt'],
      [12, 'corrupt'],
    ]);
    expect(e.stats.corrupted).toBe(3);
  });

  it('[sim-fault-drop] dropped lines show as a sequence gap', () => {
    const { e, records } = engine();
    lines(e, 5);
    e.apply({ action: 'drop', lines: 2 });
    const seqs = samples(lines(e, 5)).map((f) => f.seq);
    expect(seqs).toEqual([7, 8, 9]);
    expect(records.filter((x) => x.kind === 'fault').map((f) => f.seq)).toEqual([5, 6]);
  });

  it('[sim-fault-garbage] garbage bytes form one line the host rejects; the frames around it are intact', () => {
    const { e, records } = engine();
    e.apply({ action: 'garbage', bytes: 30 });
    const text = e.next() + e.next();
    const ls = text.split('\n').slice(0, -1);
    expect(ls).toHaveLength(3);
    expect(() => decodeDeviceLine(ls[0] as string)).toThrow();
    expect(Buffer.from(`${ls[0]}\n`, 'latin1')).toHaveLength(31);
    expect(samples(ls.slice(1)).map((f) => f.seq)).toEqual([0, 1]);
    expect(records.at(-1)).toEqual({ kind: 'fault', serial: e.serial, seq: 0, fault: 'garbage', bytes: 30 });
  });

  it('[sim-fault-unplug] an unplugged cell saturates from the announced frame on', () => {
    const { e, records } = engine({ lanes: [{}, {}] });
    lines(e, 4);
    const r = e.apply({ action: 'unplug', channel: 1 });
    expect(r.appliesFromSeq).toBe(4);
    expect(r.truth.unplugged).toEqual([1]);
    const frames = samples(lines(e, 20));
    expect(frames.every((f) => f.raw[1] === RAW_MAX)).toBe(true);
    expect(frames.some((f) => f.raw[0] === RAW_MAX)).toBe(false);
    expect(records.at(-1)).toMatchObject({ kind: 'state', seq: 4, cause: 'unplug', unplugged: [1] });
  });

  it('[sim-control] remove 2 items: the raw mean drops by 2 × unit × scale and the truth counts from the announced seq', () => {
    const { e, records } = engine({
      lanes: [{ unitWeightG: 400, items: 10 }],
      cells: [{ scale: 420 }],
      model: { junkProbability: 1e-4 },
    });
    const before = rawOf(samples(lines(e, 400)), 0);
    const r = e.apply({ action: 'remove', lane: 0, count: 2 });
    expect(r.appliesFromSeq).toBe(400);
    expect(r.truth.lanes[0]?.items).toBe(8);
    const after = rawOf(samples(lines(e, 400)), 0);
    const dropG = (mean(before) - mean(after)) / 420;
    expect(dropG).toBeGreaterThan(800 - 1);
    expect(dropG).toBeLessThan(800 + 1);
    const state = records.filter((x) => x.kind === 'state').at(-1);
    expect(state).toMatchObject({ seq: 400, cause: 'remove', source: 'control' });
  });

  it('[sim-vanish] a vanish window loses its frames and the truth marks it', () => {
    const vanished: number[] = [];
    const records: TruthRecord[] = [];
    const { e } = engine({}, { hooks: { vanish: (ms) => vanished.push(ms), truth: (r) => records.push(r) } });
    lines(e, 10);
    e.apply({ action: 'vanish', ms: 100 });
    expect(vanished).toEqual([100]);
    const seqs = samples(lines(e, 20)).map((f) => f.seq);
    expect(seqs[0]).toBe(18); // 100 ms = 8 frames at 80 SPS
    const states = records.filter((x) => x.kind === 'state');
    expect(states.map((s) => [s.seq, s.cause, s.vanished])).toEqual([
      [0, 'start', false],
      [10, 'vanish', true],
      [18, 'return', false],
    ]);
    expect(e.stats.lost).toBe(8);
  });

  it('[sim-scenario] scenario events fire at their device time; --speed makes them come faster', () => {
    const remove = { at: 1000, jitter: 0, action: { action: 'remove' as const, lane: 0, count: 1 } };
    for (const [speed, expectSeq] of [
      [1, 80],
      [4, 20],
    ] as const) {
      const { e, records } = engine({ lanes: [{ items: 5 }] }, { events: [remove], speed });
      lines(e, 100);
      expect(records.filter((x) => x.kind === 'state').map((s) => s.seq)).toEqual([0, expectSeq]);
    }
  });

  it('[sim-lean] a timed lean ends by itself, but not a newer hand that replaced it', () => {
    const { e, records } = engine({ lanes: [{}, {}] });
    e.apply({ action: 'lean', lane: 0, grams: 300, ms: 1000 });
    e.apply({ action: 'lean', lane: 1, grams: 200, ms: 1000 });
    lines(e, 40); // 0.5 s
    e.apply({ action: 'lean', lane: 1, grams: 250 });
    lines(e, 80); // past 1 s
    const t = e.truth();
    expect(t.lanes.map((l) => l.leanG)).toEqual([0, 250]);
    const releases = records.filter((r) => r.kind === 'state' && r.cause === 'release');
    expect(releases.map((r) => r.seq)).toEqual([80]);
  });
});
