/**
 * Failed logins per user name: after `maxFailures` failures within `windowMs`, further attempts for
 * that name are refused (429) until the oldest failure leaves the window — whatever the password,
 * so guessing stays slow. Names that do not exist are limited the same way, so the limiter does not
 * tell which names exist. Memory is bounded: the oldest names are forgotten first.
 */
export interface LoginLimiterOptions {
  maxFailures?: number;
  windowMs?: number;
  /** Names remembered at most. */
  maxNames?: number;
}

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  readonly maxFailures: number;
  readonly windowMs: number;
  private readonly maxNames: number;

  constructor(o: LoginLimiterOptions = {}) {
    this.maxFailures = Math.max(1, Math.floor(o.maxFailures ?? 5));
    this.windowMs = Math.max(1, Math.floor(o.windowMs ?? 60_000));
    this.maxNames = Math.max(1, Math.floor(o.maxNames ?? 10_000));
  }

  private recent(name: string, now: number): number[] {
    const list = (this.failures.get(name) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length === 0) this.failures.delete(name);
    else this.failures.set(name, list);
    return list;
  }

  /** Milliseconds until `name` may try again; 0 when it may try now. */
  blockedFor(name: string, now: number): number {
    const list = this.recent(name, now);
    if (list.length < this.maxFailures) return 0;
    return (list[list.length - this.maxFailures] as number) + this.windowMs - now;
  }

  fail(name: string, now: number): void {
    const list = this.recent(name, now);
    list.push(now);
    if (list.length > this.maxFailures) list.splice(0, list.length - this.maxFailures);
    this.failures.delete(name); // re-insert: the map's order is least recently failed first
    if (this.failures.size >= this.maxNames)
      this.failures.delete(this.failures.keys().next().value as string);
    this.failures.set(name, list);
  }

  succeed(name: string): void {
    this.failures.delete(name);
  }

  get size(): number {
    return this.failures.size;
  }
}
