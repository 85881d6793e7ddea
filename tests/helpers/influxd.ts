/**
 * A real InfluxDB 1.x (`influxd`, Debian's influxdb package) for tests: its own temp directory,
 * HTTP and RPC on free loopback ports, no reporting, no logging noise. stop() and restart() keep
 * the ports and the data, so a test can take the server away and bring it back; close() also
 * removes the directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './brokers.js';

export interface TestInfluxd {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** SIGTERM (SIGKILL after a bound) and wait for the exit; the data stays. */
  stop(): Promise<void>;
  /** Starts again on the same ports and data, resolving once /ping answers 204. */
  restart(): Promise<void>;
  /** Sends a signal to the running influxd (SIGSTOP / SIGCONT to make it hang and come back). */
  signal(sig: NodeJS.Signals): void;
  /** stop() and remove the directory. */
  close(): Promise<void>;
  /** Everything influxd wrote to stderr (it is quiet unless something is wrong). */
  stderr(): string;
}

const BIN = ['/usr/bin/influxd', '/usr/sbin/influxd'].find((p) => existsSync(p)) ?? 'influxd';
const live = new Set<TestInfluxd>();

export function influxdAvailable(): boolean {
  return existsSync(BIN);
}

function config(dir: string, httpPort: number, rpcPort: number): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
  trace-logging-enabled = false

[http]
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
  suppress-write-log = true

[logging]
  level = "error"
  suppress-logo = true

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false
  log-enabled = false

[subscriber]
  enabled = false
`;
}

function ping(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/ping', timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

export async function startInfluxd(opts: { readyTimeoutMs?: number } = {}): Promise<TestInfluxd> {
  const dir = mkdtempSync(join(tmpdir(), 'influxd-'));
  const port = await freePort();
  const rpcPort = await freePort();
  const file = join(dir, 'influxd.conf');
  writeFileSync(file, config(dir, port, rpcPort));
  let child: ChildProcess | null = null;
  let stderr = '';
  let exited: Promise<void> = Promise.resolve();

  const up = async () => {
    const c = spawn(BIN, ['-config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    c.stderr?.setEncoding('utf8');
    c.stderr?.on('data', (s: string) => {
      stderr += s;
    });
    exited = new Promise((r) => c.once('exit', () => r()));
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 15_000);
    for (;;) {
      if (c.exitCode !== null || c.signalCode !== null) {
        throw new Error(`influxd exited before answering /ping; stderr: ${stderr}`);
      }
      if ((await ping(port)) === 204) return;
      if (Date.now() > deadline)
        throw new Error(`influxd did not answer /ping on ${port}; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const down = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGTERM');
    c.kill('SIGCONT'); // a paused influxd handles the SIGTERM only once it runs again
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  const server: TestInfluxd = {
    host: '127.0.0.1',
    port,
    url: `http://127.0.0.1:${port}`,
    dir,
    stop: down,
    restart: up,
    signal(sig) {
      child?.kill(sig);
    },
    async close() {
      await down();
      live.delete(server);
      rmSync(dir, { recursive: true, force: true });
    },
    stderr: () => stderr,
  };
  live.add(server);
  try {
    await up();
  } catch (err) {
    await server.close();
    throw err;
  }
  return server;
}

/** Stops every influxd this module started and removes their directories. */
export async function closeAllInfluxd(): Promise<void> {
  await Promise.all([...live].map((s) => s.close()));
}
