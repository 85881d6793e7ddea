/**
 * Structured logs (pino), quiet by default. Logs go to stderr so a CLI's stdout stays
 * machine-readable; lines are named `part: 'sim'`, and `sim.<part>` below it (childLogger in the
 * protocol package), so each line carries each key once.
 */
import { partMixin, rootLogger } from '@shelfsense/protocol';
import { pino } from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createLogger(level: LogLevel = 'warn'): Logger {
  return rootLogger(pino({ level, mixin: partMixin }, pino.destination({ dest: 2, sync: true })), 'sim');
}
