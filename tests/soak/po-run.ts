/**
 * One purchase-order week on the real chain, as the soak runs it (run.ts): the simulator in this
 * process (capped virtual time, TCP) → the bundled agent → the compiled central process (aedes,
 * rules, orders, purchase orders and their cut-off timer, SQLite, the webhook worker) → a webhook
 * receiver acting as both suppliers (po-supplier.ts), who ship and deliver in the simulator.
 *
 * `acme` has a delivery schedule written in wall time for this run (po-world.ts); `crunchy` has
 * none. At the end the figures are read back from the API (discrepancies, learned lead time) and
 * central.db, and scored against the ground truth (po-analyse.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CappedClock,
  deriveSeed,
  Rng,
  type Simulator,
  type SoakWeek,
  type SoakWeekOptions,
  soakWeek,
  startSimulator,
} from '@shelfsense/firmware-sim';
import Database from 'better-sqlite3';
import { WebhookReceiver } from '../helpers/central.js';
import type { CliProcess } from '../helpers/proc.js';
import { metric, soakAgent, soakChild } from '../helpers/soak-procs.js';
import { waitFor } from '../helpers/wait.js';
import { analysePoWeek, type PoAnalysis } from './po-analyse.js';
import { type LeadModel, PoSupplier } from './po-supplier.js';
import {
  CONTROL,
  MAX_CYCLES,
  type MinuteSchedule,
  minuteSchedule,
  poCentralConfig,
  SCHEDULED,
} from './po-world.js';
import {
  addSoakUsers,
  agentConfig,
  laneId,
  SITE,
  SUPPLIERS,
  shelfId,
  supplierPassword,
  webhookSecret,
} from './world.js';

export interface PoWeekOptions {
  days: number;
  shelves: number;
  seed: number;
  lanes?: number;
  /** Device ms per open / closed simulated hour (see firmware-sim soak.ts). */
  openHourMs?: number;
  closedHourMs?: number;
  picksPerLaneHour?: number;
  /** Opening hours by weekday (see firmware-sim soak.ts; default Monday–Saturday 8–20, Sunday 10–16). */
  hours?: SoakWeekOptions['hours'];
  /**
   * `low`: every lane opens the week 2–5 items above its reorder point (a store half sold out), so
   * the first needs come within the first open hour; `full` (default): 60–100 % of capacity.
   */
  openingStock?: 'full' | 'low';
  /** Device time runs at most this many times faster than the wall clock. */
  maxSpeed: number;
  /** The agent republishes every level this often (wall ms). */
  heartbeatMs?: number;
  /** The scheduled supplier's true lead time (wall clock). */
  lead: LeadModel;
  /** The schedule's cut-off → delivery, whole minutes: the nominal lead time central starts from. */
  leadMin: number;
  /** Minutes between cut-offs (default: 21 cycles spread over the expected run). */
  everyMin?: number;
  /** Chance a PO has a line delivered short / shipped short and declared (see po-supplier.ts). */
  shortRate: number;
  declaredShortRate: number;
  log?: (line: string) => void;
  keepDir?: boolean;
}

export interface LearnedLeadTime {
  n: number;
  meanMs: number;
  stdMs: number;
  nominalMs: number | null;
}

export interface PoWeekResult {
  options: PoWeekOptions;
  week: SoakWeek;
  schedule: MinuteSchedule;
  wallS: number;
  /** Wall seconds the simulated week itself took. */
  simWallS: number;
  supplier: PoSupplier;
  /** `GET /api/purchase-orders/lead-times` for the scheduled supplier at the end (null: none). */
  learned: LearnedLeadTime | null;
  analysis: PoAnalysis;
  dir: string;
  /** Why the end of the run did not settle (purchase orders, webhooks not delivered); empty if it did. */
  unsettled: string[];
}

const MINUTE_MS = 60_000;

export async function runPoWeek(o: PoWeekOptions): Promise<PoWeekResult> {
  const log = o.log ?? (() => {});
  const lanes = o.lanes ?? 4;
  const heartbeatMs = o.heartbeatMs ?? 500;
  const week = soakWeek({
    seed: o.seed,
    shelves: o.shelves,
    days: o.days,
    lanes,
    ...(o.openHourMs === undefined ? {} : { openHourMs: o.openHourMs }),
    ...(o.closedHourMs === undefined ? {} : { closedHourMs: o.closedHourMs }),
    ...(o.picksPerLaneHour === undefined ? {} : { picksPerLaneHour: o.picksPerLaneHour }),
    ...(o.hours === undefined ? {} : { hours: o.hours }),
  });
  if (o.openingStock === 'low') openLow(week, o.seed);
  const timeline = week.timeline;
  const dir = mkdtempSync(join(tmpdir(), 'shelfsense-po-week-'));
  const dataDir = join(dir, 'central');
  const stateDir = join(dir, 'agent-state');
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
      seed: o.seed,
      scenario: week.scenario,
      virtual: true,
      transport: 'none',
      control: false,
      autoStart: false,
      truthLimit: 10_000_000,
    });
    const s = sim;
    clock = await CappedClock.serve(s, { maxSpeed: o.maxSpeed, durationMs: timeline.deviceMs });
    const k = clock;

    // Cut-offs spread over the wall time the week is expected to take, from a few seconds after
    // central is up (it starts in about as long).
    const expectedMs = timeline.deviceMs / o.maxSpeed;
    const everyMin = o.everyMin ?? Math.max(1, Math.round(expectedMs / MINUTE_MS / MAX_CYCLES));
    const cycles = Math.min(MAX_CYCLES, Math.ceil(expectedMs / (everyMin * MINUTE_MS)) + 1);
    const schedule = minuteSchedule(Date.now(), {
      count: cycles,
      everyMin,
      leadMin: o.leadMin,
      afterMs: 10_000,
    });

    const cfgFile = join(dir, 'central.json');
    writeFileSync(cfgFile, JSON.stringify(poCentralConfig(week, s, dataDir, hookUrl, schedule.schedule)));
    central = soakChild(['central', '--config', cfgFile], join(dir, 'mem-central.jsonl'));
    const c = central;
    const ready = await c.waitForJson<{ ready: boolean; http: number; mqtt: number }>(
      (x) => x.ready === true,
      60_000,
    );
    const tokens = new Map<string, string>();
    const call = (path: string, token: string | undefined, init: RequestInit) =>
      fetch(`http://127.0.0.1:${ready.http}${path}`, {
        ...init,
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        signal: AbortSignal.timeout(15_000),
      });
    const login = async (supplier: string) => {
      const r = await call('/api/login', undefined, {
        method: 'POST',
        body: JSON.stringify({ username: supplier, password: supplierPassword(supplier) }),
      });
      if (r.status !== 200) throw new Error(`login ${supplier}: ${r.status}`);
      tokens.set(supplier, ((await r.json()) as { token: string }).token);
    };
    // A token lasts 15 minutes and the week about 21: log in again when one has run out.
    const api = async (path: string, supplier: string, init: RequestInit = {}) => {
      const r = await call(path, tokens.get(supplier), init);
      if (r.status !== 401) return r;
      await login(supplier);
      return call(path, tokens.get(supplier), init);
    };
    for (const supplier of SUPPLIERS) await login(supplier);
    mkdirSync(stateDir, { recursive: true });
    const agentFile = join(dir, 'agent.json');
    writeFileSync(agentFile, JSON.stringify(agentConfig(s, ready.mqtt, stateDir, heartbeatMs)));
    agent = soakAgent(agentFile, join(dir, 'mem-agent.jsonl'));
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
    const supplier = new PoSupplier({
      sim: s,
      week,
      hooks,
      api,
      secret: webhookSecret,
      serialOf: (shelf) => serials.get(shelf) as string,
      seed: o.seed,
      lead: o.lead,
      shortRate: o.shortRate,
      declaredShortRate: o.declaredShortRate,
    });

    // ---- the week ------------------------------------------------------------------------------
    let finished = false;
    void k.finished.then(() => {
      finished = true;
    });
    const simStart = performance.now();
    let simWallS = 0;
    const unsettled: string[] = [];
    let day = 0;
    k.start();
    const timer = setInterval(() => {
      supplier.poll();
      const now = Math.min(...s.shelves.map((x) => x.engine.nextDeviceUs / 1000));
      const today = Math.floor(timeline.toSim(now) / 86_400_000);
      if (today > day) {
        day = today;
        log(
          `day ${day}/${o.days} after ${((performance.now() - simStart) / 1000).toFixed(0)} s: ` +
            `${supplier.pos.length} purchase orders and ${supplier.orders.length} lane orders heard`,
        );
      }
    }, 20);
    // A failure ends the wait at once (waitFor would take an exception in its predicate for "not yet").
    const failure = () => supplier.error ?? dead(a, 'agent') ?? dead(c, 'central');
    const check = () => {
      const err = failure();
      if (err) throw err;
    };
    const db = () => new Database(join(dataDir, 'central.db'), { readonly: true, fileMustExist: true });
    const count = (sql: string, ...params: unknown[]) => {
      const h = db();
      try {
        return (h.prepare(sql).get(...params) as { n: number }).n;
      } finally {
        h.close();
      }
    };
    try {
      await waitFor(() => finished || failure() !== null, 6 * 3_600_000, {
        what: 'the simulated week',
        intervalMs: 200,
      });
      check();
      simWallS = (performance.now() - simStart) / 1000;
      log(`the simulated week ended after ${simWallS.toFixed(0)} s`);
      await waitFor(async () => (await agentMetric('shelfsense_agent_outbox_depth')) === 0, 120_000, {
        what: 'the agent outbox to drain',
        intervalMs: 200,
      });
      // The goods the van brought are counted, and every PO sent and order opened is taken in.
      const settled = async () => {
        if (failure()) return true;
        if (!supplier.idle || supplier.inTransit > 0) return false;
        const waiting = count(
          "SELECT COUNT(*) AS n FROM purchase_orders WHERE supplier = ? AND state = 'sent'",
          SCHEDULED,
        );
        const open = count("SELECT COUNT(*) AS n FROM orders WHERE supplier = ? AND state = 'open'", CONTROL);
        const delivered = supplier.pos.filter(
          (p) => p.drops.length > 0 && p.drops.every((d) => d.appliedWallMs !== null),
        );
        const uncounted = delivered.filter(
          (p) =>
            count(
              "SELECT COUNT(*) AS n FROM purchase_orders WHERE id = ? AND state IN ('received', 'closed')",
              p.id,
            ) === 0,
        ).length;
        const pending = count("SELECT COUNT(*) AS n FROM webhook_outbox WHERE state = 'pending'");
        return waiting === 0 && open === 0 && uncounted === 0 && pending === 0;
      };
      await waitFor(settled, 60_000, {
        what: 'the deliveries to be counted and every webhook taken in',
        intervalMs: 250,
      }).catch((err) => {
        // Scored below: what did not settle shows in the figures; the state says why.
        const h = db();
        try {
          const rows = (sql: string) => JSON.stringify(h.prepare(sql).all());
          unsettled.push(
            `not settled: ${(err as Error).message}`,
            `supplier idle ${supplier.idle}, drops in transit ${supplier.inTransit}`,
            `purchase orders: ${rows('SELECT id, supplier, state FROM purchase_orders')}`,
            `webhooks not delivered: ${rows(
              "SELECT order_id, idempotency_key, state, attempts, next_attempt_at, last_status, last_error FROM webhook_outbox WHERE state != 'delivered'",
            )}`,
          );
          for (const line of unsettled) log(line);
        } finally {
          h.close();
        }
      });
      check();
    } finally {
      clearInterval(timer);
    }
    const discrepancies = (await (await api('/api/discrepancies', SCHEDULED)).json()) as {
      purchaseOrderId: string;
      sku: string;
    }[];
    const lt = await api(`/api/purchase-orders/lead-times?site=${SITE}&supplier=${SCHEDULED}`, SCHEDULED);
    const learned = lt.status === 200 ? (((await lt.json()) as LearnedLeadTime[])[0] ?? null) : null;
    await a.kill('SIGTERM', 15_000);
    await c.kill('SIGTERM', 15_000);
    const analysis = analysePoWeek({
      sim: s,
      week,
      db: join(dataDir, 'central.db'),
      site: SITE,
      shelfId,
      laneId,
      pos: supplier.pos,
      orders: supplier.orders,
      hooks: supplier.hooks,
      discrepancies,
    });
    return {
      options: o,
      week,
      schedule,
      wallS: (performance.now() - started) / 1000,
      simWallS,
      supplier,
      unsettled,
      learned,
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

/** Lanes 2–5 items above their reorder point, in the week and in the simulator's scenario alike. */
function openLow(week: SoakWeek, seed: number): void {
  const rng = new Rng(deriveSeed(seed, 'po-opening-stock'));
  for (const shelf of week.shelves) {
    const spec = week.scenario.shelves?.find((x) => x.serial === shelf.serial);
    for (const lane of shelf.lanes) {
      lane.items = Math.min(lane.items, lane.sku.reorderPoint + rng.int(2, 5));
      const l = spec?.lanes?.[lane.lane];
      if (l && typeof l === 'object') l.items = lane.items;
    }
  }
}

/** The error to stop on when the process has ended, else null. */
function dead(p: CliProcess, what: string): Error | null {
  if (p.child.exitCode === null && p.child.signalCode === null) return null;
  return new Error(
    `the ${what} process ended (${p.child.signalCode ?? p.child.exitCode}): ${p.stderr().slice(-2_000)}`,
  );
}
