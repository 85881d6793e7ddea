/**
 * Cluster benchmark (not a test). In one run, the same load — the central pipeline benchmark's
 * generator (bench/central/pipeline-load.ts): N agents publishing levels and pick/restock events
 * at QoS 1 — goes to the single central (embedded aedes, SQLite; as `npm run bench -- pipeline`
 * runs it) and then to the cluster deployment with 1, 2 and 4 workers (`shelfsense cluster
 * worker`), each on a fresh 3-node NATS cluster (JetStream and MQTT streams replicated 3 ways)
 * with a Postgres schema of its own.
 *
 * Measured per deployment: readings committed per second while publishing and until drained;
 * every reading committed once (rows per agent = its last seq, the stored marks reached, no gap);
 * CPU µs per committed reading of each part — the central, or the workers (summed), the NATS
 * nodes and Postgres (the postmaster and every backend) — from /proc; reading → webhook p50/p99
 * for `--cross` lanes that cross their reorder point while the load runs, and for `--latency-lanes`
 * set below it one by one afterwards; Postgres transactions, rows and WAL bytes per reading
 * (pg_stat_database), and each part's idle CPU.
 *
 *   npx tsc -b tsconfig.build.json
 *   node --import tsx bench/cluster/cluster-bench.ts [--workers 1,2,4] [--agents 100] [--lanes 4]
 *     [--duration 5s] [--window 10] [--cross 40] [--latency-lanes 40] [--latency-gap 20ms]
 *     [--debounce 200ms] [--partitions 16] [--batch 200] [--idle 3s] [--pg-sync on] [--no-single] [--profile]
 *
 * --profile runs the workers under `node --cpu-prof` and prints where the first one's CPU went
 * over the load (agents connected → last reading committed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { summaryLine } from '../../scripts/bench-doc.mjs';
import { receiver } from '../central/bench-procs.js';
import { parseMs } from '../central/pipeline-load.js';
import { capacityTable, costTable, pgTable, throughputTable } from './cluster-report.js';
import { type RunOptions, type RunResult, runCluster, runSingle } from './cluster-run.js';
import { natsVersion, startPostgres } from './engines.js';

const { values: v } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,2,4' },
    agents: { type: 'string', default: '100' },
    lanes: { type: 'string', default: '4' },
    duration: { type: 'string', default: '5s' },
    window: { type: 'string', default: '10' },
    cross: { type: 'string', default: '40' },
    'latency-lanes': { type: 'string', default: '40' },
    'latency-gap': { type: 'string', default: '20ms' },
    debounce: { type: 'string', default: '200ms' },
    partitions: { type: 'string', default: '16' },
    batch: { type: 'string', default: '200' },
    idle: { type: 'string', default: '3s' },
    'pg-sync': { type: 'string', default: 'on' },
    'no-single': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
});

const workerCounts = v.workers.split(',').map(Number);
if (workerCounts.some((n) => !Number.isInteger(n) || n < 1))
  throw new Error(`--workers ${v.workers}: 1,2,4 or the like`);
if (!['on', 'off'].includes(v['pg-sync'])) throw new Error('--pg-sync: on or off');
const o: RunOptions = {
  agents: Number(v.agents),
  lanes: Number(v.lanes),
  debounceMs: parseMs(v.debounce),
  duration: v.duration,
  window: v.window,
  cross: Number(v.cross),
  latencyLanes: Number(v['latency-lanes']),
  latencyGap: v['latency-gap'],
  partitions: Number(v.partitions),
  batchSize: Number(v.batch),
  idleMs: parseMs(v.idle),
  profile: v.profile,
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shelfsense-cluster-bench-'));
  const hook = receiver();
  await new Promise<void>((r) => hook.server.listen(0, '127.0.0.1', () => r()));
  hook.url = `http://127.0.0.1:${(hook.server.address() as { port: number }).port}`;
  const pg = await startPostgres({ synchronous_commit: v['pg-sync'] });
  const rows: RunResult[] = [];
  try {
    if (!v['no-single']) rows.push(await runSingle(dir, hook, o));
    for (const n of workerCounts) rows.push(await runCluster(dir, hook, o, pg, n));
  } finally {
    hook.server.closeAllConnections();
    await new Promise((r) => hook.server.close(r));
    await pg.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const load = loadavg()[0] as number;
  const cores = availableParallelism();
  console.log(
    `\n${o.agents} agents × ${o.lanes} lanes, QoS 1, window ${o.window} per agent, ${o.duration} of publishing ` +
      `(a level and a pick/restock event per lane in turn; ${o.cross} lanes cross their reorder point meanwhile), ` +
      `then ${o.latencyLanes} lanes set below it ${o.latencyGap} apart; debounce ${v.debounce}. ` +
      `Cluster: 3 NATS nodes on this machine (${natsVersion()}; MQTT and the readings stream replicated 3 ways), ` +
      `${o.partitions} partitions, batches of up to ${o.batchSize}, ${pg.version} ` +
      `(synchronous_commit ${v['pg-sync']}); every process on the same ${cores} cores. ` +
      `Load average ${load.toFixed(1)}${load > cores ? ' (machine busy: rates are lower bounds)' : ''}.\n`,
  );
  console.log(
    `**On ${cores} cores these figures show the cost of distribution, not capacity:** the generator, ` +
      'three NATS nodes, Postgres and every worker share the same cores, so adding workers adds ' +
      'processes competing for them, not CPU. Capacity comes from the CPU per reading of each part ' +
      '(below), on as many machines and cores as the deployment has.\n',
  );
  console.log(throughputTable(rows));
  console.log(
    `\nCPU per committed reading, µs (/proc utime + stime from agents connected to the last reading committed):\n`,
  );
  console.log(costTable(rows));
  for (const r of rows) if (r.warnings) console.log(`\n${r.name}, the workers' warnings: ${r.warnings}.`);
  const cluster = rows.filter((r) => r.workers !== null);
  if (cluster.length) {
    console.log(
      '\nPostgres per committed reading: pg_stat_database and WAL position deltas over the same window ' +
        '(+ 1.5 s for the counters to flush), less the idle rates measured before the load ' +
        '(lease rounds, outbox polls) over as long; raw transactions in brackets:\n',
    );
    console.log(pgTable(cluster));
    console.log(`\n${capacityTable(rows)}`);
  }
  const single = rows.find((r) => r.workers === null);
  const best = [...cluster].sort((a, b) => b.rate - a.rate)[0];
  const total = (r: RunResult) =>
    (r.us.central ?? 0) + (r.us.workers ?? 0) + (r.us.nats ?? 0) + (r.us.postgres ?? 0);
  const p99 = Math.max(...cluster.map((r) => r.under.p99));
  console.log(
    summaryLine('cluster', [
      ...cluster.map((r) => ({
        measure: `readings/s committed, ${r.workers} worker${(r.workers ?? 0) > 1 ? 's' : ''} (${cores} cores shared: cost, not capacity)`,
        ours: r.rate,
        ...(single ? { peer: single.rate, peerName: 'single central' } : {}),
      })),
      ...(best
        ? [
            {
              measure: 'CPU per reading, µs (workers + NATS + Postgres)',
              ours: total(best),
              ...(single ? { peer: total(single), peerName: 'single central' } : {}),
            },
          ]
        : []),
      ...(cluster.length
        ? [
            {
              measure: 'webhook p99 from the reading (debounce included), under load, ms',
              ours: p99,
              ...(single ? { peer: single.under.p99, peerName: 'single central' } : {}),
            },
          ]
        : []),
    ]),
  );
  for (const r of rows)
    if (r.profile) console.log(`\nCPU profile of ${r.name}, worker w1, over the load:\n\n${r.profile}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
