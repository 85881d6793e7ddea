/**
 * The rules service: feeds committed readings, agent status and shelf health through the pure
 * rules (evaluate.ts) and carries out their decisions against the store — orders through the
 * OrderService (where the database guarantees one live order per lane), alerts through the alerts
 * table — and keeps each lane's rule state in the same SQLite file.
 *
 * Feed it only what the store accepted (`CommitResult.accepted`): duplicates are dropped there, so a
 * replayed backlog never reaches the rules twice.
 */
import { EventEmitter } from 'node:events';
import type {
  AgentStatusPayload,
  AlertEvent,
  EventPayload,
  HealthPayload,
  ObservationPayload,
  OrderEvent,
} from '@shelfsense/protocol';
import { childLogger } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { OrderService } from '../orders/orders.js';
import { cancelMovedStep, isMovePair } from '../orders/receipt.js';
import { alertEvent } from '../store/alerts.js';
import type { LaneRef, ReadingInput } from '../store/readings.js';
import type { CentralStore } from '../store/repositories.js';
import { type ActionContext, carryOut, type RuleOutcome } from './actions.js';
import type { ReplenishmentConfig } from './config.js';
import { applyEvent, applyLevel, assess, condition, type LiveOrderView, usable } from './evaluate.js';
import type { LaneRuleState } from './lane-state.js';
import { type LaneInfo, laneKey, shelfKey } from './lanes.js';
import { observationAlertKind, observationMessage, openObservations } from './observations.js';
import { type LanePolicy, type LearnedLeadTime, reorderPointFor, resolvePolicy } from './policy.js';
import { demandStdPerDay, type Forecast, forecast, ratePerMs } from './rate.js';
import { LaneStateRepo } from './state-repo.js';

export interface RulesEngineOptions {
  store: CentralStore;
  orders: OrderService;
  config: ReplenishmentConfig;
  lanes: readonly LaneInfo[];
  /** No reading from a lane for this long (central clock) makes it offline. */
  offlineAfterMs?: number;
  logger?: Logger;
  /** Central clock (ms); injectable for tests. */
  clock?: () => number;
  /** The supplier's lead time at a site learned from its purchase orders (service-level policies). */
  leadTime?: (site: string, supplier: string) => LearnedLeadTime | null;
  /**
   * When the site is closed at reading time `ts` (its opening hours), a description of it, such as
   * "Sun 03:12 Europe/Berlin"; null when open. Absent: every site is always open.
   */
  closedAt?: (site: string, ts: number) => string | null;
}

/** How far back a cleared observation looks for others of its kind still open on the lane. */
const OPEN_LOOKBACK_MS = 30 * 24 * 3_600_000;

export type { RuleOutcome } from './actions.js';

export interface LaneStatus extends LaneRef {
  condition: LaneRuleState['reported'];
  units: number | null;
  stable: boolean;
  armed: boolean;
  belowSince: number | null;
  policy: LanePolicy | null;
  reorderPoint: number | null;
  forecast: Forecast;
  liveOrderId: string | null;
  alerts: LaneRuleState['alerts'];
}

interface Lane {
  info: LaneInfo;
  policy: LanePolicy | null;
}

export class RulesEngine extends EventEmitter<{ order: [OrderEvent]; alert: [AlertEvent] }> {
  private readonly store: CentralStore;
  private readonly orders: OrderService;
  private cfg: ReplenishmentConfig;
  private readonly offlineAfterMs: number;
  private readonly log: Logger | undefined;
  private readonly clock: () => number;
  private readonly leadTime: RulesEngineOptions['leadTime'];
  private closedAt: RulesEngineOptions['closedAt'];
  private lanes = new Map<string, Lane>();
  private byShelf = new Map<string, Lane[]>();
  private readonly states: LaneStateRepo;
  private readonly actions: ActionContext;
  private readonly lastSeen = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  /** Per lane: fires when its debounce ends, so an order does not wait for the next reading. */
  private readonly debounceTimers = new Map<string, NodeJS.Timeout>();
  /** Reading time of each lane's last timed assessment, so a due time is acted on once. */
  private readonly wokeAt = new Map<string, number>();
  /** Counters for operations: readings for lanes not in the map, gains judged to be moved items. */
  readonly counters = { unknownLane: 0, movedItems: 0, ignoredOld: 0 };

  constructor(o: RulesEngineOptions) {
    super();
    this.store = o.store;
    this.orders = o.orders;
    this.cfg = o.config;
    this.offlineAfterMs = o.offlineAfterMs ?? 120_000;
    this.log = o.logger && childLogger(o.logger, 'rules');
    this.clock = o.clock ?? Date.now;
    this.leadTime = o.leadTime;
    this.closedAt = o.closedAt;
    this.states = new LaneStateRepo(o.store, this.log);
    this.actions = {
      store: o.store,
      orders: o.orders,
      receipt: this.cfg.receipt,
      clock: this.clock,
      log: this.log,
    };
    this.setLanes(o.lanes);
  }

  /** Replaces the opening hours (after a catalogue change). */
  setClosedAt(closedAt: RulesEngineOptions['closedAt']): void {
    this.closedAt = closedAt;
  }

  /** Replaces the lane directory (after a config reload). */
  setLanes(lanes: readonly LaneInfo[]): void {
    this.lanes = new Map();
    this.byShelf = new Map();
    for (const info of lanes) {
      const r = resolvePolicy(this.cfg, info);
      if (!r.policy) this.log?.info({ lane: laneKey(info), reason: r.reason }, 'lane not managed');
      const lane: Lane = { info, policy: r.policy };
      this.lanes.set(laneKey(info), lane);
      const sk = shelfKey(info);
      this.byShelf.set(sk, [...(this.byShelf.get(sk) ?? []), lane]);
    }
  }

  /**
   * A changed catalogue: new policies and lanes, and every lane assessed at once under them (a
   * raised reorder point orders now, not at the lane's next reading). A lane given another SKU or
   * supplier is re-armed and judged from its next reading. Lanes new to the directory count as seen
   * now, so none is offline on arrival.
   */
  reconfigure(config: ReplenishmentConfig, lanes: readonly LaneInfo[]): RuleOutcome {
    const before = this.lanes;
    this.cfg = config;
    this.actions.receipt = config.receipt;
    this.setLanes(lanes);
    const now = this.clock();
    const out: RuleOutcome = { orders: [], alerts: [] };
    for (const [key, lane] of this.lanes) {
      if (!this.lastSeen.has(key)) this.lastSeen.set(key, now);
      const s = this.state(lane.info);
      const was = before.get(key)?.info;
      if (was && (was.sku !== lane.info.sku || was.supplier !== lane.info.supplier)) {
        // Another item on the lane: a new need, judged from the next reading, which the agent counts
        // in the new item (its count so far is of the old one).
        this.setState(lane.info, { ...s, armed: true });
        continue;
      }
      if (s.lastTs !== null) this.update(lane, s, s.lastTs, out);
    }
    this.flush();
    return out;
  }

  /** Starts the offline/auto-close tick. Lanes count as seen at start, so none is offline at boot. */
  start(): void {
    if (this.timer) return;
    const now = this.clock();
    for (const k of this.lanes.keys()) if (!this.lastSeen.has(k)) this.lastSeen.set(k, now);
    this.timer = setInterval(
      () => {
        try {
          this.tick();
        } catch (err) {
          this.log?.error({ err }, 'rules tick failed');
        }
      },
      Math.max(1, this.cfg.tickMs),
    );
    // After a restart: a debounce or a delivery that was pending when central stopped.
    for (const lane of this.lanes.values()) this.scheduleWake(lane, this.state(lane.info));
  }

  /**
   * Stops the timers and writes the lane state still waiting; `{ flush: false }` drops it instead
   * (a caller whose transaction rolled back what the engine did).
   */
  stop(o: { flush?: boolean } = {}): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const t of this.debounceTimers.values()) clearTimeout(t);
    this.debounceTimers.clear();
    if (o.flush ?? true) this.flush();
  }

  /** Feeds committed readings (in order). Calibration records do not affect the rules. */
  onReadings(batch: readonly ReadingInput[]): RuleOutcome {
    const out: RuleOutcome = { orders: [], alerts: [] };
    for (const r of batch) this.onReadingInto(r, out);
    this.flush();
    return out;
  }

  onReading(r: ReadingInput): RuleOutcome {
    return this.onReadings([r]);
  }

  /** The agent's retained status / last will: all its lanes go offline or come back. */
  onAgentStatus(site: string, p: AgentStatusPayload): RuleOutcome {
    const out: RuleOutcome = { orders: [], alerts: [] };
    const now = this.clock();
    for (const [key, lane] of this.lanes) {
      if (lane.info.site !== site || lane.info.agent !== p.agent) continue;
      const s = this.state(lane.info);
      const offline = p.state === 'offline';
      if (!offline) this.lastSeen.set(key, now);
      this.update(
        lane,
        { ...s, agentOffline: offline, stale: offline ? s.stale : false },
        s.lastTs ?? p.ts,
        out,
      );
    }
    this.flush();
    return out;
  }

  /** Shelf health: a saturated or disconnected channel is a sensor fault on the lanes it feeds. */
  onHealth(site: string, shelf: string, p: HealthPayload): RuleOutcome {
    const out: RuleOutcome = { orders: [], alerts: [] };
    const bad = new Set(
      p.channels.filter((c) => c.status === 'saturated' || c.status === 'disconnected').map((c) => c.channel),
    );
    for (const lane of this.byShelf.get(shelfKey({ site, shelf })) ?? []) {
      const s = this.state(lane.info);
      const healthFault = lane.info.channels.some((c) => bad.has(c));
      if (healthFault !== s.healthFault) this.update(lane, { ...s, healthFault }, s.lastTs ?? p.ts, out);
    }
    this.flush();
    return out;
  }

  /** Marks lanes silent for longer than the offline timeout, and closes received orders when due. */
  tick(now: number = this.clock()): RuleOutcome {
    const out: RuleOutcome = { orders: [], alerts: [] };
    for (const [key, lane] of this.lanes) {
      const seen = this.lastSeen.get(key);
      if (seen === undefined) {
        this.lastSeen.set(key, now);
        continue;
      }
      const s = this.state(lane.info);
      if (!s.stale && now - seen >= this.offlineAfterMs) {
        this.log?.warn({ lane: key }, 'lane silent: offline');
        this.update(lane, { ...s, stale: true }, s.lastTs ?? 0, out);
      }
    }
    const { closeAfterMs } = this.cfg.receipt;
    if (closeAfterMs > 0) {
      const first = out.orders.length;
      out.orders.push(...this.orders.closeReceived(now - closeAfterMs, now));
      this.publish(out, first);
    }
    this.flush();
    return out;
  }

  /** Re-arms a lane by hand (e.g. after an order was cancelled and the lane is still low). */
  rearm(ref: LaneRef): void {
    const lane = this.lanes.get(laneKey(ref));
    if (!lane) return;
    this.setState(lane.info, { ...this.state(lane.info), armed: true });
    this.flush();
  }

  status(ref: LaneRef, atTs?: number): LaneStatus | undefined {
    const lane = this.lanes.get(laneKey(ref));
    if (!lane) return undefined;
    const s = this.state(lane.info);
    const at = atTs ?? s.lastTs ?? this.clock();
    const live = this.orders.live(ref);
    return {
      site: ref.site,
      shelf: ref.shelf,
      lane: ref.lane,
      condition: condition(s),
      units: s.units,
      stable: s.stable,
      armed: s.armed,
      belowSince: s.belowSince,
      policy: lane.policy,
      reorderPoint: this.reorderPoint(lane, s, at),
      forecast: forecast(s.rate, s.units, at, this.cfg.rate.tauMs),
      liveOrderId: live?.id ?? null,
      alerts: [...s.alerts],
    };
  }

  private onReadingInto(r: ReadingInput, out: RuleOutcome): void {
    if (r.kind === 'calibration') return;
    const key = laneKey(r);
    const lane = this.lanes.get(key);
    if (!lane) {
      this.counters.unknownLane++;
      this.log?.debug({ lane: key }, 'reading for a lane not in the shelf map');
      return;
    }
    this.lastSeen.set(key, this.clock());
    if (r.kind === 'observation') {
      this.onObservation(lane, r.payload, out);
      return;
    }
    if (r.kind === 'event' && (r.payload.kind === 'pick' || r.payload.kind === 'restock')) {
      const d = r.payload.delta;
      this.closedTamper(lane, r.payload.ts, `the count changed by ${d > 0 ? '+' : ''}${d}`, out);
    }
    const s = this.state(lane.info);
    if (r.kind === 'level') {
      const next = applyLevel(s, r.payload);
      if (!next) {
        this.counters.ignoredOld++;
        if (s.stale) this.update(lane, { ...s, stale: false }, s.lastTs ?? r.payload.ts, out);
        return;
      }
      this.update(lane, next, r.payload.ts, out);
      return;
    }
    const e = r.payload;
    let next = applyEvent(s, e, this.cfg.rate.tauMs);
    if (e.kind === 'restock' && e.delta > 0) next = this.receiptStep(lane, next, e);
    if (e.kind === 'pick' && e.delta < 0) this.cancelMoves(lane, e);
    this.update(lane, next, next.lastTs ?? e.ts, out);
  }

  /** An observation opens or clears its alert; one stamped while the store is closed is tamper. */
  private onObservation(lane: Lane, p: ObservationPayload, out: RuleOutcome): void {
    if (p.state === 'open' && !(p.kind === 'tamper' && p.cause === 'closed'))
      this.closedTamper(lane, p.ts, observationMessage(p), out);
    const kind = observationAlertKind(p);
    if (kind === null) return;
    const first = out.alerts.length;
    const now = this.clock();
    if (p.state === 'open') {
      const r = this.store.alerts.open(lane.info, kind, observationMessage(p), now);
      if (r.created) out.alerts.push(alertEvent(r.alert));
    } else if (!this.otherOpen(lane.info, p)) {
      const a = this.store.alerts.clearKind(lane.info, kind, now);
      if (a) out.alerts.push(alertEvent(a));
    }
    this.publish(out, out.orders.length, first);
  }

  /** Is another observation of this kind still open on the lane (so its alert stays)? */
  private otherOpen(ref: LaneRef, p: ObservationPayload): boolean {
    const rows = this.store.history.observations({
      site: ref.site,
      shelf: ref.shelf,
      lane: ref.lane,
      kind: p.kind,
      from: p.ts - OPEN_LOOKBACK_MS,
    });
    const open = openObservations(
      rows.filter((r) => observationAlertKind(r.payload) !== null || r.state === 'cleared'),
    );
    open.delete(p.observation);
    return open.size > 0;
  }

  /**
   * A change stamped while the site is closed opens a tamper alert. An acknowledged one is
   * replaced, so the next night's change is told again; an open one is not repeated.
   */
  private closedTamper(lane: Lane, ts: number, what: string, out: RuleOutcome): void {
    const closed = this.closedAt?.(lane.info.site, ts) ?? null;
    if (closed === null) return;
    const first = out.alerts.length;
    const now = this.clock();
    const live = this.store.alerts.live(lane.info, 'tamper');
    if (live?.state === 'acknowledged') {
      const c = this.store.alerts.clear(live.id, now);
      if (c.changed) out.alerts.push(alertEvent(c.alert));
    } else if (live) return;
    const r = this.store.alerts.open(
      lane.info,
      'tamper',
      `${what} while the store was closed (${closed})`,
      now,
    );
    if (r.created) out.alerts.push(alertEvent(r.alert));
    this.publish(out, out.orders.length, first);
  }

  /** A gain while the lane's order is on its way: a delivery step, unless it is an item moved. */
  private receiptStep(lane: Lane, s: LaneRuleState, e: EventPayload): LaneRuleState {
    const live = this.orders.live(lane.info);
    if (!live || (live.state !== 'acknowledged' && live.state !== 'shipped')) return s;
    const mw = this.cfg.receipt.moveWindowMs;
    const moved = this.store.history
      .events({
        site: lane.info.site,
        shelf: lane.info.shelf,
        kind: 'pick',
        from: e.ts - mw,
        to: e.ts + mw + 1,
      })
      .some((p) => p.lane !== lane.info.lane && isMovePair(e, p, mw));
    if (moved) {
      this.counters.movedItems++;
      this.log?.info(
        { lane: laneKey(lane.info), delta: e.delta },
        'gain matches a pick next door: item moved',
      );
      return s;
    }
    const steps = s.receipt.orderId === live.id ? [...s.receipt.steps] : [];
    steps.push({ ts: e.ts, delta: e.delta });
    return { ...s, receipt: { orderId: live.id, steps } };
  }

  /** A pick next door explains a pending gain on this shelf: drop that step. */
  private cancelMoves(lane: Lane, e: EventPayload): void {
    for (const other of this.byShelf.get(shelfKey(lane.info)) ?? []) {
      if (other === lane) continue;
      const s = this.state(other.info);
      if (s.receipt.steps.length === 0) continue;
      const steps = [...s.receipt.steps];
      if (cancelMovedStep(steps, e, this.cfg.receipt.moveWindowMs)) {
        this.counters.movedItems++;
        this.log?.info(
          { lane: laneKey(other.info), delta: -e.delta },
          'gain matches a pick next door: item moved',
        );
        this.setState(other.info, { ...s, receipt: { ...s.receipt, steps } });
      }
    }
  }

  /** Assesses a lane at reading time `ts` and carries out the decisions. */
  private update(lane: Lane, s: LaneRuleState, ts: number, out: RuleOutcome): void {
    const live = this.orders.live(lane.info);
    const liveView: LiveOrderView | null = live
      ? { id: live.id, state: live.state, expected: live.shippedQuantity ?? live.quantity }
      : null;
    // `closed` only ever follows `received`. Only a disarmed lane without a live order looks up its
    // newest order (one indexed row): it may have been delivered without this instance re-arming
    // the lane (another instance saw the receipt, or an older version left the lane disarmed).
    const delivered = live
      ? live.state === 'received'
      : !s.armed && this.orders.latest(lane.info)?.state === 'closed';
    const { state, decisions } = assess(
      s,
      {
        policy: lane.policy,
        reorderPoint: this.reorderPoint(lane, s, ts),
        liveOrder: liveView,
        delivered,
        receipt: this.cfg.receipt,
        anomalyAfterMs: this.cfg.alerts.anomalyAfterMs,
        stockOutAt: forecast(s.rate, s.units, ts, this.cfg.rate.tauMs).stockOutAt,
      },
      ts,
    );
    let next = state;
    const firstOrder = out.orders.length;
    const firstAlert = out.alerts.length;
    for (const d of decisions) {
      try {
        next = carryOut(this.actions, lane.info, lane.policy, next, d, out);
      } catch (err) {
        // One failed action (a store error, an order changed meanwhile) must not stop the rest.
        this.log?.error({ err, lane: laneKey(lane.info), decision: d.type }, 'rules action failed');
        if (d.type === 'order') next = { ...next, armed: true };
      }
    }
    this.setState(lane.info, next);
    this.scheduleWake(lane, next);
    this.publish(out, firstOrder, firstAlert);
  }

  private reorderPoint(lane: Lane, s: LaneRuleState, ts: number): number | null {
    if (!lane.policy) return null;
    const rate = ratePerMs(s.rate, ts, this.cfg.rate.tauMs);
    const history = s.rate.since === null ? 0 : ts - s.rate.since;
    const learned =
      lane.policy.serviceLevel !== null
        ? (this.leadTime?.(lane.info.site, lane.info.supplier) ?? null)
        : null;
    const std = lane.policy.serviceLevel !== null ? demandStdPerDay(s.demand) : null;
    return reorderPointFor(lane.policy, rate, history, this.cfg.rate.minHistoryMs, learned, std);
  }

  /**
   * Agents publish a level only when it changes (plus a slow heartbeat), so silence means
   * "unchanged". Two decisions wait on time rather than on a reading: a lane below its reorder
   * point orders once the debounce has passed, and a delivery step is confirmed once the
   * move window has passed. A per-lane timer on the central clock assesses the lane when the first
   * of them falls due, at that reading time; the decision still rests on the lane's readings (any
   * contrary reading meanwhile resets them).
   */
  private scheduleWake(lane: Lane, s: LaneRuleState): void {
    const key = laneKey(lane.info);
    const old = this.debounceTimers.get(key);
    if (old) clearTimeout(old);
    this.debounceTimers.delete(key);
    if (!this.timer) return;
    const after = Math.max(s.lastTs ?? 0, this.wokeAt.get(key) ?? 0);
    const dues: number[] = [];
    const policy = lane.policy;
    if (policy?.enabled && s.armed && s.belowSince !== null && usable(s))
      dues.push(s.belowSince + policy.debounceMs);
    for (const step of s.receipt.steps) dues.push(step.ts + this.cfg.receipt.moveWindowMs);
    // A delivery that stops short settles once no step has come for the receipt window.
    const last = s.receipt.steps[s.receipt.steps.length - 1];
    if (last) dues.push(last.ts + Math.max(this.cfg.receipt.windowMs, this.cfg.receipt.moveWindowMs));
    const due = Math.min(...dues.filter((d) => d > after));
    if (!Number.isFinite(due)) return;
    const delay = Math.max(0, Math.min(due - this.clock(), 24 * 3_600_000));
    const t = setTimeout(() => {
      this.debounceTimers.delete(key);
      this.wokeAt.set(key, due);
      const out: RuleOutcome = { orders: [], alerts: [] };
      try {
        this.update(lane, this.state(lane.info), due, out);
        this.flush();
      } catch (err) {
        this.log?.error({ err, lane: key }, 'timed assessment failed');
      }
    }, delay);
    t.unref();
    this.debounceTimers.set(key, t);
  }

  private state(ref: LaneRef): LaneRuleState {
    return this.states.get(ref);
  }

  private setState(ref: LaneRef, s: LaneRuleState): void {
    this.states.set(ref, s);
  }

  private flush(): void {
    this.states.flush(this.clock());
  }

  private publish(out: RuleOutcome, firstOrder: number, firstAlert = out.alerts.length): void {
    for (const e of out.orders.slice(firstOrder)) this.safely(() => this.emit('order', e));
    for (const a of out.alerts.slice(firstAlert)) this.safely(() => this.emit('alert', a));
  }

  /** A failing listener is logged; the rules go on. */
  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log?.error({ err }, 'rules listener failed');
    }
  }
}
