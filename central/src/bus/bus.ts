/**
 * The central bus: the one MQTT connection every part of central publishes and subscribes
 * through, typed from the contract's topic → payload map. Handlers receive parsed, validated
 * payloads; a message that fails its schema goes to the subscriber's `onInvalid`.
 *
 * With the embedded broker attached (`attachBroker`), messages are published into aedes and
 * subscriptions served by it in process, so central's own traffic never crosses loopback TCP. A
 * subscription that needs the broker's retained messages (`retained: true`: agent status, shelf
 * health) goes over the connection, which delivers them on subscribe.
 */
import { levelsMatch } from '@shelfsense/broker';
import {
  type Filter,
  PayloadSchemas,
  parseJsonWith,
  parseTopic,
  ShelfError,
  type Topic,
  type TopicPayloads,
  type TopicRef,
} from '@shelfsense/protocol';
import type { Aedes, AedesPublishPacket } from 'aedes';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';

export type BusKind = keyof TopicPayloads;
export type Handler<K extends BusKind> = (ref: TopicRef<K>, payload: TopicPayloads[K], topic: string) => void;
export type RawHandler = (topic: string, payload: Buffer) => void;
export type Unsubscribe = () => Promise<void>;

export interface SubscribeOptions {
  /** Needs the broker's retained messages on subscribe (over the connection, not in process). */
  retained?: boolean;
  /** A message on the filter that fails its schema (the default logs it at debug). */
  onInvalid?: (topic: string, err: Error) => void;
}

export interface PublishOptions {
  retain?: boolean;
}

export interface Bus {
  /** The connection to the broker is up. */
  readonly connected: boolean;
  /** A publish would reach the broker now (in process, or over the connection). */
  readonly ready: boolean;
  publish<K extends BusKind>(
    topic: Topic<K>,
    payload: TopicPayloads[K],
    opts?: PublishOptions,
  ): Promise<void>;
  subscribe<K extends BusKind>(
    filter: Filter<K>,
    handler: Handler<K>,
    opts?: SubscribeOptions,
  ): Promise<Unsubscribe>;
  /** Outside the Shelfsense tree (Home Assistant discovery): bytes as they are, no schema. */
  publishRaw(topic: string, payload: string | Buffer, opts?: PublishOptions): Promise<void>;
  subscribeRaw(
    filter: string,
    handler: RawHandler,
    opts?: Pick<SubscribeOptions, 'retained'>,
  ): Promise<Unsubscribe>;
  /** Runs `fn` after every (re)connect of the connection; returns "off". */
  onConnect(fn: () => void): () => void;
}

export class BusError extends ShelfError<'SHELF_ERR_UNAVAILABLE'> {
  constructor(message: string) {
    super('SHELF_ERR_UNAVAILABLE', message);
    this.name = 'BusError';
  }
}

const WHAT: Record<BusKind, string> = {
  level: 'level',
  event: 'event',
  observation: 'observation',
  calibration: 'calibration record',
  order: 'order event',
  alert: 'alert',
  health: 'health',
  status: 'agent status',
  lanes: 'lane settings',
  stored: 'stored mark',
  request: 'command request',
  response: 'command response',
};

/** Parses a message into its topic reference and payload, or throws naming what failed. */
function parse(topic: string, payload: Buffer): { ref: TopicRef<BusKind>; payload: TopicPayloads[BusKind] } {
  const ref = parseTopic(topic);
  if (!ref || !(ref.kind in PayloadSchemas)) throw new BusError(`${topic} is not a Shelfsense topic`);
  const kind = ref.kind as BusKind;
  return {
    ref: ref as TopicRef<BusKind>,
    payload: parseJsonWith(PayloadSchemas[kind], payload, WHAT[kind]) as TopicPayloads[BusKind],
  };
}

interface ClientSub {
  filter: string;
  /** The filter's levels, split once. */
  levels: readonly string[];
  deliver: RawHandler;
}

export interface ConnectOptions {
  /** One broker, or the nodes of a cluster: the client moves to the next when its node goes. */
  url: string | readonly string[];
  clientId: string;
  username?: string | undefined;
  password?: string | undefined;
  /** How long the first connection may take before start fails. */
  timeoutMs?: number;
}

export class MqttBus implements Bus {
  private client: MqttClient | null = null;
  private aedes: Aedes | null = null;
  private readonly subs = new Set<ClientSub>();
  private readonly connectFns = new Set<() => void>();

  constructor(private readonly log: Logger) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get ready(): boolean {
    return this.aedes !== null || this.connected;
  }

  /** Serve publishes and non-retained subscriptions from the embedded broker, in process. */
  attachBroker(aedes: Aedes): void {
    this.aedes = aedes;
  }

  /** Connects to the broker; resolves on the first connection. */
  async connect(o: ConnectOptions): Promise<void> {
    const opts: IClientOptions = {
      clientId: o.clientId,
      clean: true,
      reconnectPeriod: 500,
      protocolVersion: 4,
      ...(o.username ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
    };
    const urls = typeof o.url === 'string' ? [o.url] : o.url;
    const client =
      urls.length === 1
        ? mqtt.connect(urls[0] as string, opts)
        : mqtt.connect({
            ...opts,
            servers: urls.map((u) => {
              const url = new URL(u);
              const protocol = url.protocol.replace(':', '') as 'mqtt' | 'mqtts';
              return {
                host: url.hostname,
                port: Number(url.port || (protocol === 'mqtts' ? 8883 : 1883)),
                protocol,
              };
            }),
          });
    client.on('error', (err) => this.log.warn({ err: err.message }, 'bus mqtt error'));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        client.end(true);
        reject(new Error(`cannot reach the broker at ${urls.join(', ')}`));
      }, o.timeoutMs ?? 15_000);
      client.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
    });
    this.adopt(client);
  }

  /** Uses a connected client someone else made (tests, tools); `close` ends it. */
  adopt(client: MqttClient): void {
    this.client = client;
    client.on('message', (topic, payload) => {
      const levels = topic.split('/');
      for (const s of this.subs) if (levelsMatch(s.levels, levels)) s.deliver(topic, payload);
    });
    // A clean session forgets subscriptions: say them again, then tell the parts.
    client.on('connect', () => {
      const filters = [...new Set([...this.subs].map((s) => s.filter))];
      if (filters.length)
        client.subscribe(filters, { qos: 1 }, (err) => {
          if (err) this.log.error({ err: err.message }, 'bus subscriptions refused after reconnect');
        });
      for (const fn of this.connectFns) fn();
    });
  }

  publish<K extends BusKind>(
    topic: Topic<K>,
    payload: TopicPayloads[K],
    opts?: PublishOptions,
  ): Promise<void> {
    return this.publishRaw(topic, JSON.stringify(payload), opts);
  }

  publishRaw(topic: string, payload: string | Buffer, opts: PublishOptions = {}): Promise<void> {
    const retain = opts.retain ?? false;
    const aedes = this.aedes;
    if (aedes) {
      const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
      return new Promise((resolve, reject) => {
        aedes.publish({ cmd: 'publish', topic, payload: bytes, qos: 1, retain, dup: false }, (err) =>
          err ? reject(err) : resolve(),
        );
      });
    }
    const client = this.client;
    if (!client?.connected) return Promise.reject(new BusError('central is not connected to the broker'));
    return client.publishAsync(topic, payload, { qos: 1, retain }).then(() => undefined);
  }

  subscribe<K extends BusKind>(
    filter: Filter<K>,
    handler: Handler<K>,
    opts: SubscribeOptions = {},
  ): Promise<Unsubscribe> {
    const onInvalid =
      opts.onInvalid ??
      ((topic: string, err: Error) =>
        this.log.debug({ topic, err: err.message }, 'bus ignored an invalid message'));
    return this.subscribeRaw(
      filter,
      (topic, bytes) => {
        let m: ReturnType<typeof parse>;
        try {
          m = parse(topic, bytes);
        } catch (err) {
          onInvalid(topic, err as Error);
          return;
        }
        handler(m.ref as TopicRef<K>, m.payload as TopicPayloads[K], topic);
      },
      opts,
    );
  }

  async subscribeRaw(
    filter: string,
    handler: RawHandler,
    opts: Pick<SubscribeOptions, 'retained'> = {},
  ): Promise<Unsubscribe> {
    const aedes = this.aedes;
    if (aedes && !opts.retained) {
      const deliver = (packet: AedesPublishPacket, done: () => void) => {
        const p = packet.payload;
        handler(packet.topic, typeof p === 'string' ? Buffer.from(p) : p);
        done();
      };
      await new Promise<void>((resolve) => aedes.subscribe(filter, deliver, resolve));
      return () => new Promise<void>((resolve) => aedes.unsubscribe(filter, deliver, resolve));
    }
    const client = this.client;
    if (!client) throw new BusError(`cannot subscribe to ${filter}: central is not connected to the broker`);
    const sub: ClientSub = { filter, levels: filter.split('/'), deliver: handler };
    this.subs.add(sub);
    if (client.connected) await client.subscribeAsync(filter, { qos: 1 });
    return async () => {
      this.subs.delete(sub);
      const still = [...this.subs].some((s) => s.filter === filter);
      if (!still && client.connected) await client.unsubscribeAsync(filter).catch(() => undefined);
    };
  }

  onConnect(fn: () => void): () => void {
    this.connectFns.add(fn);
    return () => {
      this.connectFns.delete(fn);
    };
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    this.subs.clear();
    this.aedes = null;
    if (c) await c.endAsync();
  }
}

/**
 * Publishes a notification (an order event, an alert) when the broker can be reached; one lost
 * while it cannot is not replayed (the webhook outbox is the at-least-once channel).
 */
export function announce<K extends BusKind>(
  bus: Bus,
  topic: Topic<K>,
  payload: TopicPayloads[K],
  log: Logger,
): void {
  if (!bus.ready) return;
  bus.publish(topic, payload).catch((err: Error) => log.debug({ err: err.message, topic }, 'not published'));
}
