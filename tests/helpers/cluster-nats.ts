/**
 * A 3-node NATS cluster whose routes run through TCP proxies, so one node can be cut off from the
 * others while it keeps running and keeps its clients — a network partition, not a crash. Every
 * ordered pair of nodes has its own proxy (node i dials node j's route port through proxy i→j), so
 * isolating node k cuts exactly the proxies into and out of k. Each node advertises a cluster
 * address nothing listens on: a route learnt by gossip could otherwise bypass the proxies.
 *
 * The same NatsNode interface as tests/helpers/nats.ts (kill -9 and start on the same ports).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './brokers.js';
import { NATS_SERVER, type NatsNode, natsNode, whenReady } from './nats.js';
import { TcpProxy } from './tcp-proxy.js';

export interface RoutedCluster {
  readonly nodes: readonly NatsNode[];
  readonly dir: string;
  /** Cuts every route into and out of node `i` (0-based): it runs on, alone. */
  isolate(i: number): void;
  /** Lets node `i`'s routes through again. */
  heal(i: number): void;
  /** Logs of node `i`, for a failing test. */
  log(i: number): string;
  close(): Promise<void>;
}

export interface RoutedClusterOptions {
  include?: string;
  probe?: { username: string; password: string };
  readyTimeoutMs?: number;
}

export async function startRoutedCluster(
  size: number,
  options: RoutedClusterOptions = {},
): Promise<RoutedCluster> {
  if (!NATS_SERVER)
    throw new Error('nats-server is not installed (npm test installs it: apt-get install nats-server)');
  const dir = mkdtempSync(join(tmpdir(), 'nats-routed-'));
  const ports = await Promise.all(
    Array.from({ length: size }, async () => ({
      client: await freePort(),
      route: await freePort(),
      mqtt: await freePort(),
      http: await freePort(),
      advertise: await freePort(),
    })),
  );
  // proxies[i][j]: node i's way to node j's route listener.
  const proxies: (TcpProxy | null)[][] = [];
  for (let i = 0; i < size; i++) {
    const row: (TcpProxy | null)[] = [];
    for (let j = 0; j < size; j++) {
      if (i === j) {
        row.push(null);
        continue;
      }
      const p = new TcpProxy('127.0.0.1', (ports[j] as { route: number }).route);
      await p.start();
      row.push(p);
    }
    proxies.push(row);
  }
  if (options.include !== undefined)
    writeFileSync(join(dir, 'include.conf'), options.include, { mode: 0o600 });
  const nodes = ports.map((p, i) =>
    natsNode(dir, i, p, {
      routes: (proxies[i] ?? [])
        .filter((x): x is TcpProxy => x !== null)
        .map((x) => `nats-route://127.0.0.1:${x.port}`),
      replicas: Math.min(size, 3),
      include: options.include !== undefined,
      advertise: p.advertise,
    }),
  );
  const each = (i: number, fn: (p: TcpProxy) => void) => {
    for (let j = 0; j < size; j++) {
      const out = proxies[i]?.[j];
      const into = proxies[j]?.[i];
      if (out) fn(out);
      if (into) fn(into);
    }
  };
  const cluster: RoutedCluster = {
    nodes,
    dir,
    isolate: (i) => each(i, (p) => p.cut()),
    heal: (i) => each(i, (p) => p.restore()),
    log: (i) => {
      try {
        return readFileSync(join(dir, `n${i + 1}.log`), 'utf8');
      } catch {
        return '(no log)';
      }
    },
    async close() {
      await Promise.all(nodes.map((n) => n.kill()));
      for (const row of proxies) for (const p of row) await p?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await whenReady(nodes, size, options, cluster.close, (n) => cluster.log(nodes.indexOf(n)).slice(-2_000));
  return cluster;
}
