/**
 * Broker throughput benchmark (not a test): QoS 1 level messages from 10 and from 100 publishers
 * to one subscriber, through the Shelfsense broker (passwords, ACLs and wildcard filtering on)
 * and through a bare Mosquitto under the same load in the same run. Prints a Markdown table:
 * msgs/s, latency p50/p99, loss, broker CPU and RSS, and the load generator's own CPU — a
 * generator above 90 % of a core was the bottleneck, so that row is marked void.
 *
 *   npx tsc -b tsconfig.build.json && node --import tsx bench/broker/broker-bench.ts [--duration 8s] [--window 10]
 *     [--publishers 10,100] [--runs 2]
 *
 * --runs N measures each broker N times, alternating which goes first; the ratios use the medians.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UserStore } from '@shelfsense/broker';
import { CentralConfig, type CentralConfigInput, type LevelPayload, topics } from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { summaryLine } from '../../scripts/bench-doc.mjs';
import { procStats, startMosquitto, startShelfsense, type Target } from './bench-targets.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '8s' },
    window: { type: 'string', default: '10' },
    publishers: { type: 'string', default: '10,100' },
    runs: { type: 'string', default: '2' },
  },
});
const RUNS = Math.max(1, Math.min(9, Number.parseInt(values.runs, 10) || 1));
const DURATION_MS = Number.parseFloat(values.duration) * (values.duration.endsWith('ms') ? 1 : 1000);
const WINDOW = Number(values.window);
const LOADS = values.publishers.split(',').map(Number);
const SITE = 'bench';
const MAX_PUBLISHERS = Math.max(...LOADS);
const PASSWORD = 'bench password 1';

const now = () => performance.timeOrigin + performance.now();

/** A site with one shelf per publisher, served by one agent; SKUs of one supplier. */
function benchConfig(dataDir: string): CentralConfigInput {
  return {
    suppliers: [{ id: 'acme' }],
    skus: [{ id: 'cola', unitWeightG: 350, supplier: 'acme' }],
    sites: [
      {
        id: SITE,
        shelves: Array.from({ length: MAX_PUBLISHERS }, (_, i) => ({
          id: `shelf-${i}`,
          serial: `SN${i}`,
          agent: 'bench-agent',
          lanes: [{ id: 'l1', channels: [0], sku: 'cola', capacity: 24 }],
        })),
      },
    ],
    dataDir,
    log: { level: 'warn' },
    mqtt: { host: '127.0.0.1', port: 0, websocket: { enabled: false } },
  };
}

function connect(url: string, opts: mqtt.IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 20_000, ...opts });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

interface Row {
  broker: string;
  publishers: number;
  rate: number;
  p50: number;
  p99: number;
  sent: number;
  lost: number;
  brokerCpu: number;
  brokerRss: number;
  genCpu: number;
}

async function run(target: Target, publishers: number): Promise<Row> {
  const sub = await connect(target.url, { ...target.subscriber, clientId: `bench-sub-${publishers}` });
  await sub.subscribeAsync(`shelfsense/v1/${SITE}/+/+/level`, { qos: 1 });
  const pubs = await Promise.all(
    Array.from({ length: publishers }, (_, i) =>
      connect(target.url, { ...target.publisher, clientId: `bench-pub-${publishers}-${i}` }),
    ),
  );
  const latencies = new Float64Array(4_000_000);
  let received = 0;
  const seen = new Set<number>();
  sub.on('message', (_t, payload) => {
    const m = JSON.parse(payload.toString()) as LevelPayload;
    if (received < latencies.length) latencies[received] = now() - m.ts;
    received++;
    seen.add(m.seq);
  });

  const acked = new Set<number>();
  let seq = 0;
  let running = true;
  const cpu0 = process.cpuUsage();
  const b0 = procStats(target.pid);
  const t0 = now();
  const loops = pubs.map(
    (c, i) =>
      new Promise<void>((resolve) => {
        const topic = topics.level(SITE, `shelf-${i}`, 'l1');
        let inFlight = 0;
        const send = () => {
          while (running && inFlight < WINDOW) {
            const s = ++seq;
            const body: LevelPayload = {
              agent: 'bench-agent',
              serial: `SN${i}`,
              sku: 'cola',
              units: s % 24,
              grams: (s % 24) * 350,
              fill: (s % 24) / 24,
              stable: true,
              confidence: 0.98,
              state: 'ok',
              ts: now(),
              seq: s,
              frameSeq: s,
            };
            inFlight++;
            c.publish(topic, JSON.stringify(body), { qos: 1 }, (err) => {
              inFlight--;
              if (!err) acked.add(s);
              if (running) send();
              else if (inFlight === 0) resolve();
            });
          }
          if (!running && inFlight === 0) resolve();
        };
        send();
      }),
  );
  await new Promise((r) => setTimeout(r, DURATION_MS));
  running = false;
  const elapsedS = (now() - t0) / 1000;
  const b1 = procStats(target.pid);
  const cpu = process.cpuUsage(cpu0);
  const countedAtStop = received;
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 10_000))]);
  // Let the deliveries of acknowledged messages arrive (bounded).
  const deadline = now() + 10_000;
  while (now() < deadline && [...acked].some((s) => !seen.has(s)))
    await new Promise((r) => setTimeout(r, 50));
  let lost = 0;
  for (const s of acked) if (!seen.has(s)) lost++;
  await Promise.all([...pubs, sub].map((c) => c.endAsync()));
  const sorted = latencies.slice(0, Math.min(received, latencies.length)).sort();
  return {
    broker: target.name,
    publishers,
    rate: countedAtStop / elapsedS,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    sent: acked.size,
    lost,
    brokerCpu: (100 * (b1.cpuS - b0.cpuS)) / elapsedS,
    brokerRss: b1.rssMb,
    genCpu: (100 * (cpu.user + cpu.system)) / 1e6 / elapsedS,
  };
}

function table(rows: Row[]): string {
  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '–');
  return [
    '| broker | publishers | msgs/s | p50 ms | p99 ms | acked | lost | broker CPU % | broker RSS MB | generator CPU % | valid |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (r) =>
        `| ${r.broker} | ${r.publishers} | ${f(r.rate)} | ${f(r.p50, 1)} | ${f(r.p99, 1)} | ${r.sent} | ${r.lost} | ${f(r.brokerCpu)} | ${f(r.brokerRss)} | ${f(r.genCpu)} | ${r.genCpu > 90 ? 'void: generator saturated' : 'yes'} |`,
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shelfsense-bench-'));
  const rows: Row[] = [];
  try {
    const config = CentralConfig.parse(benchConfig(dir));
    const users = new UserStore(dir, { scrypt: config.auth.scrypt });
    await users.add('bench-agent', { role: 'agent', site: SITE, agent: 'bench-agent' }, PASSWORD);
    await users.add('bench-sub', { role: 'service' }, PASSWORD);
    users.close();
    const starters: (() => Promise<Target>)[] = [
      () =>
        startShelfsense(root, benchConfig(dir), {
          publisher: { username: 'bench-agent', password: PASSWORD },
          subscriber: { username: 'bench-sub', password: PASSWORD },
        }),
      () => startMosquitto(dir),
    ];
    for (let round = 0; round < RUNS; round++)
      for (const start of round % 2 ? [...starters].reverse() : starters) {
        const target = await start();
        try {
          for (const n of LOADS) {
            process.stderr.write(`${target.name}: ${n} publishers for ${DURATION_MS} ms…\n`);
            rows.push(await run(target, n));
          }
        } finally {
          const report = await target.stop();
          if (report) process.stderr.write(`${target.name} counters: ${JSON.stringify(report.counters)}\n`);
        }
      }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const load = loadavg()[0] as number;
  const cores = availableParallelism();
  console.log(
    `\nQoS 1, window ${WINDOW} per publisher, ${DURATION_MS / 1000} s per run, one subscriber; ` +
      `load average ${load.toFixed(1)} on ${cores} cores${load > cores ? ' (machine busy: figures are a lower bound)' : ''}\n`,
  );
  console.log(table(rows));
  // Medians per broker and load, and the ratio Shelfsense / Mosquitto.
  // Rates from rows whose generator was saturated are the generator's, not the broker's: the medians
  // use the valid rows, or all rows (as lower bounds) when no row was valid. CPU per message is the
  // broker's own cost and holds at any load.
  const [ours, peer] = [rows[0]?.broker ?? '', rows.find((r) => r.broker !== rows[0]?.broker)?.broker ?? ''];
  const median = (xs: number[]) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length ? ((v[(v.length - 1) >> 1] as number) + (v[v.length >> 1] as number)) / 2 : Number.NaN;
  };
  const of = (broker: string, n: number) => rows.filter((r) => r.broker === broker && r.publishers === n);
  const rate = (broker: string, n: number) => {
    const all = of(broker, n);
    const valid = all.filter((r) => r.genCpu <= 90);
    return { value: median((valid.length ? valid : all).map((r) => r.rate)), bound: valid.length === 0 };
  };
  const cpuUs = (broker: string, n: number) =>
    median(of(broker, n).map((r) => ((r.brokerCpu / 100) * 1e6) / r.rate));
  const summary = LOADS.flatMap((n) => {
    const [a, b] = [rate(ours, n), rate(peer, n)];
    return [
      {
        measure: `QoS 1 msgs/s, ${n} publishers${a.bound || b.bound ? ' (generator-bound: lower bounds)' : ''}`,
        ours: a.value,
        peer: b.value,
        peerName: 'Mosquitto',
      },
      {
        measure: `broker CPU per message, µs, ${n} publishers`,
        ours: cpuUs(ours, n),
        peer: cpuUs(peer, n),
        peerName: 'Mosquitto',
      },
    ];
  });
  console.log(
    `\n${RUNS > 1 ? `Medians of ${RUNS} runs: ` : ''}${summary
      .map(
        (r) =>
          `${r.measure}: ${r.ours.toFixed(r.ours < 100 ? 1 : 0)} vs ${r.peer.toFixed(r.peer < 100 ? 1 : 0)} (${(r.ours / r.peer).toFixed(2)} ×)`,
      )
      .join('; ')}.`,
  );
  console.log(summaryLine('broker', summary));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
