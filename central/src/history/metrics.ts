/**
 * Prometheus metrics for the history writer (whichever the store: with SQLite it writes health
 * reports only): counters of points written, refused, dropped, write failures and retries; a
 * gauge of the points waiting.
 */
import type { Registry } from 'prom-client';
import { levelGauge, mirrorCount } from '../service/prom.js';
import type { HistoryWriter } from './writer.js';

export function registerHistoryMetrics(registry: Registry, writer: HistoryWriter): void {
  const c = writer.counters;
  const count = (name: string, help: string, read: () => number) => mirrorCount(registry, name, help, read);
  count('shelfsense_central_history_written_total', 'history points written', () => c.written);
  count('shelfsense_central_history_rejected_total', 'history points the store refused', () => c.rejected);
  count(
    'shelfsense_central_history_dropped_total',
    'history points dropped (buffer full, or unsent at stop)',
    () => c.dropped,
  );
  levelGauge(
    registry,
    'shelfsense_central_history_buffered',
    'history points waiting to be written',
    () => writer.buffered,
  );
  count('shelfsense_central_history_write_failures_total', 'failed history write attempts', () => c.failures);
  count('shelfsense_central_history_retries_total', 'repeated history write attempts', () => c.retries);
}
