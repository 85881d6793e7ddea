/**
 * Protocol and overload guards aedes 1.2 lacks. Each reaches into one internal of a pinned
 * dependency (aedes 1.2.0, mqemitter 7.1.0, mqtt-packet 9.0.2), checks at install time that the
 * internal is there, and says so loudly if an upgrade removed it. docs/broker.md has the story.
 */

import { ShelfError } from '@shelfsense/protocol';
import type { Aedes, AedesPublishPacket, Client } from 'aedes';
import { type ISubscription, writeToStream } from 'mqtt-packet';

interface MqEmitterInternals {
  length: number;
  current: number;
  _doing: boolean;
  _matcher: { match(topic: string): unknown[] };
  _parallel: (that: unknown, fns: unknown[], message: unknown, done: unknown) => void;
  _do: (message: { topic: string }, done: unknown) => unknown;
}

export class GuardError extends ShelfError<'SHELF_ERR_BROKER_GUARD'> {
  constructor(message: string) {
    super('SHELF_ERR_BROKER_GUARD', message);
    this.name = 'GuardError';
  }
}

function internals(aedes: Aedes): MqEmitterInternals {
  const mq = (aedes as unknown as { mq?: Partial<MqEmitterInternals> }).mq;
  if (
    !mq ||
    typeof mq._do !== 'function' ||
    typeof mq._parallel !== 'function' ||
    typeof mq._matcher?.match !== 'function'
  ) {
    throw new GuardError('aedes/mqemitter internals changed: the routing guard cannot be installed');
  }
  return mq as MqEmitterInternals;
}

/** Messages waiting in aedes's router (mqemitter queue). */
export function routingBacklog(aedes: Aedes): number {
  return (aedes as unknown as { mq?: { length?: number } }).mq?.length ?? 0;
}

/**
 * Root cause of `RangeError: Maximum call stack size exceeded` under a QoS 0 flood: mqemitter
 * queues messages once `concurrency` are in flight; when one finishes, its `released` callback
 * takes the next queued message and calls `_do` synchronously. For a message no subscription
 * matches, fastparallel calls back (and `released` runs) synchronously too, so every consecutive
 * unmatched message in the queue adds stack frames: `_do → parallel → released → _do → …`.
 * With tens of thousands queued, the stack overflows.
 *
 * The guard replaces `_do` with a trampoline: a nested call only enqueues, and the outermost call
 * routes the pending messages in a loop. Order and the in-flight count are unchanged.
 */
export function installRoutingTrampoline(aedes: Aedes): void {
  const mq = internals(aedes);
  const pending: unknown[] = [];
  let head = 0;
  let draining = false;
  mq._do = function routeWithoutRecursion(this: MqEmitterInternals, message, done) {
    this._doing = true;
    this.current++;
    pending.push(message, done);
    if (draining) return this;
    draining = true;
    try {
      while (head < pending.length) {
        const m = pending[head] as { topic: string };
        const cb = pending[head + 1];
        pending[head] = pending[head + 1] = undefined;
        head += 2;
        this._parallel(this, this._matcher.match(m.topic), m, cb);
        // A synchronous release with an empty queue clears `_doing`; while messages still wait
        // here it must stay set, or mqemitter's leak check would miscount `current`.
        if (head < pending.length) this._doing = true;
      }
    } finally {
      draining = false;
      if (head >= pending.length) {
        pending.length = 0;
        head = 0;
      }
    }
    return this;
  };
}

/**
 * Bounds the routing backlog: a QoS 0, non-retained publish from a client that arrives while
 * `maxBacklog` messages are already waiting is dropped (QoS 0 is at most once) and reported.
 * QoS 1/2 messages are never dropped: aedes has already acknowledged them, and they hold the
 * publisher back instead (aedes reads no more from a client until its packets are routed).
 */
export function installBacklogLimit(
  aedes: Aedes,
  maxBacklog: number,
  onDrop: (packet: AedesPublishPacket, client: Client) => void,
): void {
  const mq = internals(aedes);
  type Done = (err?: Error | null) => void;
  const original = aedes.publish.bind(aedes) as unknown as (
    p: AedesPublishPacket,
    c: Client | null,
    d?: Done,
  ) => void;
  const publish = (packet: AedesPublishPacket, client?: Client | Done | null, done?: Done): void => {
    if (typeof client === 'function') {
      done = client;
      client = null;
    }
    if (client && packet.qos === 0 && !packet.retain && mq.length >= maxBacklog) {
      onDrop(packet, client);
      done?.();
      return;
    }
    original(packet, client ?? null, done);
  };
  (aedes as unknown as { publish: typeof publish }).publish = publish;
}

interface ParserInternals {
  packet: { length: number };
  _parseLength: () => boolean;
  _emitError: (err: Error) => void;
}

/**
 * Refuses any MQTT packet whose remaining length exceeds `maxBytes`, as soon as the fixed header
 * is read — before the body is buffered — by closing the connection. aedes 1.2 has no
 * maxPacketSize option. Returns false if the parser internals are not there.
 */
export function limitPacketSize(
  client: Client,
  maxBytes: number,
  onOversize: (bytes: number) => void,
): boolean {
  const parser = (client as unknown as { _parser?: Partial<ParserInternals> })._parser;
  if (!parser || typeof parser._parseLength !== 'function' || typeof parser._emitError !== 'function') {
    return false;
  }
  const parseLength = parser._parseLength;
  parser._parseLength = function parseLengthWithLimit(this: ParserInternals) {
    const ok = parseLength.call(this);
    if (ok && this.packet.length > maxBytes) {
      onOversize(this.packet.length);
      this._emitError(new Error(`packet of ${this.packet.length} bytes exceeds the limit of ${maxBytes}`));
      return false;
    }
    return ok;
  };
  return true;
}

/** True when a subscriber's socket is waiting for 'drain' or holds more than `maxBytes` unsent. */
export function isBackedUp(client: Client, maxBytes: number): boolean {
  const conn = client.conn as { writableNeedDrain?: boolean; writableLength?: number };
  return conn.writableNeedDrain === true || (conn.writableLength ?? 0) > maxBytes;
}

type Deliver = (packet: AedesPublishPacket, done: () => void) => void;

/**
 * QoS 0 deliveries to a subscriber that is not keeping up. aedes holds a routing slot until the
 * subscriber's socket drains, so a few stalled QoS 0 subscribers hold every slot and stall the
 * whole broker (until `drainTimeout`). This wraps the client's `deliver0`: a QoS 0 delivery to a
 * backed-up socket is dropped (at most once) and reported; otherwise the slot is released right
 * after the write is issued rather than when it drains. Must run before the client subscribes.
 */
export function limitQos0Deliveries(client: Client, maxBytes: number, onDrop: () => void): boolean {
  const c = client as unknown as { deliver0?: Deliver };
  const deliver0 = c.deliver0;
  if (typeof deliver0 !== 'function') return false;
  c.deliver0 = (packet, done) => {
    if (isBackedUp(client, maxBytes)) {
      onDrop();
      setImmediate(done);
      return;
    }
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      done();
    };
    deliver0(packet, finish);
    // deliver0 writes on a setImmediate queued before this one, so this runs just after the write.
    setImmediate(finish);
  };
  return true;
}

/** The fields of a packet from mqtt-packet's parser that the guards below look at. */
export interface ParsedPacket {
  cmd: string;
  messageId?: number | undefined;
  subscriptions?: ISubscription[];
  unsubscriptions?: string[];
}

interface EmitterInternals {
  emit: (event: string | symbol, ...args: unknown[]) => boolean;
  _emitError: (err: Error) => void;
}

/**
 * Shows `inspect` each packet a client's parser emits, before aedes handles it. `inspect` returns
 * the packet to hand on (the same or a replacement), or an Error: the parser then fails with it,
 * which closes the connection, and stops parsing the rest of that read. Returns false if the
 * parser internals are not there.
 */
export function inspectPackets(
  client: Client,
  inspect: (packet: ParsedPacket) => ParsedPacket | Error,
): boolean {
  const parser = (client as unknown as { _parser?: Partial<EmitterInternals> })._parser;
  if (!parser || typeof parser.emit !== 'function' || typeof parser._emitError !== 'function') return false;
  const emit = parser.emit;
  parser.emit = function emitInspected(this: EmitterInternals, event, ...args) {
    if (event !== 'packet') return emit.call(this, event, ...args);
    const out = inspect(args[0] as ParsedPacket);
    if (out instanceof Error) {
      this._emitError(out);
      return true;
    }
    return emit.call(this, event, out);
  };
  return true;
}

/** Topic filters in a SUBSCRIBE or UNSUBSCRIBE; 0 for any other packet. */
export function filterCount(packet: ParsedPacket): number {
  if (packet.cmd === 'subscribe') return packet.subscriptions?.length ?? 0;
  if (packet.cmd === 'unsubscribe') return packet.unsubscriptions?.length ?? 0;
  return 0;
}

interface PendingSuback {
  messageId: number;
  requested: { topic: string; qos: number }[];
}

/**
 * [MQTT-3.9.3-1] a SUBACK carries one return code per filter, in the order of the SUBSCRIBE.
 * aedes 1.2 deduplicates a SUBSCRIBE's filters first (`_dedupe` in handlers/subscribe.js: the
 * last copy of a topic wins, at the place of the first) and answers one code per distinct topic,
 * so four filters of which two repeat got two codes. For such a packet, `rewrite` hands aedes
 * that deduplicated list without the messageId, so aedes sends no SUBACK; when aedes reports the
 * subscription done (its 'subscribe' event, with the granted QoS or 0x80 on each entry), the full
 * SUBACK is written here. The ACL decides by topic, so every copy of a topic shares its verdict;
 * a granted copy gets back the QoS it asked for (aedes grants what is asked), as if the copies had
 * been processed one after another [MQTT-3.8.4-3].
 */
export class DuplicateFilterSuback {
  /** Keyed by the first entry of the list handed to aedes, which its event passes back. */
  private readonly pending = new WeakMap<object, PendingSuback>();

  constructor(aedes: Aedes) {
    aedes.on('subscribe', (subs, client) => this.answer(subs, client));
  }

  rewrite(packet: ParsedPacket): ParsedPacket {
    const subs = packet.subscriptions;
    if (packet.cmd !== 'subscribe' || !subs || subs.length < 2 || packet.messageId === undefined)
      return packet;
    const last = new Map<string, ISubscription>();
    for (const s of subs) last.set(s.topic, s);
    if (last.size === subs.length) return packet;
    const unique = [...last.values()];
    this.pending.set(unique[0] as ISubscription, {
      messageId: packet.messageId,
      requested: subs.map((s) => ({ topic: s.topic, qos: s.qos })),
    });
    return { ...packet, subscriptions: unique, messageId: undefined };
  }

  private answer(subs: readonly { topic: string; qos: number }[], client: Client): void {
    const first = subs[0];
    const pending = first && this.pending.get(first);
    if (!pending) return;
    this.pending.delete(first);
    const granted = new Map(subs.map((s) => [s.topic, s.qos]));
    const codes = pending.requested.map((r) => (granted.get(r.topic) === 0x80 ? 0x80 : r.qos));
    if (client.closed || client.conn.destroyed) return;
    try {
      writeToStream({ cmd: 'suback', messageId: pending.messageId, granted: codes }, client.conn);
    } catch (err) {
      client.conn.destroy(err as Error);
    }
  }
}
