/**
 * One soak run on the real chain: the simulator (in this process, capped virtual time, TCP) → the
 * agent as its systemd unit runs it (bundled, with the unit's node flags) → the compiled central process (aedes, ingest, rules, orders, SQLite) → a webhook
 * receiver acting as the supplier (supplier.ts), who ships every order and restocks the lane at
 * night, so the week goes on.
 *
 * Every simulated hour the shelves' clocks are held while both child processes run a full GC and
 * report their memory. At the end the figures are read back: readings from central.db scored
 * against the ground truth by frame sequence number, orders matched against the reorder-point
 * crossings of the true counts (analyse.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from '@shelfsense/agent';
import {
  CappedClock,
  type Simulator,
  type SoakWeek,
  soakWeek,
  startSimulator,
} from '@shelfsense/firmware-sim';
import { WebhookReceiver } from '../helpers/central.js';
import type { CliProcess } from '../helpers/proc.js';
import {
  cpuSeconds,
  type MemSample,
  metric,
  sampleMemory,
  soakAgent,
  soakChild,
} from '../helpers/soak-procs.js';
import { waitFor } from '../helpers/wait.js';
import { type Analysis, analyse } from './analyse.js';
import { type Delivery, Supplier } from './supplier.js';
import {
  addSoakUsers,
  agentConfig,
  centralConfig,
  laneId,
  SITE,
  SUPPLIERS,
  shelfId,
  supplierPassword,
  webhookSecret,
} from './world.js';

export type { Delivery };

export interface SoakOptions {
  days: number;
  shelves: number;
  seed: number;
  lanes?: number;
  /** Device ms per open / closed simulated hour (see firmware-sim soak.ts). */
  openHourMs?: number;
  closedHourMs?: number;
  picksPerLaneHour?: number;
  /** Goods arrive at this hour of the night... */
  deliveryHour?: number;
  /** ...at the earliest this many simulated hours after the order. */
  leadHours?: number;
  /** The agent republishes every level this often (wall ms): it carries reading time forward. */
  heartbeatMs?: number;
  /** Device time runs at most this many times faster than the wall clock (default 10). */
  maxSpeed?: number;
  /** Progress lines (one per simulated day). */
  log?: (line: string) => void;
  /** Keep the working directory (central.db, configs, memory samples) for inspection. */
  keepDir?: boolean;
}

export interface MemPoint {
  /** Simulated hours since the start. */
  hour: number;
  agent: MemSample;
  central: MemSample;
}

export interface SoakResult {
  options: Required<Omit<SoakOptions, 'log' | 'keepDir'>>;
  week: SoakWeek;
  wallS: number;
  framesSent: number;
  framesAccepted: number;
  mem: MemPoint[];
  cpu: { agentS: number; centralS: number };
  deliveries: Delivery[];
  postponed: number;
  webhooks: Supplier['webhooks'];
  analysis: Analysis;
  dir: string;
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const options = {
    days: o.days,
    shelves: o.shelves,
    seed: o.seed,
    lanes: o.lanes ?? 4,
    openHourMs: o.openHourMs ?? 20_000,
    closedHourMs: o.closedHourMs ?? 2_000,
    picksPerLaneHour: o.picksPerLaneHour ?? 0.5,
    deliveryHour: o.deliveryHour ?? 2,
    leadHours: o.leadHours ?? 2,
    heartbeatMs: o.heartbeatMs ?? 1_000,
    maxSpeed: o.maxSpeed ?? 10,
  };
  const log = o.log ?? (() => {});
  const week = soakWeek(options);
  const timeline = week.timeline;
  const dir = mkdtempSync(join(tmpdir(), 'shelfsense-soak-'));
  const dataDir = join(dir, 'central');
  const stateDir = join(dir, 'agent-state');
  const memAgent = join(dir, 'mem-agent.jsonl');
  const memCentral = join(dir, 'mem-central.jsonl');
  const hooks = new WebhookReceiver();
  let sim: Simulator | undefined;
  let clock: CappedClock | undefined;
  let central: CliProcess | undefined;
  let agent: CliProcess | undefined;
  const started = performance.now();
  try {
    addSoakUsers(dataDir);
    const hookUrl = await hooks.start();
    sim = await startSimulator({
      seed: options.seed,
      scenario: week.scenario,
      virtual: true,
      transport: 'none',
      control: false,
      autoStart: false,
      truthLimit: 10_000_000,
    });
    const s = sim;
    clock = await CappedClock.serve(s, { maxSpeed: options.maxSpeed, durationMs: timeline.deviceMs });
    const k = clock;

    // ---- central, its supplier users, the agent -------------------------------------------------
    const cfgFile = join(dir, 'central.json');
    writeFileSync(cfgFile, JSON.stringify(centralConfig(week, s, dataDir, hookUrl)));
    central = soakChild(['central', '--config', cfgFile], memCentral);
    const c = central;
    const ready = await c.waitForJson<{ ready: boolean; http: number; mqtt: number }>(
      (x) => x.ready === true,
      60_000,
    );
    const tokens = new Map<string, string>();
    const api = (path: string, supplier: string, init: RequestInit = {}) => {
      const token = tokens.get(supplier);
      return fetch(`http://127.0.0.1:${ready.http}${path}`, {
        ...init,
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      });
    };
    for (const supplier of SUPPLIERS) {
      const r = await api('/api/login', '', {
        method: 'POST',
        body: JSON.stringify({ username: supplier, password: supplierPassword(supplier) }),
      });
      if (r.status !== 200) throw new Error(`login ${supplier}: ${r.status}`);
      tokens.set(supplier, ((await r.json()) as { token: string }).token);
    }
    mkdirSync(stateDir, { recursive: true });
    const agentFile = join(dir, 'agent.json');
    writeFileSync(agentFile, JSON.stringify(agentConfig(s, ready.mqtt, stateDir, options.heartbeatMs)));
    agent = soakAgent(agentFile, memAgent);
    const a = agent;
    const { metricsPort } = await a.waitForJson<{ ready: boolean; metricsPort: number }>(
      (x) => x.ready === true,
      60_000,
    );
    const agentMetric = async (name: string) =>
      metric(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(), name);
    await waitFor(async () => (await agentMetric('shelfsense_agent_broker_connected')) === 1, 30_000, {
      what: 'the agent connected to central',
      intervalMs: 100,
    });
    await waitFor(() => k.connected, 30_000, { what: 'the agent on every shelf port', intervalMs: 50 });

    const serials = new Map(week.shelves.map((x) => [shelfId(x.index), x.serial]));
    const supplier = new Supplier({
      sim: s,
      timeline,
      hooks,
      api,
      secret: webhookSecret,
      serialOf: (shelf) => serials.get(shelf) as string,
      deliveryHour: options.deliveryHour,
      leadHours: options.leadHours,
      // The store opens at 8 at the earliest.
      quietHours: Math.max(1, 7 - options.deliveryHour),
    });

    // ---- memory every simulated hour, with the shelves' clocks held ------------------------------
    const mem: MemPoint[] = [];
    const sample = async (hour: number) => {
      const [am, cm] = await Promise.all([sampleMemory(a, memAgent), sampleMemory(c, memCentral)]);
      mem.push({ hour, agent: am, central: cm });
    };
    await sample(0);
    let nextHour = 1;
    let sampling: Promise<void> | null = null;
    let samplingError: Error | null = null;
    let dayWall = performance.now();
    const watchHours = () => {
      if (sampling) return;
      const minDevice = Math.min(...s.shelves.map((x) => x.engine.nextDeviceUs / 1000));
      if (nextHour > timeline.hours || minDevice < timeline.hourStart(nextHour)) return;
      const hour = nextHour++;
      k.pause();
      sampling = sample(hour)
        .then(() => {
          if (hour % 24 === 0) {
            progress(hour);
            dayWall = performance.now();
          }
        })
        .catch((err) => {
          samplingError = err as Error;
        })
        .finally(() => {
          sampling = null;
          k.resume();
        });
    };
    const progress = (hour: number) => {
      const last = mem.at(-1);
      const frames = s.shelves.reduce((n, x) => n + x.engine.stats.frames, 0);
      const now = performance.now();
      log(
        `day ${hour / 24}/${options.days} simulated in ${((now - dayWall) / 1000).toFixed(0)} s ` +
          `(total ${((now - started) / 1000).toFixed(0)} s): ${frames.toLocaleString('en-US')} frames, ` +
          `${supplier.deliveries.length} orders, ${supplier.delivered} delivered; ` +
          `RSS after GC agent ${mb(last?.agent.rss)} MB, central ${mb(last?.central.rss)} MB`,
      );
    };

    // ---- the week ---------------------------------------------------------------------------------
    let finished = false;
    void k.finished.then(() => {
      finished = true;
    });
    k.start();
    const timer = setInterval(() => {
      supplier.poll();
      watchHours();
    }, 20);
    const check = () => {
      if (supplier.error) throw supplier.error;
      if (samplingError) throw samplingError;
      alive(a, 'agent');
      alive(c, 'central');
    };
    try {
      await waitFor(
        () => {
          check();
          return finished && !sampling && nextHour > timeline.hours;
        },
        6 * 3_600_000,
        { what: 'the simulated week', intervalMs: 200 },
      ).catch((err) => {
        throw supplier.error ?? samplingError ?? err;
      });
      // Everything the agent took in is stored at central...
      await waitFor(async () => (await agentMetric('shelfsense_agent_outbox_depth')) === 0, 120_000, {
        what: 'the agent outbox to drain',
        intervalMs: 200,
      });
      // ...and every order raised has reached its supplier by webhook and been acknowledged.
      const openOrders = async () => {
        let n = 0;
        for (const name of SUPPLIERS) {
          n += ((await (await api('/api/orders?state=open', name)).json()) as unknown[]).length;
        }
        return n;
      };
      await waitFor(
        async () => {
          check();
          return supplier.idle && (await openOrders()) === 0;
        },
        60_000,
        { what: 'the supplier to acknowledge every order', intervalMs: 200 },
      );
    } finally {
      clearInterval(timer);
    }
    const framesAccepted = (await agentMetric('shelfsense_agent_frames_total')) ?? 0;
    const cpu = { agentS: cpuSeconds(a.pid) ?? 0, centralS: cpuSeconds(c.pid) ?? 0 };
    // The agent stops first (central still storing), then its outbox is read back from disk:
    // every record it ever appended is either stored at central or still queued there.
    await a.kill('SIGTERM', 15_000);
    await c.kill('SIGTERM', 15_000);
    const outbox = await Outbox.open(join(stateDir, 'outbox'));
    const ob = outbox.stats();
    await outbox.close();
    const analysis = analyse({
      sim: s,
      week,
      db: join(dataDir, 'central.db'),
      site: SITE,
      shelfId,
      laneId,
      deliveries: supplier.deliveries,
      outbox: {
        lastSeq: ob.lastSeq,
        queued: ob.queued,
        firstSeq: ob.firstSeq,
        dropped: Object.values(ob.dropped).reduce((n, x) => n + x, 0),
      },
    });
    return {
      options,
      week,
      wallS: (performance.now() - started) / 1000,
      framesSent: s.shelves.reduce((n, x) => n + x.engine.stats.lines, 0),
      framesAccepted,
      mem,
      cpu,
      deliveries: supplier.deliveries,
      postponed: supplier.postponed,
      webhooks: supplier.webhooks,
      analysis,
      dir,
    };
  } finally {
    await agent?.kill('SIGKILL');
    await central?.kill('SIGKILL');
    await clock?.stop();
    await sim?.stop();
    await hooks.stop();
    if (!o.keepDir) rmSync(dir, { recursive: true, force: true });
  }
}

function mb(bytes: number | undefined): string {
  return bytes === undefined ? '?' : (bytes / 2 ** 20).toFixed(1);
}

function alive(p: CliProcess, what: string): void {
  if (p.child.exitCode !== null || p.child.signalCode !== null) {
    throw new Error(
      `the ${what} process ended (${p.child.signalCode ?? p.child.exitCode}): ${p.stderr().slice(-2_000)}`,
    );
  }
}
