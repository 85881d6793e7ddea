/**
 * The central MQTT broker: aedes with Shelfsense authentication, ACLs, guards and counters, on
 * TCP, TLS and WebSocket. One start()/stop() lifecycle; stop() releases every server, socket,
 * client, timer and file handle it opened.
 */
import { readFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { resolve } from 'node:path';
import type { CentralConfig } from '@shelfsense/protocol';
import { childLogger, ShelfMap } from '@shelfsense/protocol';
import { Aedes, type Client } from 'aedes';
import { type Logger, pino } from 'pino';
import type { Registry } from 'prom-client';
import type { TokenClaims } from '../auth/tokens.js';
import { type Identity, UserStore } from '../auth/user-store.js';
import { canRead, canSubscribe, TopicCache } from './acl.js';
import {
  DuplicateFilterSuback,
  filterCount,
  GuardError,
  inspectPackets,
  installBacklogLimit,
  installRoutingTrampoline,
  limitPacketSize,
  limitQos0Deliveries,
  routingBacklog,
} from './guards.js';
import { AccessHooks, ConnackCodes } from './hooks.js';
import { publishLaneSettings } from './lane-settings.js';
import { Listeners } from './listeners.js';
import { type BrokerCounters, newCounters, registerBrokerMetrics } from './metrics.js';
import { RefusalLog } from './refusal-log.js';
import { Sessions } from './sessions.js';

type BrokerConfig = Pick<CentralConfig, 'sites' | 'skus' | 'suppliers' | 'dataDir' | 'log' | 'mqtt' | 'auth'>;

export interface MqttBrokerOptions {
  /** The validated central config. */
  config: BrokerConfig;
  /** Where users, the token secret and revisions live; default: `config.dataDir` from the cwd. */
  dataDir?: string;
  /** The HTTP(S) server that serves `/mqtt` (shared with the central HTTP API). */
  httpServer?: HttpServer | HttpsServer;
  /** prom-client registry to expose the broker's metrics on. */
  registry?: Registry;
  logger?: Logger;
  /** A shelf map built elsewhere (default: from the config). */
  map?: ShelfMap;
  /** A user store opened elsewhere (default: opened in dataDir; closed by stop() only if opened here). */
  users?: UserStore;
}

export interface BoundPorts {
  tcp: number | null;
  tls: number | null;
  /** The WebSocket listener's own port; null when it shares the HTTP server passed in. */
  ws: number | null;
}

export class MqttBroker {
  readonly map: ShelfMap;
  readonly dataDir: string;
  private readonly config: BrokerConfig;
  private readonly log: Logger;
  private readonly counterState: BrokerCounters = newCounters();
  private readonly options: MqttBrokerOptions;
  private usersStore: UserStore | null = null;
  private broker: Aedes | null = null;
  private hooks: AccessHooks | null = null;
  private sessions: Sessions | null = null;
  private refusals: RefusalLog | null = null;
  private subacks: DuplicateFilterSuback | null = null;
  private listeners: Listeners | null = null;
  private unregisterMetrics: (() => void) | null = null;
  private bound: BoundPorts = { tcp: null, tls: null, ws: null };

  constructor(options: MqttBrokerOptions) {
    this.options = options;
    this.config = options.config;
    this.dataDir = resolve(options.dataDir ?? options.config.dataDir);
    this.map = options.map ?? new ShelfMap(options.config);
    const base = options.logger ?? pino({ level: options.config.log.level });
    this.log = childLogger(base, 'broker');
  }

  get ports(): BoundPorts {
    return { ...this.bound };
  }

  /** Publishes every agent's lane settings again (after the shelf map was reloaded); changed ones get a new revision. */
  async refreshLaneSettings(): Promise<number> {
    return publishLaneSettings(this.aedes, this.map, this.dataDir, this.log);
  }

  get aedes(): Aedes {
    if (!this.broker) throw new Error('the broker is not started');
    return this.broker;
  }

  get users(): UserStore {
    if (!this.usersStore) throw new Error('the broker is not started');
    return this.usersStore;
  }

  /** A snapshot of the counters. */
  get counters(): BrokerCounters {
    const c = this.counterState;
    c.backlog = this.broker ? routingBacklog(this.broker) : 0;
    c.sessions.held = this.sessions?.ledger.sessions ?? 0;
    c.sessions.bytes = this.sessions?.ledger.bytes ?? 0;
    return structuredClone(c);
  }

  /** The identity the broker authenticated for a connected client. */
  identityOf(client: Client): Identity | undefined {
    return this.hooks?.identityOf(client);
  }

  /**
   * Closes every live connection of `user` — its tokens revoked, or it was disabled, changed or
   * removed — since a session keeps the identity it logged in with. Returns how many.
   */
  disconnectUser(user: string): number {
    const broker = this.broker;
    if (!broker) return 0;
    // aedes keeps its connected clients by id; its types do not declare the map.
    const clients = (broker as unknown as { clients: Record<string, Client | undefined> }).clients;
    let closed = 0;
    for (const client of Object.values(clients)) {
      if (!client || client.closed || this.hooks?.identityOf(client)?.user !== user) continue;
      client.close();
      closed++;
    }
    if (closed > 0) this.log.info({ user, closed }, 'closed the connections of a user');
    return closed;
  }

  issueToken(user: string, ttlMs: number = this.config.auth.tokenTtlMs): string {
    return this.users.issueToken(user, ttlMs);
  }

  verifyToken(token: string): TokenClaims {
    return this.users.verifyToken(token);
  }

  async start(): Promise<void> {
    if (this.broker) throw new Error('the broker is already started');
    const { mqtt, auth } = this.config;
    const limits = mqtt.limits;
    try {
      this.usersStore =
        this.options.users ??
        new UserStore(this.dataDir, {
          scrypt: auth.scrypt,
          verifyCacheMs: auth.verifyCacheMs,
          login: auth.login,
        });
      const counters = this.counterState;
      const refusals = new RefusalLog(this.log, limits.refusalLog);
      this.refusals = refusals;
      const hooks = new AccessHooks({
        map: this.map,
        users: this.usersStore,
        anonymous: mqtt.anonymous,
        counters,
        log: this.log,
        maxPacketBytes: limits.maxPacketBytes,
        refusals,
        // The session ledger follows every connected client and persistent session by id.
        holderOf: (clientId) => this.sessions?.ledger.ownerOf(clientId)?.user,
      });
      this.hooks = hooks;
      const topics = new TopicCache();
      const sessions = new Sessions({
        limits: limits.sessions,
        counters,
        refusals,
        log: this.log,
        mayRead: (owner, topic) => canRead(owner, topic, topics.parse(topic), this.map),
        mayHold: (client, filter) => {
          const identity = hooks.identityOf(client);
          return identity !== undefined && canSubscribe(identity, filter, this.map).ok;
        },
      });
      this.sessions = sessions;
      const broker = new Aedes({
        concurrency: limits.concurrency,
        queueLimit: limits.queueLimit,
        maxInflightInbound: limits.maxInflightInbound,
        connectTimeout: limits.connectTimeoutMs,
        drainTimeout: limits.drainTimeoutMs,
        keepaliveLimit: limits.keepaliveLimitS,
        preConnect: hooks.preConnect,
        // After the hooks' checks, the sessions' own: a user's persistent sessions are bounded.
        authenticate: (client, username, password, done) =>
          hooks.authenticate(client, username, password, (err, ok) => {
            const identity = !err && ok ? hooks.identityOf(client) : undefined;
            if (identity && !sessions.admit(client, identity)) {
              const refused = Object.assign(new Error('not authorized'), {
                returnCode: ConnackCodes.NOT_AUTHORIZED,
              });
              return done(refused, null);
            }
            done(err, ok);
          }),
        authorizePublish: hooks.authorizePublish,
        authorizeSubscribe: hooks.authorizeSubscribe,
        authorizeForward: hooks.authorizeForward,
      });
      this.broker = broker;
      installRoutingTrampoline(broker);
      installBacklogLimit(broker, limits.maxBacklog, () => {
        counters.dropped.backlog++;
      });
      this.subacks = new DuplicateFilterSuback(broker);
      this.watch(broker);
      await broker.listen();
      sessions.install(broker);
      await publishLaneSettings(broker, this.map, this.dataDir, this.log);
      if (this.options.registry) {
        this.unregisterMetrics = registerBrokerMetrics(this.options.registry, () => this.counters);
      }
      await this.listen();
      this.log.info({ ports: this.bound }, 'MQTT broker started');
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private watch(broker: Aedes): void {
    const counters = this.counterState;
    const limits = this.config.mqtt.limits;
    const handle = broker.handle;
    broker.handle = (stream, req) => {
      const client = handle(stream, req);
      const user = () => this.hooks?.identityOf(client)?.user ?? null;
      const ok = limitPacketSize(client, limits.maxPacketBytes, (bytes) => {
        counters.denied.oversize++;
        this.refusals?.warn(
          'oversize',
          { clientId: client.id, user: user(), bytes, why: 'packet too large' },
          'denied oversize',
        );
      });
      if (!ok) this.log.warn('mqtt-packet internals changed: packet size limit not enforced by the parser');
      const inspected = inspectPackets(client, (packet) => {
        const filters = filterCount(packet);
        if (filters > limits.maxFiltersPerPacket) {
          counters.denied.filters++;
          this.refusals?.warn(
            'filters',
            {
              clientId: client.id,
              user: user(),
              action: packet.cmd,
              filters,
              why: `more than ${limits.maxFiltersPerPacket} filters in one packet`,
            },
            'denied filters',
          );
          return new GuardError(
            `${filters} filters in one ${packet.cmd}; at most ${limits.maxFiltersPerPacket}`,
          );
        }
        return this.subacks ? this.subacks.rewrite(packet) : packet;
      });
      if (!inspected)
        this.log.warn('mqtt-packet internals changed: filters per packet not bounded, SUBACKs not completed');
      const bounded = limitQos0Deliveries(client, limits.maxClientOutBytes, () => {
        counters.dropped.slow_subscriber++;
      });
      if (!bounded)
        this.log.warn('aedes internals changed: QoS 0 deliveries to slow subscribers not bounded');
      if (!this.sessions?.guard(client))
        this.log.warn(
          'aedes internals changed: deliveries a persistent session did not keep are not skipped',
        );
      return client;
    };
    broker.on('clientReady', () => {
      counters.connections++;
      counters.connectionsTotal++;
    });
    broker.on('clientDisconnect', () => {
      counters.connections--;
    });
    broker.on('clientError', (client, err) => {
      this.log.debug({ clientId: client.id, err: err.message }, 'client error');
    });
    broker.on('connectionError', (_client, err) => {
      this.log.debug({ err: err.message }, 'connection error');
    });
  }

  private async listen(): Promise<void> {
    const { mqtt } = this.config;
    const broker = this.aedes;
    const listeners = new Listeners((stream, req) => broker.handle(stream, req), this.log);
    this.listeners = listeners;
    // A WebSocket frame carries at most one MQTT packet from mqtt.js; allow for framing.
    const wsMax = mqtt.limits.maxPacketBytes + 16;
    if (mqtt.port !== false) this.bound.tcp = await listeners.tcp(mqtt.host, mqtt.port);
    if (mqtt.tls) {
      const t = mqtt.tls;
      this.bound.tls = await listeners.tls(t.host ?? mqtt.host, t.port, {
        cert: readFileSync(t.certFile),
        key: readFileSync(t.keyFile),
        ...(t.caFile ? { ca: readFileSync(t.caFile) } : {}),
        requestCert: t.requestClientCert,
        rejectUnauthorized: t.requestClientCert,
      });
    }
    if (mqtt.websocket.enabled) {
      if (this.options.httpServer) listeners.websocket(this.options.httpServer, mqtt.websocket.path, wsMax);
      else if (mqtt.websocket.port !== undefined) {
        this.bound.ws = await listeners.websocketOwnServer(
          mqtt.host,
          mqtt.websocket.port,
          mqtt.websocket.path,
          wsMax,
        );
      }
    }
  }

  /** Stops accepting, disconnects every client, closes the broker and the user store. */
  async stop(): Promise<void> {
    const listeners = this.listeners;
    const broker = this.broker;
    this.listeners = null;
    this.broker = null;
    this.unregisterMetrics?.();
    this.unregisterMetrics = null;
    const closingListeners = listeners?.close();
    this.sessions?.stop();
    if (broker) await new Promise<void>((r) => broker.close(() => r()));
    await closingListeners;
    this.sessions = null;
    this.subacks = null;
    this.refusals?.close();
    this.refusals = null;
    if (this.usersStore && this.usersStore !== this.options.users) this.usersStore.close();
    this.usersStore = null;
    this.hooks = null;
    this.bound = { tcp: null, tls: null, ws: null };
    this.counterState.connections = 0;
  }
}
