/**
 * The brokers the benchmark compares, each in a process of its own so its CPU and memory can be
 * read from /proc: the Shelfsense broker (compiled dist/, auth and ACLs on) and a bare Mosquitto.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface Target {
  name: string;
  url: string;
  pid: number;
  /** Credentials for publishers and the subscriber (none for Mosquitto). */
  publisher: { username?: string; password?: string };
  subscriber: { username?: string; password?: string };
  stop(): Promise<Record<string, unknown> | null>;
}

export interface ProcStats {
  /** CPU seconds (user + system) used so far. */
  cpuS: number;
  rssMb: number;
  peakRssMb: number;
}

const CLK_TCK = 100;

/** CPU time and memory of a process, from /proc (Linux). */
export function procStats(pid: number): ProcStats {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { cpuS: (utime + stime) / CLK_TCK, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The child's program: start the broker from the compiled package, report, stop on SIGTERM. */
const CHILD = `
import { MqttBroker } from '@shelfsense/broker';
import { CentralConfig } from '@shelfsense/protocol';
const config = CentralConfig.parse(JSON.parse(process.env.SHELFSENSE_BENCH_CONFIG));
const broker = new MqttBroker({ config });
await broker.start();
process.stdout.write(JSON.stringify({ port: broker.ports.tcp }) + '\\n');
process.once('SIGTERM', async () => {
  const counters = broker.counters;
  await broker.stop();
  process.stdout.write(JSON.stringify({ counters }) + '\\n');
  process.exit(0);
});
`;

export async function startShelfsense(
  root: string,
  config: unknown,
  credentials: Pick<Target, 'publisher' | 'subscriber'>,
): Promise<Target> {
  if (!existsSync(join(root, 'broker/dist/index.js')))
    throw new Error('build first: npx tsc -b tsconfig.build.json');
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    cwd: root,
    env: { ...process.env, SHELFSENSE_BENCH_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const iterator = lines[Symbol.asyncIterator]();
  const first = await Promise.race([
    iterator.next(),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('broker did not start')), 20_000)),
  ]);
  const { port } = JSON.parse(String(first.value)) as { port: number };
  return {
    name: 'shelfsense (aedes, auth + ACL)',
    url: `mqtt://127.0.0.1:${port}`,
    pid: child.pid as number,
    ...credentials,
    async stop() {
      child.kill('SIGTERM');
      const next = await Promise.race([
        iterator.next(),
        new Promise<null>((r) => setTimeout(() => r(null), 10_000)),
      ]);
      await waitExit(child, 5_000);
      lines.close();
      return next && !next.done ? (JSON.parse(String(next.value)) as Record<string, unknown>) : null;
    },
  };
}

export async function startMosquitto(dir: string): Promise<Target> {
  const bin = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));
  if (!bin) throw new Error('mosquitto is not installed');
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  // max_queued_messages 0: unlimited, so Mosquitto never drops acknowledged QoS 1 to a slow
  // subscriber (its default of 1000 would, silently), which makes loss figures comparable.
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'max_queued_messages 0',
      'persistence false',
      '',
    ].join('\n'),
  );
  const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`mosquitto did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    name: 'mosquitto (bare)',
    url: `mqtt://127.0.0.1:${port}`,
    pid: child.pid as number,
    publisher: {},
    subscriber: {},
    async stop() {
      child.kill('SIGTERM');
      await waitExit(child, 5_000);
      return null;
    },
  };
}
