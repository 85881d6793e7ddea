/**
 * The central side in one process: an ordered list of parts (store, history, orders, rules,
 * webhooks, the MQTT broker, the bus, ingest, commands, metrics, then the HTTP-facing parts and the
 * HTTP listener). Each part starts with a context holding the one bus, the store, its own logger,
 * the clock and the metrics registry; a part that fails to start is named, and the ones started
 * stop in reverse order. The `parts.*` switches in the config leave parts out.
 *
 *   const central = new Central({ config, parts: serviceParts() }); await central.start(); … await central.stop();
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { MqttBroker } from '@shelfsense/broker';
import {
  type Catalogue,
  type CentralConfig,
  childLogger,
  ErrorCodes,
  ShelfError,
  ShelfMap,
  withCatalogue,
} from '@shelfsense/protocol';
import { type Logger, pino } from 'pino';
import { Registry } from 'prom-client';
import { MqttBus } from '../bus/bus.js';
import type { HistoryService } from '../history/service.js';
import type { OrderService } from '../orders/orders.js';
import { cataloguePart } from '../parts/catalogue.js';
import {
  type ClosableStore,
  historyPart,
  ordersPart,
  rulesPart,
  storePart,
  webhooksPart,
} from '../parts/core.js';
import { apiPart, dashboardPart, homeAssistantPart, listenPart, nodeRedPart } from '../parts/http.js';
import { metricsPart } from '../parts/metrics.js';
import { brokerPart, busPart, commandsPart, ingestPart } from '../parts/mqtt.js';
import { notifyPart } from '../parts/notify.js';
import type { RulesEngine } from '../rules/engine.js';
import { Store } from '../store/store.js';
import type { WebhookWorker } from '../webhooks/worker.js';
import type { Ingest } from './ingest.js';
import { type HttpMount, type Part, type PartContext, type Services, startParts, stopParts } from './part.js';
import { defaultMetrics } from './prom.js';

export interface CentralOptions {
  config: Readonly<CentralConfig>;
  logger?: Logger;
  /** Parts run after the core ones and before the HTTP listener, in order (see serviceParts). */
  parts?: readonly Part[];
  /** Opens the store instead of the SQLite file in the data dir (a web node: Postgres). */
  openStore?: () => ClosableStore | Promise<ClosableStore>;
}

/** The HTTP-facing parts `shelfsense central` runs: the API, Node-RED, Home Assistant, the dashboard. */
export function serviceParts(): Part[] {
  return [apiPart(), nodeRedPart(), homeAssistantPart(), dashboardPart()];
}

export class Central {
  private effective: Readonly<CentralConfig>;
  /** The catalogue version running (0 until the catalogue part has started). */
  catalogueVersion = 0;
  readonly log: Logger;
  readonly registry = new Registry();
  readonly map: ShelfMap;
  readonly dataDir: string;
  readonly bus: MqttBus;
  readonly services: Services = {};
  private openStore: ClosableStore | null = null;
  private readonly server: Server;
  private readonly mounts: HttpMount[] = [];
  private started: Part[] = [];

  constructor(private readonly options: CentralOptions) {
    this.effective = options.config;
    this.log = options.logger ?? pino({ level: options.config.log.level }, pino.destination(2));
    this.map = new ShelfMap(options.config);
    this.dataDir = resolve(options.config.dataDir);
    this.bus = new MqttBus(childLogger(this.log, 'bus'));
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err: Error) => {
        this.log.error({ err: err.message, url: req.url }, 'http handler failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'SHELF_ERR_INTERNAL', message: 'internal error' } }));
      });
    });
  }

  /** The process settings, with the catalogue the store holds once the catalogue part has started. */
  get config(): Readonly<CentralConfig> {
    return this.effective;
  }

  private useCatalogue(catalogue: Catalogue, version: number): void {
    this.effective = withCatalogue(this.options.config, catalogue);
    this.map.reload(catalogue);
    this.catalogueVersion = version;
  }

  /**
   * Takes up the store's newest catalogue while running: the config and the shelf map first (so
   * the broker decides with it from the next message), then each started part that reconfigures.
   */
  async reloadCatalogue(): Promise<void> {
    const current = this.openStore?.catalogue.current();
    if (!current || current.version <= this.catalogueVersion) return;
    this.useCatalogue(current.catalogue, current.version);
    for (const part of this.started) {
      try {
        await part.reconfigure?.(this.context(part));
      } catch (err) {
        this.log.error({ err: (err as Error).message, failed: part.name }, 'part not reconfigured');
      }
    }
    this.log.info({ version: current.version, actor: current.actor }, 'catalogue applied');
  }

  /** The SQLite store, when central runs on one (see `centralStore` for any). */
  get store(): Store | null {
    return this.openStore instanceof Store ? this.openStore : null;
  }

  get centralStore(): ClosableStore | null {
    return this.openStore;
  }
  get orders(): OrderService | null {
    return this.services.orders ?? null;
  }
  get rules(): RulesEngine | null {
    return this.services.rules ?? null;
  }
  get worker(): WebhookWorker | null {
    return this.services.worker ?? null;
  }
  get broker(): MqttBroker | null {
    return this.services.broker ?? null;
  }
  get ingest(): Ingest | null {
    return this.services.ingest ?? null;
  }
  get history(): HistoryService | null {
    return this.services.history ?? null;
  }

  get httpPort(): number | null {
    const a = this.server.address() as AddressInfo | null;
    return a ? a.port : null;
  }

  get mqttPort(): number | null {
    return this.broker?.ports.tcp ?? null;
  }

  /** The parts this config runs, in start order. */
  partList(): Part[] {
    const c = this.config;
    const open = async () => {
      this.openStore = this.options.openStore
        ? await this.options.openStore()
        : Store.open({
            file: c.ingest.storeFile ?? join(this.dataDir, 'central.db'),
            gapTimeoutMs: c.ingest.gapTimeoutMs,
          });
      return this.openStore;
    };
    return [
      storePart(open),
      cataloguePart(
        (catalogue, version) => this.useCatalogue(catalogue, version),
        () => this.reloadCatalogue(),
        () => this.config,
      ),
      historyPart(),
      ordersPart(),
      ...(c.parts.rules ? [rulesPart()] : []),
      ...(c.parts.webhooks ? [webhooksPart()] : []),
      ...(c.parts.broker ? [brokerPart(this.bus)] : []),
      busPart(this.bus),
      ...(c.parts.ingest ? [ingestPart()] : []),
      commandsPart(),
      metricsPart(),
      ...(this.options.parts ?? []),
      ...(c.notifications?.enabled ? [notifyPart()] : []),
      ...(c.parts.http ? [listenPart()] : []),
    ];
  }

  private context(part: Part): PartContext {
    const central = this;
    return {
      config: this.config,
      map: this.map,
      dataDir: this.dataDir,
      get store(): ClosableStore {
        if (!central.openStore) throw new Error(`${part.name} needs the store, which is not open`);
        return central.openStore;
      },
      bus: this.bus,
      log: childLogger(this.log, part.name),
      clock: Date,
      registry: this.registry,
      server: this.server,
      services: this.services,
      mount: (m) => this.mounts.push(m),
    };
  }

  async start(): Promise<void> {
    const c = this.config;
    if (!c.parts.broker && !c.externalBroker) {
      throw new ShelfError(
        ErrorCodes.INVALID,
        'invalid central config: externalBroker: required when parts.broker is false',
        [{ path: 'externalBroker', message: 'required when parts.broker is false' }],
      );
    }
    defaultMetrics(this.registry);
    this.started = [];
    await startParts(this.partList(), (p) => this.context(p), this.log, this.started);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/metrics' && this.config.http.metricsPublic) {
      const body = await this.registry.metrics();
      res.writeHead(200, { 'content-type': this.registry.contentType }).end(body);
      return;
    }
    if (path === '/healthz') {
      const ok = !!this.openStore?.isOpen && (this.ingest ? this.bus.connected : true);
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ok }));
      return;
    }
    for (const m of this.mounts) if (await m(req, res)) return;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'SHELF_ERR_NOT_FOUND', message: `no route for ${path}` } }));
  }

  async stop(): Promise<void> {
    const parts = this.started.splice(0);
    await stopParts(parts, this.log);
    this.mounts.length = 0;
  }
}
