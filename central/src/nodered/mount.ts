/**
 * Wires the embedded Node-RED into a running central:
 *
 *   const red = await mountNodeRed(server, parts, config.integrations.nodeRed);
 *   mounts.push(red.mount);          // an HttpMount serving /flows
 *   …
 *   await red.stop();
 *
 * Levels come from ingest's committed readings and order events from the central MQTT client
 * (central publishes each order event there for suppliers), so the Shelfsense nodes need no
 * broker connection of their own. Returns null when Node-RED is switched off.
 */
import type { Server } from 'node:http';
import { UserStore } from '@shelfsense/broker';
import type { CentralConfig, NodeRedConfig, ShelfMap } from '@shelfsense/protocol';
import { childLogger } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.js';
import type { OrderService } from '../orders/orders.js';
import type { HttpMount } from '../service/part.js';
import type { CommitSource } from './feed.js';
import { ShelfsenseFeed } from './feed.js';
import { NodeRedService } from './service.js';

export interface MountedNodeRed {
  mount: HttpMount;
  feed: ShelfsenseFeed;
  service: NodeRedService;
  stop(): Promise<void>;
}

export interface NodeRedParts {
  map: ShelfMap;
  orders: OrderService;
  bus: Bus;
  /** Ingest's committed readings; null when the ingest part is off. */
  ingest: CommitSource | null;
  dataDir: string;
  log: Logger;
  config: { auth: Pick<CentralConfig['auth'], 'scrypt' | 'verifyCacheMs' | 'login'> };
  /** The user store the rest of central uses (so the editor login shares its limiter). */
  users?: UserStore;
}

export async function mountNodeRed(
  server: Server,
  parts: NodeRedParts,
  config: NodeRedConfig,
): Promise<MountedNodeRed | null> {
  if (!config.enabled) return null;
  const log = parts.log;
  const feed = new ShelfsenseFeed(parts.map, childLogger(log, 'node-red-feed'));
  // The store central passes (the broker's when it runs here), so the editor login shares the one
  // login limiter; otherwise the same users.db, opened for the editor login.
  const shared = parts.users;
  const { scrypt, verifyCacheMs, login } = parts.config.auth;
  const ownUsers = shared ? null : new UserStore(parts.dataDir, { scrypt, verifyCacheMs, login });
  const users = shared ?? (ownUsers as UserStore);
  const service = new NodeRedService({
    server,
    config,
    dataDir: parts.dataDir,
    users,
    orders: parts.orders,
    map: parts.map,
    feed,
    log,
  });
  const stop = async () => {
    await service.stop();
    await feed.stop();
    ownUsers?.close();
  };
  try {
    if (parts.ingest) feed.attachIngest(parts.ingest);
    // Without ingest, levels come straight off the bus (each as the broker delivers it).
    await feed.attachBus(parts.bus, { orders: true, levels: !parts.ingest });
    await service.start();
  } catch (err) {
    await stop();
    throw err;
  }
  return { mount: service.mount, feed, service, stop };
}
