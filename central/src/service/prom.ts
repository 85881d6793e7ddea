/**
 * prom-client helpers for central's metrics, which read counts the parts keep themselves at scrape
 * time (the hot path increments a plain number; nothing hashes labels per message).
 */
import { Counter, collectDefaultMetrics, Gauge, type Registry } from 'prom-client';

/**
 * A counter mirroring counts kept elsewhere, by label value ('' when unlabelled). It grows by what
 * each count grew since the last scrape, so it stays monotonic even if the source is replaced and
 * starts again from zero.
 */
export function mirrorCounter(
  registry: Registry,
  name: string,
  help: string,
  read: () => Record<string, number>,
  labelName?: string,
): Counter {
  const last = new Map<string, number>();
  return new Counter({
    name,
    help,
    registers: [registry],
    labelNames: labelName ? [labelName] : [],
    collect() {
      for (const [key, n] of Object.entries(read())) {
        const before = last.get(key) ?? 0;
        const grew = n >= before ? n - before : n;
        last.set(key, n);
        if (labelName) this.inc({ [labelName]: key }, grew);
        else this.inc(grew);
      }
    },
  });
}

/** An unlabelled counter mirroring one count. */
export function mirrorCount(registry: Registry, name: string, help: string, read: () => number): Counter {
  return mirrorCounter(registry, name, help, () => ({ '': read() }));
}

/** A gauge set from `read()` at scrape time: a level, not a count. */
export function levelGauge(registry: Registry, name: string, help: string, read: () => number): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/**
 * prom-client's default process_* and nodejs_* metrics, unprefixed (the names the usual Node.js
 * dashboards expect), less three gauges named `_total` that promtool rejects as non-counters: each
 * is the sum over `type` of its unsuffixed sibling (`sum(nodejs_active_handles)`).
 */
export function defaultMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ])
    registry.removeSingleMetric(name);
}
