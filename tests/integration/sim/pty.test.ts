/**
 * The simulator on real pseudo-terminals (socat), read the way the agent reads a shelf: serialport
 * with a ReadlineParser.
 */
import { existsSync } from 'node:fs';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import type { IdentityFrame, SampleFrame } from '@shelfsense/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAllPtys, startPtyPair } from '../../helpers/pty.js';
import { waitFor } from '../../helpers/wait.js';
import { type LineReader, openSerial } from './reader.js';

const sims: Simulator[] = [];
const readers: LineReader[] = [];
afterEach(async () => {
  await Promise.all(readers.splice(0).map((r) => r.close()));
  await Promise.all(sims.splice(0).map((s) => s.stop()));
  await closeAllPtys();
});

/** With autoStart false the shelves boot when the test says, after the host opened its port. */
async function sim(seed: number, lanes = 3, autoStart = true): Promise<Simulator> {
  const s = await startSimulator({ seed, lanes, scenario: 'idle', autoStart });
  sims.push(s);
  return s;
}

async function read(path: string) {
  const r = await openSerial(path);
  readers.push(r);
  return r;
}

describe('simulator over a socat pty pair', () => {
  it('[sim-pty] frames decode, seq is contiguous, the device clock advances 1000/rate ms per frame', async () => {
    const s = await sim(5, 3, false);
    const path = s.shelves[0]?.path as string;
    expect(existsSync(path)).toBe(true);
    const r = await read(path);
    s.start();
    await r.waitForCount(161);
    const first = r.received[0]?.frame as IdentityFrame;
    expect(first).toEqual({
      type: 'identity',
      serial: s.shelves[0]?.serial,
      firmware: '1.0.0-sim',
      channels: 3,
      rate: 80,
    });
    const frames = r.received.slice(1, 161).map((x) => x.frame as SampleFrame);
    frames.forEach((f, k) => {
      expect(f.type).toBe('sample');
      expect(f.seq).toBe(k);
      expect(f.deviceMs).toBe(Math.floor(k * 12.5));
      expect(f.raw).toHaveLength(3);
    });
  });

  it('[sim-pty] answers identify, ping and rate commands sent over the pty', async () => {
    const s = await sim(6);
    const r = await read(s.shelves[0]?.path as string);
    await r.waitForCount(5);
    let from = r.received.length;
    r.command({ type: 'identify' });
    await r.waitFor((x) => x.frame?.type === 'identity', 5000, from, 'the ID reply');
    r.command({ type: 'ping', token: 'T42' });
    await r.waitFor((x) => x.frame?.type === 'pong' && x.frame.token === 'T42', 5000, from, 'PONG');
    from = r.received.length;
    r.command({ type: 'rate', rate: 10 });
    const ok = await r.waitFor((x) => x.frame?.type === 'rate-ok', 5000, from, 'OK,RATE');
    const at = r.received.indexOf(ok);
    await r.waitFor((x) => x.frame?.type === 'sample', 5000, at + 3, 'samples at 10 SPS');
    const after = r.received
      .slice(at + 1)
      .filter((x) => x.frame?.type === 'sample')
      .map((x) => x.frame as SampleFrame);
    expect(after[1]!.deviceMs - after[0]!.deviceMs).toBe(100);
    r.raw('RATE,20*0000\n');
    await r.waitFor((x) => x.frame?.type === 'error' && x.frame.code === 'BADCRC', 5000, at, 'ERR,BADCRC');
  });

  it('[sim-seed] two runs with the same seed send the same first lines byte for byte; another seed differs', async () => {
    const [a, b, c] = await Promise.all([sim(11, 3, false), sim(11, 3, false), sim(12, 3, false)]);
    const [ra, rb, rc] = await Promise.all([a, b, c].map((s) => read(s.shelves[0]?.path as string)));
    for (const s of [a, b, c]) s?.start();
    await Promise.all([ra, rb, rc].map((r) => r!.waitForCount(120)));
    const head = (r: LineReader) => r.received.slice(0, 120).map((x) => x.line);
    expect(head(ra!)).toEqual(head(rb!));
    expect(head(rc!).slice(1)).not.toEqual(head(ra!).slice(1));
  });

  it('[sim-vanish] the port vanishes and returns on the same path; a host that reopens it identifies the shelf', async () => {
    const s = await sim(7);
    const shelf = s.shelves[0]!;
    const path = shelf.path as string;
    const r = await read(path);
    await r.waitForCount(10);
    const res = await fetch(`${s.controlUrl}/shelves/${shelf.serial}/actions`, {
      method: 'POST',
      body: JSON.stringify({ action: 'vanish', ms: 600 }),
    });
    const applied = (await res.json()) as { appliesFromSeq: number };
    // Like a pulled USB cable: the device path is gone, then back.
    await waitFor(() => !existsSync(path), 5000, { what: 'the pty path to disappear' });
    await r.close();
    await waitFor(() => existsSync(path), 5000, { what: 'the pty path to return' });
    const again = await read(path);
    // Opening a port flushes what was buffered (serialport calls tcflush), so ask who is there.
    again.command({ type: 'identify' });
    const id = await again.waitFor((x) => x.frame?.type === 'identity', 5000, 0, 'the ID reply');
    expect(id.frame).toMatchObject({ serial: shelf.serial });
    const firstSample = await again.waitFor(
      (x) => x.frame?.type === 'sample',
      5000,
      0,
      'a sample after return',
    );
    // 600 ms of frames never reached the host.
    expect((firstSample.frame as SampleFrame).seq).toBeGreaterThanOrEqual(applied.appliesFromSeq + 48);
    const states = s.groundTruth.states(shelf.serial);
    expect(states.map((x) => [x.cause, x.vanished])).toEqual([
      ['start', false],
      ['vanish', true],
      ['return', false],
    ]);
    expect(states[1]?.seq).toBe(applied.appliesFromSeq);
  });

  it('[sim-serial] opens a serial device it is given, and reopens it when the device comes back', async () => {
    const pty = await startPtyPair();
    const pid = pty.pid;
    expect(pid).toBeGreaterThan(0);
    const s = await startSimulator({ seed: 8, shelves: [{ path: pty.a, serial: 'DEV-1' }] });
    sims.push(s);
    expect(s.shelves[0]?.path).toBe(pty.a);
    const r = await read(pty.b);
    r.command({ type: 'identify' });
    await r.waitFor((x) => x.frame?.type === 'identity' && x.frame.serial === 'DEV-1', 5000, 0, 'ID reply');
    // The device disappears (socat killed: both links go) and comes back on the same paths.
    await pty.stop();
    expect(existsSync(pty.a)).toBe(false);
    await r.close();
    await pty.restart();
    expect(pty.pid).not.toBe(pid);
    const again = await read(pty.b);
    await again.waitFor((x) => x.frame?.type === 'sample', 10_000, 0, 'frames from the reopened device');
    again.command({ type: 'ping', token: 'back' });
    await again.waitFor((x) => x.frame?.type === 'pong', 5000, 0, 'PONG after reopening');
  });
});
