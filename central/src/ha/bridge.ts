/**
 * A bridge client to a broker of the user's (most Home Assistant users already run Mosquitto, and
 * Home Assistant takes one broker only): its own connection and credentials, publishing discovery
 * and states for the granted sites only. Its last will marks Shelfsense unavailable there, so a
 * central that dies turns the entities unavailable instead of leaving stale values.
 */
import { readFileSync } from 'node:fs';
import type { HomeAssistantBridgeConfig, HomeAssistantConfig } from '@shelfsense/protocol';
import { childLogger } from '@shelfsense/protocol';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { availabilityTopic, type MapInput, OFFLINE } from './discovery.js';
import { HomeAssistantError, HomeAssistantErrorCodes } from './errors.js';
import { HomeAssistantPublisher } from './publisher.js';
import type { StateTracker } from './states.js';
import { mqttTransport } from './transport.js';

export interface BridgeOptions {
  bridge: HomeAssistantBridgeConfig;
  ha: HomeAssistantConfig;
  map: MapInput;
  states?: StateTracker;
  dataDir: string;
  log: Logger;
  publishTimeoutMs?: number;
  birthMinIntervalMs?: number;
}

/** The file, in the data dir, listing what this bridge published. */
export const bridgeFile = (id: string) => `ha-discovery-bridge-${id}.json`;

function readTls(b: HomeAssistantBridgeConfig): Partial<IClientOptions> {
  const t = b.tls;
  if (!t) return {};
  const read = (field: 'ca' | 'cert' | 'key') => {
    const file = t[field];
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new HomeAssistantError(
        HomeAssistantErrorCodes.CONFIG,
        `integrations.homeAssistant.bridges[${b.id}].tls.${field}: cannot read ${file}: ${(err as Error).message}`,
      );
    }
  };
  const ca = read('ca');
  const cert = read('cert');
  const key = read('key');
  return {
    rejectUnauthorized: t.rejectUnauthorized,
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(t.servername ? { servername: t.servername } : {}),
  };
}

export class HomeAssistantBridge {
  readonly publisher: HomeAssistantPublisher;
  private client: MqttClient | null = null;
  private readonly log: Logger;

  constructor(private readonly o: BridgeOptions) {
    this.log = childLogger(o.log, `ha-bridge-${o.bridge.id}`);
    this.publisher = new HomeAssistantPublisher({
      // The client exists once start() connected; the publisher uses it only after that.
      transport: {
        publish: (t, p, r) => mqttTransport(this.mqtt).publish(t, p, r),
        subscribe: (t, fn) => mqttTransport(this.mqtt).subscribe(t, fn),
        onReconnect: (fn) => mqttTransport(this.mqtt).onReconnect(fn),
      },
      map: o.map,
      config: { ...o.ha, prefix: o.bridge.prefix },
      ...(o.states ? { states: o.states } : {}),
      sites: o.bridge.sites,
      dataDir: o.dataDir,
      publishedFile: bridgeFile(o.bridge.id),
      log: this.log,
      ...(o.publishTimeoutMs !== undefined ? { publishTimeoutMs: o.publishTimeoutMs } : {}),
      ...(o.birthMinIntervalMs !== undefined ? { birthMinIntervalMs: o.birthMinIntervalMs } : {}),
    });
  }

  private get mqtt(): MqttClient {
    if (!this.client)
      throw new HomeAssistantError(HomeAssistantErrorCodes.PUBLISH, 'bridge is not connected');
    return this.client;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  private async connect(onConnect?: () => void): Promise<void> {
    const b = this.o.bridge;
    const opts: IClientOptions = {
      clientId: b.clientId ?? `shelfsense-ha-${b.id}`,
      ...(b.username !== undefined ? { username: b.username } : {}),
      ...(b.password !== undefined ? { password: b.password } : {}),
      reconnectPeriod: b.reconnectMs,
      connectTimeout: this.o.publishTimeoutMs ?? 15_000,
      clean: true,
      will: {
        topic: availabilityTopic({ prefix: b.prefix, nodeId: this.o.ha.nodeId }),
        payload: Buffer.from(OFFLINE),
        qos: 1,
        retain: true,
      },
      ...readTls(b),
    };
    const client = mqtt.connect(b.url, opts);
    client.on('error', (err) => this.log.warn({ err: err.message }, 'home assistant bridge: broker error'));
    client.on('offline', () => this.log.warn('home assistant bridge: broker unreachable, retrying'));
    this.client = client;
    if (onConnect) {
      client.on('connect', onConnect);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new HomeAssistantError(
            HomeAssistantErrorCodes.PUBLISH,
            `bridge ${b.id}: ${b.url} did not accept the connection within ${opts.connectTimeout} ms`,
          ),
        );
      }, opts.connectTimeout);
      const ok = () => {
        cleanup();
        resolve();
      };
      const cleanup = () => {
        clearTimeout(timer);
        client.off('connect', ok);
      };
      client.on('connect', ok);
    });
  }

  /**
   * Connects and publishes once connected. The user's broker may be down while central starts:
   * the client keeps retrying and publishes when it gets through, so central never waits on it.
   * `ready` settles when the first publish is done.
   */
  async start(): Promise<void> {
    const b = this.o.bridge;
    let started = false;
    let attempt: Promise<void> | null = null;
    let resolveReady: () => void = () => undefined;
    this.ready = new Promise<void>((resolve) => {
      resolveReady = resolve;
    });
    const onConnect = () => {
      if (started || attempt) return;
      attempt = this.publisher
        .start()
        .then(() => {
          started = true;
          this.client?.off('connect', onConnect);
          this.log.info({ url: b.url, sites: b.sites }, 'home assistant bridge publishing');
          resolveReady();
        })
        .catch((err: Error) =>
          this.log.error(
            { err: err.message },
            'home assistant bridge: publish failed; retrying on reconnect',
          ),
        )
        .finally(() => {
          attempt = null;
        });
    };
    await this.connect(onConnect);
  }

  /** Settles once the bridge has published (see start()). */
  ready: Promise<void> = Promise.resolve();

  /** Connects, removes every entity this bridge published, and disconnects (bridge turned off). */
  async clear(): Promise<void> {
    try {
      await this.connect();
      await this.publisher.clear();
    } finally {
      await this.close();
    }
  }

  /** Whether this bridge published anything the data dir remembers. */
  hasPublished(): boolean {
    return this.publisher.hasPublished();
  }

  update(map: MapInput): Promise<void> {
    return this.publisher.update(map);
  }

  /** Marks Shelfsense offline there (a clean end sends no last will), then disconnects. */
  async stop(): Promise<void> {
    await this.publisher.stop({ offline: this.connected });
    await this.close();
  }

  private async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await c.endAsync().catch(() => undefined);
  }
}
