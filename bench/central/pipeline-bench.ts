/**
 * Central pipeline benchmark (not a test). N simulated agents (pipeline-load.ts, a process of its
 * own) publish levels and pick/restock events at QoS 1, each with its own increasing seq, into
 * the compiled central process (`shelfsense central`: aedes + ingest + rules + SQLite) and — in the
 * same run, one after the other — into the same central fed by a bare Mosquitto
 * (`max_queued_messages 0`, no persistence; central with `parts.broker: false`).
 *
 * Measured per pipeline: readings committed per second while the generator publishes (counted in
 * the SQLite store), then zero loss once the backlog has drained (every agent's stored mark
 * reaches its last seq, the store holds every reading, no seq gap); CPU of central and Mosquitto
 * (% while publishing, µs per reading over the whole run) and their peak RSS; the generator's CPU
 * while publishing (above 90 % of a core the generator was the bottleneck and the row is void).
 * Then ~100 lanes are set, one by one, to a stable level below their reorder point: p50/p99 from
 * the end of the debounce (reading ts + debounceMs) to the order's webhook arriving at a local
 * HTTP receiver.
 *
 *   npx tsc -b tsconfig.build.json && node dashboard/scripts/build.mjs
 *   node --import tsx bench/central/pipeline-bench.ts [--agents 100] [--lanes 4] [--duration 10s]
 *     [--window 10] [--latency-lanes 100] [--latency-gap 20ms] [--debounce 200ms] [--rounds 2] [--profile]
 *
 * --rounds N runs the pair N times, alternating, and compares the medians (the machine's load
 * changes from minute to minute); --profile runs the first round's centrals under `node --cpu-prof`
 * and prints where their CPU time went.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { summaryLine } from '../../scripts/bench-doc.mjs';
import { procStats, startMosquitto } from '../broker/bench-targets.js';
import {
  addAgentUsers,
  benchConfig,
  jsonLines,
  percentile,
  type Receiver,
  receiver,
  stopChild,
} from './bench-procs.js';
import { monotonicUs, profileSummary } from './cpu-profile.js';
import { parseMs } from './pipeline-load.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const loadScript = fileURLToPath(new URL('./pipeline-load.ts', import.meta.url));
const { values: v } = parseArgs({
  options: {
    agents: { type: 'string', default: '100' },
    lanes: { type: 'string', default: '4' },
    duration: { type: 'string', default: '10s' },
    window: { type: 'string', default: '10' },
    'latency-lanes': { type: 'string', default: '100' },
    'latency-gap': { type: 'string', default: '20ms' },
    debounce: { type: 'string', default: '200ms' },
    rounds: { type: 'string', default: '2' },
    profile: { type: 'boolean', default: false },
  },
});
const AGENTS = Number(v.agents);
const LANES = Number(v.lanes);
const DEBOUNCE_MS = parseMs(v.debounce);
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

interface Row {
  name: string;
  sent: number;
  committed: number;
  /** Every agent's stored mark reached its last seq. */
  marksReached: boolean;
  /** Publishes the broker did not acknowledge. */
  errors: number;
  gaps: number;
  /** Readings committed per second while the generator published. */
  rate: number;
  /** Time from the end of publishing until every reading was committed, s. */
  drainS: number;
  centralCpu: number;
  /** Central CPU time per committed reading over the whole run, µs. */
  centralUs: number;
  centralRss: number;
  brokerCpu: number | null;
  brokerUs: number | null;
  brokerRss: number | null;
  /** 1-minute load average at the end of the run. */
  load: number;
  genCpu: number;
  p50: number;
  p99: number;
  hooks: string;
}

let runs = 0;

async function runPipeline(dir: string, mosquitto: boolean, hook: Receiver, profile: boolean) {
  const tag = mosquitto ? 'mosquitto' : 'aedes';
  const name = mosquitto ? 'Mosquitto → central (parts.broker: false)' : 'central with embedded aedes';
  const base = join(dir, tag);
  mkdirSync(base, { recursive: true });
  const broker = mosquitto ? await startMosquitto(base) : null;
  const dataDir = join(base, 'central');
  const hookPath = `/${tag}-${++runs}`;
  const world = { agents: AGENTS, lanes: LANES, debounceMs: DEBOUNCE_MS };
  const input = benchConfig(world, dataDir, `${hook.url}${hookPath}`, broker?.url ?? null);
  if (!mosquitto) await addAgentUsers(dataDir, input, AGENTS);
  writeFileSync(join(base, 'central.json'), JSON.stringify(input));
  const prof = join(base, 'profile');
  const nodeArgs = profile ? ['--cpu-prof', '--cpu-prof-dir', prof] : [];
  const central = spawn(
    process.execPath,
    [...nodeArgs, 'cli/dist/main.js', 'central', '--config', join(base, 'central.json')],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let gen: ChildProcess | null = null;
  let row: Row;
  const window: [number, number] = [0, 0];
  try {
    const ready = await jsonLines(central)<{ mqtt: number | null }>(
      (o) => o.ready === true,
      30_000,
      'central',
    );
    const url = broker?.url ?? `mqtt://127.0.0.1:${ready.mqtt}`;
    process.stderr.write(`${name}: ${AGENTS} agents × ${LANES} lanes for ${v.duration}…\n`);
    const args = ['--url', url, ...(mosquitto ? [] : ['--auth'])];
    for (const k of ['agents', 'lanes', 'duration', 'window', 'latency-lanes', 'latency-gap'] as const)
      args.push(`--${k}`, v[k]);
    gen = spawn(process.execPath, [...process.execArgv, loadScript, ...args], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const genLine = jsonLines(gen);
    const pid = { c: central.pid as number, g: gen.pid as number };
    const snap = () => ({
      c: procStats(pid.c),
      g: procStats(pid.g),
      b: broker ? procStats(broker.pid) : null,
    });
    const db = new Database(join(dataDir, 'central.db'), { readonly: true });
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    await genLine((o) => o.phase === 'connected', 120_000, 'agents to connect');
    window[0] = monotonicUs();
    const s0 = snap();
    // Rate and CPU are taken over the publishing window, while the generator competes for the CPU;
    // zero loss and CPU per reading over the whole run, backlog drained.
    const sent = await genLine<{ publishMs: number; errors: number }>(
      (o) => o.phase === 'sent',
      parseMs(v.duration) + 60_000,
      'publishing',
    );
    const s1 = snap();
    const inWindow = count('SELECT COUNT(*) AS n FROM readings');
    const done = await genLine<{ sent: number; complete: boolean; elapsedMs: number }>(
      (o) => o.phase === 'committed',
      300_000,
      'commits',
    );
    const s2 = snap();
    window[1] = monotonicUs();
    const committed = count('SELECT COUNT(*) AS n FROM readings');
    const gaps = count('SELECT COUNT(*) AS n FROM seq_gaps');
    db.close();
    const publishS = sent.publishMs / 1000;
    const pct = (a: number, b: number) => (100 * (b - a)) / publishS;
    const perReading = (a: number, b: number) => ((b - a) * 1e6) / committed;

    gen.stdin?.write('go\n');
    const lat = await genLine<{ sends: { key: string; ts: number }[] }>(
      (o) => o.phase === 'latency',
      60_000,
      'latency sends',
    );
    const arrivals = hook.arrivals(hookPath);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && lat.sends.some((s) => !arrivals.has(s.key))) await sleep(20);
    const lats = lat.sends
      .flatMap((s) => {
        const at = arrivals.get(s.key);
        return at === undefined ? [] : [at - (s.ts + DEBOUNCE_MS)];
      })
      .sort((a, b) => a - b);
    row = {
      name,
      sent: done.sent,
      committed,
      marksReached: done.complete,
      errors: sent.errors,
      gaps,
      rate: inWindow / publishS,
      drainS: (done.elapsedMs - sent.publishMs) / 1000,
      centralCpu: pct(s0.c.cpuS, s1.c.cpuS),
      centralUs: perReading(s0.c.cpuS, s2.c.cpuS),
      centralRss: s2.c.peakRssMb,
      brokerCpu: s0.b && s1.b ? pct(s0.b.cpuS, s1.b.cpuS) : null,
      brokerUs: s0.b && s2.b ? perReading(s0.b.cpuS, s2.b.cpuS) : null,
      brokerRss: s2.b?.peakRssMb ?? null,
      load: loadavg()[0] as number,
      genCpu: pct(s0.g.cpuS, s1.g.cpuS),
      p50: percentile(lats, 50),
      p99: percentile(lats, 99),
      hooks: `${lats.length}/${lat.sends.length}`,
    };
  } finally {
    if (gen) await stopChild(gen, 5_000);
    await stopChild(central, 20_000);
    await broker?.stop();
  }
  return { row, profile: profile && existsSync(prof) ? profileSummary(prof, window) : null };
}

/** The same generator against a bare Mosquitto with nobody behind it: the broker's QoS 1 ceiling. */
async function runBare(dir: string) {
  const base = join(dir, 'bare');
  mkdirSync(base, { recursive: true });
  const broker = await startMosquitto(base);
  process.stderr.write(`bare Mosquitto (no central): ${AGENTS} agents × ${LANES} lanes for ${v.duration}…\n`);
  const args = ['--url', broker.url, '--bare'];
  for (const k of ['agents', 'lanes', 'duration', 'window'] as const) args.push(`--${k}`, v[k]);
  const gen = spawn(process.execPath, [...process.execArgv, loadScript, ...args], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const genLine = jsonLines(gen);
    const snap = () => ({ g: procStats(gen.pid as number), b: procStats(broker.pid) });
    await genLine((o) => o.phase === 'connected', 120_000, 'agents to connect');
    const s0 = snap();
    const sent = await genLine<{ sent: number; publishMs: number; errors: number }>(
      (o) => o.phase === 'sent',
      parseMs(v.duration) + 60_000,
      'publishing',
    );
    const s1 = snap();
    const publishS = sent.publishMs / 1000;
    return {
      rate: sent.sent / publishS,
      errors: sent.errors,
      brokerCpu: (100 * (s1.b.cpuS - s0.b.cpuS)) / publishS,
      brokerUs: ((s1.b.cpuS - s0.b.cpuS) * 1e6) / sent.sent,
      genCpu: (100 * (s1.g.cpuS - s0.g.cpuS)) / publishS,
      load: loadavg()[0] as number,
    };
  } finally {
    await stopChild(gen, 5_000);
    await broker.stop();
  }
}

function table(rows: Row[]): string {
  const f = (n: number | null, d = 0) => (n !== null && Number.isFinite(n) ? n.toFixed(d) : '–');
  const verdict = (r: Row) =>
    r.genCpu > 90
      ? 'void: generator saturated'
      : r.sent !== r.committed || r.gaps > 0 || !r.marksReached || r.errors > 0
        ? `LOSS (${r.sent - r.committed} missing, ${r.gaps} gaps, ${r.errors} unacked)`
        : 'yes';
  return [
    '| pipeline | readings | committed | msgs/s committed | backlog drain s | central CPU % | central µs/reading | central RSS MB | Mosquitto CPU % | Mosquitto µs/reading | Mosquitto RSS MB | generator CPU % | webhook p50 ms | p99 ms | webhooks | load | valid |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.sent} | ${r.committed} | ${f(r.rate)} | ${f(r.drainS, 1)} | ${f(r.centralCpu)} | ${f(r.centralUs)} | ${f(r.centralRss)} | ${f(r.brokerCpu)} | ${f(r.brokerUs)} | ${f(r.brokerRss)} | ${f(r.genCpu)} | ${f(r.p50)} | ${f(r.p99)} | ${r.hooks} | ${f(r.load, 1)} | ${verdict(r)} |`,
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  for (const f of ['cli/dist/main.js', 'broker/dist/index.js', 'dashboard/dist/public/index.html'])
    if (!existsSync(join(root, f)))
      throw new Error('build first: npx tsc -b tsconfig.build.json && node dashboard/scripts/build.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'shelfsense-pipeline-bench-'));
  const hook = receiver();
  await new Promise<void>((r) => hook.server.listen(0, '127.0.0.1', () => r()));
  hook.url = `http://127.0.0.1:${(hook.server.address() as { port: number }).port}`;
  const results: Awaited<ReturnType<typeof runPipeline>>[] = [];
  const bare: Awaited<ReturnType<typeof runBare>>[] = [];
  try {
    for (let round = 0; round < Number(v.rounds); round++) {
      for (const mosquitto of round % 2 ? [true, false] : [false, true])
        results.push(await runPipeline(join(dir, String(round)), mosquitto, hook, v.profile && round === 0));
      bare.push(await runBare(join(dir, String(round))));
    }
  } finally {
    hook.server.closeAllConnections();
    await new Promise((r) => hook.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = results.map((r) => r.row);
  const median = (mosquitto: boolean, key: 'rate' | 'centralUs' | 'brokerUs') => {
    const xs = rows
      .filter((r) => r.name.startsWith('Mosquitto') === mosquitto)
      .map((r) => r[key] ?? Number.NaN);
    xs.sort((a, b) => a - b);
    return ((xs[Math.floor((xs.length - 1) / 2)] as number) + (xs[Math.floor(xs.length / 2)] as number)) / 2;
  };
  const load = loadavg()[0] as number;
  const cores = availableParallelism();
  console.log(
    `\n${AGENTS} agents × ${LANES} lanes, QoS 1, window ${v.window} per agent, ${v.duration} of publishing ` +
      `(a level and a pick/restock event per lane in turn), then ${v['latency-lanes']} lanes set below the ` +
      `reorder point ${v['latency-gap']} apart, debounce ${v.debounce}; load average ${load.toFixed(1)} on ` +
      `${cores} cores${load > cores ? ' (machine busy: figures are a lower bound)' : ''}\n`,
  );
  console.log(table(rows));
  const ratio = median(false, 'rate') / median(true, 'rate');
  const p99 = Math.max(...rows.map((r) => r.p99));
  console.log(
    `\nthroughput${rows.length > 2 ? ' (medians)' : ''}, embedded aedes / Mosquitto-fed: ${ratio.toFixed(2)} (target ≥ 0.80: ${ratio >= 0.8 ? 'met' : 'not met'}); ` +
      `worst webhook p99 ${p99.toFixed(0)} ms (target ≤ 1000: ${p99 <= 1000 ? 'met' : 'not met'})`,
  );
  const mid = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return ((s[Math.floor((s.length - 1) / 2)] as number) + (s[Math.floor(s.length / 2)] as number)) / 2;
  };
  const bareRate = mid(bare.map((b) => b.rate));
  const bareVoid = bare.some((b) => b.genCpu > 90 || b.errors > 0);
  const vsBare = median(false, 'rate') / bareRate;
  console.log(
    `\nbare Mosquitto, same generator, nobody behind it: ${bareRate.toFixed(0)} msgs/s acknowledged` +
      `${bare.length > 1 ? ' (median)' : ''}, Mosquitto ${mid(bare.map((b) => b.brokerUs)).toFixed(0)} µs/msg, ` +
      `generator CPU ${mid(bare.map((b) => b.genCpu)).toFixed(0)} %${bareVoid ? ' (void: generator saturated or unacked publishes)' : ''}; ` +
      `central pipeline (aedes + ingest + rules + SQLite) / bare Mosquitto: ${vsBare.toFixed(2)} (target ≥ 0.60: ${vsBare >= 0.6 ? 'met' : 'not met'})`,
  );
  // What the machine's load hides: the CPU each reading costs, and what one core per process would carry.
  const [ourUs, theirUs, mosqUs] = [
    median(false, 'centralUs'),
    median(true, 'centralUs'),
    median(true, 'brokerUs'),
  ];
  console.log(
    `\nCPU per reading: central with aedes ${ourUs.toFixed(0)} µs; central behind Mosquitto ${theirUs.toFixed(0)} µs ` +
      `+ Mosquitto ${mosqUs.toFixed(0)} µs. With a core of its own for each process that is ≈ ${(1e6 / ourUs).toFixed(0)} ` +
      `vs ≈ ${(1e6 / theirUs).toFixed(0)} readings/s (ratio ${(theirUs / ourUs).toFixed(2)}); on one shared core ` +
      `≈ ${(1e6 / ourUs).toFixed(0)} vs ≈ ${(1e6 / (theirUs + mosqUs)).toFixed(0)} (ratio ${((theirUs + mosqUs) / ourUs).toFixed(2)}).`,
  );
  console.log(
    summaryLine('pipeline', [
      {
        measure: 'readings/s committed (QoS 1, zero loss)',
        ours: median(false, 'rate'),
        peer: median(true, 'rate'),
        peerName: 'Mosquitto-fed central',
        target: '≥ 0.8 ×',
        met: ratio >= 0.8,
      },
      {
        measure: 'readings/s committed vs acknowledged',
        ours: median(false, 'rate'),
        peer: bareRate,
        peerName: 'bare Mosquitto',
        target: '≥ 0.6 ×',
        met: vsBare >= 0.6,
      },
      {
        measure: 'CPU per reading, µs (central; Mosquitto-fed: central + Mosquitto)',
        ours: ourUs,
        peer: theirUs + mosqUs,
        peerName: 'Mosquitto-fed',
      },
      { measure: 'webhook p99 after the debounce, ms', ours: p99, target: '≤ 1000 ms', met: p99 <= 1000 },
    ]),
  );
  for (const r of results)
    if (r.profile)
      console.log(
        `\nCPU profile of ${r.row.name}, from the agents connected to the last reading committed:\n\n${r.profile}`,
      );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
