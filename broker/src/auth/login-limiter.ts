/**
 * Failed logins, counted per user name and per client address over a sliding window, for every
 * way in (HTTP login, MQTT CONNECT, the Node-RED editor). A name with `maxFailures` failures in
 * the window, or an address with `maxFailuresPerAddress`, is locked: every attempt for it is
 * refused — whatever the secret, so guessing stays slow — until the oldest of those failures
 * leaves the window. Unknown names are counted like known ones, so the limiter does not tell
 * which names exist.
 *
 * Memory is bounded (`maxEntries` names and addresses together) without ever forgetting a lock:
 * when the table is full, an entry that is not locked is forgotten (the least recently failed
 * first); when every entry is locked, new names and addresses are refused until the oldest lock
 * ends (fail closed). Filling the table with junk names therefore cannot unlock a name — the
 * way the old per-name table could be reset.
 *
 * An attempt counts as a failure when it is admitted, before its secret is checked, so parallel
 * attempts cannot slip under the limit; a success clears its name and takes back the failure it
 * provisionally added to its address.
 *
 * A name's lock does not hold against an address that logged in as that name within
 * `knownAddressMs`: anyone who knows a user name can lock it, and without this an attacker could
 * keep an agent (or central's own client) from reconnecting. The address limit still applies there.
 */
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';

export interface LoginLimiterOptions {
  /** Failures per user name within the window before the name is locked (default 5). */
  maxFailures?: number;
  /** Failures per client address within the window before the address is locked (default 30). */
  maxFailuresPerAddress?: number;
  /** The sliding window, ms (default 60 000). */
  windowMs?: number;
  /** Names and addresses remembered at most (default 100 000). */
  maxEntries?: number;
  /** How long a successful login keeps its address known for its name (default 24 h). */
  knownAddressMs?: number;
}

/** Known addresses kept per name: the newest replace the oldest. */
const KNOWN_PER_NAME = 8;

/** Why an attempt was refused: its name or its address is locked, or the table is full of locks. */
export type LimitReason = 'name' | 'address' | 'full';
export const LIMIT_REASONS: readonly LimitReason[] = ['name', 'address', 'full'];

export type LimitVerdict =
  | { ok: true }
  | { ok: false; reason: LimitReason; retryAfterMs: number }
  /** Locked only by attempts still being checked: try again once one of them settles. */
  | { ok: false; busy: true; reason: LimitReason };

interface Entry {
  /** Failure times in the window, oldest first; never more than `max`. */
  times: number[];
  max: number;
  /** While locked: when the lock ends. */
  until: number;
}

/** Names longer than this are keyed by a hash, so a huge MQTT user name costs no more memory. */
const LONG_NAME = 128;

/**
 * The address a client is counted under: an IPv4-mapped IPv6 address as IPv4, and any other
 * IPv6 address by its /64 prefix (one host usually holds a whole /64, so counting single IPv6
 * addresses would give it 2^64 fresh counts).
 */
export function addressKey(address: string): string {
  const a = address.trim().toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(a);
  if (mapped) return mapped[1] as string;
  const bare = a.split('%')[0] as string;
  if (!isIPv6(bare)) return a;
  const [head = '', tail = ''] = bare.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = bare.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

function nameKey(name: string): string {
  if (name.length <= LONG_NAME) return `n:${name}`;
  return `n#${createHash('sha256').update(name).digest('base64url')}`;
}

export class LoginLimiter {
  readonly maxFailures: number;
  readonly maxFailuresPerAddress: number;
  readonly windowMs: number;
  readonly maxEntries: number;
  /** Entries that are not locked, least recently failed first. */
  private readonly open = new Map<string, Entry>();
  /** Locked entries, in the order they were locked. */
  private readonly locked = new Map<string, Entry>();
  /** Attempts refused, by reason (for metrics). */
  readonly refused: Record<LimitReason, number> = { name: 0, address: 0, full: 0 };
  /** Attempts admitted and not yet settled, per name and address key (their failures are provisional). */
  private readonly pending = new Map<string, number>();
  /** Name → the addresses it logged in from lately → until when they are known (oldest first). */
  private readonly known = new Map<string, Map<string, number>>();
  readonly knownAddressMs: number;

  constructor(o: LoginLimiterOptions = {}) {
    const int = (v: number | undefined, d: number) => Math.max(1, Math.floor(v ?? d));
    this.maxFailures = int(o.maxFailures, 5);
    this.maxFailuresPerAddress = int(o.maxFailuresPerAddress, 30);
    this.windowMs = int(o.windowMs, 60_000);
    // Room for at least one name and one address, so an attempt can always be counted in full.
    this.maxEntries = Math.max(2, int(o.maxEntries, 100_000));
    this.knownAddressMs = Math.max(0, Math.floor(o.knownAddressMs ?? 24 * 3_600_000));
  }

  /**
   * Remembers that `name` logged in from `address`, so a lock on the name does not hold there
   * (until `until`, by default `knownAddressMs` from now).
   */
  trust(name: string, address: string, now: number, until = now + this.knownAddressMs): void {
    if (until <= now) return;
    const n = nameKey(name);
    const list = this.known.get(n) ?? new Map<string, number>();
    const a = addressKey(address);
    const before = list.get(a) ?? 0;
    list.delete(a);
    // A permanent entry (central's own client) is never shortened by a later login.
    list.set(a, Math.max(until, before));
    if (list.size > KNOWN_PER_NAME) list.delete(list.keys().next().value as string);
    this.known.delete(n); // re-insert: the map's order is least recently trusted first
    this.known.set(n, list);
    // Bounded like the failures: the name trusted longest ago is forgotten first.
    if (this.known.size > this.maxEntries) this.known.delete(this.known.keys().next().value as string);
  }

  private isKnown(n: string, address: string | undefined, now: number): boolean {
    if (!address) return false;
    const until = this.known.get(n)?.get(addressKey(address));
    return until !== undefined && until > now;
  }

  /** Names and addresses remembered now. */
  get size(): number {
    return this.open.size + this.locked.size;
  }

  get lockedCount(): number {
    return this.locked.size;
  }

  /** The entry for `key` as of `now` (an ended lock lifted, failures out of the window dropped). */
  private entry(key: string, now: number): Entry | undefined {
    const l = this.locked.get(key);
    if (l) {
      if (l.until > now) return l;
      this.locked.delete(key);
      this.prune(l, now);
      if (l.times.length === 0) return undefined;
      this.open.set(key, l);
      return l;
    }
    const e = this.open.get(key);
    if (!e) return undefined;
    this.prune(e, now);
    if (e.times.length > 0) return e;
    this.open.delete(key);
    return undefined;
  }

  private prune(e: Entry, now: number): void {
    let i = 0;
    while (i < e.times.length && now - (e.times[i] as number) >= this.windowMs) i++;
    if (i > 0) e.times.splice(0, i);
  }

  /** Milliseconds until `key` may try again; 0 when it may try now. */
  private wait(key: string, now: number): number {
    const e = this.entry(key, now);
    return e && this.locked.has(key) ? e.until - now : 0;
  }

  /**
   * Makes room for `n` new entries by forgetting unlocked ones (never those in `keep`, the
   * attempt's own); false when only locks are left.
   */
  private makeRoom(n: number, now: number, keep: readonly string[]): boolean {
    const full = () => this.size + n > this.maxEntries;
    for (const key of this.open.keys()) {
      if (!full()) return true;
      if (!keep.includes(key)) this.open.delete(key);
    }
    // Every entry left is locked: only one whose lock has ended may go. Locks were taken in this
    // order and each lasts at most one window, so the first one ends soonest (or nearly so).
    while (full()) {
      const first = this.locked.entries().next();
      if (first.done || first.value[1].until > now) return false;
      this.locked.delete(first.value[0]);
    }
    return true;
  }

  /** When the oldest lock ends: how long a full table refuses newcomers. */
  private fullFor(now: number): number {
    const first = this.locked.values().next();
    return first.done ? this.windowMs : Math.max(1, first.value.until - now);
  }

  private fail(key: string, max: number, now: number): void {
    const e = this.entry(key, now) ?? { times: [], max, until: 0 };
    e.times.push(now);
    if (e.times.length > max) e.times.splice(0, e.times.length - max);
    // Re-insert, so the open table stays least recently failed first.
    this.open.delete(key);
    if (e.times.length >= max) {
      e.until = (e.times[0] as number) + this.windowMs;
      this.locked.set(key, e);
    } else this.open.set(key, e);
  }

  /**
   * Admits an attempt for `name` from `address` (absent: an in-process client, counted by name
   * only) and counts it as a failure; or refuses it, saying why and for how long.
   */
  attempt(name: string, address: string | undefined, now: number): LimitVerdict {
    const n = nameKey(name);
    const a = address ? `a:${addressKey(address)}` : null;
    const byName = this.isKnown(n, address, now) ? 0 : this.wait(n, now);
    const byAddress = a ? this.wait(a, now) : 0;
    if (byName > 0 || byAddress > 0) {
      const reason: LimitReason = byName > 0 ? 'name' : 'address';
      // A burst of one user's logins (ten connections at once) locks by its own provisional
      // failures: the caller waits for those to settle instead of being refused.
      const inFlight = (k: string | null, by: number) =>
        by === 0 || (k !== null && (this.pending.get(k) ?? 0) > 0);
      if (inFlight(n, byName) && inFlight(a, byAddress)) return { ok: false, busy: true, reason };
      this.refused[reason]++;
      return { ok: false, reason, retryAfterMs: Math.max(byName, byAddress) };
    }
    const keep = a ? [n, a] : [n];
    const fresh = keep.filter((k) => !this.open.has(k)).length;
    if (!this.makeRoom(fresh, now, keep)) {
      this.refused.full++;
      return { ok: false, reason: 'full', retryAfterMs: this.fullFor(now) };
    }
    this.fail(n, this.maxFailures, now);
    if (a) this.fail(a, this.maxFailuresPerAddress, now);
    for (const k of keep) this.pending.set(k, (this.pending.get(k) ?? 0) + 1);
    return { ok: true };
  }

  /** An admitted attempt failed: its provisional failure stands. */
  failed(name: string, address: string | undefined): void {
    this.settle(nameKey(name), address);
  }

  private settle(n: string, address: string | undefined): void {
    for (const k of address ? [n, `a:${addressKey(address)}`] : [n]) {
      const left = (this.pending.get(k) ?? 0) - 1;
      if (left > 0) this.pending.set(k, left);
      else this.pending.delete(k);
    }
  }

  /**
   * The attempt succeeded: its name's failures are cleared, and the failure it provisionally
   * added to its address is taken back (the address's other failures stay: one good account
   * does not buy an address fresh guesses at other names).
   */
  succeed(name: string, address: string | undefined, now: number): void {
    const n = nameKey(name);
    this.settle(n, address);
    this.open.delete(n);
    this.locked.delete(n);
    if (!address) return;
    this.trust(name, address, now);
    const a = `a:${addressKey(address)}`;
    const e = this.entry(a, now);
    if (!e) return;
    e.times.pop();
    if (this.locked.delete(a)) this.open.set(a, e);
    if (e.times.length === 0) this.open.delete(a);
  }

  /** Milliseconds until `name` may try again (from any address); 0 when it may try now. */
  blockedFor(name: string, now: number): number {
    return this.wait(nameKey(name), now);
  }

  /** Milliseconds until `address` may try again; 0 when it may try now. */
  addressBlockedFor(address: string, now: number): number {
    return this.wait(`a:${addressKey(address)}`, now);
  }
}
