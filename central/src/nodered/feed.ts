/**
 * The live data the Shelfsense Node-RED nodes see: lane levels and order events, as one small
 * event hub. It is fed from central's own parts — ingest's committed readings (each level once,
 * duplicates already dropped by (agent, seq)) and the order events central publishes on its bus —
 * so no node opens a broker connection of its own.
 *
 * Delivery to flows is live, at most once: an event that happens while Node-RED is stopped or the
 * central client is reconnecting is not replayed. The webhook outbox is the at-least-once channel.
 */
import { EventEmitter } from 'node:events';
import type { LaneRef, ShelfMap } from '@shelfsense/protocol';
import { filters, type LevelPayload as LevelPayloadType, type OrderEvent } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.js';
import type { ReadingInput } from '../store/readings.js';

/** One lane's level as a flow receives it (msg.payload of the "shelf level" node). */
export interface LaneLevel extends LaneRef {
  /** The SKU the agent reports for the lane (null until it has lane settings). */
  sku: string | null;
  /** The supplier the shelf map gives the lane (null for a lane the map does not know). */
  supplier: string | null;
  units: number;
  grams: number;
  /** units / capacity; null when the capacity is unknown. */
  fill: number | null;
  stable: boolean;
  confidence: number;
  state: LevelPayloadType['state'];
  agent: string;
  ts: number;
}

export interface FeedEvents {
  level: [LaneLevel];
  order: [OrderEvent];
}

/** What the feed needs from ingest: its `committed` event. */
export interface CommitSource {
  on(event: 'committed', listener: (accepted: ReadingInput[]) => void): unknown;
  off(event: 'committed', listener: (accepted: ReadingInput[]) => void): unknown;
}

export interface FeedCounters {
  levels: number;
  orders: number;
  /** MQTT payloads refused by their schema. */
  invalid: number;
}

export class ShelfsenseFeed extends EventEmitter<FeedEvents> {
  readonly counters: FeedCounters = { levels: 0, orders: 0, invalid: 0 };
  private readonly detach: (() => void | Promise<void>)[] = [];

  constructor(
    private readonly map: ShelfMap,
    private readonly log: Logger,
  ) {
    super();
    // One listener per node in the flows: no fixed limit. (The node API catches what they throw.)
    this.setMaxListeners(0);
  }

  /** Lane levels from ingest: every committed level reading. */
  attachIngest(source: CommitSource): void {
    const onCommitted = (accepted: ReadingInput[]) => {
      for (const r of accepted) if (r.kind === 'level') this.pushLevel(r, r.payload);
    };
    source.on('committed', onCommitted);
    this.detach.push(() => {
      source.off('committed', onCommitted);
    });
  }

  /** Order events (and, without ingest, levels) from central's bus. */
  async attachBus(bus: Bus, what: { orders: boolean; levels: boolean }): Promise<void> {
    const onInvalid = (topic: string, err: Error) => {
      this.counters.invalid++;
      this.log.debug({ topic, err: err.message }, 'node-red feed ignored an invalid message');
    };
    if (what.orders)
      this.detach.push(
        await bus.subscribe(filters.laneKind('order'), (_r, e) => this.pushOrder(e), { onInvalid }),
      );
    if (what.levels)
      this.detach.push(
        await bus.subscribe(filters.laneKind('level'), (ref, p) => this.pushLevel(ref, p), { onInvalid }),
      );
  }

  pushLevel(ref: LaneRef, p: LevelPayloadType): void {
    this.counters.levels++;
    if (this.listenerCount('level') === 0) return;
    const level: LaneLevel = {
      site: ref.site,
      shelf: ref.shelf,
      lane: ref.lane,
      sku: p.sku,
      supplier: this.map.supplierOf(ref.site, ref.shelf, ref.lane) ?? null,
      units: p.units,
      grams: p.grams,
      fill: p.fill,
      stable: p.stable,
      confidence: p.confidence,
      state: p.state,
      agent: p.agent,
      ts: p.ts,
    };
    this.emit('level', level);
  }

  pushOrder(e: OrderEvent): void {
    this.counters.orders++;
    this.emit('order', e);
  }

  /** Detaches from every source; listeners stay registered but receive nothing more. */
  async stop(): Promise<void> {
    for (const d of this.detach.splice(0)) {
      try {
        await d();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'node-red feed: error while detaching');
      }
    }
  }
}
