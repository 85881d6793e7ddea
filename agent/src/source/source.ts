/**
 * A hardware-independent shelf source: something that yields protocol lines and accepts command
 * lines. Serial ports and TCP bridges implement it; both reconnect by themselves with backoff.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';

export interface SourceEvents {
  open: [];
  line: [line: string];
  close: [reason: string];
}

export interface ShelfSource extends EventEmitter<SourceEvents> {
  /** Where it reads from, for logs: a device path or a tcp:// URL. */
  readonly describe: string;
  readonly isOpen: boolean;
  start(): void;
  stop(): Promise<void>;
  /** Writes a command line; dropped (returns false) while the source is closed. */
  write(line: string): boolean;
  /** Reconnect attempts so far. */
  readonly reconnects: number;
}

export interface BackoffOptions {
  minMs: number;
  maxMs: number;
}

/** Exponential backoff with full jitter, so many agents do not reconnect in lockstep. */
export class Backoff {
  private attempt = 0;

  constructor(private readonly opts: BackoffOptions) {}

  next(): number {
    const cap = Math.min(this.opts.maxMs, this.opts.minMs * 2 ** Math.min(this.attempt, 20));
    this.attempt++;
    return Math.round(this.opts.minMs + Math.random() * Math.max(0, cap - this.opts.minMs));
  }

  reset(): void {
    this.attempt = 0;
  }
}

/**
 * Why a source cannot open or connect, logged at `warn` the first time and whenever the reason
 * changes — with the default level, what tells a technician why a shelf never comes up — and at
 * `info` for every further attempt that fails the same way, so a shelf left unplugged does not fill
 * the log. Opening again starts afresh.
 */
export class FailureLog {
  private last: string | null = null;

  constructor(private readonly log: Logger) {}

  failed(source: string, reason: string, delayMs: number): void {
    const fields = { source, reason, delayMs };
    if (reason === this.last) {
      this.log.info(fields, 'shelf source will reconnect');
      return;
    }
    this.last = reason;
    this.log.warn(
      fields,
      'shelf source cannot be read; retrying with backoff (the same failure again is logged at info)',
    );
  }

  opened(): void {
    this.last = null;
  }
}
