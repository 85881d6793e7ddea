/**
 * One measured run of the cluster benchmark: the single central (as the pipeline benchmark runs
 * it), or N workers on a fresh 3-node NATS cluster with their own Postgres schema. The load is the
 * pipeline benchmark's generator (pipeline-load.ts) in a process of its own, with lanes crossing
 * their reorder point while it publishes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { issueCredentials, renderNatsAuth, WORKER_USER } from '@shelfsense/central/cluster';
import { PgStore } from '@shelfsense/central/pg';
import { CentralConfig, type Grant, ShelfMap } from '@shelfsense/protocol';
import Database from 'better-sqlite3';
import { procStats } from '../broker/bench-targets.js';
import {
  addAgentUsers,
  benchConfig,
  jsonLines,
  percentile,
  type Receiver,
  stopChild,
  type World,
} from '../central/bench-procs.js';
import { monotonicUs, profileSummary } from '../central/cpu-profile.js';
import { agentId, parseMs, range, siteId } from '../central/pipeline-load.js';
import { type BenchPostgres, startNats, treeCpuS } from './engines.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const loadScript = fileURLToPath(new URL('../central/pipeline-load.ts', import.meta.url));
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

export interface RunOptions extends World {
  duration: string;
  window: string;
  /** Lanes crossing their reorder point while publishing. */
  cross: number;
  latencyLanes: number;
  latencyGap: string;
  partitions: number;
  batchSize: number;
  /** Idle time measured before the load, ms (the parts' own background work). */
  idleMs: number;
  /** Run the workers under `node --cpu-prof` and summarise where their CPU went. */
  profile: boolean;
}

/** CPU µs per committed reading, per part (null: not in this deployment). */
export interface PerReading {
  central: number | null;
  workers: number | null;
  nats: number | null;
  postgres: number | null;
}

export interface PgCounters {
  xacts: number;
  inserted: number;
  updated: number;
  deleted: number;
  walBytes: number;
}

export interface RunResult {
  name: string;
  workers: number | null;
  sent: number;
  committed: number;
  /** Why the run is not "every reading committed once", or null. */
  loss: string | null;
  /** Readings committed per second while the generator published. */
  rate: number;
  /** Readings per second from the first publish until every one was committed. */
  rateDrained: number;
  drainS: number;
  us: PerReading;
  /** CPU % of one core, every part together (generator apart), while publishing. */
  partsCpu: number;
  genCpu: number;
  /** Reading (its ts) → webhook, for the lanes that crossed while publishing; then after the load. */
  under: { p50: number; p99: number; hooks: number; of: number };
  after: { p50: number; p99: number; hooks: number; of: number };
  /** Postgres per committed reading (cluster), and its idle rates per second. */
  pg: PgCounters | null;
  pgNet: PgCounters | null;
  /** Each part's CPU, % of one core, and Postgres transactions per second, idle before the load. */
  idle: { pct: PerReading; xactsPerS: number } | null;
  load: number;
  /** The workers' warnings and errors, counted by message (their log lines stay out of the output). */
  warnings: string | null;
  /** With `profile`: the first worker's CPU by module over the load (Markdown tables). */
  profile: string | null;
}

/** Counts a worker's log lines at warn and above by message and reason; anything else passes through. */
function countWarnings(w: ChildProcess, into: Map<string, number>): void {
  createInterface({ input: w.stderr! }).on('line', (l) => {
    let o: { level?: number; msg?: string; err?: string };
    try {
      o = JSON.parse(l);
    } catch {
      process.stderr.write(`${l}\n`);
      return;
    }
    if ((o.level ?? 0) < 40) return;
    const what = `${o.msg}${o.err ? ` (${o.err})` : ''}`;
    into.set(what, (into.get(what) ?? 0) + 1);
  });
}

function generator(url: string, o: RunOptions, extra: string[]): ChildProcess {
  const args = ['--url', url, '--auth', ...extra];
  args.push('--agents', String(o.agents), '--lanes', String(o.lanes), '--duration', o.duration);
  args.push('--window', o.window, '--cross', String(o.cross));
  args.push('--latency-lanes', String(o.latencyLanes), '--latency-gap', o.latencyGap);
  return spawn(process.execPath, [...process.execArgv, loadScript, ...args], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

/** Reading → webhook arrival, ms, for each send that has one. */
async function latencies(hook: Receiver, path: string, sends: { key: string; ts: number }[], waitMs: number) {
  const arrivals = hook.arrivals(path);
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline && sends.some((s) => !arrivals.has(s.key))) await sleep(20);
  const ms = sends
    .flatMap((s) => {
      const at = arrivals.get(s.key);
      return at === undefined ? [] : [at - s.ts];
    })
    .sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), hooks: ms.length, of: sends.length };
}

interface Sent {
  sent: number;
  errors: number;
  publishMs: number;
  crossings?: { key: string; ts: number }[];
}
interface Done {
  sent: number;
  complete: boolean;
  elapsedMs: number;
}

/**
 * The generator's phases, with `snap` read at each: agents connected (s0), publishing done (s1,
 * and `count` for the rate), every stored mark reached (s2), then the latency phase.
 */
async function drive<S>(
  gen: ChildProcess,
  o: RunOptions,
  snap: () => S | Promise<S>,
  count: () => Promise<number>,
  hook: Receiver,
  path: string,
) {
  const line = jsonLines(gen);
  await line((x) => x.phase === 'connected', 180_000, 'agents to connect');
  const s0 = await snap();
  const sent = await line<Sent>((x) => x.phase === 'sent', parseMs(o.duration) + 60_000, 'publishing');
  const s1 = await snap();
  const inWindow = await count();
  const done = await line<Done>((x) => x.phase === 'committed', 300_000, 'commits');
  const s2 = await snap();
  const committed = await count();
  const under = await latencies(hook, path, sent.crossings ?? [], 20_000);
  gen.stdin?.write('go\n');
  const lat = await line<{ sends: { key: string; ts: number }[] }>(
    (x) => x.phase === 'latency',
    60_000,
    'latency sends',
  );
  const after = await latencies(hook, path, lat.sends, 20_000);
  return { s0, s1, s2, sent, done, inWindow, committed, under, after };
}

let runs = 0;

/** The single central, embedded aedes and SQLite, as the pipeline benchmark runs it. */
export async function runSingle(dir: string, hook: Receiver, o: RunOptions): Promise<RunResult> {
  const base = join(dir, 'single');
  mkdirSync(base, { recursive: true });
  const dataDir = join(base, 'central');
  const path = `/single-${++runs}`;
  const input = benchConfig(o, dataDir, `${hook.url}${path}`, null);
  await addAgentUsers(dataDir, input, o.agents);
  writeFileSync(join(base, 'central.json'), JSON.stringify(input));
  const central = spawn(
    process.execPath,
    ['cli/dist/main.js', 'central', '--config', join(base, 'central.json')],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let gen: ChildProcess | null = null;
  try {
    const ready = await jsonLines(central)<{ mqtt: number }>((x) => x.ready === true, 30_000, 'central');
    process.stderr.write(`single central: ${o.agents} agents × ${o.lanes} lanes for ${o.duration}…\n`);
    gen = generator(`mqtt://127.0.0.1:${ready.mqtt}`, o, []);
    const g = gen;
    const db = new Database(join(dataDir, 'central.db'), { readonly: true });
    const count = async () => (db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n;
    const snap = () => ({ c: procStats(central.pid as number).cpuS, g: procStats(g.pid as number).cpuS });
    const r = await drive(g, o, snap, count, hook, path);
    const gaps = (db.prepare('SELECT COUNT(*) AS n FROM seq_gaps').get() as { n: number }).n;
    const perAgent = db
      .prepare('SELECT COUNT(*) AS n, MAX(seq) AS m FROM readings GROUP BY site, agent')
      .all() as {
      n: number;
      m: number;
    }[];
    db.close();
    const publishS = r.sent.publishMs / 1000;
    return {
      name: 'single central (embedded aedes, SQLite)',
      workers: null,
      sent: r.done.sent,
      committed: r.committed,
      loss: lossOf(r, gaps, perAgent),
      rate: r.inWindow / publishS,
      rateDrained: r.committed / (r.done.elapsedMs / 1000),
      drainS: (r.done.elapsedMs - r.sent.publishMs) / 1000,
      us: { central: ((r.s2.c - r.s0.c) * 1e6) / r.committed, workers: null, nats: null, postgres: null },
      partsCpu: (100 * (r.s1.c - r.s0.c)) / publishS,
      genCpu: (100 * (r.s1.g - r.s0.g)) / publishS,
      under: r.under,
      after: r.after,
      pg: null,
      pgNet: null,
      idle: null,
      load: loadavg()[0] as number,
      warnings: null,
      profile: null,
    };
  } finally {
    if (gen) await stopChild(gen, 5_000);
    await stopChild(central, 20_000);
  }
}

function lossOf(
  r: { done: Done; sent: Sent; committed: number },
  gaps: number,
  perAgent: { n: number; m: number }[],
): string | null {
  const holes = perAgent.filter((a) => Number(a.n) !== Number(a.m)).length;
  const why = [
    r.committed !== r.done.sent ? `${r.done.sent - r.committed} missing` : '',
    r.done.complete ? '' : 'stored marks short',
    r.sent.errors ? `${r.sent.errors} unacked` : '',
    gaps ? `${gaps} gaps stepped over` : '',
    holes ? `${holes} agents with holes` : '',
  ].filter(Boolean);
  return why.length ? why.join(', ') : null;
}

/** A password of the shape `issueCredentials` keeps (32+ letters and digits), for every bench user. */
export const CLUSTER_PASSWORD = 'benchClusterPassword0123456789abcdef';

/** NATS users: the agents, central's service user (the workers' MQTT), an admin for probes, the workers. */
async function natsAuth(dir: string, config: CentralConfig, o: RunOptions): Promise<string> {
  const grants = new Map<string, Grant>([
    ...range(o.agents).map((i): [string, Grant] => [
      agentId(i),
      { role: 'agent', site: siteId(i), agent: agentId(i) },
    ]),
    ['central', { role: 'service' }],
    ['admin', { role: 'admin' }],
  ]);
  const creds = join(dir, 'credentials');
  mkdirSync(creds, { recursive: true, mode: 0o700 });
  for (const name of [...grants.keys(), WORKER_USER])
    writeFileSync(join(creds, `${name}.password`), `${CLUSTER_PASSWORD}\n`, { mode: 0o600 });
  // Cost 4: only connect time depends on it, as with the single central's scrypt cost.
  const { hashes } = await issueCredentials(creds, [...grants.keys(), WORKER_USER], { cost: 4 });
  const users = [...grants].map(([name, grant]) => ({
    name,
    grant,
    passwordHash: hashes.get(name) as string,
  }));
  return renderNatsAuth(users, new ShelfMap(config), [], {
    partitions: o.partitions,
    passwordHash: hashes.get(WORKER_USER) as string,
  });
}

async function pgCounters(store: PgStore): Promise<PgCounters> {
  const row = await store.db.one<Record<string, string | number>>(
    `SELECT xact_commit, tup_inserted, tup_updated, tup_deleted, pg_current_wal_lsn()::text AS lsn
     FROM pg_stat_database WHERE datname = current_database()`,
  );
  if (!row) throw new Error('no pg_stat_database row');
  const [hi, lo] = String(row.lsn).split('/') as [string, string];
  return {
    xacts: Number(row.xact_commit),
    inserted: Number(row.tup_inserted),
    updated: Number(row.tup_updated),
    deleted: Number(row.tup_deleted),
    walBytes: Number((BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`)),
  };
}

/** (b − a) / n, field by field. */
const perEach = (a: PgCounters, b: PgCounters, n: number): PgCounters => ({
  xacts: (b.xacts - a.xacts) / n,
  inserted: (b.inserted - a.inserted) / n,
  updated: (b.updated - a.updated) / n,
  deleted: (b.deleted - a.deleted) / n,
  walBytes: (b.walBytes - a.walBytes) / n,
});

/** `b − a` scaled by `k`, as counters from zero: perEach(scale(idle…), scale(load…)) nets idle out. */
function scale(a: PgCounters, b: PgCounters, k: number): PgCounters {
  return {
    xacts: (b.xacts - a.xacts) * k,
    inserted: (b.inserted - a.inserted) * k,
    updated: (b.updated - a.updated) * k,
    deleted: (b.deleted - a.deleted) * k,
    walBytes: (b.walBytes - a.walBytes) * k,
  };
}

/** N workers on a fresh 3-node NATS cluster (replicas 3), a schema of their own in `pg`. */
export async function runCluster(
  dir: string,
  hook: Receiver,
  o: RunOptions,
  pg: BenchPostgres,
  workers: number,
): Promise<RunResult> {
  const base = join(dir, `cluster-${workers}`);
  mkdirSync(base, { recursive: true });
  const path = `/cluster-${workers}-${++runs}`;
  const input = benchConfig(o, join(base, 'central'), `${hook.url}${path}`, null);
  const config = CentralConfig.parse(input);
  process.stderr.write(`cluster, ${workers} worker(s): starting 3 NATS nodes…\n`);
  const nats = await startNats(3, await natsAuth(base, config, o), {
    username: 'admin',
    password: CLUSTER_PASSWORD,
  });
  const schema = `bench_${workers}w_${process.pid}_${runs}`;
  // Opened first, so the schema is migrated before the workers race to do it.
  const store = await PgStore.open({ url: pg.url, schema, poolSize: 2 });
  const creds = join(base, 'credentials');
  const configFile = join(base, 'central.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      ...input,
      cluster: {
        postgres: { url: pg.url, schema },
        nats: {
          servers: nats.nodes.map((n) => n.natsUrl),
          passwordFile: join(creds, `${WORKER_USER}.password`),
        },
        mqtt: {
          urls: nats.nodes.map((n) => n.mqttUrl),
          username: 'central',
          passwordFile: join(creds, 'central.password'),
        },
        partitions: o.partitions,
        replicas: 3,
        batchSize: o.batchSize,
      },
    }),
  );
  const procs: ChildProcess[] = [];
  const warnings = new Map<string, number>();
  let result: RunResult | null = null;
  let window: [number, number] | null = null;
  let gen: ChildProcess | null = null;
  try {
    for (const i of range(workers)) {
      const prof = o.profile ? ['--cpu-prof', '--cpu-prof-dir', join(base, `profile-w${i + 1}`)] : [];
      const w = spawn(
        process.execPath,
        [...prof, 'cli/dist/main.js', 'cluster', 'worker', '--config', configFile, '--id', `w${i + 1}`],
        { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      procs.push(w);
      countWarnings(w, warnings);
      await jsonLines(w)((x) => x.ready === true, 60_000, `worker w${i + 1}`);
    }
    // Every partition held, shared among all the workers, before the first reading.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const owners = (await store.leases.owners()).map((l) => l.owner);
      if (owners.length === o.partitions && !owners.includes(null) && new Set(owners).size === workers) break;
      if (Date.now() > deadline) throw new Error(`partitions not shared among ${workers} workers: ${owners}`);
      await sleep(250);
    }
    const snap = () => ({
      w: procs.reduce((s, p) => s + procStats(p.pid as number).cpuS, 0),
      n: nats.nodes.reduce((s, n) => s + procStats(n.pid).cpuS, 0),
      p: treeCpuS(pg.pid),
      g: gen ? procStats(gen.pid as number).cpuS : 0,
    });
    // Building a worker's rules engine loads its lanes' state (a burst of transactions, again for
    // each worker as the partitions are shared out): 2 s without one before the idle rates.
    for (
      let quiet = 0, last = await pgCounters(store), t = Date.now();
      quiet < 4 && Date.now() - t < 30_000;
    ) {
      await sleep(500);
      const c = await pgCounters(store);
      quiet = c.xacts - last.xacts <= 10 ? quiet + 1 : 0;
      last = c;
    }
    // The parts' background work (lease rounds, outbox polls, fetches that expire, Raft heartbeats).
    const i0 = snap();
    const c0 = await pgCounters(store);
    await sleep(o.idleMs);
    const i1 = snap();
    const c1 = await pgCounters(store);
    const idleS = o.idleMs / 1000;

    process.stderr.write(
      `cluster, ${workers} worker(s): ${o.agents} agents × ${o.lanes} lanes for ${o.duration}…\n`,
    );
    gen = generator(nats.nodes.map((n) => n.mqttUrl).join(','), o, ['--password', CLUSTER_PASSWORD]);
    const count = async () =>
      Number((await store.db.one<{ n: number }>('SELECT COUNT(*) AS n FROM readings'))?.n);
    const r = await drive(
      gen,
      o,
      async () => ({ ...snap(), pg: await pgCounters(store), t: Date.now(), us: monotonicUs() }),
      count,
      hook,
      path,
    );
    // pg_stat_database lags by up to a second (backends flush their counters at most once a second).
    await sleep(1_500);
    const p2 = await pgCounters(store);
    const windowS = (Date.now() - r.s0.t) / 1000;
    const gaps = Number((await store.db.one<{ n: number }>('SELECT COUNT(*) AS n FROM seq_gaps'))?.n);
    const perAgent = await store.db.query<{ n: number; m: number }>(
      'SELECT COUNT(*) AS n, MAX(seq) AS m FROM readings GROUP BY site, agent',
    );
    const publishS = r.sent.publishMs / 1000;
    const us = (k: 'w' | 'n' | 'p') => ((r.s2[k] - r.s0[k]) * 1e6) / r.committed;
    const idlePct = (k: 'w' | 'n' | 'p') => (100 * (i1[k] - i0[k])) / idleS;
    result = {
      name: `cluster, ${workers} worker${workers > 1 ? 's' : ''}`,
      workers,
      sent: r.done.sent,
      committed: r.committed,
      loss: lossOf(r, gaps, perAgent),
      rate: r.inWindow / publishS,
      rateDrained: r.committed / (r.done.elapsedMs / 1000),
      drainS: (r.done.elapsedMs - r.sent.publishMs) / 1000,
      us: { central: null, workers: us('w'), nats: us('n'), postgres: us('p') },
      partsCpu: (100 * (r.s1.w - r.s0.w + r.s1.n - r.s0.n + r.s1.p - r.s0.p)) / publishS,
      genCpu: (100 * (r.s1.g - r.s0.g)) / publishS,
      under: r.under,
      after: r.after,
      pg: perEach(r.s0.pg, p2, r.committed),
      // What the load added: the same window less the idle rates (lease rounds, outbox polls).
      pgNet: perEach(scale(c0, c1, windowS / idleS), scale(r.s0.pg, p2, 1), r.committed),
      idle: {
        pct: { central: null, workers: idlePct('w'), nats: idlePct('n'), postgres: idlePct('p') },
        xactsPerS: (c1.xacts - c0.xacts) / idleS,
      },
      load: loadavg()[0] as number,
      warnings: [...warnings].map(([what, n]) => `${n} × ${what}`).join('; ') || null,
      profile: null,
    };
    window = [r.s0.us, r.s2.us];
    return result;
  } finally {
    if (gen) await stopChild(gen, 5_000);
    await Promise.all(procs.map((p) => stopChild(p, 20_000)));
    await store.close();
    await nats.close();
    // The profile is written as the worker exits.
    const prof = join(base, 'profile-w1');
    if (result && window && existsSync(prof)) result.profile = profileSummary(prof, window);
  }
}
