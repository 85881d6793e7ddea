/**
 * A first-in first-out queue with a bound: pushing past the bound drops the oldest items (and says
 * how many). A batch taken from the head can be put back at the head when its write failed.
 */
export class BoundedQueue<T> {
  private items: T[] = [];
  private head = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`queue limit must be a positive integer, got ${limit}`);
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** Appends; returns how many of the oldest items were dropped to stay within the limit. */
  push(values: readonly T[]): number {
    for (const v of values) this.items.push(v);
    return this.trim();
  }

  /** Removes and returns up to `n` items from the head, oldest first. */
  take(n: number): T[] {
    const end = Math.min(this.items.length, this.head + Math.max(0, n));
    const out = this.items.slice(this.head, end);
    this.head = end;
    this.compact();
    return out;
  }

  /** Puts a taken batch back at the head (they are the oldest again); returns how many were dropped. */
  unshift(values: readonly T[]): number {
    if (values.length <= this.head) {
      this.head -= values.length;
      for (let i = 0; i < values.length; i++) this.items[this.head + i] = values[i] as T;
    } else {
      this.items = [...values, ...this.items.slice(this.head)];
      this.head = 0;
    }
    return this.trim();
  }

  /** Empties the queue; returns what it held. */
  drain(): T[] {
    return this.take(this.size);
  }

  private trim(): number {
    const over = this.size - this.limit;
    if (over <= 0) return 0;
    this.head += over;
    this.compact();
    return over;
  }

  /** Drops the consumed prefix once it is the larger part of the array, so memory follows size. */
  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
