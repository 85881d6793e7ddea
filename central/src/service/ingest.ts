/**
 * Ingest: takes levels, events, observations, calibration records, health and agent status from the bus (as the
 * `service` role, so it works the same against the embedded aedes, Mosquitto or EMQX); commits
 * readings to the store in batches (duplicates dropped by (site, agent, seq)); feeds the rules; and
 * publishes each agent's stored high-water mark, retained, so the agent can trim its outbox.
 *
 * The site comes from the topic, which the broker authorised for the sender. The agent named in a
 * body is checked against what the topic and the shelf map say (the embedded broker also checks it
 * against the session's identity); a body that disagrees is refused and counted as forged. The mark
 * is what makes delivery end to end: a reading leaves an agent only once it is committed here.
 *
 * With the embedded broker the bus serves readings and marks in process, so a reading crosses the
 * broker once; health and status come over the connection, which replays their retained values.
 */
import { EventEmitter } from 'node:events';
import type { AgentStatusPayload, HealthPayload, ShelfMap, TopicRef } from '@shelfsense/protocol';
import { filters, topics } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { Bus, Unsubscribe } from '../bus/bus.js';
import type { RulesEngine } from '../rules/engine.js';
import type { ReadingInput } from '../store/readings.js';
import type { CentralStore } from '../store/repositories.js';

export interface IngestOptions {
  bus: Bus;
  store: CentralStore;
  rules: RulesEngine | null;
  /** Commit when this many readings wait, or after flushMs. */
  batchSize: number;
  flushMs: number;
  log: Logger;
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
}

export class Ingest extends EventEmitter<IngestEvents> {
  private batch: ReadingInput[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastInvalidLog = 0;
  private readonly offs: (Unsubscribe | (() => void))[] = [];
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

  /** The bus is connected to the broker. */
  get connected(): boolean {
    return this.o.bus.connected;
  }

  async start(): Promise<void> {
    const bus = this.o.bus;
    const onInvalid = (topic: string, err: Error) => {
      this.counters.received++;
      this.invalid(topic, err);
    };
    const reading =
      <K extends 'level' | 'event' | 'observation' | 'calibration'>(kind: K) =>
      (ref: TopicRef<K>, payload: ReadingInput['payload'], topic: string) =>
        this.onReading(topic, {
          site: ref.site,
          shelf: ref.shelf,
          lane: ref.lane,
          kind,
          payload,
        } as ReadingInput);
    this.offs.push(
      await bus.subscribe(filters.laneKind('level'), reading('level'), { onInvalid }),
      await bus.subscribe(filters.laneKind('event'), reading('event'), { onInvalid }),
      await bus.subscribe(filters.laneKind('observation'), reading('observation'), { onInvalid }),
      await bus.subscribe(filters.laneKind('calibration'), reading('calibration'), { onInvalid }),
      await bus.subscribe(filters.health(), (ref, p, topic) => this.onHealth(topic, ref, p), {
        onInvalid,
        retained: true,
      }),
      await bus.subscribe(filters.agentKind('status'), (ref, p, topic) => this.onStatus(topic, ref, p), {
        onInvalid,
        retained: true,
      }),
      // The broker may have lost retained marks while central was away: say them again.
      bus.onConnect(() => this.republishMarks()),
    );
    this.republishMarks();
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

  private onReading(topic: string, reading: ReadingInput): void {
    this.counters.received++;
    try {
      this.checkAgent(reading.site, reading.shelf, reading.payload.agent);
    } catch (err) {
      this.invalid(topic, err);
      return;
    }
    this.batch.push(reading);
    if (this.batch.length >= this.o.batchSize) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.o.flushMs);
  }

  private onHealth(topic: string, ref: TopicRef<'health'>, health: HealthPayload): void {
    this.counters.received++;
    try {
      this.checkAgent(ref.site, ref.shelf, health.agent);
    } catch (err) {
      this.invalid(topic, err);
      return;
    }
    this.o.rules?.onHealth(ref.site, ref.shelf, health);
    this.emit('health', ref.site, ref.shelf, health);
  }

  private onStatus(topic: string, ref: TopicRef<'status'>, status: AgentStatusPayload): void {
    this.counters.received++;
    if (status.agent !== ref.agent || status.site !== ref.site) {
      this.invalid(
        topic,
        new ForgedRecord(
          `the body names agent ${status.agent} at ${status.site} on agent ${ref.agent}'s status topic at ${ref.site}`,
        ),
      );
      return;
    }
    this.o.rules?.onAgentStatus(ref.site, status);
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
    let result: ReturnType<CentralStore['readings']['commit']>;
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
    // Unreachable broker: the marks are said again on reconnect.
    if (!this.o.bus.ready) return;
    this.o.bus
      .publish(topics.stored(site, agent), { agent, seq, ts: Date.now() }, { retain: true })
      .catch((err) => {
        this.o.log.warn({ err: (err as Error).message, agent }, 'stored mark not published');
      });
  }

  /** Every agent's stored mark, again. */
  private republishMarks(): void {
    for (const m of this.o.store.readings.marks()) this.publishMark(m.site, m.agent, m.mark);
  }

  async stop(): Promise<void> {
    this.flush();
    for (const off of this.offs.splice(0).reverse()) await off();
  }
}

/** A record whose body disagrees with who its topic says sent it. */
class ForgedRecord extends Error {}
