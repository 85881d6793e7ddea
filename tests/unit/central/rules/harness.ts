/** A rules engine on a real SQLite file, fed the way ingest feeds it: commit first, then the rules. */
import { OrderService } from '@shelfsense/central/orders';
import { type LaneInfo, type RuleOutcome, RulesEngine } from '@shelfsense/central/rules';
import { type ReadingInput, Store } from '@shelfsense/central/store';
import {
  type AlertEvent,
  type OrderEvent,
  ReplenishmentConfig,
  type ReplenishmentConfigInput,
} from '@shelfsense/protocol';
import { eventReading, LANE, levelReading, type TempDir, tempDir } from '../store/fixtures.js';

export const T0 = 1_700_000_000_000;
export const L1: LaneInfo = { ...LANE, sku: 'cola-330', supplier: 'acme', agent: 'pi-1', channels: [0] };
export const L2: LaneInfo = { ...L1, lane: 'l2', channels: [1] };

export interface Harness {
  tmp: TempDir;
  store: Store;
  orders: OrderService;
  engine: RulesEngine;
  now: { t: number };
  orderEvents: OrderEvent[];
  alertEvents: AlertEvent[];
  seq: () => number;
  /** Commits readings and feeds what was accepted to the rules. */
  feed(...readings: ReadingInput[]): RuleOutcome;
  /** A level reading on a lane at T0 + atMs. */
  level(
    units: number,
    atMs: number,
    over?: Parameters<typeof levelReading>[3],
    lane?: LaneInfo,
  ): ReadingInput;
  event(
    kind: 'pick' | 'restock' | 'adjust',
    delta: number,
    units: number,
    atMs: number,
    lane?: LaneInfo,
  ): ReadingInput;
  /** Reopens the store and a fresh engine on the same file, as after a restart. */
  restart(): void;
  close(): void;
}

export function harness(
  config: ReplenishmentConfigInput,
  lanes: LaneInfo[] = [L1, L2],
  offlineAfterMs = 60_000,
): Harness {
  const cfg = ReplenishmentConfig.parse(config);
  const tmp = tempDir('shelfsense-rules-');
  const now = { t: T0 };
  let n = 0;
  const h = {
    tmp,
    now,
    orderEvents: [] as OrderEvent[],
    alertEvents: [] as AlertEvent[],
    seq: () => ++n,
  } as Harness;
  const open = () => {
    h.store = Store.open(tmp.file());
    h.orders = new OrderService(h.store);
    h.engine = new RulesEngine({
      store: h.store,
      orders: h.orders,
      config: cfg,
      lanes,
      offlineAfterMs,
      clock: () => now.t,
    });
    h.engine.on('order', (e) => h.orderEvents.push(e));
    h.engine.on('alert', (a) => h.alertEvents.push(a));
  };
  open();
  h.feed = (...readings) => {
    const r = h.store.readings.commit(readings, now.t);
    return h.engine.onReadings(r.accepted);
  };
  h.level = (units, atMs, over = {}, lane = L1) => levelReading(h.seq(), units, T0 + atMs, over, lane);
  h.event = (kind, delta, units, atMs, lane = L1) =>
    eventReading(h.seq(), kind, delta, units, T0 + atMs, lane);
  h.restart = () => {
    h.engine.stop();
    h.store.close();
    open();
  };
  h.close = () => {
    h.engine.stop();
    h.store.close();
    tmp.remove();
  };
  return h;
}
