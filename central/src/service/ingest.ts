/**
 * Ingest: the central side's MQTT client. It subscribes as the `service` role — so it works the
 * same against the embedded aedes, Mosquitto or EMQX — to levels, events, calibration records,
 * health and agent status; commits readings to the store in batches (duplicates dropped by
 * (site, agent, seq)); feeds the rules; and publishes each agent's stored high-water mark, retained,
 * so the agent can trim its outbox.
 *
 * The site comes from the topic, which the broker authorised for the sender. The agent named in a
 * body is checked against what the topic and the shelf map say (the embedded broker also checks it
 * against the session's identity); a body that disagrees is refused and counted as forged. That mark is what makes delivery end to end: a reading leaves an
 * agent only once it is committed here.
 *
 * With the embedded broker (`inProcess`), readings are taken from aedes in process and the marks
 * published into it directly, so a reading crosses the broker once instead of going out again over
 * loopback TCP to central's own client. Delivery stays end to end: the agent still trims only on the
 * mark, published after the commit. The MQTT client remains for everything else (health, status,
 * orders, alerts, commands).
 */
import { EventEmitter } from 'node:events';
import type { ShelfMap } from '@shelfsense/protocol';
import {
  AgentStatusPayload,
  CalibrationRecord,
  EventPayload,
  HealthPayload,
  LevelPayload,
  parseJsonWith,
  parseTopic,
  TOPIC_ROOT,
  topics,
} from '@shelfsense/protocol';
import type { Aedes, AedesPublishPacket } from 'aedes';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { RulesEngine } from '../rules/engine.js';
import type { ReadingInput } from '../store/readings.js';
import type { Store } from '../store/store.js';

export interface IngestOptions {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  clientId: string;
  store: Store;
  rules: RulesEngine | null;
  /** Commit when this many readings wait, or after flushMs. */
  batchSize: number;
  flushMs: number;
  log: Logger;
  /** The embedded broker: take readings from it in process and publish the marks into it. */
  inProcess?: Aedes | undefined;
  /** Which agent serves which shelf: a record for a mapped shelf must come from its agent. */
  map?: ShelfMap | undefined;
}

export interface IngestCounters {
  received: number;
  committed: number;
  duplicates: number;
  invalid: number;
  /** Records whose body names another agent than the one their topic or shelf belongs to. */
  forged: number;
  batches: number;
}

export interface IngestEvents {
  committed: [accepted: ReadingInput[]];
  health: [site: string, shelf: string, payload: HealthPayload];
  connected: [];
}

const READING_FILTERS = [
  `${TOPIC_ROOT}/+/+/+/level`,
  `${TOPIC_ROOT}/+/+/+/event`,
  `${TOPIC_ROOT}/+/+/+/calibration`,
];
const STATE_FILTERS = [`${TOPIC_ROOT}/+/+/health`, `${TOPIC_ROOT}/+/agents/+/status`];

export class Ingest extends EventEmitter<IngestEvents> {
  private client: MqttClient | null = null;
  private batch: ReadingInput[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastInvalidLog = 0;
  readonly counters: IngestCounters = {
    received: 0,
    committed: 0,
    duplicates: 0,
    invalid: 0,
    forged: 0,
    batches: 0,
  };

  constructor(private readonly o: IngestOptions) {
    super();
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** The client, for the parts that publish through central's connection (orders, commands). */
  get mqtt(): MqttClient {
    if (!this.client) throw new Error('ingest is not started');
    return this.client;
  }

  /** In-process delivery from the embedded broker: one call per publish, acknowledged at once. */
  private readonly deliver = (packet: AedesPublishPacket, done: () => void): void => {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    this.onMessage(packet.topic, payload);
    done();
  };

  async start(): Promise<void> {
    const aedes = this.o.inProcess;
    if (aedes) {
      await Promise.all(
        READING_FILTERS.map((f) => new Promise<void>((resolve) => aedes.subscribe(f, this.deliver, resolve))),
      );
    }
    const filters = aedes ? STATE_FILTERS : [...READING_FILTERS, ...STATE_FILTERS];
    const opts: IClientOptions = {
      clientId: this.o.clientId,
      clean: true,
      reconnectPeriod: 500,
      protocolVersion: 4,
      ...(this.o.username ? { username: this.o.username } : {}),
      ...(this.o.password !== undefined ? { password: this.o.password } : {}),
    };
    const client = mqtt.connect(this.o.url, opts);
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('connect', () => {
      client.subscribe(filters, { qos: 1 }, (err) => {
        if (err) this.o.log.error({ err: err.message }, 'ingest subscription refused');
        else {
          this.republishMarks();
          this.emit('connected');
        }
      });
    });
    client.on('error', (err) => this.o.log.warn({ err: err.message }, 'ingest mqtt error'));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`cannot reach the broker at ${this.o.url}`)), 15_000);
      this.once('connected', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private invalid(topic: string, err: unknown): void {
    if (err instanceof ForgedRecord) this.counters.forged++;
    else this.counters.invalid++;
    const now = Date.now();
    if (now - this.lastInvalidLog > 5_000) {
      this.lastInvalidLog = now;
      this.o.log.warn(
        { topic, err: (err as Error).message, invalid: this.counters.invalid, forged: this.counters.forged },
        'ignored an invalid message',
      );
    }
  }

  private onMessage(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (!t) return;
    this.counters.received++;
    try {
      switch (t.kind) {
        case 'level':
        case 'event':
        case 'calibration': {
          const ref = { site: t.site, shelf: t.shelf, lane: t.lane };
          let reading: ReadingInput;
          if (t.kind === 'level')
            reading = { ...ref, kind: 'level', payload: parseJsonWith(LevelPayload, payload, 'level') };
          else if (t.kind === 'event')
            reading = { ...ref, kind: 'event', payload: parseJsonWith(EventPayload, payload, 'event') };
          else
            reading = {
              ...ref,
              kind: 'calibration',
              payload: parseJsonWith(CalibrationRecord, payload, 'calibration record'),
            };
          this.checkAgent(t.site, t.shelf, reading.payload.agent);
          this.batch.push(reading);
          if (this.batch.length >= this.o.batchSize) this.flush();
          else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.o.flushMs);
          return;
        }
        case 'health': {
          const health = parseJsonWith(HealthPayload, payload, 'health');
          this.checkAgent(t.site, t.shelf, health.agent);
          this.o.rules?.onHealth(t.site, t.shelf, health);
          this.emit('health', t.site, t.shelf, health);
          return;
        }
        case 'status': {
          const status = parseJsonWith(AgentStatusPayload, payload, 'agent status');
          if (status.agent !== t.agent || status.site !== t.site)
            throw new ForgedRecord(
              `the body names agent ${status.agent} at ${status.site} on agent ${t.agent}'s status topic at ${t.site}`,
            );
          this.o.rules?.onAgentStatus(t.site, status);
          return;
        }
        default:
          return;
      }
    } catch (err) {
      this.invalid(topic, err);
    }
  }

  /** A record for a shelf the map gives to an agent must name that agent. */
  private checkAgent(site: string, shelf: string, agent: string): void {
    const owner = this.o.map?.agentOf(site, shelf);
    if (owner !== undefined && owner !== agent)
      throw new ForgedRecord(
        `the body names agent ${agent}; shelf ${shelf} at ${site} is served by ${owner}`,
      );
  }

  /** Commits the waiting readings, runs the rules on what was new, publishes the marks. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    let result: ReturnType<Store['readings']['commit']>;
    try {
      result = this.o.store.readings.commit(batch);
    } catch (err) {
      // Nothing was committed, so no mark moves: the agents send these again.
      this.o.log.error({ err: (err as Error).message, readings: batch.length }, 'commit failed');
      return;
    }
    this.counters.batches++;
    this.counters.committed += result.accepted.length;
    this.counters.duplicates += result.duplicates;
    if (result.accepted.length && this.o.rules) {
      try {
        this.o.rules.onReadings(result.accepted);
      } catch (err) {
        this.o.log.error({ err: (err as Error).message }, 'rules failed on a batch');
      }
    }
    for (const m of result.marks) this.publishMark(m.site, m.agent, m.mark);
    if (result.accepted.length) this.emit('committed', result.accepted);
  }

  private publishMark(site: string, agent: string, seq: number): void {
    const topic = topics.stored(site, agent);
    const payload = JSON.stringify({ agent, seq, ts: Date.now() });
    const aedes = this.o.inProcess;
    if (aedes) {
      aedes.publish(
        { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: true, dup: false },
        (err) => {
          if (err) this.o.log.warn({ err: err.message, agent }, 'stored mark not published');
        },
      );
      return;
    }
    if (this.client?.connected) this.client.publish(topic, payload, { qos: 1, retain: true });
  }

  /** After a (re)connect: the broker may have lost retained marks; say them again. */
  private republishMarks(): void {
    for (const m of this.o.store.readings.marks()) this.publishMark(m.site, m.agent, m.mark);
  }

  async stop(): Promise<void> {
    this.flush();
    const aedes = this.o.inProcess;
    if (aedes)
      await Promise.all(
        READING_FILTERS.map(
          (f) => new Promise<void>((resolve) => aedes.unsubscribe(f, this.deliver, resolve)),
        ),
      );
    const c = this.client;
    this.client = null;
    if (c) await c.endAsync();
  }
}

/** A record whose body disagrees with who its topic says sent it. */
class ForgedRecord extends Error {}
