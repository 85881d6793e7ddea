/**
 * What the HTTP API needs from the rest of the central side. The API owns none of these: the
 * central wiring builds them and passes them in, so tests can run the API on real parts.
 */

import type { UserStore } from '@shelfsense/broker';
import type { CentralConfig, ShelfMap } from '@shelfsense/protocol';
import {
  type Actor,
  type AlertEvent,
  type CommandName,
  type CommandResponse,
  type HealthPayload,
  ShelfError,
} from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { HistoryStore } from '../history/contract.js';
import { SqliteHistoryStore } from '../history/sqlite-store.js';
import type { OrderService } from '../orders/orders.js';
import type { PurchaseOrderService } from '../orders/purchase-orders.js';
import type { ReplenishmentConfig } from '../rules/config.js';
import type { RulesEngine } from '../rules/engine.js';
import type { CentralStore } from '../store/repositories.js';

/** Codes a CommandRelay rejects with; the API answers 504 and 503 for them. */
export const CommandRelayErrorCodes = {
  /** The agent did not answer within the command timeout. */
  TIMEOUT: 'SHELF_ERR_TIMEOUT',
  /** The request could not be sent (no broker connection). */
  UNAVAILABLE: 'SHELF_ERR_UNAVAILABLE',
} as const;

export type CommandRelayErrorCode = (typeof CommandRelayErrorCodes)[keyof typeof CommandRelayErrorCodes];

export class CommandRelayError extends ShelfError<CommandRelayErrorCode> {
  constructor(code: CommandRelayErrorCode, message: string) {
    super(code, message);
    this.name = 'CommandRelayError';
  }
}

/**
 * Sends a technician command to an agent and awaits its reply. The central wiring implements it
 * over MQTT: it publishes a CommandRequest with `actor` (the user the API authenticated — never a
 * name from the request body) and resolves with the agent's CommandResponse, or rejects with a
 * CommandRelayError (`SHELF_ERR_TIMEOUT` when the agent does not answer in time).
 */
export interface CommandRelay {
  send(
    site: string,
    agent: string,
    command: CommandName,
    args: Record<string, unknown>,
    actor: Actor,
  ): Promise<CommandResponse>;
}

/** A shelf an agent reports that the catalogue does not know. */
export interface UnassignedShelf {
  site: string;
  agent: string;
  serial: string;
  /** Load-cell channels, when the agent reports them. */
  channels: number | null;
  agentOnline: boolean;
  /** When the agent last reported it, epoch ms. */
  seenAt: number;
}

/** The last agent status and shelf health central has heard (see live-state.ts for one). */
export interface LiveStatusSource {
  agentStatus(site: string, agent: string): { state: 'online' | 'offline'; ts: number } | undefined;
  shelfHealth(site: string, shelf: string): HealthPayload | undefined;
  /** Shelves agents report that the shelf map does not know. */
  unassigned?(): UnassignedShelf[];
}

/** The catalogue in force and how to make a change take effect at once. */
export interface CatalogueAccess {
  /** The effective config (process settings with the catalogue in force). */
  config(): CentralConfig;
  /** Reads the store's newest catalogue into every part now, not at the next poll. */
  reload(): Promise<void>;
}

export interface SkuInfo {
  id: string;
  name?: string | undefined;
}

export interface ApiDeps {
  /**
   * Logins (through its limiter), and issuing and verifying tokens. In central this is the
   * broker's own store, so HTTP and MQTT share one login limiter and one token check, and a token
   * from the API is an MQTT password.
   */
  users: UserStore;
  map: ShelfMap;
  store: CentralStore;
  /**
   * Where the history route and the CSV export read level and event history (central's
   * `HistoryService.store`: SQLite or InfluxDB). Default: the SQLite history of `store`.
   */
  history?: HistoryStore;
  orders: OrderService;
  /** Purchase orders; without them the purchase-order routes answer 503. */
  purchaseOrders?: PurchaseOrderService;
  /** Forecasts and the reorder point in force; null when the rules run elsewhere. */
  rules: RulesEngine | null;
  /** Reorder point and order-up-to per lane for the lane view (used as is when `rules` is null). */
  replenishment: ReplenishmentConfig;
  commands: CommandRelay;
  log: Logger;
  /** Central clock (ms); injectable for tests. */
  clock?: () => number;
  /** Lifetime of the tokens the API issues. */
  tokenTtlMs: number;
  /** SKU names for the lane view (the central config's `skus`). */
  skus?: readonly SkuInfo[];
  /** Agent status and shelf health for the lane view; fields read null without it. */
  live?: LiveStatusSource;
  /** A lane with no level reading for this long is offline (central `timing.offlineAfterMs`). */
  offlineAfterMs?: number;
  /** Counts requests by route, method and status (`shelfsense_http_requests_total`). */
  registry?: Registry;
  /** Called after an alert changed through the API (to publish it on MQTT). */
  onAlert?: (event: AlertEvent) => void;
  /** The webhook worker, woken after a dead letter is re-queued. */
  webhooks?: { notify(): void };
  /** The live catalogue (central); without it the catalogue routes answer 503. */
  catalogue?: CatalogueAccess;
  /**
   * Closes a user's live MQTT connections and returns how many (its tokens were revoked, or it
   * was disabled, changed or removed). Absent when the broker runs elsewhere: the users routes
   * then answer `disconnected: null`.
   */
  disconnectUser?: (user: string) => number;
}

const sqliteHistory = new WeakMap<CentralStore, HistoryStore>();

/** The history store the API reads: `deps.history`, else (one per store) the SQLite adapter over `deps.store`. */
export function historyOf(deps: Pick<ApiDeps, 'history' | 'store'>): HistoryStore {
  if (deps.history) return deps.history;
  let h = sqliteHistory.get(deps.store);
  if (!h) {
    h = new SqliteHistoryStore(deps.store);
    sqliteHistory.set(deps.store, h);
  }
  return h;
}
