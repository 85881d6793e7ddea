/**
 * A pino logger that keeps what it writes, for tests that check what a part logs and at which
 * level (pino's numbers: 20 debug, 30 info, 40 warn).
 */
import { pino } from 'pino';

export interface LogEntry {
  level: number;
  msg: string;
  reason?: string;
  source?: string;
}

export function captureLog(level: 'debug' | 'info' = 'debug') {
  const entries: LogEntry[] = [];
  const log = pino({ level }, { write: (s: string) => entries.push(JSON.parse(s) as LogEntry) });
  /** The entries at `lvl` with a `reason` field: that reason, or any. */
  const at = (lvl: number, reason?: string) =>
    entries.filter(
      (e) => e.level === lvl && (reason === undefined ? e.reason !== undefined : e.reason === reason),
    );
  return { log, entries, at };
}
