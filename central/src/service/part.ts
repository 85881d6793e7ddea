/**
 * A part of the central service: something that starts, runs and stops (the store, the broker,
 * ingest, the rules, the HTTP API …). The central process is an ordered list of parts; each gets a
 * context with the one bus, the store, its own logger, the clock and the metrics registry, and
 * finds what earlier parts provide in `services`.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { MqttBroker, UserStore } from '@shelfsense/broker';
import { type CentralConfig, ErrorCodes, ShelfError, type ShelfMap } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Bus } from '../bus/bus.js';
import type { HistoryService } from '../history/service.js';
import type { CatalogueAccess, CommandRelay } from '../http/deps.js';
import type { LiveState } from '../http/live-state.js';
import type { Notifier } from '../notify/notifier.js';
import type { OrderService } from '../orders/orders.js';
import type { PurchaseOrderService } from '../orders/purchase-orders.js';
import type { RulesEngine } from '../rules/engine.js';
import type { CentralStore } from '../store/repositories.js';
import type { WebhookWorker } from '../webhooks/worker.js';
import type { Ingest } from './ingest.js';

/** Mounted on the central HTTP server; returns false for requests it does not own. */
export type HttpMount = (req: IncomingMessage, res: ServerResponse) => Promise<boolean> | boolean;

export interface Clock {
  now(): number;
}

/** What the parts that have started provide to those after them. */
export interface Services {
  history?: HistoryService;
  orders?: OrderService;
  purchaseOrders?: PurchaseOrderService;
  rules?: RulesEngine;
  worker?: WebhookWorker;
  broker?: MqttBroker;
  users?: UserStore;
  ingest?: Ingest;
  commands?: CommandRelay & { readonly invalid: number };
  live?: LiveState;
  /** The live catalogue: the effective config, and taking up a new version at once. */
  catalogue?: CatalogueAccess;
  /** Notices to e-mail and chat (`publish(notice)`); absent while notifications are off. */
  notifier?: Notifier;
}

export interface PartContext {
  readonly config: Readonly<CentralConfig>;
  readonly map: ShelfMap;
  readonly dataDir: string;
  readonly store: CentralStore;
  readonly bus: Bus;
  readonly log: Logger;
  readonly clock: Clock;
  readonly registry: Registry;
  /** The central HTTP server, not yet listening while parts start (the broker serves WebSocket on it). */
  readonly server: Server;
  readonly services: Services;
  /** Adds a handler to the HTTP server, after those mounted before it. */
  mount(m: HttpMount): void;
}

export interface Part {
  readonly name: string;
  start(ctx: PartContext): Promise<void> | void;
  stop(): Promise<void> | void;
  /**
   * The catalogue changed while central runs: `ctx.config` and `ctx.map` already hold the new one.
   * Called on the started parts, in start order; a part without it reads them when it needs them.
   */
  reconfigure?(ctx: PartContext): Promise<void> | void;
}

/** A part that failed to start: its name, and what went wrong. */
export class PartStartError extends ShelfError {
  constructor(
    readonly part: string,
    cause: Error,
  ) {
    super(ErrorCodes.INVALID, `${part}: ${cause.message}`);
    this.name = 'PartStartError';
  }
}

/**
 * Starts `parts` in order. When one fails, the ones started stop in reverse order and the error
 * names the part; `ctxFor` gives each part its context (its own child logger). `started` fills as
 * they start, so the caller sees the running parts while later ones still start.
 */
export async function startParts(
  parts: readonly Part[],
  ctxFor: (part: Part) => PartContext,
  log: Logger,
  started: Part[] = [],
): Promise<Part[]> {
  for (const part of parts) {
    try {
      await part.start(ctxFor(part));
      started.push(part);
    } catch (err) {
      log.error({ err: (err as Error).message, failed: part.name }, 'central part failed to start');
      // A part that half-started may hold resources: it stops too, first.
      await stopParts([...started, part], log);
      throw err instanceof PartStartError ? err : new PartStartError(part.name, err as Error);
    }
  }
  return started;
}

/** Stops `parts` in reverse order; an error is logged and the rest still stop. */
export async function stopParts(parts: readonly Part[], log: Logger): Promise<void> {
  for (const part of [...parts].reverse()) {
    try {
      await part.stop();
    } catch (err) {
      log.warn({ err: (err as Error).message, stopping: part.name }, 'error while stopping');
    }
  }
}
