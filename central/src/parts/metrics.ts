/**
 * Central's own metrics, read from the parts that run when Prometheus scrapes: ingest's counters,
 * invalid command responses, orders by state, open alerts, the webhook outbox.
 */
import { Gauge } from 'prom-client';
import type { Part } from '../service/part.js';

export function metricsPart(): Part {
  return {
    name: 'metrics',
    start(ctx) {
      const registers = [ctx.registry];
      const gauge = (name: string, help: string, get: () => number) =>
        new Gauge({
          name,
          help,
          registers,
          collect() {
            this.set(get());
          },
        });
      const { ingest, commands, orders, worker } = ctx.services;
      if (ingest) {
        const n = ingest.counters;
        gauge('shelfsense_central_messages_in_total', 'readings received by ingest', () => n.received);
        gauge(
          'shelfsense_central_readings_committed_total',
          'readings committed to the store',
          () => n.committed,
        );
        gauge(
          'shelfsense_central_duplicates_dropped_total',
          'readings dropped as duplicates by (site, agent, seq)',
          () => n.duplicates,
        );
        gauge(
          'shelfsense_central_invalid_messages_total',
          'messages refused by their schema',
          () => n.invalid,
        );
        gauge(
          'shelfsense_central_forged_records_total',
          'records refused because their body names another agent than their topic or shelf',
          () => n.forged,
        );
      }
      if (commands)
        gauge(
          'shelfsense_central_invalid_command_responses_total',
          'command responses refused by their schema',
          () => commands.invalid,
        );
      const store = ctx.store;
      new Gauge({
        name: 'shelfsense_central_orders',
        help: 'orders by state',
        labelNames: ['state'],
        registers,
        collect() {
          const rows = store.orders.counts();
          this.reset();
          for (const row of rows) this.set({ state: row.state }, row.n);
        },
      });
      gauge('shelfsense_central_alerts_open', 'alerts not yet cleared', () => store.alerts.liveCount());
      const outbox = orders?.outbox;
      if (worker && outbox)
        new Gauge({
          name: 'shelfsense_central_webhook_outbox',
          help: 'webhook outbox entries by state',
          labelNames: ['state'],
          registers,
          collect() {
            this.reset();
            for (const [state, n] of Object.entries(outbox.counts())) this.set({ state }, n);
          },
        });
    },
    stop() {},
  };
}
