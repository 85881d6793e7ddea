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

/** The simulated shelves' sample rate (the simulator's default). */
const SPS = 80;

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
  /**
   * Once the simulator has finished and closed its ports: holds them again, open and silent as
   * before the data, and waits until the consumer is connected to every one (Node-RED's `tcp in`
   * retries every 10 s) — shelves that are still there, with nothing new to say.
   */
  holdAgain(): Promise<void>;
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
  let again: Awaited<ReturnType<typeof holdPorts>> | undefined;
  let consumer: Consumer | undefined;
  let sim: Child | undefined;
  try {
    consumer =
      kind === 'agent'
        ? await startAgent(
            runDir,
            broker.port,
            shelves.map((_, i) => ({ url: `tcp://127.0.0.1:${ports.base + i}` })),
            shelves,
            setup.agentNodeFlags,
          )
        : await startNodeRed(runDir, broker.port, ports.base, n, setup.noderedQos);
    await consumer.ready();
    await until('a connection on every shelf port', 20_000, () => ports.connected() === n || undefined);
    return await body({
      consumer,
      pid: consumer.child.pid,
      async startSim(virtual, duration) {
        await ports.release();
        const started = launchSim(['--tcp', String(ports.base)], shelves, setup, duration, virtual);
        sim = started.child;
        const { t0 } = await started.ready;
        return { sim: started.child, t0 };
      },
      async holdAgain() {
        await sim?.stop();
        again = await holdPorts(n, ports.base);
        const held = again;
        await until(
          'a connection on every shelf port again',
          30_000,
          () => held.connected() === n || undefined,
        );
      },
    });
  } finally {
    await consumer?.close();
    await sim?.stop();
    await ports.release();
    await again?.release();
    await broker.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
}

/**
 * The simulator with the benchmark's shelves (`transport`: `--tcp PORT` or `--pty-dir DIR`);
 * `ready` resolves with the time of its ready line and the shelves it printed, checked against
 * `shelves`.
 */
function launchSim(
  transport: string[],
  shelves: ShelfCalibration[],
  setup: StageSetup,
  duration: string,
  virtual: boolean,
) {
  const child = launch(
    process.execPath,
    [join(ROOT, 'cli/dist/main.js'), 'sim', ...transport].concat(
      ['--shelves', String(shelves.length), '--lanes', String(setup.channels), '--duration', duration],
      virtual ? ['--virtual'] : [],
      ['--seed', String(setup.seed), '--scenario', 'steady'],
    ),
  );
  const ready = (async () => {
    // A short virtual run can be over before the next poll: its ready line is what counts.
    const t0 = await until('the simulator', 20_000, () => {
      const t = child.lines.find((l) => (l.v as { type?: string })?.type === 'ready')?.t;
      if (t === undefined) alive(child);
      return t;
    });
    const printed = child.lines
      .map((l) => l.v as { serial?: string; path?: string })
      .filter((v) => v.serial !== undefined);
    if (printed.map((v) => v.serial).join() !== shelves.map((s) => s.serial).join())
      throw new Error('simulator shelves differ');
    return { t0, printed };
  })();
  return { child, ready };
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
    const { sim, t0 } = await startSim(false, duration);
    return measureRealtimeRun(consumer, pid, sim, t0, setup, duration);
  });
}

/**
 * The agent with the same shelves on serial ports, as a Pi with USB shelves runs: the simulator
 * makes a pseudo-terminal per shelf (socat) and the agent opens them by path (`path:` sources), at
 * the real rate for `duration`, with its own Mosquitto. No Node-RED counterpart: its serial node is
 * not part of the core.
 */
export async function measureRealtimeSerial(
  dir: string,
  shelves: ShelfCalibration[],
  setup: StageSetup,
  duration: string,
): Promise<RealtimeResult> {
  const runDir = mkdtempSync(join(dir, 'agent-serial-'));
  const broker = await startMosquitto(runDir);
  let consumer: Consumer | undefined;
  let sim: Child | undefined;
  try {
    const started = launchSim(['--pty-dir', join(runDir, 'ptys')], shelves, setup, duration, false);
    const child = started.child;
    sim = child;
    const { t0: simReady, printed } = await started.ready;
    const paths = printed.map((v) => ({ path: v.path as string }));
    consumer = await startAgent(runDir, broker.port, paths, shelves, setup.agentNodeFlags);
    await consumer.ready();
    // The ptys exist only once the simulator runs, so it starts first: what it sent before the
    // agent had opened the ports is gone, as on a real line (opening a port flushes it). The
    // measurement starts when the agent is ready, and those frames are not counted.
    const t0 = performance.now();
    const before = Math.floor(((t0 - simReady) / 1000) * SPS) * shelves.length;
    return await measureRealtimeRun(consumer, consumer.child.pid, child, t0, setup, duration, before);
  } finally {
    await consumer?.close();
    await sim?.stop();
    await broker.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
}

async function measureRealtimeRun(
  consumer: Consumer,
  pid: number,
  simChild: Child,
  t0: number,
  setup: StageSetup,
  duration: string,
  /** Frames sent before the consumer was ready (and `t0`), left out of the counts. */
  before = 0,
): Promise<RealtimeResult> {
  const start = procStats(pid);
  const done = await until('the simulator to finish', Duration.parse(duration) + 120_000, () => {
    alive(consumer.child);
    const d = simChild.lines.find(simDone)?.v as { shelves: { frames: number; lines: number }[] } | undefined;
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
  const enough = {
    frames: Math.floor((expected.frames - before) * 0.9),
    lines: Math.floor((expected.lines - before) * 0.9),
  };
  let complete = false;
  const deadline = performance.now() + 30_000;
  while (!complete && performance.now() < deadline) {
    complete = await consumer.caughtUp(enough);
    if (!complete) await sleep(POLL_MS);
  }
  const sent = `${expected.frames} frames, ${expected.lines} lines sent${before ? `, ≈ ${before} frames of them before the agent had opened its ports` : ''}`;
  const note = `${await consumer.report()} (${sent})`;
  return {
    samples: (expected.frames - before) * setup.channels,
    cpuS: end.cpuS - start.cpuS,
    wallS,
    end,
    complete,
    note,
  };
}

export function realtimeTable(
  agent: RealtimeResult,
  red: RealtimeResult,
  serial: RealtimeResult | undefined,
  duration: string,
): string {
  const rows: [string, (r: RealtimeResult) => number, number, number?][] = [
    ['CPU per channel sample, µs', (r) => (r.cpuS / r.samples) * 1e6, 2, 5],
    ['CPU, % of one core', (r) => (100 * r.cpuS) / r.wallS, 2],
    [`RSS after ${duration}, MB`, (r) => r.end.rssMb, 1, 60],
    ['peak RSS (VmHWM), MB', (r) => r.end.peakMb, 1],
    [`private memory after ${duration} (RssAnon), MB`, (r) => r.end.anonMb, 1],
  ];
  const out = [
    `| measure, at real rate | Shelfsense agent | Node-RED 5 (tcp in → mqtt out) | agent / Node-RED | agent target |${serial ? ' agent, serial shelves (ptys) |' : ''}`,
    `| --- | ---: | ---: | ---: | --- |${serial ? ' ---: |' : ''}`,
  ];
  for (const [label, of, digits, target] of rows) {
    const a = of(agent);
    const b = of(red);
    const met = (x: number) =>
      target === undefined ? '' : `≤ ${target}: ${x <= target ? 'met' : 'NOT met'}`;
    const s = serial
      ? ` ${of(serial).toFixed(digits)}${target === undefined ? '' : ` (${met(of(serial))})`} |`
      : '';
    out.push(
      `| ${label} | ${a.toFixed(digits)} | ${b.toFixed(digits)} | ${(a / b).toFixed(2)} | ${met(a)} |${s}`,
    );
  }
  return out.join('\n');
}
