/**
 * Prometheus gauges for the history writer (whichever the store: with SQLite it writes health
 * reports only): points written, refused, dropped, waiting; write failures and retries.
 */
import { Gauge, type Registry } from 'prom-client';
import type { HistoryWriter } from './writer.js';

export function registerHistoryMetrics(registry: Registry, writer: HistoryWriter): void {
  const gauge = (name: string, help: string, get: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(get());
      },
    });
  const c = writer.counters;
  gauge('shelfsense_central_history_written_total', 'history points written', () => c.written);
  gauge('shelfsense_central_history_rejected_total', 'history points the store refused', () => c.rejected);
  gauge(
    'shelfsense_central_history_dropped_total',
    'history points dropped (buffer full, or unsent at stop)',
    () => c.dropped,
  );
  gauge('shelfsense_central_history_buffered', 'history points waiting to be written', () => writer.buffered);
  gauge('shelfsense_central_history_write_failures_total', 'failed history write attempts', () => c.failures);
  gauge('shelfsense_central_history_retries_total', 'repeated history write attempts', () => c.retries);
}
