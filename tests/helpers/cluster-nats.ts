/**
 * A 3-node NATS cluster whose routes run through TCP proxies, so one node can be cut off from the
 * others while it keeps running and keeps its clients — a network partition, not a crash. Every
 * ordered pair of nodes has its own proxy (node i dials node j's route port through proxy i→j), so
 * isolating node k cuts exactly the proxies into and out of k. Each node advertises a cluster
 * address nothing listens on: a route learnt by gossip could otherwise bypass the proxies.
 *
 * The same NatsNode interface as tests/helpers/nats.ts (kill -9 and start on the same ports).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './brokers.js';
import { clusterReady, metaLeader, mqttReady, NATS_SERVER, type NatsNode } from './nats.js';
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
  const nodes = ports.map((p, i) => {
    const name = `n${i + 1}`;
    const store = join(dir, name);
    mkdirSync(store, { recursive: true });
    const routes = (proxies[i] ?? [])
      .filter((x): x is TcpProxy => x !== null)
      .map((x) => `nats-route://127.0.0.1:${x.port}`);
    const conf = join(dir, `${name}.conf`);
    writeFileSync(
      conf,
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${p.client}`,
        `jetstream { store_dir: "${store}" }`,
        `cluster { name: shelfsense, listen: 127.0.0.1:${p.route}, advertise: "127.0.0.1:${p.advertise}", routes: [${routes.join(', ')}] }`,
        `mqtt { listen: 127.0.0.1:${p.mqtt}, stream_replicas: ${Math.min(size, 3)} }`,
        `http: 127.0.0.1:${p.http}`,
        ...(options.include !== undefined ? ['include "include.conf"'] : []),
        '',
      ].join('\n'),
    );
    let child: ChildProcess | null = null;
    const node: NatsNode = {
      name,
      mqttUrl: `mqtt://127.0.0.1:${p.mqtt}`,
      natsUrl: `nats://127.0.0.1:${p.client}`,
      monitorUrl: `http://127.0.0.1:${p.http}`,
      get running() {
        return child !== null && child.exitCode === null && child.signalCode === null;
      },
      async kill() {
        const c = child;
        if (!c || c.exitCode !== null || c.signalCode !== null) return;
        const gone = new Promise<void>((r) => c.once('exit', () => r()));
        c.kill('SIGKILL');
        await gone;
      },
      async start() {
        child = spawn(NATS_SERVER as string, ['-c', conf, '-l', join(dir, `${name}.log`)], {
          stdio: 'ignore',
        });
      },
    };
    return node;
  });
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
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  const left = () => Math.max(1_000, deadline - Date.now());
  try {
    await Promise.all(nodes.map((n) => n.start()));
    for (const n of nodes) await clusterReady(n, size, left());
    await metaLeader(nodes, size, left());
    for (const n of nodes) await mqttReady(n.mqttUrl, left(), options.probe);
  } catch (err) {
    const logs = nodes.map((n, i) => `--- ${n.name}.log (tail)\n${cluster.log(i).slice(-2_000)}`).join('\n');
    await cluster.close();
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
  return cluster;
}
