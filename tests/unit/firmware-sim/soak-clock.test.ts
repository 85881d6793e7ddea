import { connect, type Socket } from 'node:net';
import { CappedClock, type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import { decodeDeviceLine } from '@shelfsense/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/wait.js';

describe('capped virtual clock', () => {
  let sim: Simulator | undefined;
  let clock: CappedClock | undefined;
  const sockets: Socket[] = [];

  afterEach(async () => {
    for (const s of sockets) s.destroy();
    await clock?.stop();
    await sim?.stop();
  });

  it('serves every frame in order over TCP, never faster than maxSpeed × the wall clock', async () => {
    sim = await startSimulator({ seed: 2, shelves: 2, transport: 'none', control: false, autoStart: false });
    clock = await CappedClock.serve(sim, { maxSpeed: 20, durationMs: 10_000 });
    const seen = new Map<string, number[]>();
    for (const shelf of sim.shelves) {
      expect(shelf.tcpPort).toBeGreaterThan(0);
      const seqs: number[] = [];
      seen.set(shelf.serial, seqs);
      const sock = connect(shelf.tcpPort as number, '127.0.0.1');
      sockets.push(sock);
      let buf = '';
      sock.setEncoding('latin1');
      sock.on('data', (chunk: string) => {
        buf += chunk;
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const f = decodeDeviceLine(buf.slice(0, nl));
          if (f.type === 'sample') seqs.push(f.seq);
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
        }
      });
    }
    const c = clock;
    await waitFor(() => c.connected, 5_000, { what: 'both hosts connected' });
    const t0 = performance.now();
    c.start();
    await c.finished;
    const wallMs = performance.now() - t0;
    // 10 s of device time at most 20 × faster: at least half a second of wall time.
    expect(wallMs).toBeGreaterThanOrEqual(10_000 / 20 - 20);
    await waitFor(() => [...seen.values()].every((s) => s.length === 800), 5_000, {
      what: 'every frame read',
    });
    for (const seqs of seen.values()) expect(seqs).toEqual(Array.from({ length: 800 }, (_, i) => i));
  });

  it('pause() holds every device clock; the paused wall time does not count towards the cap', async () => {
    sim = await startSimulator({ seed: 3, shelves: 1, transport: 'none', control: false, autoStart: false });
    clock = await CappedClock.serve(sim, { maxSpeed: 50, durationMs: 20_000 });
    const sock = connect(sim.shelves[0]?.tcpPort as number, '127.0.0.1');
    sockets.push(sock);
    sock.resume();
    const c = clock;
    const engine = sim.shelves[0]!.engine;
    await waitFor(() => c.connected, 5_000, { what: 'host connected' });
    c.start();
    await waitFor(() => engine.nextDeviceUs > 1_000_000, 5_000, { what: 'a second of device time' });
    c.pause();
    expect(c.paused).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    const held = engine.nextDeviceUs;
    await new Promise((r) => setTimeout(r, 300));
    expect(engine.nextDeviceUs).toBe(held);
    const resumed = performance.now();
    c.resume();
    // Right after the pause the cap has not jumped ahead by the paused time.
    await new Promise((r) => setTimeout(r, 20));
    const ahead = engine.nextDeviceUs - held;
    expect(ahead).toBeLessThanOrEqual((performance.now() - resumed) * 1000 * 50 + 600_000);
    await c.finished;
    expect(engine.nextDeviceUs).toBeGreaterThanOrEqual(20_000_000);
  });

  it('refuses shelves that already have a transport, and a speed of 0', async () => {
    sim = await startSimulator({ seed: 2, shelves: 1, transport: 'tcp', control: false, autoStart: false });
    await expect(CappedClock.serve(sim, { maxSpeed: 5, durationMs: 1_000 })).rejects.toThrow(/transport/);
    await expect(CappedClock.serve(sim, { maxSpeed: 0, durationMs: 1_000 })).rejects.toThrow(RangeError);
  });
});
