/**
 * The load generator of the central pipeline benchmark, run as a process of its own so its CPU can
 * be read apart from central's. N simulated agents, one MQTT connection each, publish at QoS 1
 * with a window of messages in flight, alternately a level and a pick/restock event per lane, each
 * with the agent's next seq. It reports on stdout, one JSON line per phase:
 *
 *   {phase:'connected'}                               every agent connected and subscribed to its stored mark
 *   {phase:'sent', sent, publishMs, crossings}        publishing stopped, every message acknowledged
 *   {phase:'committed', sent, complete, elapsedMs}    every agent's stored mark reached its last seq
 *   (waits for a line on stdin, so the driver can read the store first)
 *   {phase:'latency', sends:[{key, ts}]}              one stable level below the reorder point per lane
 *
 * With --bare (a broker and no central) it stops after 'sent': nobody commits, nothing to wait for.
 * With --cross N, N lanes cross their reorder point while publishing (spread over its middle 60 %):
 * each gets one stable level below it and then no more messages; `crossings` lists them ({key, ts}).
 * --url may list several brokers (comma-separated, the nodes of a cluster): agent i takes the
 * (i mod n)th.
 *
 *   node --import tsx bench/central/pipeline-load.ts --url mqtt://… [--auth] [--agents 100] …
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type EventPayload, type LevelPayload, topics } from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';

/** The bench world: agent i is `pi-i`, alone at site `store-i`, with one shelf of `lanes` lanes. */
export const PASSWORD = 'bench agent password';
export const UNIT_G = 350;
export const CAPACITY = 24;
export const REORDER_POINT = 4;
export const SHELF = 'shelf-1';
export const agentId = (i: number) => `pi-${i}`;
export const siteId = (i: number) => `store-${i}`;
export const laneId = (j: number) => `L${j + 1}`;
export const serialOf = (i: number) => `SN-${agentId(i)}`;
export const range = (n: number) => Array.from({ length: n }, (_, i) => i);
/** `15s`, `200ms`, or a bare number of milliseconds. */
export const parseMs = (s: string) =>
  Number.parseFloat(s) * (s.endsWith('s') && !s.endsWith('ms') ? 1000 : 1);

export interface LoadOptions {
  /** One broker URL, or several comma-separated: the agents are spread over them. */
  url: string;
  auth: boolean;
  /** The agents' password with `auth` (default PASSWORD). */
  password?: string;
  agents: number;
  lanes: number;
  durationMs: number;
  /** No central behind the broker: no stored marks to follow, no latency phase. */
  bare?: boolean;
  window: number;
  latencyLanes: number;
  latencyGapMs: number;
  /** Lanes that cross their reorder point while publishing (default 0). */
  crossLanes?: number;
}

/** A lane that crosses its reorder point while publishing: agent index, lane index, when. */
interface Crossing {
  agent: number;
  lane: number;
  atMs: number;
}

interface SimAgent {
  id: string;
  serial: string;
  site: string;
  c: MqttClient;
  seq: number;
  mark: number;
  units: number[];
  step: number[];
  errors: number;
  /** Lanes due to cross (sent once, below the reorder point) and lanes that have (then silent). */
  crossDue: Set<number>;
  crossed: Set<number>;
}

const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

function connect(url: string, opts: mqtt.IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 60_000, ...opts });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

function level(a: SimAgent, units: number): LevelPayload {
  const seq = ++a.seq;
  return {
    agent: a.id,
    serial: a.serial,
    sku: 'cola',
    units,
    grams: units * UNIT_G,
    fill: units / CAPACITY,
    stable: true,
    confidence: 0.97,
    state: 'ok',
    ts: Date.now(),
    seq,
    frameSeq: seq,
  };
}

/** The next message of lane j: a level, then an event — picks from 20 down to 11, then a restock. */
function next(a: SimAgent, j: number): { topic: string; body: string } {
  const u = a.units[j] as number;
  const k = (a.step[j] as number) + 1;
  a.step[j] = k;
  if (k % 2 === 1)
    return { topic: topics.level(a.site, SHELF, laneId(j)), body: JSON.stringify(level(a, u)) };
  // Never at or below the reorder point: the throughput phase raises no order.
  const to = u <= 11 ? 20 : u - 1;
  a.units[j] = to;
  const seq = ++a.seq;
  const e: EventPayload = {
    agent: a.id,
    serial: a.serial,
    sku: 'cola',
    kind: to > u ? 'restock' : 'pick',
    delta: to - u,
    units: to,
    ts: Date.now(),
    seq,
    frameSeq: seq,
  };
  return { topic: topics.event(a.site, SHELF, laneId(j)), body: JSON.stringify(e) };
}

/** Publishes for `durationMs` with `window` messages in flight per agent; resolves when all are acked. */
function publishLoop(
  a: SimAgent,
  o: LoadOptions,
  running: () => boolean,
  crossings: { key: string; ts: number }[],
): Promise<void> {
  return new Promise((resolve) => {
    let inFlight = 0;
    let lane = 0;
    const send = (): void => {
      while (running() && inFlight < o.window) {
        let m: { topic: string; body: string };
        if (a.crossDue.size) {
          // The lane's one reading below its reorder point; it stays silent after it.
          const j = a.crossDue.values().next().value as number;
          a.crossDue.delete(j);
          a.crossed.add(j);
          const p = level(a, REORDER_POINT - 2);
          crossings.push({ key: `${a.site}/${SHELF}/${laneId(j)}`, ts: p.ts });
          m = { topic: topics.level(a.site, SHELF, laneId(j)), body: JSON.stringify(p) };
        } else {
          while (a.crossed.has(lane)) lane = (lane + 1) % o.lanes;
          m = next(a, lane);
          lane = (lane + 1) % o.lanes;
        }
        inFlight++;
        a.c.publish(m.topic, m.body, { qos: 1 }, (err) => {
          inFlight--;
          if (err) a.errors++;
          send();
        });
      }
      if (!running() && inFlight === 0) resolve();
    };
    send();
  });
}

/**
 * The lanes that cross while publishing, spread over the middle 60 % of it: the last lanes of the
 * agents in turn, so they stay apart from the latency phase's lanes (the first ones).
 */
export function crossingPlan(o: Pick<LoadOptions, 'agents' | 'lanes' | 'durationMs' | 'crossLanes'>) {
  const n = o.crossLanes ?? 0;
  if (n > o.agents * (o.lanes - 1))
    throw new Error(`--cross ${n}: at most agents × (lanes − 1) = ${o.agents * (o.lanes - 1)}`);
  // Lane slots counted from the last (slot = lane × agents + agent), as the latency phase counts
  // its own from the first: never lane 0, so every agent keeps publishing.
  return range(n).map((k): Crossing => {
    const slot = o.agents * o.lanes - 1 - k;
    return {
      agent: slot % o.agents,
      lane: Math.floor(slot / o.agents),
      atMs: o.durationMs * (0.2 + (n > 1 ? (0.6 * k) / (n - 1) : 0)),
    };
  });
}

export async function runLoad(o: LoadOptions): Promise<void> {
  const urls = o.url.split(',');
  const plan = crossingPlan(o);
  const agents = await Promise.all(
    range(o.agents).map(async (i): Promise<SimAgent> => {
      const id = agentId(i);
      const c = await connect(urls[i % urls.length] as string, {
        clientId: id,
        ...(o.auth ? { username: id, password: o.password ?? PASSWORD } : {}),
      });
      const a: SimAgent = {
        id,
        serial: serialOf(i),
        site: siteId(i),
        c,
        seq: 0,
        mark: 0,
        units: range(o.lanes).map(() => 20),
        step: range(o.lanes).map(() => 0),
        errors: 0,
        crossDue: new Set(),
        crossed: new Set(),
      };
      // Central's stored high-water mark for this agent: everything up to it is committed.
      c.on('message', (_t, p) => {
        a.mark = Math.max(a.mark, (JSON.parse(String(p)) as { seq: number }).seq);
      });
      // A NATS cluster may refuse a QoS 1 subscription (SUBACK 0x80) while a hundred agents
      // connect at once and it creates their JetStream consumers: try again, as agents do.
      for (let attempt = 1; ; attempt++) {
        try {
          await c.subscribeAsync(topics.stored(a.site, id), { qos: 1 });
          break;
        } catch (err) {
          if (attempt >= 20) throw err;
          await sleep(250 * attempt);
        }
      }
      return a;
    }),
  );
  emit({ phase: 'connected' });
  const t0 = Date.now();
  let running = true;
  const timer = setTimeout(() => {
    running = false;
  }, o.durationMs);
  const crossings: { key: string; ts: number }[] = [];
  const crossTimers = plan.map((c) =>
    setTimeout(() => (agents[c.agent] as SimAgent).crossDue.add(c.lane), c.atMs),
  );
  await Promise.all(agents.map((a) => publishLoop(a, o, () => running, crossings)));
  clearTimeout(timer);
  for (const t of crossTimers) clearTimeout(t);
  const sent = agents.reduce((n, a) => n + a.seq, 0);
  const errors = agents.reduce((n, a) => n + a.errors, 0);
  emit({ phase: 'sent', sent, errors, publishMs: Date.now() - t0, ...(plan.length ? { crossings } : {}) });
  if (o.bare) {
    await Promise.all(agents.map((a) => a.c.endAsync()));
    return;
  }
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline && agents.some((a) => a.mark < a.seq)) await sleep(5);
  const complete = agents.every((a) => a.mark >= a.seq);
  emit({ phase: 'committed', sent, complete, elapsedMs: Date.now() - t0 });
  await new Promise((r) => process.stdin.once('data', r));

  // One stable level below the reorder point per lane, staggered; the driver times each webhook.
  const sends: { key: string; ts: number }[] = [];
  // Not the lanes that crossed while publishing (the last ones): they have ordered already.
  const lanes = Math.min(o.latencyLanes, o.agents * o.lanes - (o.crossLanes ?? 0));
  await Promise.all(
    range(lanes).map(async (n) => {
      await sleep(n * o.latencyGapMs);
      const a = agents[n % agents.length] as SimAgent;
      const j = Math.floor(n / agents.length);
      const p = level(a, REORDER_POINT - 2);
      sends.push({ key: `${a.site}/${SHELF}/${laneId(j)}`, ts: p.ts });
      await a.c.publishAsync(topics.level(a.site, SHELF, laneId(j)), JSON.stringify(p), { qos: 1 });
    }),
  );
  emit({ phase: 'latency', sends });
  await Promise.all(agents.map((a) => a.c.endAsync()));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values: v } = parseArgs({
    options: {
      url: { type: 'string' },
      auth: { type: 'boolean', default: false },
      password: { type: 'string' },
      agents: { type: 'string', default: '100' },
      lanes: { type: 'string', default: '4' },
      duration: { type: 'string', default: '10s' },
      window: { type: 'string', default: '10' },
      'latency-lanes': { type: 'string', default: '100' },
      'latency-gap': { type: 'string', default: '20' },
      bare: { type: 'boolean', default: false },
      cross: { type: 'string', default: '0' },
    },
  });
  if (!v.url) throw new Error('--url is required');
  runLoad({
    url: v.url,
    auth: v.auth,
    agents: Number(v.agents),
    lanes: Number(v.lanes),
    durationMs: parseMs(v.duration),
    window: Number(v.window),
    latencyLanes: Number(v['latency-lanes']),
    latencyGapMs: parseMs(v['latency-gap']),
    crossLanes: Number(v.cross),
    ...(v.password !== undefined ? { password: v.password } : {}),
    bare: v.bare,
  }).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
