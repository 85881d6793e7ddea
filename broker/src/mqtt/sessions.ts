/**
 * Bounds on what MQTT sessions hold in aedes's persistence. Left alone, aedes keeps every
 * unreleased inbound QoS 2 packet and every queued delivery of a CleanSession=0 client id until
 * that id comes back clean — throwaway ids pinned 90 MB here — and never discards an abandoned
 * session. This wraps the persistence instance aedes created (its in-memory store) so that every
 * change to those queues goes through a SessionLedger, and:
 *
 * - an inbound QoS 2 packet that would take its user's sessions past `maxBytesPerUser`, or all
 *   sessions past `maxBytes`, is refused (aedes closes the connection: MQTT 3.1.1 cannot say why);
 * - a delivery that would do so is not queued for that session (dropped, as Mosquitto's
 *   `max_queued_bytes` does), nor is one the session's user may not read;
 * - a CONNECT with CleanSession=0 that would open a user's `maxPerUser + 1`-th session is refused;
 * - a session whose client has been away `expiryMs` is discarded whole;
 * - a persistent subscription is stored only for the filters the ACL granted.
 *
 * Like guards.ts, it checks at install that the internals it wraps are there.
 */
import { type CentralConfig, ShelfError } from '@shelfsense/protocol';
import type { Aedes, AedesPublishPacket, Client } from 'aedes';
import type { Logger } from 'pino';
import type { Identity } from '../auth/user-store.js';
import { GuardError } from './guards.js';
import type { BrokerCounters } from './metrics.js';
import type { RefusalLog } from './refusal-log.js';
import { type Budget, packetBytes, SessionLedger, type StoredPacket } from './session-ledger.js';

export type SessionLimits = CentralConfig['mqtt']['limits']['sessions'];

export class SessionFullError extends ShelfError<'SHELF_ERR_SESSION_FULL'> {
  constructor(message: string) {
    super('SHELF_ERR_SESSION_FULL', message);
    this.name = 'SessionFullError';
  }
}

interface Who {
  id: string;
}
interface Sub {
  clientId: string;
}
interface Subscription {
  topic: string;
}

/** The persistence methods aedes 1.2 calls without callbacks (promises), as far as used here. */
interface Persistence {
  asyncPersistence?: { constructor?: { name?: string } };
  incomingStorePacket(client: Who, packet: StoredPacket): Promise<void>;
  incomingDelPacket(client: Who, packet: StoredPacket): Promise<void>;
  cleanIncoming(client: Who): Promise<void>;
  outgoingEnqueue(sub: Sub, packet: StoredPacket): Promise<void>;
  outgoingEnqueueCombi(subs: Sub[], packet: StoredPacket): Promise<void>;
  outgoingUpdate(client: Who, packet: StoredPacket): Promise<void>;
  outgoingClearMessageId(client: Who, packet: StoredPacket): Promise<unknown>;
  addSubscriptions(client: Client, subs: Subscription[]): Promise<void>;
  cleanSubscriptions(client: Who): Promise<void>;
  delWill(client: Who & { brokerId: string }): Promise<unknown>;
}

const WRAPPED = [
  'incomingStorePacket',
  'incomingDelPacket',
  'cleanIncoming',
  'outgoingEnqueue',
  'outgoingEnqueueCombi',
  'outgoingUpdate',
  'outgoingClearMessageId',
  'addSubscriptions',
  'cleanSubscriptions',
  'delWill',
] as const;

const REASON: Record<Budget, 'session_bytes_user' | 'session_bytes_total'> = {
  user: 'session_bytes_user',
  total: 'session_bytes_total',
};

export interface SessionsOptions {
  limits: SessionLimits;
  counters: BrokerCounters;
  refusals: RefusalLog;
  log: Logger;
  /** May this user receive a message on this topic? What it may not read is never queued for it. */
  mayRead(owner: Identity, topic: string): boolean;
  /** May this connected client hold a subscription to this filter (the ACL's subscribe decision)? */
  mayHold(client: Client, filter: string): boolean;
  now?: () => number;
}

type Deliver = (packet: AedesPublishPacket, done: () => void) => void;

/**
 * A payload the parser sliced out of a socket read shares that read's memory, so keeping the
 * payload keeps the whole read (measured: 16 MiB of payloads held 25 MB of buffers). What a
 * session keeps is copied out first, so the bytes counted are the bytes held.
 */
function compact(packet: StoredPacket): StoredPacket {
  const p = packet.payload;
  if (!Buffer.isBuffer(p) || p.buffer.byteLength <= p.length) return packet;
  const copy = Buffer.allocUnsafeSlow(p.length);
  p.copy(copy);
  packet.payload = copy;
  return packet;
}

export class Sessions {
  readonly ledger: SessionLedger<Identity>;
  private aedes: Aedes | null = null;
  private store: Persistence | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: SessionsOptions) {
    this.ledger = new SessionLedger(o.limits, o.now);
  }

  /** Wraps the persistence aedes created in listen(); call before any client connects. */
  install(aedes: Aedes): void {
    const p = (aedes as unknown as { persistence?: Partial<Persistence> }).persistence;
    const missing = p ? WRAPPED.filter((m) => typeof p[m] !== 'function') : WRAPPED;
    if (!p || missing.length > 0) {
      throw new GuardError(
        `aedes persistence internals changed (${missing.join(', ')}): sessions cannot be bounded`,
      );
    }
    // The ledger mirrors the in-memory store's matching rules; another store needs its own.
    const kind = p.asyncPersistence?.constructor?.name;
    if (kind !== 'MemoryPersistence') {
      throw new GuardError(`sessions are bounded for aedes-persistence's memory store only, not ${kind}`);
    }
    this.wrap(p as Persistence);
    this.store = p as Persistence;
    this.aedes = aedes;
    aedes.on('clientDisconnect', (client) => this.ledger.detach(client.id, client));
    const every = Math.min(60_000, Math.max(25, Math.floor(this.o.limits.expiryMs / 4)));
    this.timer = setInterval(() => this.sweep(), every);
    this.timer.unref();
  }

  /**
   * Called once a client is authenticated, before aedes restores its session: false refuses a
   * CleanSession=0 connect that would open one persistent session more than `maxPerUser`.
   */
  admit(client: Client, identity: Identity): boolean {
    if (client.closed) return true; // aedes drops a client that closed while authenticating
    if (!this.ledger.admits(client.id, identity, client.clean)) {
      this.o.counters.denied.session_limit++;
      this.o.refusals.warn(
        'session_limit',
        {
          user: identity.user,
          role: identity.grant.role,
          clientId: client.id,
          action: 'connect',
          why: `the user holds ${this.o.limits.maxPerUser} persistent sessions (limits.sessions.maxPerUser)`,
        },
        'denied session_limit',
      );
      return false;
    }
    this.ledger.attach(client.id, identity, client.clean, client);
    return true;
  }

  /**
   * Per connection, before it subscribes: a QoS 1/2 delivery to a persistent session that does
   * not hold it (dropped or not readable) is skipped. aedes would otherwise fail to find it in
   * the store when it sends it, and close the connection.
   */
  guard(client: Client): boolean {
    const c = client as unknown as { deliverQoS?: Deliver };
    const deliverQoS = c.deliverQoS;
    if (typeof deliverQoS !== 'function') return false;
    c.deliverQoS = (packet, done) => {
      if (
        packet.qos > 0 &&
        !packet.retain &&
        client.clean === false &&
        !this.ledger.holds(client.id, packet)
      ) {
        setImmediate(done);
        return;
      }
      deliverQoS(packet, done);
    };
    return true;
  }

  /** Discards the sessions whose clients have been away `expiryMs`. Runs on a timer. */
  sweep(): void {
    const aedes = this.aedes;
    if (!aedes) return;
    const clients = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
    const due = this.ledger.due((id, token) => {
      const attached = token as Client | null;
      if (attached && !attached.closed) return attached;
      const registered = clients[id];
      return registered && !registered.closed ? registered : null;
    });
    for (const id of due) this.discard(id);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.aedes = null;
  }

  /** Everything the store keeps for `id`: subscriptions, queued deliveries, inbound QoS 2, will. */
  private discard(id: string): void {
    const p = this.store as Persistence;
    const aedes = this.aedes as Aedes;
    const who = { id };
    const user = this.ledger.ownerOf(id)?.user ?? null;
    const fail = (err: Error) =>
      this.o.log.error({ clientId: id, err: err.message }, 'discarding a session failed');
    // The memory store applies each call at once; the ledger follows each through the wrappers.
    for (const { messageId } of this.ledger.queued(id)) {
      p.outgoingClearMessageId(who, { messageId }).catch(fail);
    }
    p.cleanIncoming(who).catch(fail);
    p.cleanSubscriptions(who).catch(fail);
    p.delWill({ id, brokerId: aedes.id }).catch(fail);
    const left = this.ledger.forget(id);
    if (left !== 0) {
      this.o.log.error({ clientId: id, bytes: left }, 'session ledger out of step with the store; released');
    }
    this.o.counters.sessions.expired++;
    this.o.log.info({ clientId: id, user }, 'abandoned session discarded');
  }

  private wrap(p: Persistence): void {
    const ledger = this.ledger;
    const store = p.incomingStorePacket.bind(p);
    const del = p.incomingDelPacket.bind(p);
    const clean = p.cleanIncoming.bind(p);
    const enqueue = p.outgoingEnqueue.bind(p);
    const combi = p.outgoingEnqueueCombi.bind(p);
    const update = p.outgoingUpdate.bind(p);
    const clear = p.outgoingClearMessageId.bind(p);
    const addSubscriptions = p.addSubscriptions.bind(p);

    p.incomingStorePacket = (client, packet) => {
      const full = ledger.overBudgetIncoming(client.id, packet);
      if (full) {
        this.refuseIncoming(client.id, packet, full);
        return Promise.reject(
          new SessionFullError(`session bytes over ${full === 'user' ? 'the user' : 'the broker'} limit`),
        );
      }
      ledger.storeIncoming(client.id, packet);
      // The packet is published next: its subscribers' queues share the copy.
      return store(client, compact(packet));
    };
    p.incomingDelPacket = (client, packet) => {
      ledger.delIncoming(client.id, packet);
      return del(client, packet);
    };
    p.cleanIncoming = (client) => {
      ledger.cleanIncoming(client.id);
      return clean(client);
    };
    // The store keeps a copy of the packet object per session; the payload is shared by them.
    p.outgoingEnqueue = (sub, packet) =>
      this.admitQueued(sub.clientId, packet) ? enqueue(sub, compact({ ...packet })) : Promise.resolve();
    p.outgoingEnqueueCombi = (subs, packet) => {
      const kept = subs.filter((sub) => this.admitQueued(sub.clientId, packet));
      return kept.length > 0 ? combi(kept, compact({ ...packet })) : Promise.resolve();
    };
    p.outgoingUpdate = (client, packet) => {
      ledger.update(client.id, packet);
      return update(client, packet);
    };
    p.outgoingClearMessageId = (client, packet) => {
      ledger.clear(client.id, packet);
      return clear(client, packet);
    };
    // aedes stores a SUBSCRIBE's whole list for each filter granted, refused filters included.
    p.addSubscriptions = (client, subs) => {
      const granted = subs.filter((s) => this.o.mayHold(client, s.topic));
      return granted.length > 0 ? addSubscriptions(client, granted) : Promise.resolve();
    };
  }

  /** Records a delivery queued for `id`, or says why it is not: unreadable or over a budget. */
  private admitQueued(id: string, packet: StoredPacket): boolean {
    const owner = this.ledger.ownerOf(id);
    if (owner && packet.topic !== undefined && !this.o.mayRead(owner, packet.topic)) {
      this.o.counters.filtered++;
      return false;
    }
    const bytes = packetBytes(packet);
    const full = this.ledger.overBudget(id, bytes);
    if (full) {
      const reason = REASON[full];
      this.o.counters.dropped[reason]++;
      this.o.refusals.warn(
        reason,
        {
          user: owner?.user ?? null,
          clientId: id,
          action: 'queue',
          topic: packet.topic,
          bytes,
          why: this.why(full, id),
        },
        `dropped ${reason}`,
      );
      return false;
    }
    this.ledger.enqueue(id, packet);
    return true;
  }

  private refuseIncoming(id: string, packet: StoredPacket, full: Budget): void {
    const reason = REASON[full];
    const owner = this.ledger.ownerOf(id);
    this.o.counters.denied[reason]++;
    this.o.refusals.warn(
      reason,
      {
        user: owner?.user ?? null,
        role: owner?.grant.role ?? null,
        clientId: id,
        action: 'publish',
        topic: packet.topic,
        bytes: packetBytes(packet),
        why: this.why(full, id),
      },
      `denied ${reason}`,
    );
  }

  private why(full: Budget, id: string): string {
    const l = this.o.limits;
    if (full === 'total')
      return `sessions hold ${this.ledger.bytes} bytes (limits.sessions.maxBytes ${l.maxBytes})`;
    const user = this.ledger.ownerOf(id)?.user ?? '';
    return `the user's sessions hold ${this.ledger.userBytes(user)} bytes (limits.sessions.maxBytesPerUser ${l.maxBytesPerUser})`;
  }
}
