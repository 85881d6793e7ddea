/**
 * Optional Prometheus endpoint for the agent: frames in, rejects by reason, outbox depth,
 * publishes, reconnects, plus the standard process and Node.js metrics. Values are read from the
 * live objects at scrape time, so the hot path pays nothing for metrics.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export interface AgentMetricsSource {
  framesIn(): number;
  rejects(): Record<string, number>;
  outbox(): { depth: number; dropped: number; appended: number };
  publisher(): { published: number; delivered: number; reconnects: number; connected: boolean };
  sourceReconnects(): number;
}

/**
 * A counter mirroring counts the agent keeps itself, by label value. It grows by what each source
 * count grew since the last scrape, so it stays monotonic even when a source object is replaced
 * and starts again from zero (Prometheus would otherwise see a reset).
 */
function mirrorCounter(
  registry: Registry,
  name: string,
  help: string,
  read: () => Record<string, number>,
  labelName?: string,
): void {
  const last = new Map<string, number>();
  new Counter({
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

export class AgentMetrics {
  readonly registry = new Registry();
  private server: Server | null = null;

  constructor(src: AgentMetricsSource) {
    const r = this.registry;
    // Unprefixed process_* and nodejs_*, so the usual Node.js dashboards work on agents as they are;
    // less three gauges named _total (promtool rejects them): sum(nodejs_active_handles) says the same.
    collectDefaultMetrics({ register: r });
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ])
      r.removeSingleMetric(name);
    const one = (name: string, help: string, read: () => number) =>
      mirrorCounter(r, name, help, () => ({ '': read() }));
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [r],
        collect() {
          this.set(read());
        },
      });
    one('shelfsense_agent_frames_total', 'sample frames accepted', () => src.framesIn());
    mirrorCounter(
      r,
      'shelfsense_agent_rejects_total',
      'serial lines rejected, by reason',
      src.rejects,
      'reason',
    );
    gauge('shelfsense_agent_outbox_depth', 'records waiting in the outbox', () => src.outbox().depth);
    one(
      'shelfsense_agent_outbox_appended_total',
      'records appended to the outbox',
      () => src.outbox().appended,
    );
    one(
      'shelfsense_agent_outbox_dropped_total',
      'records dropped at the outbox bound',
      () => src.outbox().dropped,
    );
    one(
      'shelfsense_agent_published_total',
      'MQTT publishes of outbox records',
      () => src.publisher().published,
    );
    one('shelfsense_agent_delivered_total', 'records confirmed and trimmed', () => src.publisher().delivered);
    one(
      'shelfsense_agent_broker_reconnects_total',
      'broker reconnect attempts',
      () => src.publisher().reconnects,
    );
    gauge('shelfsense_agent_broker_connected', '1 while connected to the broker', () =>
      src.publisher().connected ? 1 : 0,
    );
    one('shelfsense_agent_source_reconnects_total', 'serial/TCP source reconnect attempts', () =>
      src.sourceReconnects(),
    );
  }

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
