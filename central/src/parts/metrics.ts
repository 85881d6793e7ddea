/**
 * Central's own metrics, read from the parts that run when Prometheus scrapes: ingest's counters,
 * invalid command responses, orders by state, open alerts, lanes offline, the webhook outbox and
 * its deliveries; and two latency histograms, a reading's way from the agent to the store and an
 * order event's way to its supplier's answer.
 */
import { Gauge, Histogram } from 'prom-client';
import type { Part } from '../service/part.js';
import { levelGauge, mirrorCount, mirrorCounter } from '../service/prom.js';
import type { AttemptOutcome } from '../webhooks/worker.js';

/** From a fraction of a second (live) to an hour (an outbox replayed after an outage). */
const INGEST_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** From the first attempt answering at once to retries with backoff over hours. */
const DELIVERY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600];
/** One HTTP request to a supplier; the worker's timeout bounds it. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function metricsPart(): Part {
  const offs: (() => void)[] = [];
  return {
    name: 'metrics',
    start(ctx) {
      const registry = ctx.registry;
      const registers = [registry];
      const count = (name: string, help: string, read: () => number) =>
        mirrorCount(registry, name, help, read);
      const { ingest, commands, orders, worker } = ctx.services;
      if (ingest) {
        const n = ingest.counters;
        count('shelfsense_central_messages_in_total', 'readings received by ingest', () => n.received);
        count(
          'shelfsense_central_readings_committed_total',
          'readings committed to the store',
          () => n.committed,
        );
        count(
          'shelfsense_central_duplicates_dropped_total',
          'readings dropped as duplicates by (site, agent, seq)',
          () => n.duplicates,
        );
        count(
          'shelfsense_central_invalid_messages_total',
          'messages refused by their schema',
          () => n.invalid,
        );
        count(
          'shelfsense_central_forged_records_total',
          'records refused because their body names another agent than their topic or shelf',
          () => n.forged,
        );
        const delay = new Histogram({
          name: 'shelfsense_central_ingest_delay_seconds',
          help: "time from a reading's timestamp on the agent to its commit in the central store",
          buckets: INGEST_BUCKETS,
          registers,
        });
        const onCommitted = (accepted: readonly { payload: { ts: number } }[]) => {
          const now = ctx.clock.now();
          // An agent clock ahead of central's would give a negative delay: count it as none.
          for (const r of accepted) delay.observe(Math.max(0, now - r.payload.ts) / 1000);
        };
        ingest.on('committed', onCommitted);
        offs.push(() => ingest.off('committed', onCommitted));
      }
      if (commands)
        count(
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
      levelGauge(registry, 'shelfsense_central_alerts_open', 'alerts not yet cleared', () =>
        store.alerts.liveCount(),
      );
      new Gauge({
        name: 'shelfsense_central_offline_lanes',
        help: 'lanes with an open offline alert, by shelf (only shelves with one)',
        labelNames: ['site', 'shelf'],
        registers,
        collect() {
          const by = new Map<string, { site: string; shelf: string; n: number }>();
          for (const a of store.alerts.list({ state: 'live', kind: 'offline' })) {
            const key = `${a.site}\0${a.shelf}`;
            const e = by.get(key) ?? { site: a.site, shelf: a.shelf, n: 0 };
            e.n++;
            by.set(key, e);
          }
          this.reset();
          for (const e of by.values()) this.set({ site: e.site, shelf: e.shelf }, e.n);
        },
      });
      const outbox = orders?.outbox;
      if (worker && outbox) {
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
        const wc = worker.counters;
        mirrorCounter(
          registry,
          'shelfsense_central_webhook_attempts_total',
          'webhook POSTs by outcome: delivered (2xx), retry, dead (attempts exhausted)',
          () => ({ delivered: wc.delivered, retry: wc.retried, dead: wc.dead }),
          'outcome',
        );
        count(
          'shelfsense_central_webhook_skipped_total',
          'order events not sent because their supplier has no webhook',
          () => wc.skipped,
        );
        const delivery = new Histogram({
          name: 'shelfsense_central_webhook_delivery_seconds',
          help: "time from an order event to its supplier's 2xx answer, retries included",
          buckets: DELIVERY_BUCKETS,
          registers,
        });
        const request = new Histogram({
          name: 'shelfsense_central_webhook_request_seconds',
          help: 'time one webhook POST took, by outcome',
          labelNames: ['outcome'],
          buckets: REQUEST_BUCKETS,
          registers,
        });
        const timed = (outcome: string) => (o: AttemptOutcome) => {
          if (o.requestMs !== undefined) request.observe({ outcome }, o.requestMs / 1000);
        };
        const onDelivered = (o: AttemptOutcome) => {
          delivery.observe(Math.max(0, ctx.clock.now() - o.entry.createdAt) / 1000);
          timed('delivered')(o);
        };
        const onRetry = timed('retry');
        const onDead = timed('dead');
        worker.on('delivered', onDelivered);
        worker.on('retry', onRetry);
        worker.on('dead', onDead);
        offs.push(() => {
          worker.off('delivered', onDelivered);
          worker.off('retry', onRetry);
          worker.off('dead', onDead);
        });
      }
    },
    stop() {
      for (const off of offs.splice(0)) off();
    },
  };
}
