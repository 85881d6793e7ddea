/**
 * The simulator as a ser2net / ESP-link bridge would expose a shelf: one TCP client at a time,
 * in real time and in virtual time.
 */
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import type { IdentityFrame, SampleFrame } from '@shelfsense/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/wait.js';
import { type LineReader, openTcp } from './reader.js';

const sims: Simulator[] = [];
const readers: LineReader[] = [];
afterEach(async () => {
  await Promise.all(readers.splice(0).map((r) => r.close()));
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

async function sim(opts: Parameters<typeof startSimulator>[0]): Promise<Simulator> {
  const s = await startSimulator({ transport: 'tcp', tcpPort: 0, ...opts });
  sims.push(s);
  return s;
}

async function read(port: number) {
  const r = await openTcp(port);
  readers.push(r);
  return r;
}

function expectContiguous(frames: SampleFrame[], from: number): void {
  frames.forEach((f, k) => {
    if (f.seq !== from + k) throw new Error(`frame ${k} has seq ${f.seq}, expected ${from + k}`);
    if (f.deviceMs !== Math.floor((from + k) * 12.5))
      throw new Error(`seq ${f.seq} has deviceMs ${f.deviceMs}`);
  });
}

describe('simulator over TCP', () => {
  it('[sim-tcp] several shelves, each on its own port with its own serial; a client hears ID first, then frames', async () => {
    const s = await sim({ shelves: 3, seed: 2 });
    const ports = s.shelves.map((x) => x.tcpPort as number);
    expect(new Set(ports).size).toBe(3);
    expect(new Set(s.shelves.map((x) => x.serial)).size).toBe(3);
    for (const shelf of s.shelves) {
      const r = await read(shelf.tcpPort as number);
      await r.waitForCount(20);
      expect(r.received[0]?.frame).toMatchObject({ type: 'identity', serial: shelf.serial, channels: 4 });
      const frames = r.received.slice(1, 20).map((x) => x.frame as SampleFrame);
      expect(frames.every((f) => f.type === 'sample' && f.raw.length === 4)).toBe(true);
      expect(frames.map((f) => f.seq - (frames[0] as SampleFrame).seq)).toEqual(frames.map((_, k) => k));
    }
  });

  it('[sim-tcp] one client at a time: a new client replaces the old one and gets the ID line first', async () => {
    const s = await sim({ seed: 3 });
    const port = s.shelves[0]?.tcpPort as number;
    const first = await read(port);
    await first.waitForCount(3);
    const second = await read(port);
    await waitFor(() => first.closed, 5000, { what: 'the first client to be dropped' });
    await second.waitForCount(3);
    expect((second.received[0]!.frame as IdentityFrame).serial).toBe(s.shelves[0]?.serial);
    second.command({ type: 'ping', token: 'hello' });
    await second.waitFor((x) => x.frame?.type === 'pong', 5000, 0, 'PONG');
  });

  it('[sim-virtual] virtual time: tens of thousands of frames as fast as they are read, the device clock exactly 1000/rate ms apart', async () => {
    const s = await sim({ seed: 4, virtual: true, lanes: 8 });
    const r = await read(s.shelves[0]?.tcpPort as number);
    await r.waitForCount(40_001, 20_000);
    expect(r.received[0]?.frame?.type).toBe('identity');
    const frames = r.received.slice(1, 40_001).map((x) => x.frame as SampleFrame);
    expectContiguous(frames, 0);
    expect(frames.at(-1)?.deviceMs).toBe(499_987); // 500 s of device time
  });

  it('[sim-virtual] virtual time waits for a slow reader (drain) instead of losing frames', async () => {
    const s = await sim({ seed: 5, virtual: true });
    const shelf = s.shelves[0]!;
    const r = await read(shelf.tcpPort as number);
    await r.waitForCount(100);
    r.socket.pause();
    await waitFor(() => shelf.transport?.blocked, 10_000, { what: 'the sim to see backpressure' });
    const made = shelf.engine.stats.frames;
    // A full control round trip: the simulator's event loop turned, yet it made no more frames.
    await fetch(`${s.controlUrl}/shelves`);
    expect(shelf.engine.stats.frames).toBe(made);
    r.socket.resume();
    await waitFor(() => r.lastSeq() >= made + 1000, 10_000, { what: 'frames after resuming' });
    expectContiguous(r.samples(), 0);
  });

  it('[sim-vanish] over TCP the connection drops, the port refuses for a while, then a client gets in again', async () => {
    const s = await sim({ seed: 6 });
    const shelf = s.shelves[0]!;
    const r = await read(shelf.tcpPort as number);
    await r.waitForCount(5);
    const res = s.apply(shelf.serial, { action: 'vanish', ms: 500 });
    await waitFor(() => r.closed, 5000, { what: 'the connection to drop' });
    const again = await waitFor(
      async () => {
        const c = await openTcp(shelf.tcpPort as number);
        await c.waitForCount(1, 1000).catch(() => undefined);
        if (c.received.length > 0) return c;
        await c.close();
        return undefined;
      },
      10_000,
      { what: 'the port to accept again', intervalMs: 50 },
    );
    readers.push(again);
    await again.waitForCount(3);
    expect(again.received[0]?.frame).toMatchObject({ type: 'identity', serial: shelf.serial });
    expect((again.received[1]!.frame as SampleFrame).seq).toBeGreaterThanOrEqual(res.appliesFromSeq + 40);
  });

  it('[sim-vanish] in virtual time a vanish skips its frames at once; the next client resumes exactly where the truth says', async () => {
    const s = await sim({ seed: 9, virtual: true });
    const shelf = s.shelves[0]!;
    const r = await read(shelf.tcpPort as number);
    await r.waitForCount(100);
    const res = s.apply(shelf.serial, { action: 'vanish', ms: 300 });
    await waitFor(() => r.closed, 5000, { what: 'the connection to drop' });
    const back = s.groundTruth.states(shelf.serial).find((x) => x.cause === 'return');
    expect(back?.seq).toBe(res.appliesFromSeq + 24); // 300 ms at 80 SPS
    const again = await waitFor(() => openTcp(shelf.tcpPort as number), 10_000, {
      what: 'the port to accept again',
      intervalMs: 50,
    });
    readers.push(again);
    await again.waitForCount(3);
    expect(again.received[0]?.frame?.type).toBe('identity');
    expect(again.received[1]?.frame).toMatchObject({ type: 'sample', seq: back?.seq });
  });
});
