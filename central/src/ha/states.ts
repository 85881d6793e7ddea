/**
 * What the Home Assistant entities show, from what central hears: lane levels, agent status, shelf
 * health, order events and alerts (each validated by the bus's schemas; a bad message is dropped),
 * with the rules' reorder point and the orders' live order where those parts run. Listeners learn
 * which shelf (or agent) changed, and read the new values with `stateOf`.
 */
import {
  type AgentStatusPayload,
  type CentralConfig,
  FAULT_HEALTH,
  type Filter,
  filters,
  type HealthPayload,
  IN_FLIGHT,
  type LaneRef,
  type LevelPayload,
  type OrderState,
} from '@shelfsense/protocol';
import type { Logger } from 'pino';
import { type Bus, BusError, type Handler, type Unsubscribe } from '../bus/bus.js';
import type { OrderService } from '../orders/orders.js';
import type { RulesEngine } from '../rules/engine.js';
import { type DiscoveryMessage, OFFLINE, ONLINE } from './discovery.js';

export type Change = { site: string; shelf: string } | { site: string; agent: string };

export interface StateSources {
  bus: Bus;
  /** The shelf map at start; `setMap` takes up a new catalogue. */
  config: Pick<CentralConfig, 'sites'>;
  rules?: () => RulesEngine | undefined;
  orders?: () => OrderService | undefined;
  /** The newest stored level of each lane, so a restarted central starts from the right values. */
  latest?: () => readonly (LaneRef & { level: LevelPayload })[];
  log: Logger;
}

const k2 = (a: string, b: string) => `${a}\u0000${b}`;
const k3 = (a: string, b: string, c: string) => `${a}\u0000${b}\u0000${c}`;

/** Bound on remembered lanes, agents and shelves (agents may report ones the map does not know). */
const LIMIT = 100_000;

/** Sets a key, dropping the oldest entry first when the map is full. */
function put<V>(map: Map<string, V>, key: string, value: V): void {
  if (!map.has(key) && map.size >= LIMIT) map.delete(map.keys().next().value as string);
  map.set(key, value);
}

/** Home Assistant's "unknown" for a sensor. */
export const UNKNOWN = 'None';

export class StateTracker {
  private readonly levels = new Map<string, LevelPayload>();
  private readonly status = new Map<string, AgentStatusPayload>();
  private readonly health = new Map<string, HealthPayload>();
  private readonly orderStates = new Map<string, OrderState>();
  private readonly faultAlerts = new Set<string>();
  private readonly listeners = new Set<(c: Change) => void>();
  private readonly offs: Unsubscribe[] = [];

  private map: Pick<CentralConfig, 'sites'>;

  constructor(private readonly s: StateSources) {
    this.map = s.config;
  }

  setMap(map: Pick<CentralConfig, 'sites'>): void {
    this.map = map;
  }

  async start(): Promise<void> {
    const { bus } = this.s;
    try {
      for (const { site, shelf, lane, level } of this.s.latest?.() ?? [])
        this.putLevel(site, shelf, lane, level);
    } catch (err) {
      this.s.log.warn({ err: (err as Error).message }, 'home assistant: stored levels unreadable');
    }
    // Levels in process (the busiest topic; the store gave the newest); status and health are
    // retained and few, so a restarted central asks the broker for them.
    this.offs.push(
      await bus.subscribe(filters.laneKind('level'), (r, p) => {
        if (this.putLevel(r.site, r.shelf, r.lane, p)) this.emit({ site: r.site, shelf: r.shelf });
      }),
      await this.subscribeRetained(filters.agentKind('status'), (r, p) => {
        const key = k2(r.site, r.agent);
        const prev = this.status.get(key);
        if (prev && prev.ts > p.ts) return;
        put(this.status, key, p);
        this.emit({ site: r.site, agent: r.agent });
      }),
      await this.subscribeRetained(filters.health(), (r, p) => {
        put(this.health, k2(r.site, r.shelf), p);
        this.emit({ site: r.site, shelf: r.shelf });
      }),
      await bus.subscribe(filters.laneKind('order'), (r, p) => {
        put(this.orderStates, k3(r.site, r.shelf, r.lane), p.state);
        this.emit({ site: r.site, shelf: r.shelf });
      }),
      await bus.subscribe(filters.laneKind('alert'), (r, p) => {
        if (p.kind !== 'sensor-fault') return;
        const key = k3(r.site, r.shelf, r.lane);
        if (p.state === 'cleared') this.faultAlerts.delete(key);
        else this.faultAlerts.add(key);
        this.emit({ site: r.site, shelf: r.shelf });
      }),
    );
  }

  /** Retained replay needs central's connection; a bus that is only in process gets live messages. */
  private async subscribeRetained<K extends 'status' | 'health'>(
    filter: Filter<K>,
    handler: Handler<K>,
  ): Promise<Unsubscribe> {
    try {
      return await this.s.bus.subscribe(filter, handler, { retained: true });
    } catch (err) {
      if (!(err instanceof BusError)) throw err;
      this.s.log.debug({ filter }, 'home assistant: no connection for retained messages; live only');
      return this.s.bus.subscribe(filter, handler);
    }
  }

  private putLevel(site: string, shelf: string, lane: string, p: LevelPayload): boolean {
    const key = k3(site, shelf, lane);
    const prev = this.levels.get(key);
    if (prev && prev.ts > p.ts) return false;
    put(this.levels, key, p);
    return true;
  }

  onChange(fn: (c: Change) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(c: Change): void {
    for (const fn of this.listeners) {
      try {
        fn(c);
      } catch (err) {
        this.s.log.warn({ err: (err as Error).message }, 'home assistant: state listener failed');
      }
    }
  }

  /** `online`/`offline` as the agent last said; offline until it has said anything. */
  agentAvailability(site: string, agent: string): string {
    return this.status.get(k2(site, agent))?.state === 'online' ? ONLINE : OFFLINE;
  }

  /** The state payload of one entity, as Home Assistant reads it. */
  stateOf(m: DiscoveryMessage): string {
    const ref = { site: m.site, shelf: m.shelf, lane: m.lane };
    const key = k3(m.site, m.shelf, m.lane);
    const level = this.levels.get(key);
    const onOff = (b: boolean) => (b ? 'ON' : 'OFF');
    switch (m.kind) {
      case 'count':
        return level ? String(level.units) : UNKNOWN;
      case 'fill':
        return level?.fill != null ? String(Math.round(level.fill * 1000) / 10) : UNKNOWN;
      case 'weight':
        // Whole grams: finer digits are noise, and each change would write a recorder row.
        return level ? String(Math.round(level.grams)) : UNKNOWN;
      case 'confidence':
        return level ? String(Math.round(level.confidence * 100)) : UNKNOWN;
      case 'low_stock': {
        if (!level) return 'OFF';
        const rop = this.s.rules?.()?.status(ref)?.reorderPoint ?? null;
        return onOff(level.units === 0 || (rop !== null && level.units <= rop));
      }
      case 'open_order': {
        const orders = this.s.orders?.();
        const state = orders ? orders.live(ref)?.state : this.orderStates.get(key);
        return onOff(state !== undefined && IN_FLIGHT.has(state));
      }
      case 'sensor_fault':
        return onOff(this.faulty(m, level));
    }
  }

  private faulty(m: DiscoveryMessage, level: LevelPayload | undefined): boolean {
    if (level?.state === 'fault') return true;
    const key = k3(m.site, m.shelf, m.lane);
    if (this.faultAlerts.has(key)) return true;
    const ref = { site: m.site, shelf: m.shelf, lane: m.lane };
    if (this.s.rules?.()?.status(ref)?.alerts.includes('sensor-fault')) return true;
    const health = this.health.get(k2(m.site, m.shelf));
    if (!health) return false;
    const channels = this.channelsOf(m);
    return health.channels.some((c) => channels.has(c.channel) && FAULT_HEALTH.has(c.status));
  }

  private channelsOf(m: DiscoveryMessage): Set<number> {
    const site = this.map.sites.find((s) => s.id === m.site);
    const lane = site?.shelves.find((s) => s.id === m.shelf)?.lanes.find((l) => l.id === m.lane);
    return new Set(lane?.channels ?? []);
  }

  async stop(): Promise<void> {
    for (const off of this.offs.splice(0)) await off().catch(() => undefined);
    this.listeners.clear();
  }
}
