/**
 * Read pacing (`readBatchMs`): a TCP or serial source with a paced reader takes a shelf's lines in a
 * few batches instead of one wake-up per line, and loses, reorders or splits none of them; with
 * pacing off every line comes on its own; a backlog is read at full speed. Serial sources read a
 * real pseudo-terminal pair (socat).
 */
import { createWriteStream } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { SerialSource, type ShelfSource, TcpSource } from '@shelfsense/agent';
import { ReadPacer } from '@shelfsense/agent/testing';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startPtyPair } from '../../helpers/pty.js';
import { waitFor } from '../../helpers/wait.js';

const LINES = 120;
const EVERY_MS = 5;
const log = pino({ level: 'silent' });
const backoff = { minMs: 20, maxMs: 100 };
const cleanup: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const line = (i: number) => `S,${i},${i * 12},100,200*0000\n`;

/** Lines as the source hands them on, with the time each came; a group = arrivals > 2 ms apart. */
function record(source: ShelfSource) {
  const got: { line: string; t: number }[] = [];
  source.on('line', (l) => got.push({ line: l, t: performance.now() }));
  const groups = () => got.filter((g, i) => i === 0 || g.t - (got[i - 1] as { t: number }).t > 2).length;
  return { got, groups };
}

/** Writes LINES lines, one every EVERY_MS, through `write`; returns how long that took. */
async function feed(write: (s: string) => void): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < LINES; i++) {
    write(line(i));
    await new Promise((r) => setTimeout(r, EVERY_MS));
  }
  return performance.now() - t0;
}

/** Every line fed arrives, in order; paced, in about one group per tick, else one by one. */
async function expectEveryLine(rec: ReturnType<typeof record>, ms: number, spanMs: number): Promise<void> {
  await waitFor(() => rec.got.length === LINES, 5_000, { what: 'every line' });
  expect(rec.got.map((g) => g.line)).toEqual(Array.from({ length: LINES }, (_, i) => line(i).trimEnd()));
  // Paced: about one group per tick over as long as the writing really took (a busy machine
  // stretches the writer's timers).
  if (ms > 0) expect(rec.groups()).toBeLessThanOrEqual(Math.ceil(spanMs / ms) + 3);
  // Unpaced, lines come as written; a busy machine bunches some writes, so the bar sits well
  // above what pacing gives (about 9 groups here) rather than near one group per line.
  else expect(rec.groups()).toBeGreaterThan(LINES / 4);
}

async function tcpShelf(): Promise<{ url: string; connected: Promise<Socket> }> {
  let resolve!: (s: Socket) => void;
  const connected = new Promise<Socket>((r) => {
    resolve = r;
  });
  const server: Server = createServer((s) => {
    s.setNoDelay(true);
    resolve(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `tcp://127.0.0.1:${(server.address() as { port: number }).port}`, connected };
}

describe('read pacing', () => {
  it.each([
    [100, 'paced'],
    [0, 'not paced'],
  ])('a TCP source reading every %i ms (%s) hands on every line, in order', async (ms) => {
    const shelf = await tcpShelf();
    const source = new TcpSource(shelf.url, backoff, log, new ReadPacer(ms));
    cleanup.push(() => source.stop());
    const rec = record(source);
    source.start();
    const sock = await shelf.connected;
    cleanup.push(() => void sock.destroy());
    const span = await feed((s) => sock.write(s));
    await expectEveryLine(rec, ms, span);
  });

  it('a backlog is read on without pausing: a full read buffer means more is waiting', async () => {
    const shelf = await tcpShelf();
    // Reading once a second, 120 kB (eight 16 kB reads) would take 7 s if every read paused.
    const source = new TcpSource(shelf.url, backoff, log, new ReadPacer(1_000));
    cleanup.push(() => source.stop());
    const rec = record(source);
    source.start();
    const sock = await shelf.connected;
    cleanup.push(() => void sock.destroy());
    const n = Math.ceil(120_000 / line(0).length);
    const t0 = performance.now();
    sock.write(Array.from({ length: n }, (_, i) => line(i)).join(''));
    await waitFor(() => rec.got.length === n, 10_000, { what: 'the whole backlog' });
    expect(performance.now() - t0).toBeLessThan(3_000);
    expect(rec.got.at(-1)?.line).toBe(line(n - 1).trimEnd());
  });

  /** A pty pair: the source reads `b`; what is written to `a` comes out there. */
  async function serialShelf(ms: number) {
    const pty = await startPtyPair();
    cleanup.push(() => pty.close());
    // Written from libuv's thread pool: a write into a full pty waits there, not on the event loop
    // the source reads on.
    const device = createWriteStream(pty.a);
    cleanup.push(() => new Promise<void>((r) => device.end(() => r())));
    const source = new SerialSource({ path: pty.b, baudRate: 115200 }, backoff, log, new ReadPacer(ms));
    cleanup.push(() => source.stop());
    const rec = record(source);
    const opened = new Promise<void>((r) => source.once('open', () => r()));
    source.start();
    await opened;
    return { source, rec, write: (s: string) => device.write(s) };
  }

  it.each([
    [100, 'paced'],
    [0, 'not paced'],
  ])('a serial source reading every %i ms (%s) hands on every line, in order', async (ms) => {
    const { rec, write } = await serialShelf(ms);
    const span = await feed(write);
    await expectEveryLine(rec, ms, span);
  });

  it('a paced serial source keeps up with more than a 115200-baud line carries', async () => {
    // 11,520 bytes/s at 115200 baud: 60 kB is 5.2 s of a full line. Paced at 100 ms, a tty's 4 kB
    // per read takes it in about 1.5 s.
    const { rec, write } = await serialShelf(100);
    const n = Math.ceil(60_000 / line(0).length);
    const t0 = performance.now();
    write(Array.from({ length: n }, (_, i) => line(i)).join(''));
    await waitFor(() => rec.got.length === n, 20_000, { what: 'every line' });
    expect(performance.now() - t0).toBeLessThan(60_000 / 11.52);
    expect(rec.got.map((g) => g.line)).toEqual(Array.from({ length: n }, (_, i) => line(i).trimEnd()));
  });

  it('the pacer resumes every waiting source on one tick, and forgets a cancelled one', async () => {
    const pacer = new ReadPacer(30);
    const calls: string[] = [];
    const a = () => calls.push('a');
    const b = () => calls.push('b');
    pacer.later(a);
    pacer.later(b);
    pacer.later(a);
    pacer.cancel(b);
    await waitFor(() => calls.length > 0, 1_000, { what: 'the tick' });
    await new Promise((r) => setTimeout(r, 60));
    expect(calls).toEqual(['a']);
    expect(new ReadPacer(0).enabled).toBe(false);
  });
});
