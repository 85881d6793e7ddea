import { partMixin, rootLogger } from '@shelfsense/protocol';
import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * The agent's root logger: JSON lines on stderr, quiet (warn) unless configured otherwise, its
 * lines named `part: 'agent'` (or `bindings.part`) and `agent.<stage>` below it (see childLogger in
 * the protocol package). Other `bindings` (the agent id, the site) are keys of their own.
 */
export function createLogger(level = 'warn', bindings: Record<string, unknown> = {}): Logger {
  const { part, ...base } = bindings;
  const log = pino({ level, base, mixin: partMixin }, pino.destination(2));
  return rootLogger(log, typeof part === 'string' ? part : 'agent');
}

/** Logs at most one message per `key` per `intervalMs`, with a count of the ones suppressed. */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  warn(key: string, fields: Record<string, unknown>, msg: string): void {
    const now = Date.now();
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    this.log.warn({ ...fields, suppressed: entry?.suppressed ?? 0 }, msg);
    this.last.set(key, { at: now, suppressed: 0 });
  }
}
