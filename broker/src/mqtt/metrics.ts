/**
 * Broker counters: a plain object that the hot path increments (no label hashing per message),
 * mirrored into prom-client metrics on a Registry passed in, read at scrape time.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export const DENY_REASONS = [
  /** Unknown user, wrong password, bad or expired token. */
  'bad_credentials',
  /** No credentials and anonymous access is off. */
  'anonymous',
  /** Empty client id with CleanSession=0 [MQTT-3.1.3-8], a reserved id, or an id another user holds. */
  'client_id',
  /** A record whose body names another agent than the session's. */
  'identity',
  /** A last will on a topic the client may not publish to. */
  'will',
  'publish',
  'subscribe',
  /** A command request whose body is not a CommandRequest. */
  'invalid_request',
  /** A packet larger than `limits.maxPacketBytes`. */
  'oversize',
  /** A SUBSCRIBE or UNSUBSCRIBE with more than `limits.maxFiltersPerPacket` filters. */
  'filters',
  /** A CleanSession=0 connect that would open more than `limits.sessions.maxPerUser` sessions. */
  'session_limit',
  /** An inbound QoS 2 publish past `limits.sessions.maxBytesPerUser`. */
  'session_bytes_user',
  /** An inbound QoS 2 publish past `limits.sessions.maxBytes`. */
  'session_bytes_total',
] as const;
export type DenyReason = (typeof DENY_REASONS)[number];

export const DROP_REASONS = [
  /** A QoS 0 publish arriving while the routing backlog is full. */
  'backlog',
  /** A QoS 0 delivery to a subscriber whose socket is not draining. */
  'slow_subscriber',
  /** A QoS 1/2 delivery not queued for a session: its user's sessions hold `maxBytesPerUser`. */
  'session_bytes_user',
  /** A QoS 1/2 delivery not queued for a session: all sessions hold `maxBytes`. */
  'session_bytes_total',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface BrokerCounters {
  /** Clients connected now (past authentication). */
  connections: number;
  connectionsTotal: number;
  /** Publishes accepted from clients. */
  messagesIn: number;
  /** Deliveries written to subscribers. */
  messagesOut: number;
  /** Deliveries withheld because the subscriber may not read the topic (wildcards, retained). */
  filtered: number;
  denied: Record<DenyReason, number>;
  dropped: Record<DropReason, number>;
  /** Messages waiting to be routed (sampled when read). */
  backlog: number;
  sessions: {
    /** Persistent sessions held, connected or away (sampled when read). */
    held: number;
    /** Bytes sessions hold: queued deliveries and unreleased inbound QoS 2 (sampled when read). */
    bytes: number;
    /** Abandoned sessions discarded after `limits.sessions.expiryMs`. */
    expired: number;
  };
}

const zeros = <K extends string>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

export function newCounters(): BrokerCounters {
  return {
    connections: 0,
    connectionsTotal: 0,
    messagesIn: 0,
    messagesOut: 0,
    filtered: 0,
    denied: zeros(DENY_REASONS),
    dropped: zeros(DROP_REASONS),
    backlog: 0,
    sessions: { held: 0, bytes: 0, expired: 0 },
  };
}

/**
 * Registers `shelfsense_mqtt_*` metrics on `registry`, each reading `read()` at scrape time.
 * Returns a function that removes them again (for stop()).
 */
export function registerBrokerMetrics(registry: Registry, read: () => BrokerCounters): () => void {
  const names: string[] = [];
  const counter = (name: string, help: string, value: (c: BrokerCounters) => number) => {
    names.push(name);
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(value(read()));
      },
    });
  };
  const labelled = <K extends string>(
    name: string,
    help: string,
    keys: readonly K[],
    value: (c: BrokerCounters) => Record<K, number>,
  ) => {
    names.push(name);
    new Counter({
      name,
      help,
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        const v = value(read());
        this.reset();
        for (const k of keys) this.inc({ reason: k }, v[k]);
      },
    });
  };
  const gauge = (name: string, help: string, value: (c: BrokerCounters) => number) => {
    names.push(name);
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value(read()));
      },
    });
  };
  gauge('shelfsense_mqtt_connections', 'MQTT clients connected now', (c) => c.connections);
  counter(
    'shelfsense_mqtt_connections_total',
    'MQTT clients accepted since start',
    (c) => c.connectionsTotal,
  );
  counter('shelfsense_mqtt_messages_in_total', 'publishes accepted from clients', (c) => c.messagesIn);
  counter('shelfsense_mqtt_messages_out_total', 'deliveries written to subscribers', (c) => c.messagesOut);
  counter(
    'shelfsense_mqtt_deliveries_filtered_total',
    'deliveries withheld because the subscriber may not read the topic',
    (c) => c.filtered,
  );
  labelled('shelfsense_mqtt_denied_total', 'actions refused, by reason', DENY_REASONS, (c) => c.denied);
  labelled('shelfsense_mqtt_dropped_total', 'messages dropped, by reason', DROP_REASONS, (c) => c.dropped);
  gauge('shelfsense_mqtt_backlog', 'messages waiting to be routed', (c) => c.backlog);
  gauge('shelfsense_mqtt_sessions', 'persistent sessions held, connected or away', (c) => c.sessions.held);
  gauge(
    'shelfsense_mqtt_session_bytes',
    'bytes sessions hold: queued deliveries and unreleased inbound QoS 2',
    (c) => c.sessions.bytes,
  );
  counter(
    'shelfsense_mqtt_sessions_expired_total',
    'abandoned sessions discarded',
    (c) => c.sessions.expired,
  );
  return () => {
    for (const n of names) registry.removeSingleMetric(n);
  };
}
