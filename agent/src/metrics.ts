/**
 * Optional Prometheus endpoint for the agent: frames in, rejects by reason, outbox depth,
 * publishes, reconnects. Values are read from the live objects at scrape time, so the hot path
 * pays nothing for metrics.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';

export interface AgentMetricsSource {
  framesIn(): number;
  rejects(): Record<string, number>;
  outbox(): { depth: number; dropped: number; appended: number };
  publisher(): { published: number; delivered: number; reconnects: number; connected: boolean };
  sourceReconnects(): number;
}

export class AgentMetrics {
  readonly registry = new Registry();
  private server: Server | null = null;

  constructor(src: AgentMetricsSource) {
    const r = this.registry;
    const g = (name: string, help: string, collect: (this: Gauge) => void, labelNames: string[] = []) =>
      new Gauge({ name, help, registers: [r], labelNames, collect });
    g('shelfsense_agent_frames_total', 'sample frames accepted', function () {
      this.set(src.framesIn());
    });
    g(
      'shelfsense_agent_rejects_total',
      'serial lines rejected, by reason',
      function () {
        for (const [reason, n] of Object.entries(src.rejects())) this.set({ reason }, n);
      },
      ['reason'],
    );
    g('shelfsense_agent_outbox_depth', 'records waiting in the outbox', function () {
      this.set(src.outbox().depth);
    });
    g('shelfsense_agent_outbox_dropped_total', 'records dropped at the outbox bound', function () {
      this.set(src.outbox().dropped);
    });
    g('shelfsense_agent_published_total', 'MQTT publishes of outbox records', function () {
      this.set(src.publisher().published);
    });
    g('shelfsense_agent_delivered_total', 'records confirmed and trimmed', function () {
      this.set(src.publisher().delivered);
    });
    g('shelfsense_agent_broker_reconnects_total', 'broker reconnect attempts', function () {
      this.set(src.publisher().reconnects);
    });
    g('shelfsense_agent_broker_connected', '1 while connected to the broker', function () {
      this.set(src.publisher().connected ? 1 : 0);
    });
    g('shelfsense_agent_source_reconnects_total', 'serial/TCP source reconnect attempts', function () {
      this.set(src.sourceReconnects());
    });
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
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
