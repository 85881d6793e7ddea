/**
 * Fixed data for the dashboard's browser tests: users of every role, lanes in every status at
 * three sites for two suppliers, orders, alerts, and deterministic (seeded) history and stream
 * readings. Shapes follow docs/http-api.md and the shared payload schemas.
 */

/** Times are relative to `now`, the moment the fixture starts, so the UI's "12 s ago" reads true. */

export interface FixtureUser {
  name: string;
  password: string;
  role: 'supplier' | 'operator' | 'technician' | 'admin';
  supplier: string | null;
  sites: string[];
}

export const USERS: readonly FixtureUser[] = [
  { name: 'acme-ops', password: 'acme-pass', role: 'supplier', supplier: 'acme', sites: [] },
  { name: 'bolt-ops', password: 'bolt-pass', role: 'supplier', supplier: 'bolt', sites: [] },
  { name: 'store-op', password: 'store-pass', role: 'operator', supplier: null, sites: ['store-1'] },
  { name: 'tech', password: 'tech-pass', role: 'technician', supplier: null, sites: ['store-1'] },
  { name: 'admin', password: 'admin-pass', role: 'admin', supplier: null, sites: [] },
];

export interface FixtureLane {
  site: string;
  shelf: string;
  lane: string;
  sku: string;
  skuName: string;
  supplier: string;
  unitWeightG: number;
  capacity: number;
  units: number;
  grams: number;
  fill: number;
  state: string;
  stable: boolean;
  confidence: number;
  status: string;
  reorderPoint: number;
  orderUpTo: number;
  ratePerDay: number | null;
  daysOfCover: number | null;
  stockoutAt: number | null;
  agent: string;
  agentOnline: boolean;
  health: string;
  updatedAt: number;
  openOrder: { id: string; state: string; quantity: number } | null;
  /** Channels of the lane on its shelf (for the stream and health). */
  channels: number[];
}

function lane(
  now: number,
  site: string,
  shelf: string,
  id: string,
  sku: string,
  skuName: string,
  supplier: string,
  units: number,
  status: string,
  over: Partial<FixtureLane> = {},
): FixtureLane {
  const unitWeightG = 350;
  const capacity = 24;
  return {
    site,
    shelf,
    lane: id,
    sku,
    skuName,
    supplier,
    unitWeightG,
    capacity,
    units,
    grams: units * unitWeightG,
    fill: units / capacity,
    state: 'ok',
    stable: true,
    confidence: 0.97,
    status,
    reorderPoint: 8,
    orderUpTo: 24,
    ratePerDay: 12,
    daysOfCover: units / 12,
    stockoutAt: now + (units / 12) * 86_400_000,
    agent: site === 'store-1' ? 'pi-1' : site === 'store-2' ? 'pi-2' : 'pi-3',
    agentOnline: true,
    health: 'ok',
    updatedAt: now - 40_000,
    openOrder: null,
    channels: [Number(id.slice(1))],
    ...over,
  };
}

/** One lane per status for acme (across three sites), and one bolt lane acme must never see. */
export function makeLanes(now: number): FixtureLane[] {
  return [
    lane(now, 'store-1', 'shelf-a', 'L0', 'cola-330', 'Cola 0.33 l', 'acme', 20, 'ok'),
    lane(now, 'store-1', 'shelf-a', 'L1', 'water-500', 'Water 0.5 l', 'acme', 5, 'below-reorder'),
    lane(now, 'store-1', 'shelf-a', 'L2', 'bolt-m6', 'Bolts M6 (box)', 'bolt', 14, 'ok'),
    lane(now, 'store-1', 'shelf-b', 'L0', 'chips-150', 'Chips 150 g', 'acme', 3, 'ordered', {
      openOrder: { id: 'o-1001', state: 'acknowledged', quantity: 21 },
    }),
    lane(now, 'store-2', 'shelf-a', 'L0', 'cola-330', 'Cola 0.33 l', 'acme', 0, 'stock-out', {
      openOrder: { id: 'o-1002', state: 'open', quantity: 24 },
      daysOfCover: 0,
    }),
    lane(now, 'store-2', 'shelf-b', 'L1', 'juice-1l', 'Orange juice 1 l', 'acme', 9, 'sensor-fault', {
      state: 'fault',
      health: 'saturated',
    }),
    lane(now, 'store-3', 'shelf-a', 'L0', 'cola-330', 'Cola 0.33 l', 'acme', 11, 'offline', {
      agentOnline: false,
      updatedAt: now - 3 * 3_600_000,
    }),
  ];
}

export interface FixtureOrder {
  id: string;
  site: string;
  shelf: string;
  lane: string;
  sku: string;
  supplier: string;
  state: string;
  quantity: number;
  shippedQuantity: number | null;
  receivedQuantity: number | null;
  createdAt: number;
  updatedAt: number;
  delivery: { state: string; attempts: number } | null;
}

export function makeOrders(now: number): FixtureOrder[] {
  const o = (
    id: string,
    l: string,
    sku: string,
    supplier: string,
    state: string,
    quantity: number,
    ageMin: number,
  ) => {
    const [site = '', shelf = '', laneId = ''] = l.split('/');
    return {
      id,
      site,
      shelf,
      lane: laneId,
      sku,
      supplier,
      state,
      quantity,
      shippedQuantity: null,
      receivedQuantity: null,
      createdAt: now - ageMin * 60_000,
      updatedAt: now - ageMin * 60_000,
      delivery: { state: 'delivered', attempts: 1 },
    };
  };
  return [
    o('o-1002', 'store-2/shelf-a/L0', 'cola-330', 'acme', 'open', 24, 5),
    o('o-1001', 'store-1/shelf-b/L0', 'chips-150', 'acme', 'acknowledged', 21, 90),
    o('o-2001', 'store-1/shelf-a/L2', 'bolt-m6', 'bolt', 'open', 10, 30),
  ];
}

export interface FixtureAlert {
  id: string;
  kind: string;
  state: string;
  site: string;
  shelf: string;
  lane: string;
  message: string;
  openedAt: number;
  updatedAt: number;
  acknowledgedBy: string | null;
}

export function makeAlerts(now: number): FixtureAlert[] {
  const a = (id: string, kind: string, l: string, message: string, ageMin: number, state = 'open') => {
    const [site = '', shelf = '', laneId = ''] = l.split('/');
    return {
      id,
      kind,
      state,
      site,
      shelf,
      lane: laneId,
      message,
      openedAt: now - ageMin * 60_000,
      updatedAt: now - ageMin * 60_000,
      acknowledgedBy: null,
    };
  };
  return [
    a('a-1', 'anomaly', 'store-1/shelf-a/L0', 'The weight has not settled for 5 minutes.', 7),
    a('a-2', 'stock-out', 'store-2/shelf-a/L0', 'The lane is empty.', 12),
    a('a-3', 'sensor-fault', 'store-2/shelf-b/L1', 'Channel 1 reads saturated.', 25),
  ];
}

/** A small seeded generator (mulberry32), so history and streams are the same on every run. */
export function seeded(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** 48 readings over [from, to): picks with a restock when the lane runs low, ending at `units`. */
export function makeHistory(l: FixtureLane, from: number, to: number) {
  const rnd = seeded(l.site.length * 31 + l.lane.charCodeAt(1) + l.units);
  const n = 48;
  const levels: { ts: number; units: number; grams: number; state: string }[] = [];
  const events: { ts: number; kind: string; delta: number; units: number }[] = [];
  let u = l.capacity;
  for (let i = 0; i < n; i++) {
    const ts = Math.floor(from + ((to - from) * i) / n);
    const take = Math.floor(rnd() * 3);
    const prev = u;
    u = u - take < 2 ? l.capacity : u - take;
    if (i === n - 1) u = l.units;
    if (u !== prev) events.push({ ts, kind: u > prev ? 'restock' : 'pick', delta: u - prev, units: u });
    levels.push({ ts, units: u, grams: u * l.unitWeightG, state: 'ok' });
  }
  return { levels, events };
}

/** One stream payload for a shelf: four channels of raw counts and filtered grams. */
export function makeStream(shelf: string, lanes: readonly FixtureLane[], tick: number, now: number) {
  const rnd = seeded(tick + 7);
  const onShelf = lanes.filter((l) => l.shelf === shelf);
  return {
    shelf,
    serial: `SN-${shelf}`,
    ts: now,
    channels: [0, 1, 2, 3].map((channel) => {
      const l = onShelf.find((x) => x.channels.includes(channel));
      const grams = l ? l.grams + (rnd() - 0.5) * 2 : (rnd() - 0.5) * 2;
      return {
        channel,
        raw: Math.round(8_000 + grams * 420),
        grams: Math.round(grams * 10) / 10,
        stable: tick % 10 !== 0,
        noiseG: 0.42,
        status: 'ok',
      };
    }),
    lanes: onShelf.map((l) => ({ lane: l.lane, units: l.units, netG: l.grams, state: l.state })),
  };
}

export function makeHealth(site: string, shelf: string, agent: string, now: number) {
  return {
    agent,
    serial: `SN-${shelf}`,
    status: site === 'store-2' && shelf === 'shelf-b' ? 'saturated' : 'ok',
    channels: [0, 1, 2, 3].map((channel) => ({
      channel,
      status: site === 'store-2' && shelf === 'shelf-b' && channel === 1 ? 'saturated' : 'ok',
      noiseG: 0.4 + channel / 10,
      driftG: channel === 2 ? -1.5 : 0.2,
    })),
    rejects: { checksum: 3 },
    ts: now - 20_000,
  };
}
