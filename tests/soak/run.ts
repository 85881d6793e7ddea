/**
 * One soak run on the real chain: the simulator (in this process, virtual time, TCP) → the compiled
 * agent → the compiled central process (aedes, ingest, rules, orders, SQLite) → a webhook receiver
 * acting as the supplier: it acknowledges and ships every order through the HTTP API and delivers
 * the goods onto the shelf at the next night's delivery round, so the week goes on.
 *
 * Every simulated hour both child processes are made to run a full GC and report their memory.
 * At the end the figures are read back: readings from central.db scored against the ground truth
 * by frame sequence number, orders matched against the reorder-point crossings of the ground truth.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from '@shelfsense/agent';
import {
  CappedClock,
  HOUR_MS,
  type Simulator,
  type SoakWeek,
  soakWeek,
  startSimulator,
} from '@shelfsense/firmware-sim';
import { verifyWebhook } from '../../broker/src/webhooks/sign.js';
import { WebhookReceiver } from '../helpers/central.js';
import type { CliProcess } from '../helpers/proc.js';
import { cpuSeconds, type MemSample, metric, sampleMemory, soakChild } from '../helpers/soak-procs.js';
import { waitFor } from '../helpers/wait.js';
import { type Analysis, analyse } from './analyse.js';
import {
  addSoakUsers,
  agentConfig,
  centralConfig,
  laneId,
  SITE,
  shelfId,
  supplierPassword,
  webhookSecret,
} from './world.js';

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
  /** Keep the working directory (central.db, configs) for inspection. */
  keepDir?: boolean;
}

export interface MemPoint {
  /** Simulated hours since the start. */
  hour: number;
  agent: MemSample;
  central: MemSample;
}

export interface Delivery {
  orderId: string;
  serial: string;
  lane: number;
  quantity: number;
  /** Device time of the shelf when the supplier heard of the order. */
  orderedDeviceMs: number;
  dueSimMs: number;
  deliveredDeviceMs: number | null;
  seq: number | null;
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
  webhooks: { received: number; badSignature: number; duplicates: number };
  analysis: Analysis;
  dir: string;
}

/** The next `hour`:00 at or after simulated time `simMs`. */
function nextClock(simMs: number, hour: number): number {
  const day = Math.floor(simMs / (24 * HOUR_MS));
  const t = day * 24 * HOUR_MS + hour * HOUR_MS;
  return t >= simMs ? t : t + 24 * HOUR_MS;
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
  const memAgent = join(dir, 'mem-agent.jsonl');
  const memCentral = join(dir, 'mem-central.jsonl');
  const hooks = new WebhookReceiver();
  let sim: Simulator | undefined;
  let central: CliProcess | undefined;
  let agent: CliProcess | undefined;
  let clock: CappedClock | undefined;
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
    const cfgFile = join(dir, 'central.json');
    writeFileSync(cfgFile, JSON.stringify(centralConfig(week, s, dataDir, hookUrl)));
    central = soakChild(['central', '--config', cfgFile], memCentral);
    const ready = await central.waitForJson<{ ready: boolean; http: number; mqtt: number }>(
      (x) => x.ready === true,
      60_000,
    );
    const api = (path: string, token?: string, init: RequestInit = {}) =>
      fetch(`http://127.0.0.1:${ready.http}${path}`, {
        ...init,
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      });
    const tokens = new Map<string, string>();
    for (const supplier of ['acme', 'crunchy']) {
      const r = await api('/api/login', undefined, {
        method: 'POST',
        body: JSON.stringify({ username: supplier, password: supplierPassword(supplier) }),
      });
      if (r.status !== 200) throw new Error(`login ${supplier}: ${r.status}`);
      tokens.set(supplier, ((await r.json()) as { token: string }).token);
    }

    const stateDir = join(dir, 'agent-state');
    mkdirSync(stateDir, { recursive: true });
    const agentFile = join(dir, 'agent.json');
    writeFileSync(agentFile, JSON.stringify(agentConfig(s, ready.mqtt, stateDir, options.heartbeatMs)));
    agent = soakChild(['agent', '--config', agentFile], memAgent);
    const agentReady = await agent.waitForJson<{ ready: boolean; metricsPort: number }>(
      (x) => x.ready === true,
      60_000,
    );
    const agentMetrics = async () =>
      (await fetch(`http://127.0.0.1:${agentReady.metricsPort}/metrics`)).text();
    await waitFor(
      async () => metric(await agentMetrics(), 'shelfsense_agent_broker_connected') === 1,
      30_000,
      {
        what: 'the agent connected to central',
        intervalMs: 100,
      },
    );
    await waitFor(() => k.connected, 30_000, {
      what: 'the agent on every shelf port',
      intervalMs: 50,
    });

    // ---- the supplier --------------------------------------------------------------------------
    const bySerial = new Map(week.shelves.map((x) => [shelfId(x.index), x.serial]));
    const deliveries: Delivery[] = [];
    const pending: Delivery[] = [];
    const seenKeys = new Set<string>();
    const webhooks = { received: 0, badSignature: 0, duplicates: 0 };
    let hookIndex = 0;
    let postponed = 0;
    const supplierQueue: (() => Promise<void>)[] = [];
    let supplierBusy = false;
    const deviceMs = (serial: string) => s.shelf(serial).engine.nextDeviceUs / 1000;

    const drainSupplier = async () => {
      if (supplierBusy) return;
      supplierBusy = true;
      try {
        while (supplierQueue.length > 0) await (supplierQueue.shift() as () => Promise<void>)();
      } finally {
        supplierBusy = false;
      }
    };
    const handleHooks = () => {
      while (hookIndex < hooks.received.length) {
        const h = hooks.received[hookIndex++];
        if (!h) continue;
        webhooks.received++;
        const j = h.json as { idempotencyKey: string; orderId: string; state: string; supplier: string };
        if (!verifyWebhook(webhookSecret(j.supplier), h.headers, h.body, 600_000).ok) {
          webhooks.badSignature++;
          continue;
        }
        if (seenKeys.has(j.idempotencyKey)) {
          webhooks.duplicates++;
          continue;
        }
        seenKeys.add(j.idempotencyKey);
        if (j.state !== 'open') continue;
        const e = h.json as {
          orderId: string;
          shelf: string;
          lane: string;
          quantity: number;
          supplier: string;
        };
        const serial = bySerial.get(e.shelf) as string;
        const now = deviceMs(serial);
        const d: Delivery = {
          orderId: e.orderId,
          serial,
          lane: Number(e.lane.slice(1)),
          quantity: e.quantity,
          orderedDeviceMs: now,
          dueSimMs: nextClock(timeline.toSim(now) + options.leadHours * HOUR_MS, options.deliveryHour),
          deliveredDeviceMs: null,
          seq: null,
        };
        deliveries.push(d);
        const token = tokens.get(e.supplier);
        supplierQueue.push(async () => {
          for (const step of ['acknowledge', 'ship']) {
            const r = await api(`/api/orders/${e.orderId}/${step}`, token, { method: 'POST', body: '{}' });
            if (r.status !== 200) throw new Error(`${step} ${e.orderId}: ${r.status} ${await r.text()}`);
          }
          pending.push(d);
        });
      }
      void drainSupplier().catch((err) => {
        supplierError = err as Error;
      });
    };
    let supplierError: Error | null = null;

    /** Goods go on the shelf at night, well before opening: no pick can blur the restock. */
    const deliverDue = () => {
      for (let i = pending.length - 1; i >= 0; i--) {
        const d = pending[i] as Delivery;
        const dueDevice = timeline.toDevice(d.dueSimMs);
        const now = deviceMs(d.serial);
        if (now < dueDevice) continue;
        if (now + 4_000 > timeline.deviceMs) {
          // Too close to the end of the run for the shelf to show it: never delivered.
          pending.splice(i, 1);
          continue;
        }
        const quietUntil = timeline.toDevice(d.dueSimMs + 4 * HOUR_MS);
        pending.splice(i, 1);
        if (now > quietUntil) {
          // The pump ran past the quiet window: come back the next night.
          postponed++;
          d.dueSimMs += 24 * HOUR_MS;
          pending.push(d);
          continue;
        }
        const r = s.apply(d.serial, { action: 'add', lane: d.lane, count: d.quantity });
        d.deliveredDeviceMs = r.deviceMs;
        d.seq = r.appliesFromSeq;
      }
    };

    // ---- memory every simulated hour ------------------------------------------------------------
    const mem: MemPoint[] = [];
    const a = agent;
    const c = central;
    const sample = async (hour: number) => {
      const [am, cm] = await Promise.all([sampleMemory(a, memAgent), sampleMemory(c, memCentral)]);
      mem.push({ hour, agent: am, central: cm });
    };
    await sample(0);
    let nextHour = 1;
    let sampling: Promise<void> | null = null;
    let samplingError: Error | null = null;
    const dayStarted = { wall: performance.now() };
    const watchHours = () => {
      const minDevice = Math.min(...s.shelves.map((x) => x.engine.nextDeviceUs / 1000));
      while (nextHour <= timeline.hours && minDevice >= timeline.hourStart(nextHour)) {
        const hour = nextHour++;
        if (!sampling) {
          sampling = sample(hour)
            .catch((err) => {
              samplingError = err as Error;
            })
            .finally(() => {
              sampling = null;
            });
        }
        if (hour % 24 === 0) {
          const last = mem.at(-1);
          const frames = s.shelves.reduce((n, x) => n + x.engine.stats.frames, 0);
          const now = performance.now();
          log(
            `day ${hour / 24}/${options.days} simulated in ${((now - dayStarted.wall) / 1000).toFixed(0)} s ` +
              `(total ${((now - started) / 1000).toFixed(0)} s): ${frames.toLocaleString('en-US')} frames, ` +
              `${deliveries.length} orders, ${deliveries.filter((d) => d.deliveredDeviceMs !== null).length} delivered; ` +
              `RSS after GC agent ${mb(last?.agent.rss)} MB, central ${mb(last?.central.rss)} MB`,
          );
          dayStarted.wall = now;
        }
      }
    };

    k.start();
    const timer = setInterval(() => {
      try {
        handleHooks();
        deliverDue();
        watchHours();
      } catch (err) {
        supplierError = err as Error;
      }
    }, 20);
    try {
      let done = false;
      void k.finished.then(() => {
        done = true;
      });
      await waitFor(
        () => {
          if (supplierError) throw supplierError;
          if (samplingError) throw samplingError;
          alive(a, 'agent');
          alive(c, 'central');
          return done;
        },
        3 * 3_600_000,
        { what: 'the simulated week', intervalMs: 200 },
      ).catch((err) => {
        throw supplierError ?? samplingError ?? err;
      });
      // Everything the agent took in is stored at central; the last orders are handled.
      await waitFor(
        async () => metric(await agentMetrics(), 'shelfsense_agent_outbox_depth') === 0,
        120_000,
        {
          what: 'the agent outbox to drain',
          intervalMs: 200,
        },
      );
      await waitFor(
        () => hookIndex === hooks.received.length && supplierQueue.length === 0 && !supplierBusy,
        60_000,
        {
          what: 'the supplier to catch up',
          intervalMs: 100,
        },
      );
      await sampling;
    } finally {
      clearInterval(timer);
    }
    watchHours();
    if (mem.at(-1)?.hour !== timeline.hours) await sample(timeline.hours);
    const agentText = await agentMetrics();
    const framesAccepted = metric(agentText, 'shelfsense_agent_frames_total') ?? 0;
    const cpu = { agentS: cpuSeconds(a.pid) ?? 0, centralS: cpuSeconds(c.pid) ?? 0 };
    // The agent stops first (central still storing), then its outbox is read back from disk:
    // every record it ever appended is either stored at central or still queued there.
    await a.kill('SIGTERM', 15_000);
    await c.kill('SIGTERM', 15_000);
    const outbox = await Outbox.open(join(stateDir, 'outbox'));
    const ob = outbox.stats();
    await outbox.close();
    const dropped = Object.values(ob.dropped).reduce((n, x) => n + x, 0);
    const framesSent = s.shelves.reduce((n, x) => n + x.engine.stats.lines, 0);
    const analysis = analyse({
      sim: s,
      week,
      db: join(dataDir, 'central.db'),
      site: SITE,
      shelfId,
      laneId,
      deliveries,
      outbox: { lastSeq: ob.lastSeq, queued: ob.queued, firstSeq: ob.firstSeq, dropped },
    });
    return {
      options,
      week,
      wallS: (performance.now() - started) / 1000,
      framesSent,
      framesAccepted,
      mem,
      cpu,
      deliveries,
      postponed,
      webhooks,
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
