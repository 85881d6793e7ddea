/**
 * The flashed firmware against protocol v1: the AVR ELF that `make -C firmware mega` builds, run in
 * simavr (firmware/sim) with HX711 parts on its pins, its UART on the harness's stdio or, through
 * `startSimulator({ mcu })`, on a real pty opened with serialport as the agent opens it. The same
 * command table holds the simulator's own firmware and the real one to the same replies.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eepromImage, type McuRunner, type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import { frameLine, type IdentityFrame, type SampleFrame } from '@shelfsense/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildFirmware, buildHarness, type McuProc, startMcu, stopAllMcus } from '../../helpers/mcu.js';
import { closeAllPtys } from '../../helpers/pty.js';
import { COMMAND_CASES } from '../../helpers/shelf-commands.js';
import { type LineReader, openSerial, type Received } from '../sim/reader.js';

let elf4: string;
let elf8: string;
let dir: string;

beforeAll(() => {
  buildHarness();
  elf4 = buildFirmware('mega', 4);
  elf8 = buildFirmware('mega', 8);
  dir = mkdtempSync(join(tmpdir(), 'shelfsense-fw-'));
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await stopAllMcus();
});

const isSample = (r: Received) => r.frame?.type === 'sample';
const samplesOf = (r: LineReader, from = 0) =>
  r.received
    .slice(from)
    .filter(isSample)
    .map((x) => x.frame as SampleFrame);

/** The next line that is not a sample, from index `from`; resolves with it and where it was. */
async function nextReply(r: LineReader, from: number, what: string): Promise<{ at: number; line: string }> {
  const got = await r.waitFor((x) => !isSample(x), 5_000, from, what);
  return { at: r.received.indexOf(got), line: got.line };
}

/** Sends each case, then a PING marker: the lines between are the case's reply (none for a blank). */
async function runTable(r: LineReader, id: IdentityFrame): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  let mark = 0;
  for (const c of COMMAND_CASES) {
    const from = r.received.length;
    const token = `m${++mark}`;
    r.raw(c.line);
    r.raw(frameLine(`PING,${token}`));
    const pong = await r.waitFor((x) => x.line.startsWith(`PONG,${token}*`), 5_000, from, `PONG ${token}`);
    const replies = r.received.slice(from, r.received.indexOf(pong)).filter((x) => !isSample(x));
    out[c.what] = replies.length === 0 ? null : replies.map((x) => x.line).join(' | ');
  }
  // Back to the rate the shelf had (the table changes it).
  r.raw(frameLine(`RATE,${id.rate}`));
  return out;
}

function expected(id: IdentityFrame): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const c of COMMAND_CASES) {
    out[c.what] =
      c.reply === null
        ? null
        : frameLine(
            c.reply
              .replace('{serial}', id.serial)
              .replace('{firmware}', id.firmware)
              .replace('{channels}', String(id.channels))
              .replace('{rate}', String(id.rate)),
          ).slice(0, -1);
  }
  return out;
}

describe('the flashed firmware on its own UART', () => {
  it('[FW-BOOT] boots with a generated serial, sends ID once, then samples from seq 0 with the fed counts', async () => {
    const raw = [0, -1, 8388607, -8388608];
    const mcu = await startMcu({ elf: elf4, mcu: 'atmega2560', channels: 4, raw });
    await mcu.reader.waitFor(
      (x) => isSample(x) && (x.frame as SampleFrame).seq === 40,
      10_000,
      0,
      '41 frames',
    );
    const first = mcu.reader.received[0]?.frame as IdentityFrame;
    expect(first.type).toBe('identity');
    expect(first.serial).toMatch(/^SS-[0-9A-F]{8}$/);
    expect(first).toMatchObject({ firmware: '1.0.0', channels: 4, rate: 80 });
    const frames = samplesOf(mcu.reader);
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i));
    for (const f of frames) expect(f.raw).toEqual(raw);
    // Settled and sampling within a boot, the 50 ms settling and a period or two.
    expect(frames[0]?.deviceMs).toBeLessThan(250);
    const spans = frames.slice(1).map((f, i) => f.deviceMs - (frames[i] as SampleFrame).deviceMs);
    for (const s of spans) expect(s).toBeGreaterThanOrEqual(11);
    for (const s of spans) expect(s).toBeLessThanOrEqual(14);
    expect(mcu.reader.received.filter((x) => x.frame?.type === 'identity')).toHaveLength(1);
    expect(mcu.reader.received.filter((x) => x.error)).toEqual([]);
  });

  it('[FW-SERIAL] SERIAL stores a serial once; it survives a power cycle and cannot be changed again', async () => {
    const eeprom = join(dir, 'serial.eeprom');
    let mcu: McuProc = await startMcu({ elf: elf4, mcu: 'atmega2560', channels: 4, eeprom });
    const id0 = (await mcu.reader.waitFor((x) => x.frame?.type === 'identity')).frame as IdentityFrame;
    let from = mcu.reader.received.length;
    mcu.send(frameLine('SERIAL,SHELF-0001'));
    expect((await nextReply(mcu.reader, from, 'OK,SERIAL')).line).toBe(
      frameLine('OK,SERIAL,SHELF-0001').trim(),
    );
    await mcu.stop();
    mcu = await startMcu({ elf: elf4, mcu: 'atmega2560', channels: 4, eeprom });
    const id1 = (await mcu.reader.waitFor((x) => x.frame?.type === 'identity')).frame as IdentityFrame;
    expect(id1.serial).toBe('SHELF-0001');
    expect(id1.serial).not.toBe(id0.serial);
    from = mcu.reader.received.length;
    mcu.send(frameLine('SERIAL,SHELF-0002'));
    expect((await nextReply(mcu.reader, from, 'ERR')).line).toBe(
      frameLine('ERR,BADARG,serial is locked').trim(),
    );
    // The simulator's EEPROM image is the firmware's layout: the MCU reads the serial from it.
    const img = join(dir, 'image.eeprom');
    await mcu.stop();
    writeFileSync(img, eepromImage('FROM-IMAGE', 'atmega2560'));
    mcu = await startMcu({ elf: elf4, mcu: 'atmega2560', channels: 4, eeprom: img });
    const id2 = (await mcu.reader.waitFor((x) => x.frame?.type === 'identity')).frame as IdentityFrame;
    expect(id2.serial).toBe('FROM-IMAGE');
    expect(readFileSync(img).subarray(0, 4)).toEqual(Buffer.from([0x53, 0x4e, 0x01, 10]));
  });

  it('[FW-REBOOT] a reset makes the shelf announce itself unasked and count from seq 0 again', async () => {
    const mcu = await startMcu({ elf: elf4, mcu: 'atmega2560', channels: 4 });
    await mcu.reader.waitFor((x) => isSample(x) && (x.frame as SampleFrame).seq === 20, 10_000);
    const from = mcu.reader.received.length;
    mcu.reset();
    const id = await mcu.reader.waitFor((x) => x.frame?.type === 'identity', 10_000, from, 'ID after reset');
    const at = mcu.reader.received.indexOf(id);
    const next = await mcu.reader.waitFor(isSample, 10_000, at, 'a sample after reset');
    expect((next.frame as SampleFrame).seq).toBe(0);
    expect((next.frame as SampleFrame).deviceMs).toBeLessThan(250);
  });

  it('[FW-DEAD] a dead HX711 reads 8388607 while the others keep their counts and cadence', async () => {
    const raw = [1000, 2000, 3000, 4000];
    const mcu = await startMcu({ elf: elf4, mcu: 'atmega2560', channels: 4, raw, dead: [2] });
    await mcu.reader.waitFor(
      (x) => isSample(x) && (x.frame as SampleFrame).seq === 10,
      10_000,
      0,
      '11 frames',
    );
    const frames = samplesOf(mcu.reader);
    for (const f of frames) expect(f.raw).toEqual([1000, 2000, 8388607, 4000]);
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i));
  });

  it('[FW-RATE] RATE,10 then RATE,80: replies, the new spacing, seq and clock continuous', async () => {
    const mcu = await startMcu({ elf: elf4, mcu: 'atmega2560', channels: 4 });
    const r = mcu.reader;
    await r.waitFor((x) => isSample(x) && (x.frame as SampleFrame).seq === 10, 10_000);
    let from = r.received.length;
    mcu.send(frameLine('RATE,10'));
    const ok10 = await nextReply(r, from, 'OK,RATE,10');
    expect(ok10.line).toBe(frameLine('OK,RATE,10').trim());
    // The first frame after the reply may be one converted before the change; then the HX711s
    // settle (400 ms at 10 SPS) and frames come 100 ms apart.
    await r.waitFor(() => samplesOf(r, ok10.at).length >= 8, 10_000, 0, '8 frames at 10 SPS');
    const slow = samplesOf(r, ok10.at).slice(2);
    for (let i = 1; i < slow.length; i++) {
      expect((slow[i] as SampleFrame).seq).toBe((slow[i - 1] as SampleFrame).seq + 1);
      const dt = (slow[i] as SampleFrame).deviceMs - (slow[i - 1] as SampleFrame).deviceMs;
      expect(dt).toBeGreaterThanOrEqual(97);
      expect(dt).toBeLessThanOrEqual(103);
    }
    from = r.received.length;
    mcu.send(frameLine('RATE,80'));
    const ok80 = await nextReply(r, from, 'OK,RATE,80');
    expect(ok80.line).toBe(frameLine('OK,RATE,80').trim());
    await r.waitForCount(r.received.length + 20, 10_000);
    const all = samplesOf(r);
    expect(all.map((f) => f.seq)).toEqual(all.map((_, i) => i));
    const fast = samplesOf(r, ok80.at).slice(2);
    for (let i = 1; i < fast.length; i++) {
      const dt = (fast[i] as SampleFrame).deviceMs - (fast[i - 1] as SampleFrame).deviceMs;
      expect(dt).toBeGreaterThanOrEqual(11);
      expect(dt).toBeLessThanOrEqual(14);
    }
  });

  it('[FW-LOAD] 8 channels of the longest lines at 80 SPS and a burst of 40 commands: every reply, in order, and the sample clock never slips', async () => {
    const raw = new Array(8).fill(-8388608);
    const mcu = await startMcu({ elf: elf8, mcu: 'atmega2560', channels: 8, raw });
    const r = mcu.reader;
    await r.waitFor((x) => isSample(x) && (x.frame as SampleFrame).seq === 20, 10_000);
    const from = r.received.length;
    let burst = '';
    for (let i = 0; i < 40; i++) burst += frameLine(`PING,p${i}`);
    mcu.send(burst);
    await r.waitFor((x) => x.line.startsWith('PONG,p39*'), 10_000, from, 'the 40th PONG');
    await r.waitForCount(r.received.length + 40, 10_000);
    const replies = r.received
      .slice(from)
      .filter((x) => !isSample(x))
      .map((x) => x.line);
    expect(replies).toEqual(Array.from({ length: 40 }, (_, i) => frameLine(`PONG,p${i}`).trim()));
    const frames = samplesOf(r);
    const f0 = frames[0] as SampleFrame;
    for (const f of frames) {
      expect(f.raw).toEqual(raw);
      // On the conversion grid: a frame dropped for room leaves a gap, never a late frame.
      const drift = f.deviceMs - f0.deviceMs - (f.seq - f0.seq) * 12.5;
      expect(Math.abs(drift)).toBeLessThanOrEqual(3);
    }
    const lastSeq = (frames.at(-1) as SampleFrame).seq;
    const dropped = lastSeq + 1 - frames.length;
    // The replies borrow at most the room of a few frames.
    expect(dropped).toBeLessThanOrEqual(10);
    const stats = await mcu.stop();
    expect(stats.missed).toBe(0);
    expect(stats.gainErrors).toBe(0);
    // The boot reset only.
    expect(stats.powerDowns).toBe(1);
  });
});

describe('the same commands through a pty: simulator and flashed firmware answer alike', () => {
  const sims: Simulator[] = [];
  const readers: LineReader[] = [];
  afterEach(async () => {
    await Promise.all(readers.splice(0).map((r) => r.close()));
    await Promise.all(sims.splice(0).map((s) => s.stop()));
    await closeAllPtys();
  });

  async function table(mcu: boolean): Promise<{ got: Record<string, string | null>; id: IdentityFrame }> {
    const sim = await startSimulator({
      seed: 3,
      scenario: 'idle',
      serials: ['CONF-1'],
      lanes: 4,
      control: false,
      ...(mcu ? { mcu: { elf: elf4 } } : {}),
    });
    sims.push(sim);
    const r = await openSerial(sim.shelves[0]?.path as string);
    readers.push(r);
    r.raw(frameLine('ID'));
    const idLine = await r.waitFor((x) => x.frame?.type === 'identity', 10_000, 0, 'ID');
    const id = idLine.frame as IdentityFrame;
    // A boot ID may still be on its way: the table starts after a PING's answer.
    r.raw(frameLine('PING,sync'));
    await r.waitFor((x) => x.line.startsWith('PONG,sync*'), 5_000, 0, 'PONG,sync');
    return { got: await runTable(r, id), id };
  }

  it('[FW-RAW] each frame carries exactly the counts the HX711 parts converted, tick for tick', async () => {
    const spec = { seed: 9, scenario: 'steady', serials: ['RAW-1'], lanes: 4, control: false as const };
    const sim = await startSimulator({ ...spec, autoStart: false, mcu: { elf: elf4 } });
    sims.push(sim);
    const r = await openSerial(sim.shelves[0]?.path as string);
    readers.push(r);
    sim.start();
    await r.waitFor(() => samplesOf(r).length >= 200, 20_000, 0, '200 frames');
    // The same world again, ticked by hand: the counts the MCU's HX711s were fed.
    const twin = await startSimulator({ ...spec, transport: 'none', autoStart: false, rate: 80 });
    sims.push(twin);
    const engine = twin.shelves[0]?.engine;
    const world: number[][] = [];
    for (let i = 0; i < 2_000 && engine; i++) world.push([...engine.tick().raw]);
    const frames = samplesOf(r);
    const f0 = frames[0] as SampleFrame;
    const k0 = world.findIndex((w) => w.join() === f0.raw.join());
    expect(k0, 'the first frame is one of the fed ticks').toBeGreaterThanOrEqual(0);
    const runner = sim.shelves[0]?.runner as McuRunner;
    for (const f of frames) {
      expect(f.raw).toEqual(world[k0 + f.seq - f0.seq]);
      // The truth of a frame is its tick's: the simulator knows which tick each frame was.
      expect(runner.frameTick(f.seq)).toBe(k0 + f.seq - f0.seq);
    }
  });

  it('[FW-CHANNELS] a firmware built for another channel count stops the shelf, naming the build', async () => {
    const sim = await startSimulator({
      seed: 3,
      serials: ['THREE'],
      lanes: 3,
      control: false,
      mcu: { elf: elf4 },
    });
    sims.push(sim);
    const r = await openSerial(sim.shelves[0]?.path as string);
    readers.push(r);
    r.raw(frameLine('ID'));
    await sim.finished;
    const runner = sim.shelves[0]?.runner as McuRunner;
    expect(runner.error?.message).toBe(
      'the firmware reports 4 channels but shelf THREE has 3: build it with make -C firmware mega CHANNELS=3',
    );
  });

  it('[FW-CONFORM] every command of the table gets the reply protocol v1 requires, from both', async () => {
    const own = await table(false);
    const real = await table(true);
    expect(real.id.serial).toBe('CONF-1');
    expect(own.got).toEqual(expected(own.id));
    expect(real.got).toEqual(expected(real.id));
    const typeOf = (line: string | null) => (line === null ? null : line.split(',')[0]);
    expect(Object.values(real.got).map(typeOf)).toEqual(Object.values(own.got).map(typeOf));
  });
});
