/**
 * End-to-end agent benchmark (not a test): 16 shelves × 8 channels × 80 SPS from the simulator in
 * virtual time over TCP, into the COMPILED agent (a child process, factory calibration, durable
 * outbox, QoS 1 to a bare Mosquitto), and the same frames into Node-RED 5 running a core
 * `tcp in` → `mqtt out` flow (bench/nodered), in the same run. Virtual time runs as fast as the
 * reader takes frames, so each consumer is CPU-bound; its CPU time (/proc/PID/stat), RSS and peak
 * RSS (/proc/PID/status) are read from the moment the simulator starts until the consumer has
 * taken every frame (agent: its frame counter and an empty outbox; Node-RED: the broker's count of
 * publishes received), and again once settled after the data. Before the data, each consumer sits
 * connected to silent ports until its memory settles, which gives its idle RSS. Then, unless
 * `--realtime 0`, both run side by side at the shelves' real rate for `--realtime` (10 minutes),
 * for the CPU and memory of a deployed agent. Prints Markdown tables (median of the runs, min–max in
 * brackets).
 *
 *   npx tsc -b tsconfig.build.json && node --import tsx bench/agent/agent-bench.ts \
 *     [--duration 10m] [--runs 3] [--budget 150] [--shelves 16] [--channels 8] [--seed 1]
 *     [--nodered-qos 0] [--idle-ms 10000] [--realtime 10m] [--agent-node-flags="--max-semi-space-size=1"]
 *
 * --budget (seconds, 0 = none) skips further runs once the next would not fit; the output says so.
 * Usually run through `npm run bench -- agent`, which also records the result in docs/benchmarks.md.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeDeviceFrame } from '@shelfsense/protocol';
import { z } from 'zod';
import { summaryLine } from '../../scripts/bench-doc.mjs';
import { type Expected, factoryShelves, type ShelfCalibration } from './agent-bench-consumers.js';
import {
  alive,
  CLK_TCK,
  children,
  POLL_MS,
  type ProcStats,
  procStats,
  ROOT,
  sleep,
} from './agent-bench-procs.js';
import {
  type Kind,
  measureRealtime,
  measureRealtimeSerial,
  type RealtimeResult,
  realtimeTable,
  type StageSetup,
  settle,
  simDone,
  staged,
} from './agent-bench-run.js';

const RATE = 80;
const Args = z.object({
  duration: z.string().regex(/^\d+(ms|s|m|h)$/, 'a duration such as 90s or 10m'),
  runs: z.coerce.number().int().min(1).max(9),
  shelves: z.coerce.number().int().min(1).max(64),
  channels: z.coerce.number().int().min(1).max(8),
  seed: z.coerce.number().int().min(0),
  'nodered-qos': z.enum(['0', '1']),
  'idle-ms': z.coerce.number().int().min(0).max(60_000),
  budget: z.coerce.number().min(0),
  realtime: z.string().regex(/^(0|\d+(ms|s|m|h))$/, 'a duration such as 10m, or 0 for none'),
  'agent-node-flags': z
    .string()
    .regex(/^(--[\w-]+(=\S+)?\s*)*$/, 'node flags such as --max-semi-space-size=1')
    .transform((s) => s.split(/\s+/).filter(Boolean)),
});
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10m' },
    runs: { type: 'string', default: '3' },
    shelves: { type: 'string', default: '16' },
    channels: { type: 'string', default: '8' },
    seed: { type: 'string', default: '1' },
    'nodered-qos': { type: 'string', default: '0' },
    'idle-ms': { type: 'string', default: '10000' },
    realtime: { type: 'string', default: '10m' },
    budget: { type: 'string', default: '150' },
    'agent-node-flags': { type: 'string', default: '' },
  },
});
const parsedArgs = Args.safeParse(values);
if (!parsedArgs.success) {
  for (const i of parsedArgs.error.issues) console.error(`agent-bench: --${i.path.join('.')}: ${i.message}`);
  process.exit(2);
}
const opts = parsedArgs.data;

// ---- one measurement ----------------------------------------------------------------------------

interface Result {
  frames: number;
  samples: number;
  /** From the simulator's ready line until the consumer's last busy poll. */
  wallS: number;
  /** CPU of the data phase (after the idle sample). */
  cpuS: number;
  /** CPU from process start until the idle sample (start-up and idle). */
  startCpuS: number;
  idle: ProcStats;
  end: ProcStats;
  /** Settled after the data (see settle()), connected again to the ports held silent. */
  after: ProcStats;
  simCpuS: number;
  complete: boolean;
  note: string;
}

/** The CPU time of a process that may have just exited: the last value read, then. */
function readOr(pid: number, last: number): number {
  try {
    return procStats(pid).cpuS;
  } catch {
    return last;
  }
}

/** What staging a consumer takes from the command line. */
const stageSetup = (): StageSetup => ({
  agentNodeFlags: opts['agent-node-flags'],
  noderedQos: opts['nodered-qos'],
  channels: opts.channels,
  seed: opts.seed,
});

function measure(kind: Kind, dir: string, shelves: ShelfCalibration[]): Promise<Result> {
  return staged(kind, dir, shelves, stageSetup(), async ({ consumer, pid, startSim, holdAgain }) => {
    const idle = await settle(pid, opts['idle-ms']);
    const { sim: simChild, t0 } = await startSim(true, opts.duration);

    let last = idle;
    let lastBusy = t0;
    let simCpuS = 0;
    let expected: Expected | undefined;
    let doneAt = 0;
    let complete = false;
    for (;;) {
      await sleep(POLL_MS);
      const now = performance.now();
      const s = procStats(pid);
      // At least 2 ticks in a poll (≥ 20 % of a core): still working through frames.
      if (s.cpuS - last.cpuS >= 2 / CLK_TCK) lastBusy = now;
      last = s;
      if (simChild.proc.exitCode === null) simCpuS = readOr(simChild.pid, simCpuS);
      if (!expected) {
        const done = simChild.lines.find(simDone)?.v as
          | { shelves: { frames: number; lines: number }[] }
          | undefined;
        if (done) {
          const sum = (k: 'frames' | 'lines') => done.shelves.reduce((a, x) => a + x[k], 0);
          expected = { frames: sum('frames'), lines: sum('lines') };
          doneAt = now;
        } else alive(simChild);
      }
      alive(consumer.child);
      if (expected && (await consumer.caughtUp(expected))) {
        complete = true;
        break;
      }
      if (expected && now - doneAt > 180_000) break;
    }
    const end = procStats(pid);
    if (!expected) throw new Error('the simulator did not finish');
    await holdAgain();
    const after = await settle(pid, opts['idle-ms'] / 2);
    const frames = expected.frames;
    return {
      frames,
      samples: frames * opts.channels,
      wallS: (lastBusy - t0) / 1000,
      cpuS: end.cpuS - idle.cpuS,
      startCpuS: idle.cpuS,
      idle,
      end,
      after,
      simCpuS,
      complete,
      note:
        (await consumer.report()) +
        (complete ? '' : `; its stderr ends: ${consumer.child.stderr().slice(-2_000)}`),
    };
  });
}

// ---- the table ----------------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

interface Row {
  label: string;
  of: (r: Result) => number;
  digits: number;
  /** The agent's target: the value must stay at or below it. */
  target?: number;
  unit?: string;
}

const PHYSICAL = () => opts.shelves * RATE;
const ROWS: Row[] = [
  { label: 'CPU per channel sample, µs', of: (r) => (r.cpuS / r.samples) * 1e6, digits: 2, target: 5 },
  {
    label: 'CPU per channel sample incl. start-up, µs',
    of: (r) => ((r.cpuS + r.startCpuS) / r.samples) * 1e6,
    digits: 2,
  },
  { label: 'CPU, % of one core (data phase)', of: (r) => (100 * r.cpuS) / r.wallS, digits: 0 },
  { label: 'frames/s (all shelves)', of: (r) => r.frames / r.wallS, digits: 0 },
  {
    label: `× real time (${opts.shelves} × ${RATE} frames/s)`,
    of: (r) => r.frames / r.wallS / PHYSICAL(),
    digits: 0,
  },
  { label: 'RSS at the end of the data, MB', of: (r) => r.end.rssMb, digits: 1, target: 60 },
  { label: 'RSS settled after the data, MB', of: (r) => r.after.rssMb, digits: 1, target: 60 },
  { label: 'peak RSS (VmHWM), MB', of: (r) => r.end.peakMb, digits: 1 },
  { label: 'idle RSS (connected, no data, settled), MB', of: (r) => r.idle.rssMb, digits: 1 },
  { label: 'private memory at the end of the data (RssAnon), MB', of: (r) => r.end.anonMb, digits: 1 },
  { label: 'idle private memory (RssAnon), MB', of: (r) => r.idle.anonMb, digits: 1 },
  { label: 'start-up + idle CPU, s', of: (r) => r.startCpuS, digits: 2 },
  { label: 'data-phase CPU, s', of: (r) => r.cpuS, digits: 2 },
  { label: 'wall time, s', of: (r) => r.wallS, digits: 1 },
];

function cell(rs: Result[], row: Row): string {
  const xs = rs.map(row.of);
  const f = (x: number) =>
    x.toLocaleString('en-US', { maximumFractionDigits: row.digits, minimumFractionDigits: row.digits });
  const m = median(xs);
  return xs.length > 1 ? `${f(m)} (${f(Math.min(...xs))}–${f(Math.max(...xs))})` : f(m);
}

function table(agent: Result[], red: Result[]): string {
  const out = [
    '| measure | Shelfsense agent | Node-RED 5 (tcp in → mqtt out) | agent / Node-RED | agent target |',
    '| --- | ---: | ---: | ---: | --- |',
  ];
  for (const row of ROWS) {
    const a = median(agent.map(row.of));
    const ratio = a / median(red.map(row.of));
    const target = row.target === undefined ? '' : `≤ ${row.target}: ${a <= row.target ? 'met' : 'NOT met'}`;
    out.push(`| ${row.label} | ${cell(agent, row)} | ${cell(red, row)} | ${ratio.toFixed(2)} | ${target} |`);
  }
  return out.join('\n');
}

// ---- main ---------------------------------------------------------------------------------------

function header(agent: Result[], runsAsked: number, wallS: number): string {
  const a = agent[0] as Result;
  const n = (x: number) => x.toLocaleString('en-US');
  const load = loadavg()[0] as number;
  const cores = availableParallelism();
  const runs = agent.length;
  const flags = opts['agent-node-flags'];
  return [
    `${opts.shelves} shelves × ${opts.channels} channels × ${RATE} SPS, ${opts.duration} of device time per shelf ` +
      `(${n(a.frames)} frames = ${n(a.samples)} channel samples per consumer) in virtual time over TCP ` +
      `(seed ${opts.seed}, scenario steady). ${runs === 1 ? 'One run' : `Median of ${runs} runs, min–max in brackets`}` +
      `${runs < runsAsked ? ` (${runsAsked} asked; the ${opts.budget} s budget allowed ${runs})` : ''}; ` +
      `${wallS.toFixed(0)} s of wall time in all.`,
    '',
    `- Agent: compiled JavaScript (\`shelfsense agent --config\`), factory calibration, durable outbox, QoS 1, ` +
      `trimmed on the broker's PUBACK${flags.length ? `; node ${flags.join(' ')}` : ''}.`,
    `- Node-RED 5: ${opts.shelves} core \`tcp in\` nodes (client, stream of lines) → one \`mqtt out\` at QoS ` +
      `${opts['nodered-qos']}: one message per line, no parsing, no checks, nothing stored.`,
    '- Both publish to a bare Mosquitto; each consumer is a process of its own, read from /proc.',
    `- Load average ${load.toFixed(1)} on ${cores} cores${load > cores ? ': the machine is shared and busy, so the wall-clock figures (CPU %, frames/s, wall time) are lower bounds; CPU time and memory are hardly affected' : ''}.`,
  ].join('\n');
}

async function main(): Promise<void> {
  for (const f of ['cli/dist/main.js', 'agent/dist/index.js', 'firmware-sim/dist/index.js']) {
    if (!existsSync(join(ROOT, f)))
      throw new Error(`${f} is missing: build first (npx tsc -b tsconfig.build.json)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'shelfsense-agent-bench-'));
  const agent: Result[] = [];
  const red: Result[] = [];
  let realtime: [RealtimeResult, RealtimeResult] | undefined;
  let serial: RealtimeResult | undefined;
  const started = performance.now();
  const elapsedS = () => (performance.now() - started) / 1000;
  try {
    const shelves = await factoryShelves(opts);
    for (let run = 1; run <= opts.runs; run++) {
      // Another run only if it fits in the budget, judged by the runs so far.
      if (run > 1 && opts.budget > 0 && elapsedS() * (run / (run - 1)) > opts.budget) break;
      for (const kind of ['agent', 'node-red'] as const) {
        process.stderr.write(`run ${run}/${opts.runs}: ${kind}, ${opts.duration} of device time… `);
        const r = await measure(kind, dir, shelves);
        (kind === 'agent' ? agent : red).push(r);
        process.stderr.write(
          `${r.frames} frames in ${r.wallS.toFixed(1)} s, CPU ${r.cpuS.toFixed(2)} s, ` +
            `RSS ${r.end.rssMb.toFixed(1)} MB, simulator CPU ${r.simCpuS.toFixed(1)} s${r.complete ? '' : ', INCOMPLETE'}\n`,
        );
        if (!r.complete) throw new Error(`${kind} did not take every frame: ${r.note}`);
      }
    }
    if (opts.realtime !== '0') {
      process.stderr.write(
        `real time: the agent over TCP, Node-RED and the agent on serial ports at once, ${opts.realtime} of shelves at ${RATE} SPS… `,
      );
      const [a, b, s] = await Promise.all([
        measureRealtime('agent', dir, shelves, stageSetup(), opts.realtime),
        measureRealtime('node-red', dir, shelves, stageSetup(), opts.realtime),
        measureRealtimeSerial(dir, shelves, stageSetup(), opts.realtime),
      ]);
      realtime = [a, b];
      serial = s;
      process.stderr.write(
        `agent RSS ${a.end.rssMb.toFixed(1)} MB, Node-RED ${b.end.rssMb.toFixed(1)} MB, agent on serial ports ${s.end.rssMb.toFixed(1)} MB\n`,
      );
      if (!a.complete || !b.complete || !s.complete)
        throw new Error(
          `a consumer did not take every frame at the real rate: ${a.note}; ${b.note}; ${s.note}`,
        );
    }
  } finally {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n${header(agent, opts.runs, elapsedS())}\n`);
  console.log(table(agent, red));
  console.log(`\nLast run: ${(agent.at(-1) as Result).note}; ${(red.at(-1) as Result).note}.`);
  console.log(`\n${headroom(agent)}`);
  if (realtime) {
    console.log(
      `\nAt the shelves' real rate: ${opts.shelves} × ${opts.channels} channels × ${RATE} SPS for ${opts.realtime}, ` +
        'the agent over TCP, Node-RED and the agent with the same shelves on serial ports (a pseudo-terminal per shelf) ' +
        'at once, each with its own simulator and Mosquitto; RSS read at the end.\n',
    );
    console.log(realtimeTable(...realtime, serial, opts.realtime));
    if (serial) console.log(`\nSerial run: ${serial.note}.`);
  }
  console.log(summary(agent, red, realtime, serial));
}

/** A sample line as a shelf sends it: this many channels of 7-digit counts, a late seq and clock. */
function frameBytes(): number {
  const raw = Array.from({ length: opts.channels }, (_, i) => (i % 2 ? -1 : 1) * 4_194_304);
  return encodeDeviceFrame({ type: 'sample', seq: 4_000_000_000, deviceMs: 4_000_000_000, raw }).length;
}

/** Frames/s that every shelf's 115200-baud line (8N1: 11,520 bytes/s) could carry, all shelves. */
const BAUD_LIMIT = () => (opts.shelves * 115_200) / 10 / frameBytes();

function headroom(agent: Result[]): string {
  const fps = median(agent.map((r) => r.frames / r.wallS));
  return (
    `Headroom: the agent took ${fps.toFixed(0)} frames/s, ${(fps / PHYSICAL()).toFixed(0)} × what ${opts.shelves} ` +
    `HX711s at ${RATE} SPS produce and ${(fps / BAUD_LIMIT()).toFixed(1)} × what ${opts.shelves} lines at 115200 baud ` +
    `can carry (${frameBytes()}-byte frames, ${(BAUD_LIMIT() / opts.shelves).toFixed(0)} frames/s per line).`
  );
}

function summary(
  agent: Result[],
  red: Result[],
  realtime?: [RealtimeResult, RealtimeResult],
  serial?: RealtimeResult,
): string {
  const m = (rs: Result[], label: string) =>
    median(rs.map((ROWS.find((r) => r.label.startsWith(label)) as Row).of));
  const cpu = m(agent, 'CPU per channel sample, µs');
  const idle = m(agent, 'idle RSS');
  const idleRed = m(red, 'idle RSS');
  const end = m(agent, 'RSS at the end of the data');
  const after = m(agent, 'RSS settled after the data');
  const fps = median(agent.map((r) => r.frames / r.wallS));
  return summaryLine('agent', [
    {
      measure: 'CPU per channel sample, µs',
      ours: cpu,
      peer: m(red, 'CPU per channel sample, µs'),
      peerName: 'Node-RED',
      target: '≤ 5 µs',
      met: cpu <= 5,
    },
    {
      measure: 'idle RSS, MB',
      ours: idle,
      peer: idleRed,
      peerName: 'Node-RED idle',
      target: '≤ ½ of idle Node-RED',
      met: idle <= idleRed / 2,
    },
    {
      measure: 'idle private memory (RssAnon: RSS less the node binary’s pages), MB',
      ours: m(agent, 'idle private memory'),
      peer: m(red, 'idle private memory'),
      peerName: 'Node-RED idle',
    },
    {
      measure: `RSS at the end of ${opts.duration} of data at full speed, MB`,
      ours: end,
      peer: m(red, 'RSS at the end of the data'),
      peerName: 'Node-RED',
      target: '≤ 60 MB',
      met: end <= 60,
    },
    {
      measure: `RSS settled after ${opts.duration} of data at full speed, MB`,
      ours: after,
      peer: m(red, 'RSS settled after the data'),
      peerName: 'Node-RED',
      target: '≤ 60 MB',
      met: after <= 60,
    },
    ...(realtime
      ? [
          {
            measure: `RSS after ${opts.realtime} at the real rate, MB`,
            ours: realtime[0].end.rssMb,
            peer: realtime[1].end.rssMb,
            peerName: 'Node-RED',
            target: '≤ 60 MB',
            met: realtime[0].end.rssMb <= 60,
          },
          {
            measure: 'CPU per channel sample at the real rate, µs',
            ours: (realtime[0].cpuS / realtime[0].samples) * 1e6,
            peer: (realtime[1].cpuS / realtime[1].samples) * 1e6,
            peerName: 'Node-RED',
            target: '≤ 5 µs',
            met: (realtime[0].cpuS / realtime[0].samples) * 1e6 <= 5,
          },
        ]
      : []),
    ...(serial
      ? [
          {
            measure: `RSS after ${opts.realtime} at the real rate, shelves on serial ports, MB`,
            ours: serial.end.rssMb,
            peer: realtime?.[0].end.rssMb ?? Number.NaN,
            peerName: 'the agent over TCP',
            target: '≤ 60 MB',
            met: serial.end.rssMb <= 60,
          },
        ]
      : []),
    {
      measure: 'frames/s',
      ours: fps,
      peer: PHYSICAL(),
      peerName: `HX711 ${RATE} SPS × ${opts.shelves}`,
      target: '≥ 1 ×',
      met: fps >= PHYSICAL(),
    },
    {
      measure: 'frames/s',
      ours: fps,
      peer: BAUD_LIMIT(),
      peerName: `115200 baud × ${opts.shelves}`,
      target: '≥ 1 ×',
      met: fps >= BAUD_LIMIT(),
    },
  ]);
}

const stopAll = () => {
  for (const c of children) c.kill('SIGKILL');
  process.exit(130);
};
process.once('SIGINT', stopAll);
process.once('SIGTERM', stopAll);

main().catch((err: Error) => {
  for (const c of children) c.kill('SIGKILL');
  console.error(`agent-bench: ${err.stack ?? err.message}`);
  process.exitCode = 1;
});
