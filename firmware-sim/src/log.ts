/**
 * Structured logs (pino), quiet by default. Logs go to stderr so a CLI's stdout stays
 * machine-readable; every part logs through a child logger named after it.
 */
import { pino } from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createLogger(level: LogLevel = 'warn'): Logger {
  return pino({ name: 'firmware-sim', level }, pino.destination({ dest: 2, sync: true }));
}
