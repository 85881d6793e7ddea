/**
 * The central side as its own compiled process for end-to-end tests (so it can be `kill -9`-ed),
 * users added through the real `shelfsense users` CLI, and a real HTTP webhook receiver.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { type CliProcess, ROOT, shelfsense } from './proc.js';

export function addUser(dataDir: string, name: string, args: string[], password: string): void {
  const r = spawnSync(
    process.execPath,
    ['cli/dist/main.js', 'users', 'add', name, ...args, '--data-dir', dataDir],
    {
      cwd: ROOT,
      input: `${password}\n`,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`users add ${name} failed: ${r.stderr}`);
}

export interface CentralProcess {
  proc: CliProcess;
  http: number;
  mqtt: number;
  /** kill -9 */
  kill(): Promise<void>;
  /** Starts it again with the same config (same ports). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  api(path: string, token?: string, init?: RequestInit): Promise<Response>;
  login(user: string, password: string): Promise<string>;
}

export async function startCentral(config: Record<string, unknown>, dir: string): Promise<CentralProcess> {
  const file = join(dir, 'central.json');
  let ports = { http: 0, mqtt: 0 };
  const launch = async () => {
    const cfg = structuredClone(config) as { http?: object; mqtt?: object };
    if (ports.http) {
      cfg.http = { ...(cfg.http ?? {}), port: ports.http };
      cfg.mqtt = { ...(cfg.mqtt ?? {}), port: ports.mqtt };
    }
    writeFileSync(file, JSON.stringify(cfg));
    const proc = shelfsense(['central', '--config', file]);
    const ready = await proc.waitForJson<{ ready: boolean; http: number; mqtt: number }>(
      (o) => o.ready === true,
      30_000,
    );
    ports = { http: ready.http, mqtt: ready.mqtt };
    return proc;
  };
  let proc = await launch();
  const c: CentralProcess = {
    get proc() {
      return proc;
    },
    get http() {
      return ports.http;
    },
    get mqtt() {
      return ports.mqtt;
    },
    async kill() {
      await proc.kill('SIGKILL');
    },
    async restart() {
      proc = await launch();
    },
    async stop() {
      await proc.kill('SIGTERM', 10_000);
    },
    api(path, token, init = {}) {
      return fetch(`http://127.0.0.1:${ports.http}${path}`, {
        ...init,
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(init.headers ?? {}),
        },
      });
    },
    async login(user, password) {
      const r = await c.api('/api/login', undefined, {
        method: 'POST',
        body: JSON.stringify({ username: user, password }),
      });
      if (r.status !== 200) throw new Error(`login ${user}: ${r.status} ${await r.text()}`);
      return ((await r.json()) as { token: string }).token;
    },
  };
  return c;
}

export interface ReceivedHook {
  headers: IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown>;
  at: number;
}

/** A supplier's webhook endpoint: records every request; can be made to fail. */
export class WebhookReceiver {
  readonly received: ReceivedHook[] = [];
  status = 200;
  private server: Server | null = null;
  port = 0;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('end', () => {
        if (this.status === 200) {
          this.received.push({ headers: req.headers, body, json: JSON.parse(body), at: Date.now() });
        }
        res.writeHead(this.status).end();
      });
    });
    const s = this.server;
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    this.port = (s.address() as { port: number }).port;
    return `http://127.0.0.1:${this.port}/orders`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }
}
