/**
 * What the central benchmarks share (pipeline-bench.ts, bench/cluster/): the bench world's central
 * config, its agent users, the JSON lines a child prints, stopping a child, percentiles, and the
 * suppliers' webhook receiver. The load itself is pipeline-load.ts.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { UserStore } from '@shelfsense/broker';
import { CentralConfig, type CentralConfigInput } from '@shelfsense/protocol';
import {
  agentId,
  CAPACITY,
  laneId,
  PASSWORD,
  REORDER_POINT,
  range,
  SHELF,
  serialOf,
  siteId,
  UNIT_G,
} from './pipeline-load.js';

export interface World {
  agents: number;
  lanes: number;
  debounceMs: number;
}

/** Central's config for the bench world: one site per agent, one shelf of `lanes` lanes of one SKU. */
export function benchConfig(
  w: World,
  dataDir: string,
  hook: string,
  external: string | null,
): CentralConfigInput {
  return {
    dataDir,
    log: { level: 'warn' },
    suppliers: [{ id: 'acme' }],
    skus: [{ id: 'cola', unitWeightG: UNIT_G, supplier: 'acme' }],
    sites: range(w.agents).map((i) => ({
      id: siteId(i),
      shelves: [
        {
          id: SHELF,
          serial: serialOf(i),
          agent: agentId(i),
          lanes: range(w.lanes).map((j) => ({
            id: laneId(j),
            channels: [j],
            sku: 'cola',
            capacity: CAPACITY,
          })),
        },
      ],
    })),
    http: { host: '127.0.0.1', port: 0 },
    mqtt: { host: '127.0.0.1', port: 0 },
    // Only connect time depends on it: 2^12 keeps N password checks at start-up short.
    auth: { scrypt: { cost: 4096 } },
    timing: { offlineAfterMs: 600_000 },
    replenishment: {
      defaults: { reorderPoint: REORDER_POINT, debounceMs: w.debounceMs, hysteresis: 1 },
      webhooks: { suppliers: [{ supplier: 'acme', url: hook, secret: 'bench-webhook-secret-0123456789' }] },
    },
    ...(external ? { parts: { broker: false }, externalBroker: { url: external } } : {}),
  };
}

/** Each agent an agent user at its own site, as `shelfsense users add … --role agent` makes it. */
export async function addAgentUsers(dataDir: string, input: CentralConfigInput, agents: number) {
  const users = new UserStore(dataDir, { scrypt: CentralConfig.parse(input).auth.scrypt });
  for (const i of range(agents))
    await users.add(agentId(i), { role: 'agent', site: siteId(i), agent: agentId(i) }, PASSWORD);
  users.close();
}

export type Line = Record<string, unknown>;

/** JSON lines of a child's stdout; the returned function waits for the first line matching `pred`. */
export function jsonLines(child: ChildProcess) {
  const seen: Line[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      seen.push(JSON.parse(l) as Line);
    } catch {
      return;
    }
    for (const w of waiters) w();
  });
  child.once('exit', () => {
    for (const w of waiters) w();
  });
  return <T>(pred: (o: Line) => boolean, timeoutMs: number, what: string) =>
    new Promise<T>((resolve, reject) => {
      const finish = (err: Error | null, hit?: Line) => {
        clearTimeout(timer);
        waiters.delete(check);
        if (err) reject(err);
        else resolve(hit as T);
      };
      const check = () => {
        const hit = seen.find(pred);
        if (hit) finish(null, hit);
        else if (child.exitCode !== null || child.signalCode !== null) finish(new Error(`${what}: exited`));
      };
      const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}`)), timeoutMs);
      waiters.add(check);
      check();
    });
}

export async function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(t);
}

export const percentile = (s: number[], p: number) =>
  s.length ? (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number) : Number.NaN;

/** The suppliers' webhook endpoint: first arrival time of each lane's order, per URL path. */
export function receiver() {
  const seen = new Map<string, Map<string, number>>();
  const arrivals = (path: string) => {
    if (!seen.has(path)) seen.set(path, new Map());
    return seen.get(path) as Map<string, number>;
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const at = Date.now();
      const o = JSON.parse(body) as { site: string; shelf: string; lane: string };
      const m = arrivals(req.url ?? '/');
      const key = `${o.site}/${o.shelf}/${o.lane}`;
      if (!m.has(key)) m.set(key, at);
      res.writeHead(200).end();
    });
  });
  return { server, url: '', arrivals };
}
export type Receiver = ReturnType<typeof receiver>;
