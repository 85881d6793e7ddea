/**
 * The ways into the broker: plain TCP, TLS, and WebSocket at a path of an HTTP server (shared
 * with the central HTTP API, or one of its own). Every socket is tracked so close() can end
 * connections that never finished CONNECT — aedes only knows clients past CONNECT.
 */
import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import { createWebSocketStream, WebSocketServer } from 'ws';

export type Handle = (stream: Duplex, req?: IncomingMessage) => void;

function listen(server: NetServer | HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as { port: number }).port);
    });
  });
}

function close(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export class Listeners {
  private readonly servers: (NetServer | HttpServer)[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly detach: (() => void)[] = [];
  private wss: WebSocketServer | null = null;

  constructor(
    private readonly handle: Handle,
    private readonly log: Logger,
  ) {}

  private track = (socket: Socket): void => {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  };

  async tcp(host: string, port: number): Promise<number> {
    const server = createNetServer((socket) => {
      this.track(socket);
      this.handle(socket);
    });
    this.servers.push(server);
    return listen(server, port, host);
  }

  async tls(host: string, port: number, options: TlsOptions): Promise<number> {
    // TLS 1.2 at least, whatever the process default (node --tls-min-v1.0 lowers it).
    const server = createTlsServer({ minVersion: 'TLSv1.2', ...options }, (socket) => this.handle(socket));
    // Track the raw connection, so sockets still in their handshake are closed too.
    server.on('connection', this.track);
    server.on('tlsClientError', (err) => this.log.debug({ err: err.message }, 'TLS handshake failed'));
    this.servers.push(server);
    return listen(server, port, host);
  }

  /**
   * Serves MQTT over WebSocket at `path` of `server`. Upgrades for other paths are left to the
   * server's other 'upgrade' listeners (the central HTTP server may have its own).
   */
  websocket(server: HttpServer | HttpsServer, path: string, maxPayload: number): void {
    const wss = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false });
    this.wss = wss;
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      let pathname: string;
      try {
        pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
      } catch {
        pathname = '';
      }
      if (pathname !== path) {
        // Nobody else will answer: refuse rather than leave the socket hanging.
        if (server.listenerCount('upgrade') === 1) {
          socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        }
        return;
      }
      this.track(socket as Socket);
      wss.handleUpgrade(req, socket, head, (ws) => {
        const stream = createWebSocketStream(ws);
        stream.on('error', (err) => this.log.debug({ err: err.message }, 'WebSocket stream error'));
        this.handle(stream, req);
      });
    };
    server.on('upgrade', onUpgrade);
    this.detach.push(() => server.off('upgrade', onUpgrade));
  }

  /** A WebSocket listener on its own HTTP server (when none is shared). */
  async websocketOwnServer(host: string, port: number, path: string, maxPayload: number): Promise<number> {
    const server = createHttpServer((_req, res) => {
      res.writeHead(404).end();
    });
    server.on('connection', this.track);
    this.servers.push(server);
    this.websocket(server, path, maxPayload);
    return listen(server, port, host);
  }

  /** Stops accepting, ends every connection, and waits for the servers to close. */
  async close(): Promise<void> {
    for (const d of this.detach.splice(0)) d();
    const closing = this.servers.splice(0).map(close);
    if (this.wss) {
      for (const ws of this.wss.clients) ws.terminate();
      const wss = this.wss;
      this.wss = null;
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await Promise.all(closing);
  }
}
