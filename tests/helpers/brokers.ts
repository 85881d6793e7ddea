/**
 * Brokers for tests: a bare aedes in this process (stoppable and restartable on the same port) and
 * a real Mosquitto child process on a free port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface TestBroker {
  readonly url: string;
  readonly port: number;
  /** Stops the broker abruptly (clients see their sockets drop), keeping the port for restart(). */
  stop(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** A bare aedes with no auth: the stand-in for "any standard broker" in agent tests. */
export async function startAedes(port = 0): Promise<TestBroker> {
  let broker: Aedes | null = null;
  let server: Server | null = null;
  const sockets = new Set<Socket>();
  let bound = port;
  const up = async () => {
    broker = await Aedes.createBroker();
    const b = broker;
    server = createServer((sock) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
      b.handle(sock);
    });
    const srv = server;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(bound, '127.0.0.1', () => resolve());
    });
    bound = (srv.address() as { port: number }).port;
  };
  const down = async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    const srv = server;
    const b = broker;
    server = null;
    broker = null;
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
    if (b) await new Promise<void>((r) => b.close(() => r()));
  };
  await up();
  return {
    get url() {
      return `mqtt://127.0.0.1:${bound}`;
    },
    get port() {
      return bound;
    },
    stop: down,
    restart: up,
    close: down,
  };
}

/** A real Mosquitto on a free port; `max_queued_messages 0` so it never drops QoS 1 to a slow client. */
export async function startMosquitto(): Promise<TestBroker> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mosq-'));
  const conf = join(dir, 'mosquitto.conf');
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
  const bin = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));
  let child: ChildProcess | null = null;
  const up = async () => {
    child = spawn(bin ?? 'mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    await waitForPort(port, 5_000);
  };
  const down = async () => {
    const c = child;
    child = null;
    if (c && c.exitCode === null) {
      await new Promise<void>((r) => {
        c.once('exit', () => r());
        c.kill('SIGKILL');
      });
    }
  };
  await up();
  return { url: `mqtt://127.0.0.1:${port}`, port, stop: down, restart: up, close: down };
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const net = await import('node:net');
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
