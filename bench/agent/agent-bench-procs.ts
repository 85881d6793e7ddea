/**
 * Processes for the agent benchmark: launching children that print JSON lines, reading a
 * process's CPU time and memory from /proc, a bare Mosquitto, and a run of held TCP ports.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const POLL_MS = 100;
export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
export const children = new Set<ChildProcess>();

export interface ProcStats {
  cpuS: number;
  rssMb: number;
  peakMb: number;
  /** The process's own memory (RssAnon): RSS without the file-backed pages of node and its libraries. */
  anonMb: number;
}

/** CPU seconds (user + system) and memory of a live process, from /proc (Linux). */
export function procStats(pid: number): ProcStats {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return {
    cpuS: (Number(f[11]) + Number(f[12])) / CLK_TCK,
    rssMb: kb('VmRSS') / 1024,
    peakMb: kb('VmHWM') / 1024,
    anonMb: kb('RssAnon') / 1024,
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `check` returns a value other than undefined; rejects after `timeoutMs`. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  check: () => T | undefined | Promise<T | undefined>,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

export interface Line {
  /** The stdout line, parsed as JSON where it is JSON. */
  v: unknown;
  /** performance.now() when it arrived. */
  t: number;
}

export interface Child {
  proc: ChildProcess;
  pid: number;
  lines: Line[];
  stderr: () => string;
  /** True once the process has exited and its output has been read to the end. */
  closed: () => boolean;
  stop(): Promise<void>;
}

export function launch(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  const lines: Line[] = [];
  let err = '';
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    const t = performance.now();
    try {
      lines.push({ v: JSON.parse(l), t });
    } catch {
      lines.push({ v: l, t });
    }
  });
  proc.stderr?.on('data', (d) => {
    err = (err + d).slice(-8_000);
  });
  proc.once('exit', () => children.delete(proc));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  // 'close' comes after the last stdout line; 'exit' may come before it.
  let closed = false;
  proc.once('close', () => {
    closed = true;
  });
  return {
    proc,
    pid: proc.pid as number,
    lines,
    stderr: () => err,
    closed: () => closed,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Throws if the process has ended (an early exit, or a crash, or a kill by a signal). */
export function alive(c: Child): void {
  if (c.closed()) {
    const how = c.proc.signalCode ?? `code ${c.proc.exitCode}`;
    throw new Error(`process ${c.pid} ended (${how}): ${c.stderr()}`);
  }
}

export async function startMosquitto(dir: string): Promise<{ port: number; stop(): Promise<void> }> {
  const ports = await holdPorts(1);
  const port = ports.base;
  await ports.release();
  const conf = join(dir, `mosquitto-${port}.conf`);
  // Unlimited queues (the default 1000 silently drops QoS 1 to a slow subscriber), no persistence,
  // $SYS counters every second (the Node-RED run's completion is read from them).
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'max_queued_messages 0'];
  writeFileSync(conf, [...lines, 'persistence false', 'sys_interval 1', ''].join('\n'));
  const child = launch(existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto', ['-c', conf]);
  const client = await until('mosquitto', 10_000, async () => {
    alive(child);
    return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 }).catch(() => undefined);
  });
  await client.endAsync();
  return { port, stop: () => child.stop() };
}

/**
 * Listens on `n` consecutive free ports (the simulator serves shelf i on base + i; from `at` when
 * given, else from a free run found at random) and holds every connection open without sending a
 * byte: consumers connect and sit idle until `release()`.
 */
export async function holdPorts(n: number, at?: number) {
  for (let attempt = 0; attempt < (at === undefined ? 50 : 1); attempt++) {
    const base = at ?? 20_000 + Math.floor(Math.random() * 40_000);
    const servers: Server[] = [];
    const sockets = new Set<Socket>();
    const connected = new Set<number>();
    try {
      for (let i = 0; i < n; i++) {
        const server = createServer((s) => {
          sockets.add(s);
          connected.add(i);
          s.on('error', () => {});
        });
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(base + i, '127.0.0.1', () => resolve());
        });
        servers.push(server);
      }
    } catch {
      for (const s of servers) s.close();
      continue;
    }
    return {
      base,
      connected: () => connected.size,
      async release() {
        for (const s of sockets) s.destroy();
        await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      },
    };
  }
  throw new Error(at === undefined ? 'no run of free ports found' : `ports ${at}… are taken`);
}
