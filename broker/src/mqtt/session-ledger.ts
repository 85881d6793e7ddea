/**
 * What each client id's session holds in the broker's persistence, in bytes, and which user owns
 * it. aedes-persistence's memory store keeps its maps private, so the ledger mirrors them: every
 * call that changes a session's queued deliveries or unreleased inbound QoS 2 packets goes through
 * the ledger first (sessions.ts wraps the persistence), and the ledger applies the same change,
 * with the same matching rules, to its own copy. Because it never estimates, it cannot drift from
 * the store, and a limit enforced on it holds for the store.
 *
 * Pure bookkeeping: no aedes, no timers, a clock passed in.
 */

/** The fields of a packet the persistence keeps and matches on. */
export interface StoredPacket {
  cmd?: string;
  brokerId?: string | null;
  brokerCounter?: number;
  messageId?: number;
  topic?: string;
  payload?: Buffer | Uint8Array | string;
}

export interface LedgerLimits {
  /** Persistent sessions one user may hold. */
  maxPerUser: number;
  /** Bytes one user's sessions may hold together. */
  maxBytesPerUser: number;
  /** Bytes all sessions may hold together. */
  maxBytes: number;
  /** A session away this long is due to be discarded. */
  expiryMs: number;
}

/** Which budget a packet does not fit in. */
export type Budget = 'user' | 'total';

/**
 * What a stored packet is reckoned to cost beyond its payload and topic: the packet object, the
 * queue slot, the Buffer header. Approximate on purpose, so that even empty messages add up.
 */
export const PACKET_OVERHEAD = 128;

export function packetBytes(packet: StoredPacket): number {
  const payload = packet.payload;
  const body =
    payload === undefined ? 0 : typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  return PACKET_OVERHEAD + body + (packet.topic ? Buffer.byteLength(packet.topic) : 0);
}

interface Queued {
  brokerId: string | null | undefined;
  brokerCounter: number | undefined;
  messageId: number | undefined;
  bytes: number;
  /** brokerId/brokerCounter of a queued publish (null for a PUBREL that replaced one). */
  key: string | null;
}

interface Entry<P> {
  id: string;
  owner: P | null;
  /** The last connection asked for CleanSession=0. */
  persistent: boolean;
  /** The connection attached now (opaque to the ledger), or null while the client is away. */
  token: unknown;
  /** Since when the client has been away (meaningful while token is null). */
  awaySince: number;
  outgoing: Queued[];
  incoming: Map<number, number>;
  /** Publish keys in `outgoing`, with how many times each is queued. */
  held: Map<string, number>;
  bytes: number;
}

interface UserTotals {
  bytes: number;
  sessions: Set<string>;
}

const keyOf = (brokerId: string | null | undefined, brokerCounter: number | undefined) =>
  `${brokerId}\u0000${brokerCounter}`;

export class SessionLedger<P extends { user: string }> {
  private readonly entries = new Map<string, Entry<P>>();
  private readonly users = new Map<string, UserTotals>();
  private total = 0;

  constructor(
    private readonly limits: LedgerLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Bytes all sessions hold. */
  get bytes(): number {
    return this.total;
  }

  /** Persistent sessions held (connected or away). */
  get sessions(): number {
    let n = 0;
    for (const u of this.users.values()) n += u.sessions.size;
    return n;
  }

  /** Client ids the ledger follows (persistent sessions, connected clients, anything holding bytes). */
  get size(): number {
    return this.entries.size;
  }

  userBytes(user: string): number {
    return this.users.get(user)?.bytes ?? 0;
  }

  sessionsOf(user: string): number {
    return this.users.get(user)?.sessions.size ?? 0;
  }

  bytesOf(id: string): number {
    return this.entries.get(id)?.bytes ?? 0;
  }

  ownerOf(id: string): P | null {
    return this.entries.get(id)?.owner ?? null;
  }

  isPersistent(id: string): boolean {
    return this.entries.get(id)?.persistent ?? false;
  }

  // --- connections ------------------------------------------------------------------------------

  /**
   * May `owner` connect as `id`? Only a CleanSession=0 connect that would open a new persistent
   * session for the user (a new id, or an id another user's session holds) counts against
   * `maxPerUser`; resuming one of its own sessions, or a clean session, is always admitted.
   */
  admits(id: string, owner: P, clean: boolean): boolean {
    if (clean) return true;
    const e = this.entries.get(id);
    if (e?.persistent && e.owner?.user === owner.user) return true;
    return this.sessionsOf(owner.user) < this.limits.maxPerUser;
  }

  /**
   * A connection for `id`, authenticated as `owner`, is taking the session over. The session's
   * bytes move to `owner` if another user held it. `token` identifies the connection, so that
   * the disconnect of a connection it replaced is ignored.
   */
  attach(id: string, owner: P, clean: boolean, token: unknown): void {
    const e = this.entry(id);
    this.setOwner(e, owner);
    this.setPersistent(e, !clean);
    e.token = token;
  }

  /** The connection `token` for `id` is gone; a later connection's detach does not count. */
  detach(id: string, token: unknown): void {
    const e = this.entries.get(id);
    if (!e || e.token !== token) return;
    e.token = null;
    e.awaySince = this.now();
    this.forgetIfEmpty(e);
  }

  // --- budgets ---------------------------------------------------------------------------------

  /** Which budget `bytes` more for `id` would exceed, or null when they fit. */
  overBudget(id: string, bytes: number): Budget | null {
    const user = this.entries.get(id)?.owner?.user;
    if (user !== undefined && this.userBytes(user) + bytes > this.limits.maxBytesPerUser) return 'user';
    if (this.total + bytes > this.limits.maxBytes) return 'total';
    return null;
  }

  /** overBudget for an inbound QoS 2 packet (a retransmission replaces the one it repeats). */
  overBudgetIncoming(id: string, packet: StoredPacket): Budget | null {
    const old =
      packet.messageId === undefined ? undefined : this.entries.get(id)?.incoming.get(packet.messageId);
    return this.overBudget(id, packetBytes(packet) - (old ?? 0));
  }

  // --- the mirror of aedes-persistence (asyncPersistence.js) ---------------------------------------

  /** outgoingEnqueue / outgoingEnqueueCombi: one delivery queued for `id`. */
  enqueue(id: string, packet: StoredPacket): void {
    const e = this.entry(id);
    // The store keeps `new Packet(packet)`: no messageId yet, brokerCounter defaulting to 0.
    const brokerId = packet.brokerId || undefined;
    const brokerCounter = packet.brokerCounter || 0;
    const q: Queued = {
      brokerId,
      brokerCounter,
      messageId: undefined,
      bytes: packetBytes(packet),
      key: keyOf(brokerId, brokerCounter),
    };
    e.outgoing.push(q);
    this.hold(e, q, 1);
    this.add(e, q.bytes);
  }

  /**
   * outgoingUpdate: the first queued packet from the same broker with the same counter gets the
   * packet's messageId; failing that, a packet from another broker (a PUBREL has none) replaces
   * the first queued one with its messageId.
   */
  update(id: string, packet: StoredPacket): void {
    const e = this.entries.get(id);
    if (!e) return;
    const q = e.outgoing;
    for (let i = 0; i < q.length; i++) {
      const t = q[i] as Queued;
      if (t.brokerId === packet.brokerId) {
        if (t.brokerCounter === packet.brokerCounter) {
          t.messageId = packet.messageId;
          return;
        }
      } else if (t.messageId === packet.messageId) {
        // The store keeps the packet object itself here, its fields as they are.
        const bytes = packetBytes(packet);
        const publish = packet.cmd === undefined || packet.cmd === 'publish';
        const replacement: Queued = {
          brokerId: packet.brokerId,
          brokerCounter: packet.brokerCounter,
          messageId: packet.messageId,
          bytes,
          key: publish ? keyOf(packet.brokerId, packet.brokerCounter) : null,
        };
        this.hold(e, t, -1);
        q[i] = replacement;
        this.hold(e, replacement, 1);
        this.add(e, bytes - t.bytes);
        return;
      }
    }
  }

  /** outgoingClearMessageId: the first queued packet with that messageId (undefined included) goes. */
  clear(id: string, packet: StoredPacket): void {
    const e = this.entries.get(id);
    if (!e) return;
    const i = e.outgoing.findIndex((t) => t.messageId === packet.messageId);
    if (i < 0) return;
    const [t] = e.outgoing.splice(i, 1) as [Queued];
    this.hold(e, t, -1);
    this.add(e, -t.bytes);
    this.forgetIfEmpty(e);
  }

  /** incomingStorePacket: kept by messageId, replacing one with the same id. */
  storeIncoming(id: string, packet: StoredPacket): void {
    if (packet.messageId === undefined) return;
    const e = this.entry(id);
    const bytes = packetBytes(packet);
    const old = e.incoming.get(packet.messageId) ?? 0;
    e.incoming.set(packet.messageId, bytes);
    this.add(e, bytes - old);
  }

  /** incomingDelPacket: the PUBREL released it. */
  delIncoming(id: string, packet: StoredPacket): void {
    const e = this.entries.get(id);
    if (!e || packet.messageId === undefined) return;
    const old = e.incoming.get(packet.messageId);
    if (old === undefined) return;
    e.incoming.delete(packet.messageId);
    this.add(e, -old);
    this.forgetIfEmpty(e);
  }

  /** cleanIncoming: a clean session's inbound QoS 2 state goes with it. */
  cleanIncoming(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    let bytes = 0;
    for (const b of e.incoming.values()) bytes += b;
    e.incoming.clear();
    this.add(e, -bytes);
    this.forgetIfEmpty(e);
  }

  /** Is this publish (by brokerId and brokerCounter) queued for `id`? */
  holds(id: string, packet: StoredPacket): boolean {
    const e = this.entries.get(id);
    return !!e && (e.held.get(keyOf(packet.brokerId || undefined, packet.brokerCounter || 0)) ?? 0) > 0;
  }

  /** `id`'s queued packets, in order: messageId (undefined until sent) and bytes. */
  queued(id: string): { messageId: number | undefined; bytes: number }[] {
    return this.entries.get(id)?.outgoing.map((t) => ({ messageId: t.messageId, bytes: t.bytes })) ?? [];
  }

  // --- expiry ----------------------------------------------------------------------------------

  /**
   * The ids due to be discarded: away for `expiryMs` or more. `live(id, token)` names the
   * connection really attached to an id now (or null): a connection that closed without a
   * disconnect event starts its session's away time here, and one that took over is adopted.
   */
  due(live: (id: string, token: unknown) => unknown): string[] {
    const now = this.now();
    const out: string[] = [];
    for (const e of [...this.entries.values()]) {
      const token = live(e.id, e.token);
      if (token) {
        e.token = token;
        continue;
      }
      if (e.token !== null) {
        e.token = null;
        e.awaySince = now;
        if (this.forgetIfEmpty(e)) continue;
      }
      if (now - e.awaySince >= this.limits.expiryMs) out.push(e.id);
    }
    return out;
  }

  /**
   * Drops `id` from the ledger, once its session has been discarded from the store. Returns the
   * bytes it still held: 0 unless the ledger and the store disagreed (they are released anyway,
   * so a disagreement cannot pin a user's budget for good).
   */
  forget(id: string): number {
    const e = this.entries.get(id);
    if (!e) return 0;
    const left = e.bytes;
    this.add(e, -left);
    this.setPersistent(e, false);
    this.setOwner(e, null);
    this.entries.delete(id);
    return left;
  }

  // --- internals -------------------------------------------------------------------------------

  private entry(id: string): Entry<P> {
    let e = this.entries.get(id);
    if (!e) {
      e = {
        id,
        owner: null,
        persistent: false,
        token: null,
        awaySince: this.now(),
        outgoing: [],
        incoming: new Map(),
        held: new Map(),
        bytes: 0,
      };
      this.entries.set(id, e);
    }
    return e;
  }

  private totals(user: string): UserTotals {
    let t = this.users.get(user);
    if (!t) {
      t = { bytes: 0, sessions: new Set() };
      this.users.set(user, t);
    }
    return t;
  }

  private add(e: Entry<P>, bytes: number): void {
    if (bytes === 0) return;
    e.bytes += bytes;
    this.total += bytes;
    if (!e.owner) return;
    this.totals(e.owner.user).bytes += bytes;
    if (bytes < 0) this.dropTotalsIfEmpty(e.owner.user);
  }

  private setOwner(e: Entry<P>, owner: P | null): void {
    const before = e.owner?.user;
    if (before !== undefined && before !== owner?.user) {
      const t = this.totals(before);
      t.bytes -= e.bytes;
      t.sessions.delete(e.id);
      this.dropTotalsIfEmpty(before);
      if (owner) this.totals(owner.user).bytes += e.bytes;
    } else if (before === undefined && owner) {
      this.totals(owner.user).bytes += e.bytes;
    }
    e.owner = owner;
    if (owner && e.persistent) this.totals(owner.user).sessions.add(e.id);
  }

  private setPersistent(e: Entry<P>, persistent: boolean): void {
    e.persistent = persistent;
    if (!e.owner) return;
    const t = this.totals(e.owner.user);
    if (persistent) t.sessions.add(e.id);
    else {
      t.sessions.delete(e.id);
      this.dropTotalsIfEmpty(e.owner.user);
    }
  }

  private dropTotalsIfEmpty(user: string): void {
    const t = this.users.get(user);
    if (t && t.bytes === 0 && t.sessions.size === 0) this.users.delete(user);
  }

  private hold(e: Entry<P>, q: Queued, n: 1 | -1): void {
    if (q.key === null) return;
    const c = (e.held.get(q.key) ?? 0) + n;
    if (c > 0) e.held.set(q.key, c);
    else e.held.delete(q.key);
  }

  /** A clean session whose client is away and which holds nothing is forgotten at once. */
  private forgetIfEmpty(e: Entry<P>): boolean {
    if (e.persistent || e.token !== null || e.outgoing.length > 0 || e.incoming.size > 0) return false;
    this.forget(e.id);
    return true;
  }
}
