/**
 * Running one consumer of the agent benchmark against the simulator: a fresh Mosquitto, the shelf
 * ports held silent, the consumer connected (`staged`); its memory once settled; and the real-rate
 * measurement, the shelves at 80 SPS in real time, with its table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Duration } from '@shelfsense/protocol';
import { type Consumer, type ShelfCalibration, startAgent, startNodeRed } from './agent-bench-consumers.js';
import {
  alive,
  type Child,
  holdPorts,
  type Line,
  launch,
  POLL_MS,
  type ProcStats,
  procStats,
  ROOT,
  sleep,
  startMosquitto,
  until,
} from './agent-bench-procs.js';

export type Kind = 'agent' | 'node-red';

/** What staging a consumer needs from the benchmark's flags. */
export interface StageSetup {
  /** Node flags for the agent; empty: the deployed unit's. */
  agentNodeFlags: string[];
  noderedQos: '0' | '1';
  channels: number;
  seed: number;
}

/** The simulator's last line, with the frames and lines it sent per shelf. */
export const simDone = (l: Line) => (l.v as { type?: string })?.type === 'done';

/**
 * Memory once it has settled: RSS read every 500 ms until it moved less than 0.25 MB over the last
 * 4 s, after at least `minMs` and at most 3 × `minMs` (4 s at least). A Node process that goes quiet shrinks its heap a
 * few seconds later (V8's memory reducer), so a reading taken sooner holds the garbage of what
 * came before; both consumers are read the same way.
 */
export async function settle(pid: number, minMs: number): Promise<ProcStats> {
  const t0 = performance.now();
  const seen: { t: number; rss: number }[] = [];
  for (;;) {
    const s = procStats(pid);
    const now = performance.now();
    seen.push({ t: now, rss: s.rssMb });
    const window = seen.filter((x) => now - x.t <= 4_000);
    const span = Math.max(...window.map((x) => x.rss)) - Math.min(...window.map((x) => x.rss));
    const steady = now - (seen[0] as { t: number }).t >= 4_000 && span < 0.25;
    if ((now - t0 >= minMs && steady) || now - t0 >= Math.max(3 * minMs, 4_000)) return s;
    await sleep(500);
  }
}

export interface Stage {
  consumer: Consumer;
  pid: number;
  /** Frees the shelf ports to the simulator and starts it; resolves with its `ready` time. */
  startSim(virtual: boolean, duration: string): Promise<{ sim: Child; t0: number }>;
}

/**
 * A fresh Mosquitto, the shelf ports held open and silent, the consumer started and connected to
 * both; then `body`; then everything stopped.
 */
export async function staged<T>(
  kind: Kind,
  dir: string,
  shelves: ShelfCalibration[],
  setup: StageSetup,
  body: (stage: Stage) => Promise<T>,
): Promise<T> {
  const runDir = mkdtempSync(join(dir, `${kind}-`));
  const n = shelves.length;
  const broker = await startMosquitto(runDir);
  const ports = await holdPorts(n);
  let consumer: Consumer | undefined;
  let sim: Child | undefined;
  try {
    consumer =
      kind === 'agent'
        ? await startAgent(runDir, broker.port, ports.base, shelves, setup.agentNodeFlags)
        : await startNodeRed(runDir, broker.port, ports.base, n, setup.noderedQos);
    await consumer.ready();
    await until('a connection on every shelf port', 20_000, () => ports.connected() === n || undefined);
    return await body({
      consumer,
      pid: consumer.child.pid,
      async startSim(virtual, duration) {
        await ports.release();
        const child = launch(
          process.execPath,
          [join(ROOT, 'protocol/dist/main.js'), 'sim', '--tcp', String(ports.base)].concat(
            ['--shelves', String(n), '--lanes', String(setup.channels), '--duration', duration],
            virtual ? ['--virtual'] : [],
            ['--seed', String(setup.seed), '--scenario', 'steady'],
          ),
        );
        sim = child;
        // A short virtual run can be over before the next poll: its ready line is what counts.
        const t0 = await until('the simulator', 20_000, () => {
          const ready = child.lines.find((l) => (l.v as { type?: string })?.type === 'ready')?.t;
          if (ready === undefined) alive(child);
          return ready;
        });
        const serials = child.lines.map((l) => (l.v as { serial?: string }).serial).filter(Boolean);
        if (serials.join() !== shelves.map((s) => s.serial).join())
          throw new Error('simulator shelves differ');
        return { sim: child, t0 };
      },
    });
  } finally {
    await consumer?.close();
    await sim?.stop();
    await ports.release();
    await broker.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
}

export interface RealtimeResult {
  samples: number;
  cpuS: number;
  wallS: number;
  end: ProcStats;
  complete: boolean;
  note: string;
}

/**
 * The same shelves at their real rate (no virtual time) for `duration`, both consumers at once, each
 * with its own simulator and Mosquitto: what a deployed agent does, and its memory after that long.
 */
export function measureRealtime(
  kind: Kind,
  dir: string,
  shelves: ShelfCalibration[],
  setup: StageSetup,
  duration: string,
): Promise<RealtimeResult> {
  return staged(kind, dir, shelves, setup, async ({ consumer, pid, startSim }) => {
    const { sim: simChild, t0 } = await startSim(false, duration);
    const start = procStats(pid);
    const done = await until('the simulator to finish', Duration.parse(duration) + 120_000, () => {
      alive(consumer.child);
      const d = simChild.lines.find(simDone)?.v as
        | { shelves: { frames: number; lines: number }[] }
        | undefined;
      // In real time the simulator exits once done: look for its last line before asking if it lives.
      if (!d) alive(simChild);
      return d;
    });
    const end = procStats(pid);
    const wallS = (performance.now() - t0) / 1000;
    const expected = {
      frames: done.shelves.reduce((a, x) => a + x.frames, 0),
      lines: done.shelves.reduce((a, x) => a + x.lines, 0),
    };
    // A real line drops what is sent while nobody listens: frames of the first moments, before the
    // consumer reconnected to the simulator's ports (100–300 ms on a busy machine), are gone. What
    // this checks is that the consumer kept up: 90 % must have arrived (of 10 minutes, all but ~0.05 %
    // do; the note says how many).
    const enough = { frames: Math.floor(expected.frames * 0.9), lines: Math.floor(expected.lines * 0.9) };
    let complete = false;
    const deadline = performance.now() + 30_000;
    while (!complete && performance.now() < deadline) {
      complete = await consumer.caughtUp(enough);
      if (!complete) await sleep(POLL_MS);
    }
    const note = `${await consumer.report()} (${expected.frames} frames, ${expected.lines} lines sent)`;
    return {
      samples: expected.frames * setup.channels,
      cpuS: end.cpuS - start.cpuS,
      wallS,
      end,
      complete,
      note,
    };
  });
}

export function realtimeTable(agent: RealtimeResult, red: RealtimeResult, duration: string): string {
  const rows: [string, (r: RealtimeResult) => number, number, number?][] = [
    ['CPU per channel sample, µs', (r) => (r.cpuS / r.samples) * 1e6, 2, 5],
    ['CPU, % of one core', (r) => (100 * r.cpuS) / r.wallS, 2],
    [`RSS after ${duration}, MB`, (r) => r.end.rssMb, 1, 60],
    ['peak RSS (VmHWM), MB', (r) => r.end.peakMb, 1],
    [`private memory after ${duration} (RssAnon), MB`, (r) => r.end.anonMb, 1],
  ];
  const out = [
    '| measure, at real rate | Shelfsense agent | Node-RED 4.1 (tcp in → mqtt out) | agent / Node-RED | agent target |',
    '| --- | ---: | ---: | ---: | --- |',
  ];
  for (const [label, of, digits, target] of rows) {
    const a = of(agent);
    const b = of(red);
    const t = target === undefined ? '' : `≤ ${target}: ${a <= target ? 'met' : 'NOT met'}`;
    out.push(`| ${label} | ${a.toFixed(digits)} | ${b.toFixed(digits)} | ${(a / b).toFixed(2)} | ${t} |`);
  }
  return out.join('\n');
}
