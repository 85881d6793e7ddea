/**
 * Node-RED embedded in the central HTTP server: the editor and its admin API at `config.path`
 * (admins only), flows' own HTTP endpoints at `config.httpNodePath` when set, and the editor's
 * WebSocket at `<path>/comms` on the same server.
 *
 * Sharing the server: Node-RED's WebSocket servers run in noServer mode and answer only upgrades
 * for their own paths, so MQTT over WebSocket at /mqtt keeps working beside them. stop() removes
 * the upgrade listeners Node-RED added (it leaves them behind, and a second start would then
 * answer each editor upgrade twice) and closes the editor sockets it left open.
 *
 * Node-RED keeps its state in module globals, so one runtime runs per process at a time; a
 * stopped one can be started again.
 */
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { UserStore } from '@shelfsense/broker';
import type { NodeRedConfig, ShelfMap } from '@shelfsense/protocol';
import { childLogger } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { OrderService } from '../orders/orders.js';
import { adminAuth } from './admin-auth.js';
import { NodeRedError, NodeRedErrorCodes } from './errors.js';
import type { ShelfsenseFeed } from './feed.js';
import { createNodeApi } from './node-api.js';
import { nodeRedSettings } from './settings.js';
import { unrefNodeRedSessionTimers } from './timers.js';

type Red = typeof import('node-red')['default'];
type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface NodeRedServiceOptions {
  /** The central HTTP server (shared with the API, the dashboard and MQTT over WebSocket). */
  server: Server;
  config: NodeRedConfig;
  /** Central's data dir: the credential secret lives here, and userDir by default. */
  dataDir: string;
  users: UserStore;
  orders: OrderService;
  map: ShelfMap;
  feed: ShelfsenseFeed;
  log: Logger;
  /** Give up starting after this long (default 60 s; a Pi may take several seconds). */
  startTimeoutMs?: number;
}

let active: NodeRedService | null = null;

/**
 * The editor and its admin API are for pages served from this origin only: whatever Node-RED's
 * settings or a future default say, no `Access-Control-*` header leaves them.
 */
function sameOriginOnly(res: ServerResponse): void {
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name, value) => (/^access-control-/i.test(name) ? res : setHeader(name, value));
}

export class NodeRedService {
  readonly userDir: string;
  private red: Red | null = null;
  private readonly log: Logger;
  private readonly sockets = new Set<Duplex>();
  private redUpgradeListeners: UpgradeListener[] = [];
  private starting: Promise<void> | null = null;

  constructor(private readonly o: NodeRedServiceOptions) {
    this.log = childLogger(o.log, 'node-red');
    this.userDir = o.config.userDir ?? `${o.dataDir}/node-red`;
  }

  get running(): boolean {
    return this.red !== null;
  }

  async start(): Promise<void> {
    if (active && active !== this) {
      throw new NodeRedError(NodeRedErrorCodes.IN_USE, 'Node-RED already runs in this process');
    }
    if (this.red) return;
    active = this;
    this.starting ??= this.boot().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private async boot(): Promise<void> {
    const { server, config } = this.o;
    const timeoutMs = this.o.startTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    let before = new Set<unknown>();
    let RED: Red | null = null;
    // Node-RED's upgrade listeners: whatever it added from init to here.
    const redListeners = () =>
      server
        .listeners('upgrade')
        .filter((l) => !before.has(l) && l !== this.trackUpgrade) as UpgradeListener[];
    try {
      mkdirSync(this.userDir, { recursive: true });
      const red = (await import('node-red')).default;
      RED = red;
      unrefNodeRedSessionTimers();
      const api = createNodeApi({ feed: this.o.feed, orders: this.o.orders, map: this.o.map, log: this.log });
      const settings = nodeRedSettings({
        config,
        userDir: this.userDir,
        dataDir: this.o.dataDir,
        auth: adminAuth(this.o.users, config.sessionTtlMs, this.log),
        api,
        log: this.log,
      });
      before = new Set(server.listeners('upgrade'));
      server.on('upgrade', this.trackUpgrade);
      const flowsStarted = once(red.events, 'flows:started');
      red.init(server, settings);
      await Promise.race([
        red.start().then(() => flowsStarted),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`not started within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      // The editor's comms listener is added during start, so look after it.
      this.redUpgradeListeners = redListeners();
      this.red = red;
      this.log.info({ path: config.path, userDir: this.userDir }, 'node-red started');
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'node-red failed to start');
      this.redUpgradeListeners = redListeners();
      await this.teardown(RED);
      throw new NodeRedError(NodeRedErrorCodes.START, `Node-RED: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Remembers the editor's WebSockets, which Node-RED does not close on stop. */
  private readonly trackUpgrade: UpgradeListener = (req, socket) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!path.startsWith(`${this.o.config.path}/`)) return;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  };

  /**
   * The HTTP mount: true for requests it answered. Central calls it for every request that the
   * routes before it did not take.
   */
  readonly mount = (req: IncomingMessage, res: ServerResponse): boolean => {
    const red = this.red;
    if (!red) return false;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const admin = this.o.config.path;
    if (path === admin) {
      // The editor loads its scripts relative to the page, so it must end in a slash.
      res.writeHead(301, { location: `${admin}/${q < 0 ? '' : url.slice(q)}` }).end();
      return true;
    }
    if (path.startsWith(`${admin}/`)) {
      sameOriginOnly(res);
      this.dispatch(red.httpAdmin, admin, req, res);
      return true;
    }
    const node = this.o.config.httpNodePath;
    if (node && (path === node || path.startsWith(`${node}/`))) {
      this.dispatch(red.httpNode, node, req, res);
      return true;
    }
    return false;
  };

  /** Hands a request to one of Node-RED's express apps as if mounted at `prefix`. */
  private dispatch(app: Red['httpAdmin'], prefix: string, req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    Object.assign(req, { originalUrl: url });
    req.url = url.slice(prefix.length) || '/';
    app(req, res, (err?: unknown) => {
      if (res.headersSent) {
        res.end();
        return;
      }
      const status = err ? 500 : 404;
      if (err) this.log.error({ err: (err as Error).message, url }, 'node-red request failed');
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: {
            code: err ? 'SHELF_ERR_INTERNAL' : 'SHELF_ERR_NOT_FOUND',
            message: err ? 'internal error' : `no route for ${url.split('?')[0]}`,
          },
        }),
      );
    });
  }

  async stop(): Promise<void> {
    // A stop during start waits for the start to settle (a failed start has torn itself down).
    if (this.starting) await this.starting.catch(() => undefined);
    const red = this.red;
    this.red = null;
    await this.teardown(red);
  }

  private async teardown(red: Red | null): Promise<void> {
    const server = this.o.server;
    if (red) {
      try {
        await red.stop();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'node-red did not stop cleanly');
      }
    }
    for (const l of this.redUpgradeListeners.splice(0)) server.off('upgrade', l);
    server.off('upgrade', this.trackUpgrade);
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (active === this) active = null;
  }
}
