/**
 * The API the Shelfsense Node-RED nodes use in the embedded editor, handed to them by the runtime
 * as `RED.settings.shelfsense` (see node-red-contrib-shelfsense/lib/embedded.js). Nodes without a
 * config node reach the central side only this way: they subscribe to the feed and move orders
 * through the OrderService, with the same validation and state machine as the HTTP API.
 */
import type { Actor, LaneInfo, OrderEvent, ShelfMap } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Order, OrderService } from '../orders/orders.js';
import { NodeRedError, NodeRedErrorCodes } from './errors.js';
import type { LaneLevel, ShelfsenseFeed } from './feed.js';

/** Bumped when a change would break nodes written against an older API. */
export const NODE_API_VERSION = 1;

/** What an "order update" node asks for (msg.payload, completed by the node's own settings). */
export const OrderUpdateRequest = z.strictObject({
  orderId: z.string().min(1).max(64),
  action: z.enum(['acknowledge', 'ship']),
  /** Items actually shipped (default: the ordered quantity); only with `ship`. */
  shippedQuantity: z.number().int().positive().optional(),
});
export type OrderUpdateRequest = z.infer<typeof OrderUpdateRequest>;

const TARGET = { acknowledge: 'acknowledged', ship: 'shipped' } as const;

export interface OrderUpdateResult {
  order: Order;
  /** False when the order was already in the requested state (a repeated request is harmless). */
  changed: boolean;
}

export interface ShelfsenseNodeApi {
  readonly version: number;
  /** Calls `listener` with every lane level; returns the function that stops it. */
  onLevel(listener: (level: LaneLevel) => void): () => void;
  /** Calls `listener` with every order event; returns the function that stops it. */
  onOrderEvent(listener: (event: OrderEvent) => void): () => void;
  /** Acknowledges or ships an order. `nodeId` names the flow node, as the actor of the change. */
  updateOrder(request: unknown, nodeId: string): OrderUpdateResult;
  /** The shelf map's lanes (site, shelf, lane, SKU, supplier …). */
  lanes(): readonly LaneInfo[];
}

export interface NodeApiDeps {
  feed: ShelfsenseFeed;
  orders: OrderService;
  map: ShelfMap;
  log: Logger;
}

/** The actor recorded for a change made by a flow: only admins can deploy flows. */
export function flowActor(nodeId: string): Actor {
  const id = /^[A-Za-z0-9._-]{1,48}$/.test(nodeId) ? nodeId : 'unknown';
  return { user: `node-red:${id}`, role: 'admin' };
}

export function createNodeApi(deps: NodeApiDeps): ShelfsenseNodeApi {
  const { feed, orders, map, log } = deps;
  const lanes = allLanes(map);

  function guard<T>(event: string, listener: (v: T) => void): (v: T) => void {
    return (v) => {
      try {
        listener(v);
      } catch (err) {
        // A faulty node must not stop the others from receiving.
        log.warn({ err: (err as Error).message, event }, 'a Shelfsense node failed on a message');
      }
    };
  }

  return Object.freeze({
    version: NODE_API_VERSION,
    onLevel(listener: (level: LaneLevel) => void) {
      const l = guard('level', listener);
      feed.on('level', l);
      return () => {
        feed.off('level', l);
      };
    },
    onOrderEvent(listener: (event: OrderEvent) => void) {
      const l = guard('order', listener);
      feed.on('order', l);
      return () => {
        feed.off('order', l);
      };
    },
    updateOrder(request: unknown, nodeId: string): OrderUpdateResult {
      const r = OrderUpdateRequest.safeParse(request);
      if (!r.success) {
        const issues = r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
        throw new NodeRedError(
          NodeRedErrorCodes.REQUEST,
          `invalid order update: ${issues.map((i) => `${i.path || '(payload)'}: ${i.message}`).join('; ')}`,
          issues,
        );
      }
      const { orderId, action, shippedQuantity } = r.data;
      const result = orders.transition(orderId, TARGET[action], {
        actor: flowActor(nodeId),
        ...(shippedQuantity !== undefined ? { shippedQuantity } : {}),
      });
      return { order: result.order, changed: result.event !== null };
    },
    lanes: () => lanes,
  });
}

/** Every lane of the map, agent by agent in config order. */
function allLanes(map: ShelfMap): LaneInfo[] {
  return map.agents().flatMap(({ site, agent }) =>
    map
      .laneSettingsFor(site, agent)
      .shelves.flatMap((s) => s.lanes.map((l) => map.lane(site, s.shelf, l.lane)))
      .filter((l): l is LaneInfo => l !== undefined),
  );
}
