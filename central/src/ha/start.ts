/**
 * Home Assistant as a part of central: entity states followed from central's bus, published on
 * central's own broker (in process with the embedded broker) and through each bridge client to a
 * broker of the user's. Turned off (the integration, or one bridge), it removes the entities it
 * published before, so Home Assistant is not left with dead devices.
 */
import type { CentralConfig, HomeAssistantConfig } from '@shelfsense/protocol';
import { childLogger } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.js';
import type { OrderService } from '../orders/orders.js';
import type { RulesEngine } from '../rules/engine.js';
import { HomeAssistantBridge } from './bridge.js';
import type { MapInput } from './discovery.js';
import { HomeAssistantPublisher } from './publisher.js';
import { type StateSources, StateTracker } from './states.js';
import { busTransport } from './transport.js';

export interface HomeAssistantParts {
  bus: Bus;
  dataDir: string;
  log: Logger;
  config: Pick<CentralConfig, 'sites' | 'skus'>;
  /** The rules (reorder points, fault alerts) and orders (open orders), when central runs them. */
  rules?: () => RulesEngine | undefined;
  orders?: () => OrderService | undefined;
  /** The newest stored level of each lane (central's store). */
  latest?: StateSources['latest'];
  publishTimeoutMs?: number;
  birthMinIntervalMs?: number;
}

export class HomeAssistant {
  private map: MapInput;
  constructor(
    readonly states: StateTracker,
    /** On central's own broker; null when `centralBroker: false`. */
    readonly central: HomeAssistantPublisher | null,
    readonly bridges: readonly HomeAssistantBridge[],
    map: MapInput,
  ) {
    this.map = map;
  }

  /** Counters of the publisher on central's broker (zeros without one). */
  get counters() {
    return (
      this.central?.counters ?? { published: 0, states: 0, removed: 0, births: 0, coalesced: 0, failures: 0 }
    );
  }

  /** The catalogue changed: new lanes get entities, removed lanes lose theirs, everywhere. */
  async reconfigure(map: MapInput): Promise<void> {
    this.map = map;
    this.states.setMap(map);
    await this.central?.update(this.map);
    for (const b of this.bridges) await b.update(this.map);
  }

  async stop(): Promise<void> {
    for (const b of this.bridges) await b.stop();
    await this.central?.stop({ offline: true });
    await this.states.stop();
  }
}

/** Starts Home Assistant publishing; when it is off, removes what it published and returns null. */
export async function startHomeAssistant(
  parts: HomeAssistantParts,
  config: HomeAssistantConfig,
): Promise<HomeAssistant | null> {
  const log = childLogger(parts.log, 'home-assistant');
  const timing = {
    ...(parts.publishTimeoutMs !== undefined ? { publishTimeoutMs: parts.publishTimeoutMs } : {}),
    ...(parts.birthMinIntervalMs !== undefined ? { birthMinIntervalMs: parts.birthMinIntervalMs } : {}),
  };
  const central = () =>
    new HomeAssistantPublisher({
      transport: busTransport(parts.bus),
      map: parts.config,
      config,
      ...(states ? { states } : {}),
      dataDir: parts.dataDir,
      log: parts.log,
      ...timing,
    });
  const bridge = (b: HomeAssistantConfig['bridges'][number]) =>
    new HomeAssistantBridge({
      bridge: b,
      ha: config,
      map: parts.config,
      ...(states ? { states } : {}),
      dataDir: parts.dataDir,
      log: parts.log,
      ...timing,
    });
  let states: StateTracker | null = null;

  // Off: entities published before are removed (a broker of the user's only while its bridge is
  // still configured: its address and credentials are needed to reach it).
  const clearing: HomeAssistantBridge[] = config.bridges
    .filter((b) => !config.enabled || !b.enabled)
    .map(bridge)
    .filter((b) => b.hasPublished());
  for (const b of clearing) {
    void b
      .clear()
      .catch((err: Error) => log.warn({ err: err.message }, 'home assistant bridge: entities not removed'));
  }
  if (!config.enabled || !config.centralBroker) {
    const p = central();
    if (p.hasPublished()) await p.clear();
  }
  if (!config.enabled) return null;

  states = new StateTracker({
    bus: parts.bus,
    config: parts.config,
    ...(parts.rules ? { rules: parts.rules } : {}),
    ...(parts.orders ? { orders: parts.orders } : {}),
    ...(parts.latest ? { latest: parts.latest } : {}),
    log,
  });
  await states.start();
  const known = new Set(parts.config.sites.map((s) => s.id));
  for (const b of config.bridges.filter((x) => x.enabled)) {
    const unknown = b.sites.filter((s) => !known.has(s));
    // Not an error: the catalogue may add the site later, and the bridge then publishes it.
    if (unknown.length)
      log.warn({ bridge: b.id, sites: unknown }, 'home assistant bridge: sites not in the map');
  }
  const own = config.centralBroker ? central() : null;
  const bridges = config.bridges.filter((b) => b.enabled).map(bridge);
  try {
    await own?.start();
    for (const b of bridges) await b.start();
  } catch (err) {
    for (const b of bridges) await b.stop();
    await own?.stop();
    await states.stop();
    throw err;
  }
  return new HomeAssistant(states, own, bridges, parts.config);
}
