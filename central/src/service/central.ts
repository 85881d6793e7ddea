/**
 * The central side in one process: store, orders, rules, webhook delivery, the MQTT broker, ingest
 * and the HTTP server (API, dashboard, MQTT over WebSocket, metrics). Each part starts inside its
 * own try/catch so a failure names the part; parts can be switched off in the config (for example
 * the embedded broker, to run against Mosquitto or EMQX).
 *
 *   const central = new Central({ config }); await central.start(); … await central.stop();
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { MqttBroker } from '@shelfsense/broker';
import {
  type AlertEvent,
  type CentralConfig,
  childLogger,
  clientIds,
  ErrorCodes,
  ensurePrivateDir,
  type OrderEvent,
  ShelfError,
  ShelfMap,
  topics,
} from '@shelfsense/protocol';
import { type Logger, pino } from 'pino';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { HistoryService, registerHistoryMetrics } from '../history/index.js';
import { OrderService } from '../orders/orders.js';
import { RulesEngine } from '../rules/engine.js';
import { lanesFromCentral } from '../rules/lanes.js';
import { Store } from '../store/store.js';
import { WebhookWorker } from '../webhooks/worker.js';
import { MqttCommandRelay } from './command-relay.js';
import { Ingest } from './ingest.js';
import { ensureServiceIdentity } from './service-identity.js';

/** What the HTTP API needs from the running central side (see http/deps.ts). */
export interface CentralParts {
  config: Readonly<CentralConfig>;
  map: ShelfMap;
  store: Store;
  orders: OrderService;
  rules: RulesEngine | null;
  broker: MqttBroker | null;
  relay: MqttCommandRelay;
  ingest: Ingest | null;
  worker: WebhookWorker | null;
  history: HistoryService | null;
  /** The central HTTP server (for parts that attach to it, such as Node-RED). */
  server: Server;
  dataDir: string;
  /** Registers a stop hook, run before the parts central itself started are stopped. */
  onStop(fn: () => Promise<void> | void): void;
  registry: Registry;
  log: Logger;
  /** Publishes an alert change on MQTT (for alerts acknowledged through the API). */
  publishAlert(a: AlertEvent): void;
}

/** Mounted on the central HTTP server; returns false for requests it does not own. */
export type HttpMount = (req: IncomingMessage, res: ServerResponse) => Promise<boolean> | boolean;

export interface CentralOptions {
  config: Readonly<CentralConfig>;
  logger?: Logger;
  /** Builds the handlers mounted on the HTTP server, in order (API, dashboard, Node-RED …). */
  mounts?: (parts: CentralParts) => HttpMount[] | Promise<HttpMount[]>;
}

export class Central {
  readonly config: Readonly<CentralConfig>;
  readonly log: Logger;
  readonly registry = new Registry();
  readonly map: ShelfMap;
  readonly dataDir: string;
  store: Store | null = null;
  orders: OrderService | null = null;
  rules: RulesEngine | null = null;
  worker: WebhookWorker | null = null;
  broker: MqttBroker | null = null;
  ingest: Ingest | null = null;
  relay: MqttCommandRelay | null = null;
  history: HistoryService | null = null;
  private http: Server | null = null;
  private mounts: HttpMount[] = [];
  private readonly stops: (() => Promise<void> | void)[] = [];

  constructor(private readonly options: CentralOptions) {
    this.config = options.config;
    this.log = options.logger ?? pino({ level: options.config.log.level }, pino.destination(2));
    this.map = new ShelfMap(options.config);
    this.dataDir = resolve(options.config.dataDir);
  }

  private async part<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      childLogger(this.log, name).error({ err: (err as Error).message }, 'central part failed to start');
      throw new ShelfError(ErrorCodes.INVALID, `${name}: ${(err as Error).message}`);
    }
  }

  get httpPort(): number | null {
    const a = this.http?.address() as AddressInfo | null | undefined;
    return a ? a.port : null;
  }

  get mqttPort(): number | null {
    return this.broker?.ports.tcp ?? null;
  }

  async start(): Promise<void> {
    const c = this.config;
    const log = this.log;
    if (!c.parts.broker && !c.externalBroker) {
      throw new ShelfError(
        ErrorCodes.INVALID,
        'invalid central config: externalBroker: required when parts.broker is false',
        [{ path: 'externalBroker', message: 'required when parts.broker is false' }],
      );
    }
    collectDefaultMetrics({ register: this.registry, prefix: 'shelfsense_central_' });
    try {
      // Created 0700; an existing directory keeps its mode, reported once if others can enter it.
      await this.part('data dir', () => ensurePrivateDir(this.dataDir, log));
      const store = await this.part('store', () =>
        Store.open({
          file: c.ingest.storeFile ?? join(this.dataDir, 'central.db'),
          gapTimeoutMs: c.ingest.gapTimeoutMs,
        }),
      );
      this.store = store;
      this.stops.unshift(() => store.close());

      const history = new HistoryService({
        config: c.history,
        store,
        supplierOf: (site, shelf, lane) => this.map.supplierOf(site, shelf, lane),
        log,
      });
      await this.part('history', () => history.start());
      this.history = history;
      this.stops.unshift(() => history.stop());
      if (history.writer) registerHistoryMetrics(this.registry, history.writer);

      const orders = new OrderService(store, {
        logger: log,
        onEvent: (e) => this.onOrderEvent(e),
      });
      this.orders = orders;

      if (c.parts.rules) {
        const rules = new RulesEngine({
          store,
          orders,
          config: c.replenishment,
          lanes: lanesFromCentral(c),
          offlineAfterMs: c.timing.offlineAfterMs,
          logger: log,
        });
        rules.on('alert', (a) => this.onAlert(a));
        rules.start();
        this.rules = rules;
        this.stops.unshift(() => rules.stop());
      }

      if (c.parts.webhooks) {
        const worker = new WebhookWorker({ store, config: c.replenishment.webhooks, logger: log });
        worker.start();
        this.worker = worker;
        this.stops.unshift(() => worker.stop());
      }

      const server = createServer((req, res) => {
        this.route(req, res).catch((err: Error) => {
          log.error({ err: err.message, url: req.url }, 'http handler failed');
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'SHELF_ERR_INTERNAL', message: 'internal error' } }));
        });
      });
      this.http = server;

      let ingestUrl: string;
      let credentials: { username?: string; password?: string };
      if (c.parts.broker) {
        const broker = new MqttBroker({
          config: c,
          dataDir: this.dataDir,
          httpServer: server,
          registry: this.registry,
          logger: log,
          map: this.map,
        });
        await this.part('mqtt broker', () => broker.start());
        this.broker = broker;
        this.stops.unshift(() => broker.stop());
        const service = await ensureServiceIdentity(broker.users, this.dataDir);
        credentials = service;
        // Central's own client logs in over loopback: a lock an attacker puts on its well-known
        // name must never keep it out.
        for (const loopback of ['127.0.0.1', '::1'])
          broker.users.limiter.trust(service.username, loopback, Date.now(), Number.POSITIVE_INFINITY);
        const port = broker.ports.tcp ?? broker.ports.tls;
        ingestUrl = broker.ports.tcp ? `mqtt://127.0.0.1:${port}` : `mqtts://127.0.0.1:${port}`;
      } else {
        const ext = c.externalBroker!;
        ingestUrl = ext.url;
        credentials = {
          ...(ext.username ? { username: ext.username } : {}),
          ...(ext.passwordFile ? { password: readFileSync(ext.passwordFile, 'utf8').trim() } : {}),
        };
      }

      if (c.parts.ingest) {
        const ingest = new Ingest({
          url: ingestUrl,
          ...credentials,
          // Under the prefix the broker reserves to the service role, and not guessable.
          clientId: `${clientIds.centralPrefix}${randomUUID()}`,
          store,
          rules: this.rules,
          batchSize: c.ingest.batchSize,
          flushMs: c.ingest.flushMs,
          log: childLogger(log, 'ingest'),
          inProcess: this.broker?.aedes,
          map: this.map,
        });
        ingest.on('committed', history.onCommitted);
        ingest.on('health', history.onHealth);
        await this.part('ingest', () => ingest.start());
        this.ingest = ingest;
        this.stops.unshift(() => ingest.stop());
        this.registerMetrics(ingest);
      }
      // Commands travel on ingest's MQTT client; with ingest off, the API says so (503).
      const relay = new MqttCommandRelay(
        () => this.ingest?.mqtt ?? null,
        c.commands.timeoutMs,
        childLogger(log, 'commands'),
      );
      this.relay = relay;
      this.stops.unshift(() => relay.stop());

      this.mounts = (await this.options.mounts?.(this.parts())) ?? [];
      if (c.parts.http) {
        await this.part(
          'http',
          () =>
            new Promise<void>((res, rej) => {
              server.once('error', rej);
              server.listen(c.http.port, c.http.host, () => res());
            }),
        );
      }
      this.stops.unshift(
        () =>
          new Promise<void>((res) => {
            server.closeAllConnections?.();
            server.close(() => res());
          }),
      );
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  parts(): CentralParts {
    if (!this.store || !this.orders || !this.relay) throw new Error('central is not started');
    return {
      config: this.config,
      map: this.map,
      store: this.store,
      orders: this.orders,
      rules: this.rules,
      broker: this.broker,
      relay: this.relay,
      ingest: this.ingest,
      worker: this.worker,
      history: this.history,
      server: this.http as Server,
      dataDir: this.dataDir,
      onStop: (fn) => this.stops.unshift(fn),
      registry: this.registry,
      log: this.log,
      publishAlert: (a) => this.onAlert(a),
    };
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/metrics' && this.config.http.metricsPublic) {
      const body = await this.registry.metrics();
      res.writeHead(200, { 'content-type': this.registry.contentType }).end(body);
      return;
    }
    if (path === '/healthz') {
      const ok = !!this.store?.isOpen && (this.ingest?.connected ?? true);
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ok }));
      return;
    }
    for (const m of this.mounts) if (await m(req, res)) return;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'SHELF_ERR_NOT_FOUND', message: `no route for ${path}` } }));
  }

  private onOrderEvent(e: OrderEvent): void {
    this.worker?.notify();
    const client = this.ingest?.connected ? this.ingest.mqtt : null;
    client?.publish(topics.order(e.site, e.shelf, e.lane), JSON.stringify(e), { qos: 1 });
  }

  private onAlert(a: AlertEvent): void {
    const client = this.ingest?.connected ? this.ingest.mqtt : null;
    client?.publish(topics.alert(a.site, a.shelf, a.lane), JSON.stringify(a), { qos: 1 });
  }

  private registerMetrics(ingest: Ingest): void {
    const r = this.registry;
    const gauge = (name: string, help: string, get: () => number) =>
      new Gauge({
        name,
        help,
        registers: [r],
        collect() {
          this.set(get());
        },
      });
    gauge(
      'shelfsense_central_messages_in_total',
      'readings received by ingest',
      () => ingest.counters.received,
    );
    gauge(
      'shelfsense_central_readings_committed_total',
      'readings committed to the store',
      () => ingest.counters.committed,
    );
    gauge(
      'shelfsense_central_duplicates_dropped_total',
      'readings dropped as duplicates by (site, agent, seq)',
      () => ingest.counters.duplicates,
    );
    gauge(
      'shelfsense_central_invalid_messages_total',
      'messages refused by their schema',
      () => ingest.counters.invalid,
    );
    gauge(
      'shelfsense_central_forged_records_total',
      'records refused because their body names another agent than their topic or shelf',
      () => ingest.counters.forged,
    );
    gauge(
      'shelfsense_central_invalid_command_responses_total',
      'command responses refused by their schema',
      () => this.relay?.invalid ?? 0,
    );
    const store = this.store!;
    new Gauge({
      name: 'shelfsense_central_orders',
      help: 'orders by state',
      labelNames: ['state'],
      registers: [r],
      collect() {
        const rows = store.orderCounts();
        this.reset();
        for (const row of rows) this.set({ state: row.state }, row.n);
      },
    });
    new Gauge({
      name: 'shelfsense_central_alerts_open',
      help: 'alerts not yet cleared',
      registers: [r],
      collect() {
        this.set(store.alerts.liveCount());
      },
    });
    const outbox = this.orders!.outbox;
    if (this.worker) {
      new Gauge({
        name: 'shelfsense_central_webhook_outbox',
        help: 'webhook outbox entries by state',
        labelNames: ['state'],
        registers: [r],
        collect() {
          this.reset();
          for (const [state, n] of Object.entries(outbox.counts())) this.set({ state }, n);
        },
      });
    }
  }

  async stop(): Promise<void> {
    const stops = this.stops.splice(0);
    for (const s of stops) {
      try {
        await s();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'error while stopping');
      }
    }
  }
}
