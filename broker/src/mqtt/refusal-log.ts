/**
 * Refusal warnings, rate-limited. A client can make the broker refuse thousands of things a
 * second (30 000 filters in one SUBSCRIBE, a login loop), and one warn line each turned 253 KB of
 * input into 8 MB of log. Here at most `lines` warnings are written per window; the rest are
 * counted by reason and summarised in one line when the window ends, with a few of the users and
 * client ids behind them. Callers keep their counters themselves, exactly: this bounds only the log.
 */
import type { Logger } from 'pino';

export interface RefusalLogOptions {
  /** Warn lines written per window; 0 summarises everything. */
  lines: number;
  /** The window, from the first refusal in it; the summary is written when it ends. */
  windowMs: number;
}

/** Who a refusal concerns; the fields every refusal line carries (plus its own). */
export interface RefusalFields {
  user?: string | null;
  clientId?: string | null;
  [key: string]: unknown;
}

/** Users and client ids named in a summary, each at most. */
const SAMPLE = 5;

export class RefusalLog {
  private timer: NodeJS.Timeout | null = null;
  private written = 0;
  private readonly suppressed = new Map<string, number>();
  private readonly users = new Set<string>();
  private readonly clientIds = new Set<string>();

  constructor(
    private readonly log: Logger,
    private readonly options: RefusalLogOptions,
  ) {}

  /** Writes `msg` at warn with `fields`, or counts it under `reason` for the window's summary. */
  warn(reason: string, fields: RefusalFields, msg: string): void {
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.options.windowMs);
      this.timer.unref();
    }
    if (this.written < this.options.lines) {
      this.written++;
      this.log.warn(fields, msg);
      return;
    }
    this.suppressed.set(reason, (this.suppressed.get(reason) ?? 0) + 1);
    if (fields.user && this.users.size < SAMPLE) this.users.add(fields.user);
    if (fields.clientId && this.clientIds.size < SAMPLE) this.clientIds.add(fields.clientId);
  }

  /** Ends the window now: writes the summary of what it held back, if anything. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.written = 0;
    if (this.suppressed.size === 0) return;
    let total = 0;
    for (const n of this.suppressed.values()) total += n;
    this.log.warn(
      {
        suppressed: Object.fromEntries(this.suppressed),
        total,
        users: [...this.users],
        clientIds: [...this.clientIds],
        windowMs: this.options.windowMs,
      },
      `${total} more refusals not logged`,
    );
    this.suppressed.clear();
    this.users.clear();
    this.clientIds.clear();
  }

  /** Writes the pending summary and stops the timer (the broker's stop()). */
  close(): void {
    this.flush();
  }
}
