/**
 * The link's bookkeeping around a (re)open. Sequence gaps across a reconnect: when a TCP bridge
 * drops and comes back with the same shelf, the frames the shelf sent meanwhile are counted as a
 * gap; frames that come before its identity are counted as unidentified, and not again as a gap;
 * another shelf on the port starts afresh. Frames before the identity are expected right after an
 * open (a shelf streams from power-on) and warned about only once the identity is overdue. A real
 * socket server as the bridge, the agent's TcpSource and ShelfLink.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { ShelfLink, TcpSource } from '@shelfsense/agent';
import { RateLimitedLog } from '@shelfsense/agent/testing';
import { encodeDeviceFrame } from '@shelfsense/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLog } from '../../helpers/log-capture.js';
import { waitFor } from '../../helpers/wait.js';

const silent = pino({ level: 'silent' });
const cleanup: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const identity = (serial: string) =>
  encodeDeviceFrame({ type: 'identity', serial, firmware: '1.0.0', channels: 2, rate: 80 });
const samples = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) =>
    encodeDeviceFrame({ type: 'sample', seq: from + i, deviceMs: (from + i) * 12, raw: [100, 200] }),
  ).join('');

/** One connection of the bridge: what it sends at once, and what it answers to the identify command. */
interface Visit {
  serial: string;
  before?: [number, number];
  after: [number, number];
}

/** A bridge that plays one visit per connection and then drops it once the agent has taken every frame. */
async function bridge(visits: Visit[]): Promise<{ url: string; server: Server; connections: number }> {
  const state = { connections: 0 };
  const server = createServer((socket: Socket) => {
    const visit = visits[state.connections++];
    if (!visit) return;
    if (visit.before) socket.write(samples(...visit.before));
    let answered = false;
    socket.on('data', (d) => {
      if (answered || !d.toString('latin1').startsWith('ID')) return;
      answered = true;
      socket.write(identity(visit.serial) + samples(...visit.after));
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  return {
    url: `tcp://127.0.0.1:${port}`,
    server,
    get connections() {
      return state.connections;
    },
  };
}

describe('sequence gaps across a reconnect', () => {
  it('[gap-reconnect] frames lost while the bridge was down are a gap; frames before the identity are not counted twice; another shelf starts afresh', async () => {
    const b = await bridge([
      { serial: 'SN-1', after: [0, 9] },
      { serial: 'SN-1', before: [20, 22], after: [23, 29] },
      { serial: 'SN-2', after: [500, 505] },
      { serial: 'SN-2', after: [510, 511] },
    ]);
    const source = new TcpSource(b.url, { minMs: 10, maxMs: 30 }, silent);
    const link = new ShelfLink(source, { identifyRetryMs: 60_000 }, silent, new RateLimitedLog(silent));
    link.start();
    cleanup.push(() => link.stop());
    const sockets = new Set<Socket>();
    b.server.on('connection', (s) => sockets.add(s));
    const drop = () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
    };

    await waitFor(() => link.framesIn === 10, 5_000, { what: 'the first visit' });
    expect(link.rejects.gap ?? 0).toBe(0);
    drop();
    await waitFor(() => link.framesIn === 17, 5_000, { what: 'the second visit' });
    // Frames 10…19 never came; 20…22 came before the identity and are counted as such.
    expect(link.rejects.gap).toBe(10);
    expect(link.rejects.unidentified).toBe(3);
    drop();
    await waitFor(() => link.framesIn === 23, 5_000, { what: 'another shelf' });
    expect(link.rejects.gap).toBe(10);
    drop();
    await waitFor(() => link.framesIn === 25, 5_000, { what: 'that shelf again' });
    expect(link.rejects.gap).toBe(14);
    expect(b.connections).toBe(4);
  });

  it('[unidentified-quiet] frames before the identity just after the open are counted quietly; a shelf that never answers is warned about', async () => {
    const { log, at: about } = captureLog();
    const b = await bridge([{ serial: 'SN-1', before: [0, 4], after: [5, 9] }]);
    const link = new ShelfLink(
      new TcpSource(b.url, { minMs: 10, maxMs: 30 }, log),
      { identifyRetryMs: 5_000 },
      log,
      new RateLimitedLog(log),
    );
    link.start();
    cleanup.push(() => link.stop());
    await waitFor(() => link.framesIn === 5, 5_000, { what: 'the frames after the identity' });
    expect(link.rejects.unidentified).toBe(5);
    expect(about(40, 'unidentified')).toHaveLength(0);
    expect(about(20, 'unidentified')).toHaveLength(5);

    // A shelf that streams but never answers identify: once the identity is overdue, a warning.
    const mute = captureLog();
    const server: Server = createServer((socket) => {
      let seq = 0;
      const t = setInterval(() => socket.write(samples(seq, seq++)), 10);
      socket.on('close', () => clearInterval(t));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    const mutePort = (server.address() as { port: number }).port;
    const quiet = new ShelfLink(
      new TcpSource(`tcp://127.0.0.1:${mutePort}`, { minMs: 10, maxMs: 30 }, mute.log),
      { identifyRetryMs: 100 },
      mute.log,
      new RateLimitedLog(mute.log),
    );
    quiet.start();
    cleanup.push(() => quiet.stop());
    await waitFor(() => mute.at(40, 'unidentified').length === 1, 5_000, { what: 'a warning' });
    expect(quiet.rejects.unidentified).toBeGreaterThan(mute.at(20, 'unidentified').length);
  });
});
