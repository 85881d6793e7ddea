/**
 * MQTT side of the agent: one connection (MQTT 5 when the broker speaks it, 3.1.1 otherwise), the
 * retained online status with an offline last will, and the drain of the durable outbox.
 *
 * Delivery, end to end: records leave the outbox in sequence order, QoS 1. In `central` mode a
 * record is trimmed only when central's retained stored-mark says it is committed; anything the
 * broker acknowledged but central has not confirmed within `redeliverMs` is sent again (central
 * drops duplicates by (agent, seq)). In `broker` mode — a plain broker with no Shelfsense central —
 * a record is trimmed on its PUBACK.
 */
import { EventEmitter } from 'node:events';
import {
  type AgentStatusPayload,
  type AttachedShelf,
  type CommandName,
  clientIds,
  filters,
  LaneSettingsPayload,
  parseJsonWith,
  parseTopic,
  StoredMarkPayload,
  topics,
} from '@shelfsense/protocol';
import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from './log.js';
import { BrokerConnector } from './mqtt-transport.js';

export interface OutboxRecord {
  seq: number;
  topic: string;
  payload: Record<string, unknown>;
  qos: 0 | 1 | 2;
  retain: boolean;
}

/** What the publisher needs of the durable outbox. */
export interface OutboxPort {
  peek(afterSeq: number, limit: number): OutboxRecord[];
  trimThrough(seq: number): void;
  /** Highest seq trimmed so far (0 when none). */
  readonly trimmedThrough: number;
  /** Highest seq appended so far (0 when none). */
  readonly lastSeq: number;
  on(event: 'appended', listener: () => void): unknown;
}

/** How long a stop waits for the broker to acknowledge what is in flight before closing anyway. */
const STOP_GRACE_MS = 2_000;

export interface PublisherOptions {
  /** One broker, or the nodes of one cluster, tried in turn. */
  url: string | readonly string[];
  username?: string | undefined;
  password?: string | undefined;
  protocol: 'auto' | 4 | 5;
  keepaliveS: number;
  reconnectMs: number;
  site: string;
  agent: string;
  trimOn: 'central' | 'broker';
  window: number;
  redeliverMs: number;
  version: string;
}

export interface PublisherEvents {
  connected: [protocolVersion: 4 | 5];
  disconnected: [];
  laneSettings: [settings: LaneSettingsPayload];
  request: [command: CommandName, payload: Buffer, packet: IPublishPacket];
  delivered: [seq: number];
}

export class Publisher extends EventEmitter<PublisherEvents> {
  private client: MqttClient | null = null;
  private readonly connector: BrokerConnector;
  private version: 4 | 5;
  private nextToSend = 1;
  private inflight = 0;
  private brokerAcked = 0;
  private readonly pendingAcks = new Set<number>();
  private storedMark = 0;
  private lastProgress = Date.now();
  private watchdog: NodeJS.Timeout | null = null;
  private stopped = false;
  private subscribed = false;
  shelves: () => string[] = () => [];
  /** The shelves attached now, for the status (central offers the ones it does not know). */
  attached: () => AttachedShelf[] = () => [];
  readonly counters = { published: 0, delivered: 0, reconnects: 0, invalidInbound: 0 };

  constructor(
    private readonly opts: PublisherOptions,
    private readonly outbox: OutboxPort,
    private readonly log: Logger,
  ) {
    super();
    this.version = opts.protocol === 4 ? 4 : 5;
    this.connector = new BrokerConnector(opts.url);
    outbox.on('appended', () => this.pump());
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Connected and subscribed to lane settings, stored marks and commands. */
  get ready(): boolean {
    return this.connected && this.subscribed;
  }

  /** The broker (of a cluster's nodes, the one) the latest connection attempt went to. */
  get brokerUrl(): string {
    return this.connector.current;
  }

  get protocolVersion(): 4 | 5 {
    return this.version;
  }

  start(): void {
    this.stopped = false;
    this.connector.prepare().then(
      () => {
        if (!this.stopped) this.connect();
      },
      (err: Error) =>
        this.log.error({ err: err.message, url: this.opts.url }, 'cannot load the MQTT transport'),
    );
    this.watchdog = setInterval(
      () => this.checkProgress(),
      Math.max(50, Math.min(this.opts.redeliverMs, 1000)),
    );
  }

  private statusPayload(state: 'online' | 'offline'): AgentStatusPayload {
    return {
      agent: this.opts.agent,
      site: this.opts.site,
      state,
      version: this.opts.version,
      shelves: this.shelves(),
      attached: this.attached(),
      ts: Date.now(),
    };
  }

  private connect(): void {
    const statusTopic = topics.status(this.opts.site, this.opts.agent);
    const options: IClientOptions = {
      protocolVersion: this.version,
      clientId: clientIds.agent(this.opts.site, this.opts.agent),
      clean: true,
      keepalive: this.opts.keepaliveS,
      reconnectPeriod: this.opts.reconnectMs,
      connectTimeout: Math.max(2_000, this.opts.reconnectMs * 4),
      queueQoSZero: false,
      resubscribe: true,
      // mqtt-packet otherwise pre-builds a Buffer for each of the 65,536 message ids: ~6 MB of heap,
      // a tenth of the agent's memory budget, to save a 2-byte allocation per publish.
      writeCache: false,
      will: {
        topic: statusTopic,
        payload: Buffer.from(JSON.stringify(this.statusPayload('offline'))),
        qos: 1,
        retain: true,
      },
      ...(this.opts.username ? { username: this.opts.username } : {}),
      ...(this.opts.password !== undefined ? { password: this.opts.password } : {}),
    };
    const client = this.connector.connect(options);
    this.client = client;
    client.on('connect', () => this.onConnect(client));
    client.on('close', () => {
      if (this.client !== client) return;
      this.subscribed = false;
      this.inflight = 0;
      this.pendingAcks.clear();
      this.emit('disconnected');
    });
    client.on('reconnect', () => this.counters.reconnects++);
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));
    client.on('error', (err: Error & { code?: number }) => {
      // A 3.1.1-only broker (aedes) answers an MQTT 5 CONNECT with "unacceptable protocol version".
      if (this.opts.protocol === 'auto' && this.version === 5 && (err.code === 1 || err.code === 132)) {
        this.log.info('broker does not speak MQTT 5; using 3.1.1');
        this.version = 4;
        this.client = null;
        client.end(true, () => this.connect());
        return;
      }
      this.log.warn({ err: err.message, code: err.code }, 'mqtt error');
    });
  }

  private onConnect(client: MqttClient): void {
    this.log.info({ url: this.connector.current, protocolVersion: this.version }, 'connected to broker');
    const site = this.opts.site;
    const agent = this.opts.agent;
    client.publish(topics.status(site, agent), JSON.stringify(this.statusPayload('online')), {
      qos: 1,
      retain: true,
    });
    client.subscribe(
      [topics.laneSettings(site, agent), topics.stored(site, agent), filters.requests(site, agent)],
      { qos: 1 },
      (err) => {
        if (err) this.log.warn({ err: err.message }, 'subscription refused');
        else this.subscribed = true;
      },
    );
    // Everything not yet trimmed goes again: after a reconnect we cannot know what the last
    // connection delivered; central drops the duplicates.
    this.nextToSend = this.outbox.trimmedThrough + 1;
    this.brokerAcked = this.outbox.trimmedThrough;
    this.inflight = 0;
    this.pendingAcks.clear();
    this.lastProgress = Date.now();
    this.emit('connected', this.version);
    this.pump();
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const parsed = parseTopic(topic);
    try {
      if (parsed?.kind === 'stored') {
        const mark = parseJsonWith(StoredMarkPayload, payload, 'stored mark');
        this.onStoredMark(mark.seq);
      } else if (parsed?.kind === 'lanes') {
        this.emit('laneSettings', parseJsonWith(LaneSettingsPayload, payload, 'lane settings'));
      } else if (parsed?.kind === 'request') {
        this.emit('request', parsed.command, payload, packet);
      }
    } catch (err) {
      this.counters.invalidInbound++;
      this.log.warn({ topic, err: (err as Error).message }, 'ignored an invalid message');
    }
  }

  private onStoredMark(seq: number): void {
    if (this.opts.trimOn !== 'central' || seq <= this.storedMark) return;
    if (seq > this.outbox.lastSeq) {
      // Central has stored more than this agent ever wrote: the state directory was lost or
      // replaced. The outbox moves its numbering past the mark so new readings are not taken
      // for duplicates.
      this.log.error(
        { mark: seq, lastSeq: this.outbox.lastSeq },
        'central stored mark is ahead of this agent',
      );
    }
    this.storedMark = seq;
    this.trim(seq);
  }

  private trim(seq: number): void {
    if (seq <= this.outbox.trimmedThrough) return;
    const before = this.outbox.trimmedThrough;
    this.outbox.trimThrough(seq);
    this.counters.delivered += seq - before;
    this.lastProgress = Date.now();
    if (this.nextToSend <= seq) this.nextToSend = seq + 1;
    this.emit('delivered', seq);
  }

  /** Sends as many outbox records as the window allows. */
  pump(): void {
    const client = this.client;
    if (!client?.connected || this.stopped) return;
    while (this.inflight < this.opts.window) {
      const batch = this.outbox.peek(this.nextToSend - 1, this.opts.window - this.inflight);
      if (batch.length === 0) return;
      for (const rec of batch) {
        this.inflight++;
        this.nextToSend = rec.seq + 1;
        const body = JSON.stringify({ ...rec.payload, seq: rec.seq });
        client.publish(rec.topic, body, { qos: rec.qos, retain: rec.retain }, (err) =>
          this.onAck(client, rec.seq, err),
        );
        this.counters.published++;
      }
    }
  }

  private onAck(client: MqttClient, seq: number, err?: Error): void {
    if (client !== this.client) return;
    this.inflight = Math.max(0, this.inflight - 1);
    if (err) {
      this.log.debug({ seq, err: err.message }, 'publish not acknowledged');
      return;
    }
    this.pendingAcks.add(seq);
    this.settleDropped();
    while (this.pendingAcks.delete(this.brokerAcked + 1)) this.brokerAcked++;
    if (this.opts.trimOn === 'broker') this.trim(this.brokerAcked);
    this.pump();
  }

  /**
   * Records dropped at the outbox bound will never be acknowledged: count the acknowledgements on
   * from past them, or the contiguous count would stop at the first dropped record and, in central
   * mode, nothing would be sent again until central's mark passed the hole.
   */
  private settleDropped(): void {
    const through = this.outbox.trimmedThrough;
    if (this.brokerAcked >= through) return;
    this.brokerAcked = through;
    for (const s of this.pendingAcks) if (s <= through) this.pendingAcks.delete(s);
  }

  /** In central mode, resend what the broker took but central never confirmed. */
  private checkProgress(): void {
    if (this.opts.trimOn !== 'central' || !this.client?.connected) return;
    this.settleDropped();
    const unconfirmed = this.brokerAcked > this.outbox.trimmedThrough;
    if (unconfirmed && Date.now() - this.lastProgress > this.opts.redeliverMs) {
      this.log.info(
        { from: this.outbox.trimmedThrough + 1, to: this.brokerAcked },
        'central has not confirmed; sending again',
      );
      this.lastProgress = Date.now();
      this.brokerAcked = this.outbox.trimmedThrough;
      this.pendingAcks.clear();
      this.nextToSend = this.outbox.trimmedThrough + 1;
      this.pump();
    }
  }

  /** Says the online status again (a shelf came, went or was renamed); retained, QoS 1. */
  publishStatus(): void {
    this.publishDirect(topics.status(this.opts.site, this.opts.agent), this.statusPayload('online'), {
      qos: 1,
      retain: true,
    });
  }

  /** Publishes outside the outbox (health, responses, streams): QoS as given, not retried. */
  publishDirect(
    topic: string,
    payload: unknown,
    opts: { qos: 0 | 1; retain?: boolean; properties?: object },
  ): void {
    const client = this.client;
    if (!client?.connected) return;
    client.publish(topic, JSON.stringify(payload), {
      qos: opts.qos,
      retain: opts.retain ?? false,
      ...(this.version === 5 && opts.properties ? { properties: opts.properties } : {}),
    });
  }

  /** Clears a retained topic (an empty retained message), e.g. a renamed shelf's old health. */
  clearRetained(topic: string): void {
    const client = this.client;
    if (!client?.connected) return;
    client.publish(topic, '', { qos: 1, retain: true });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    const client = this.client;
    this.client = null;
    if (!client) return;
    if (client.connected) {
      // A clean disconnect does not fire the will, so say offline ourselves.
      await new Promise<void>((resolve) => {
        client.publish(
          topics.status(this.opts.site, this.opts.agent),
          JSON.stringify(this.statusPayload('offline')),
          { qos: 1, retain: true },
          () => resolve(),
        );
        setTimeout(resolve, 1_000).unref();
      });
    }
    // A clean end waits for the broker to acknowledge what is in flight; a broker that never does
    // (a cluster node that lost its quorum) must not hold the agent's shutdown. The outbox keeps
    // whatever was not acknowledged, for the next start.
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => client.end(true, {}, () => resolve()), STOP_GRACE_MS);
      force.unref();
      client.end(false, {}, () => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}
