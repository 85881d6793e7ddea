/**
 * The engines of the cluster benchmark, each a process whose CPU the benchmark reads from /proc:
 * a 3-node NATS cluster (Debian's nats-server, JetStream and MQTT on every node, the MQTT streams
 * replicated 3 ways) and a Postgres (Debian's postgresql; as root the server runs as `postgres`).
 * tests/helpers start the same engines for the tests; the benchmark needs their pids, and the
 * benches do not import from tests/.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgStore } from '@shelfsense/central/pg';
import mqtt from 'mqtt';
import { freePort } from '../broker/bench-targets.js';

const CLK_TCK = 100;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/**
 * CPU seconds of a process and all its descendants: its own utime + stime, what its exited
 * children left in cutime + cstime when reaped, and every live descendant's own. Postgres forks a
 * backend per connection, so its cost is the postmaster's tree.
 */
export function treeCpuS(root: number): number {
  const kids = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (!f) continue;
    const ppid = Number(f[1]);
    kids.set(ppid, [...(kids.get(ppid) ?? []), Number(name)]);
  }
  let ticks = 0;
  const walk = (pid: number, self: boolean) => {
    const f = statFields(pid);
    if (!f) return;
    ticks += Number(f[11]) + Number(f[12]);
    if (self) ticks += Number(f[13]) + Number(f[14]);
    for (const k of kids.get(pid) ?? []) walk(k, false);
  };
  walk(root, true);
  return ticks / CLK_TCK;
}

export interface NatsNode {
  name: string;
  pid: number;
  mqttUrl: string;
  natsUrl: string;
  monitorUrl: string;
}

export interface NatsCluster {
  nodes: NatsNode[];
  dir: string;
  close(): Promise<void>;
}

export const NATS_SERVER = ['/usr/bin/nats-server', '/usr/sbin/nats-server'].find((p) => existsSync(p));

export function natsVersion(): string {
  try {
    return execFileSync(NATS_SERVER ?? 'nats-server', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'nats-server not installed';
  }
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe().catch(() => null);
    if (got !== null && got !== false) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const json = async <T>(url: string) => (await (await fetch(url)).json()) as T;

/**
 * `size` nodes on loopback with routes between them, JetStream and MQTT (streams replicated
 * min(size, 3) times), each including `include` (the accounts `renderNatsAuth` writes). Resolves
 * once they route to each other, follow one JetStream meta leader, and each takes an MQTT QoS 1
 * subscription from `probe` (the first creates the replicated MQTT streams).
 */
export async function startNats(
  size: number,
  include: string,
  probe: { username: string; password: string },
  timeoutMs = 90_000,
): Promise<NatsCluster> {
  if (!NATS_SERVER) throw new Error('nats-server is not installed (apt-get install nats-server)');
  const dir = mkdtempSync(join(tmpdir(), 'shelfsense-cluster-bench-nats-'));
  writeFileSync(join(dir, 'include.conf'), include, { mode: 0o600 });
  const ports: { client: number; route: number; mqtt: number; http: number }[] = [];
  for (let i = 0; i < size; i++)
    ports.push({
      client: await freePort(),
      route: await freePort(),
      mqtt: await freePort(),
      http: await freePort(),
    });
  const children: ChildProcess[] = [];
  const nodes = ports.map((p, i): NatsNode => {
    const name = `n${i + 1}`;
    const routes = ports.filter((_, j) => j !== i).map((q) => `nats-route://127.0.0.1:${q.route}`);
    const conf = join(dir, `${name}.conf`);
    mkdirSync(join(dir, name));
    writeFileSync(
      conf,
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${p.client}`,
        `jetstream { store_dir: "${join(dir, name)}" }`,
        `cluster { name: shelfsense, listen: 127.0.0.1:${p.route}, routes: [${routes.join(', ')}] }`,
        `mqtt { listen: 127.0.0.1:${p.mqtt}, stream_replicas: ${Math.min(size, 3)} }`,
        `http: 127.0.0.1:${p.http}`,
        'include "include.conf"',
        '',
      ].join('\n'),
    );
    const child = spawn(NATS_SERVER as string, ['-c', conf, '-l', join(dir, `${name}.log`)], {
      stdio: 'ignore',
    });
    children.push(child);
    return {
      name,
      pid: child.pid as number,
      mqttUrl: `mqtt://127.0.0.1:${p.mqtt}`,
      natsUrl: `nats://127.0.0.1:${p.client}`,
      monitorUrl: `http://127.0.0.1:${p.http}`,
    };
  });
  const close = async () => {
    await Promise.all(
      children.map(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
        await gone;
        clearTimeout(t);
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const n of nodes)
      await until(`NATS node ${n.name} routed and healthy`, timeoutMs, async () => {
        const r = await json<{ num_routes: number }>(`${n.monitorUrl}/routez`);
        return r.num_routes >= size - 1 && (await fetch(`${n.monitorUrl}/healthz`)).ok;
      });
    await until('one JetStream meta leader', timeoutMs, async () => {
      type Jsz = { meta_cluster?: { leader?: string; cluster_size?: number } };
      const seen = await Promise.all(nodes.map((n) => json<Jsz>(`${n.monitorUrl}/jsz`)));
      const leader = seen[0]?.meta_cluster?.leader;
      return (
        !!leader &&
        seen.every((j) => j.meta_cluster?.leader === leader && (j.meta_cluster?.cluster_size ?? 0) >= size)
      );
    });
    for (const n of nodes)
      await until(`NATS MQTT at ${n.mqttUrl}`, timeoutMs, async () => {
        const c = await mqtt.connectAsync(n.mqttUrl, {
          reconnectPeriod: 0,
          connectTimeout: 10_000,
          protocolVersion: 4,
          clientId: `ready-${randomBytes(6).toString('hex')}`,
          ...probe,
        });
        try {
          await c.subscribeAsync('probe/ready', { qos: 1 });
          return true;
        } finally {
          await c.endAsync(true).catch(() => undefined);
        }
      });
  } catch (err) {
    const tail = nodes
      .map((n) => {
        const log = existsSync(join(dir, `${n.name}.log`))
          ? readFileSync(join(dir, `${n.name}.log`), 'utf8')
          : '';
        return `--- ${n.name}.log\n${log.trimEnd().split('\n').slice(-10).join('\n')}`;
      })
      .join('\n');
    await close();
    throw new Error(`${(err as Error).message}\n${tail}`);
  }
  return { nodes, dir, close };
}

export interface BenchPostgres {
  pid: number;
  url: string;
  version: string;
  close(): Promise<void>;
}

/** Where Debian puts the server programs (`/usr/lib/postgresql/15/bin`), newest version first. */
function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const v = readdirSync(root)
    .filter((x) => existsSync(join(root, x, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return v.length ? join(root, v[0] as string, 'bin') : undefined;
}

export function postgresVersion(): string {
  const bin = postgresBin();
  if (!bin) return 'postgres not installed';
  return execFileSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).trim();
}

/**
 * A Postgres of its own: initdb into a temp directory, the server on a free loopback port with
 * Postgres's default durability (each commit waits for its WAL flush) unless `settings` say
 * otherwise. Resolves once it answers a query.
 */
export async function startPostgres(settings: Record<string, string> = {}): Promise<BenchPostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error('postgres is not installed (apt-get install postgresql)');
  let as: { uid?: number; gid?: number } = {};
  if (process.getuid?.() === 0) {
    // Postgres refuses to run as root; the package's `postgres` user must reach the directory.
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    as = { uid: id('-u'), gid: id('-g') };
    const parent = statSync(tmpdir());
    if ((parent.mode & 0o001) === 0) chmodSync(tmpdir(), (parent.mode & 0o7777) | 0o011);
  }
  const dir = mkdtempSync(join(tmpdir(), 'shelfsense-cluster-bench-pg-'));
  if (as.uid !== undefined) chownSync(dir, as.uid, as.gid as number);
  const data = join(dir, 'data');
  execFileSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'shelfsense', '--auth=trust', '--encoding=UTF8', '--locale=C'],
    {
      stdio: 'pipe',
      cwd: dir,
      ...as,
    },
  );
  const port = await freePort();
  const args = ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1'];
  for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
  const child = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir, ...as });
  let log = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    log += s;
  });
  const url = `postgres://shelfsense@127.0.0.1:${port}/postgres`;
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      // SIGINT: Postgres's fast shutdown.
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(`postgres on ${port}`, 30_000, async () => {
      if (child.exitCode !== null) throw new Error(`postgres exited: ${log}`);
      const s = await PgStore.open({ url, schema: 'bench_probe', poolSize: 1 });
      await s.close();
      return true;
    });
  } catch (err) {
    await close();
    throw new Error(`${(err as Error).message}\n${log.slice(-2_000)}`);
  }
  return { pid: child.pid as number, url, version: postgresVersion(), close };
}
