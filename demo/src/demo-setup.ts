/**
 * The demo's world: two simulated shelves at one store, SKUs from two suppliers, users for every
 * role, and a replenishment policy quick enough that an order happens within a minute. Restocks
 * come only from orders (demo-supplier.ts ships them, demo-delivery.ts puts them on the shelf).
 *
 * `acme` takes one order per lane; `crunchy` delivers on a weekly schedule, so its lanes' needs are
 * gathered into purchase orders. At the demo's pace most needs are urgent (the lane would run out
 * before the next weekly delivery) and central sends their PO at once; the cut-offs themselves
 * would not come during a demo, so the store's operator (demo-supplier.ts, `DemoOperator`) sends
 * whatever waits on the draft early, every couple of minutes of shop time.
 */
import type {
  CentralConfig,
  CentralConfig as CentralConfigSchema,
  DeliverySchedule,
} from '@shelfsense/protocol';
import type { z } from 'zod';

export const DEMO_SITE = 'demo-store';
export const DEMO_AGENT = 'pi-1';
/** Seed of the simulated shelves and of the automatic supplier's short shipments. */
export const DEMO_SEED = 7;
/** Items per pack for every demo SKU: orders are whole packs, a short shipment lacks one. */
export const DEMO_PACK_SIZE = 2;

export const DEMO_SKUS = [
  { id: 'cola-330', name: 'Cola 0.33 l', unitWeightG: 352, supplier: 'acme' },
  { id: 'water-500', name: 'Still water 0.5 l', unitWeightG: 521, supplier: 'acme' },
  { id: 'chips-salt', name: 'Salted chips 150 g', unitWeightG: 168, supplier: 'crunchy' },
  { id: 'nuts-mix', name: 'Nut mix 200 g', unitWeightG: 214, supplier: 'crunchy' },
  { id: 'gum-mint', name: 'Mint gum', unitWeightG: 28, supplier: 'acme' },
  { id: 'bar-choc', name: 'Chocolate bar', unitWeightG: 52, supplier: 'crunchy' },
  { id: 'juice-1l', name: 'Orange juice 1 l', unitWeightG: 1080, supplier: 'acme' },
  { id: 'crackers', name: 'Crackers', unitWeightG: 250, supplier: 'crunchy' },
] as const;

/** Lane layout: shelf → lanes, each with its SKU, starting items and capacity. */
export const DEMO_SHELVES = [
  {
    id: 'shelf-a',
    serial: 'DEMO-A',
    lanes: [
      { sku: 'cola-330', items: 12, capacity: 24 },
      { sku: 'water-500', items: 14, capacity: 18 },
      { sku: 'chips-salt', items: 16, capacity: 20 },
      { sku: 'nuts-mix', items: 15, capacity: 20 },
    ],
  },
  {
    id: 'shelf-b',
    serial: 'DEMO-B',
    lanes: [
      { sku: 'gum-mint', items: 40, capacity: 60 },
      { sku: 'bar-choc', items: 30, capacity: 40 },
      { sku: 'juice-1l', items: 6, capacity: 8 },
      { sku: 'crackers', items: 10, capacity: 16 },
    ],
  },
] as const;

/** The supplier whose needs are gathered into purchase orders. */
export const DEMO_SCHEDULED_SUPPLIER = 'crunchy';

/** Crunchy takes orders until 14:00 on Monday, Wednesday and Friday and delivers the next morning. */
export const DEMO_SCHEDULE: DeliverySchedule = {
  timezone: 'Europe/Berlin',
  cycles: [
    { cutoff: { day: 'mon', at: '14:00' }, delivery: { day: 'tue', at: '07:00' } },
    { cutoff: { day: 'wed', at: '14:00' }, delivery: { day: 'thu', at: '07:00' } },
    { cutoff: { day: 'fri', at: '14:00' }, delivery: { day: 'sat', at: '07:00' } },
  ],
};

/** The store's operator, who sends the purchase-order drafts early. */
export const DEMO_OPERATOR = 'store';

export const DEMO_USERS = [
  { name: 'admin', password: 'demo-admin', grant: { role: 'admin' } },
  { name: 'acme', password: 'demo-acme', grant: { role: 'supplier', supplier: 'acme' } },
  { name: 'crunchy', password: 'demo-crunchy', grant: { role: 'supplier', supplier: 'crunchy' } },
  { name: 'store', password: 'demo-store', grant: { role: 'operator', sites: [DEMO_SITE] } },
  { name: 'tech', password: 'demo-tech', grant: { role: 'technician', sites: [DEMO_SITE] } },
  {
    name: DEMO_AGENT,
    password: 'demo-agent-pi-1',
    grant: { role: 'agent', site: DEMO_SITE, agent: DEMO_AGENT },
  },
] as const;

export const laneId = (i: number) => `L${i + 1}`;

/** The simulated shelf and lane index behind a lane of the demo's shelf map. */
export function demoSimLane(shelf: string, lane: string): { serial: string; lane: number } | null {
  const sh = DEMO_SHELVES.find((s) => s.id === shelf);
  const i = sh ? sh.lanes.findIndex((_, k) => laneId(k) === lane) : -1;
  return sh && i >= 0 ? { serial: sh.serial, lane: i } : null;
}

export function demoCentralConfig(opts: {
  dataDir: string;
  httpPort: number;
  mqttPort: number;
  webhook?: string | undefined;
  logLevel: string;
  /** The scenario's speed (default 10): a received order stays listed for 2 minutes of shop time. */
  speed?: number;
}): z.input<typeof CentralConfigSchema> {
  return {
    dataDir: opts.dataDir,
    log: { level: opts.logLevel as CentralConfig['log']['level'] },
    suppliers: [
      { id: 'acme', name: 'ACME Beverages' },
      { id: 'crunchy', name: 'Crunchy Snacks', schedule: DEMO_SCHEDULE },
    ],
    skus: DEMO_SKUS.map((s) => ({ ...s })),
    sites: [
      {
        id: DEMO_SITE,
        name: 'Demo store',
        shelves: DEMO_SHELVES.map((sh) => ({
          id: sh.id,
          serial: sh.serial,
          agent: DEMO_AGENT,
          lanes: sh.lanes.map((l, i) => ({ id: laneId(i), channels: [i], sku: l.sku, capacity: l.capacity })),
        })),
      },
    ],
    http: { port: opts.httpPort, host: '127.0.0.1' },
    mqtt: { port: opts.mqttPort, host: '127.0.0.1' },
    timing: { offlineAfterMs: 30_000 },
    replenishment: {
      defaults: {
        reorderPoint: 4,
        packSize: DEMO_PACK_SIZE,
        debounceMs: 3_000,
        hysteresis: 1,
        leadTimeMs: 3_600_000,
      },
      tickMs: 1_000,
      receipt: {
        // The demo shelves move no items between lanes, so a short move window lets the weight
        // confirm a delivery seconds after its last item.
        moveWindowMs: 5_000,
        // Customers keep picking while a delivery is shelved (ten times as often at the default
        // speed), and a pick in the middle of it shows as a smaller restock.
        toleranceItems: 2,
        toleranceFraction: 0.2,
        // A received order stays on the dashboard for 2 minutes of shop time, long enough to read
        // its Delivery line. A lane that sells down meanwhile still orders: the new order closes it.
        closeAfterMs: Math.round(120_000 / (opts.speed ?? 10)),
      },
      ...(opts.webhook
        ? {
            webhooks: {
              suppliers: [
                { supplier: 'acme', url: opts.webhook, secret: 'demo-webhook-secret-acme' },
                { supplier: 'crunchy', url: opts.webhook, secret: 'demo-webhook-secret-crunchy' },
              ],
            },
          }
        : {}),
    },
  };
}

/**
 * The simulator scenario matching the map: the first lane of shelf-a sells fast, so it orders first.
 * Customers pick and lean; nothing restocks on a timer — goods arrive only when an order ships.
 */
export function demoScenario() {
  return {
    seed: DEMO_SEED,
    shelves: DEMO_SHELVES.map((sh) => ({
      serial: sh.serial,
      lanes: sh.lanes.map((l) => ({
        unitWeightG: DEMO_SKUS.find((s) => s.id === l.sku)?.unitWeightG ?? 100,
        items: l.items,
        capacity: l.capacity,
      })),
    })),
    events: [
      { at: '5s', every: '40s', shelf: 'DEMO-A', action: 'remove', lane: 0, count: 1 },
      { at: '10s', every: '45s', jitter: 0.5, action: 'remove', lane: 'any', count: [1, 2] },
      {
        at: '2m',
        every: '6m',
        jitter: 0.3,
        action: 'lean',
        lane: 'any',
        grams: [150, 600],
        ms: [2000, 4000],
      },
    ],
  };
}
