/**
 * The live half of the dashboard fixture: a real aedes broker behind MQTT over WebSocket at
 * `/mqtt` on the fixture's HTTP server, logging in with user name + API token, delivering to each
 * client only what its role may read (the same scoping as the HTTP API), and refusing every
 * publish from a browser.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { parseTopic } from '@shelfsense/protocol';
import { Aedes, type Client } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { FixtureLane, FixtureUser } from './fixture-data.js';

export interface Scope {
  /** The user a token belongs to, if it is valid. */
  userFor(token: string): FixtureUser | undefined;
  lanes(): readonly FixtureLane[];
}

/** Whether a user may see a lane: its supplier's SKU, or a site it works at; admins see all. */
export function canSeeLane(u: FixtureUser, l: { site: string; supplier?: string }): boolean {
  if (u.role === 'admin') return true;
  if (u.role === 'supplier') return l.supplier === u.supplier;
  return u.sites.includes(l.site);
}

function mayRead(u: FixtureUser, topic: string, lanes: readonly FixtureLane[]): boolean {
  const t = parseTopic(topic);
  if (!t) return u.role === 'admin';
  if (u.role === 'admin') return true;
  switch (t.kind) {
    case 'level':
    case 'event':
    case 'order':
    case 'alert':
    case 'calibration': {
      const l = lanes.find((x) => x.site === t.site && x.shelf === t.shelf && x.lane === t.lane);
      return l !== undefined && canSeeLane(u, l);
    }
    case 'health':
      return u.role !== 'supplier' && u.sites.includes(t.site);
    case 'status':
      return lanes.some((l) => l.site === t.site && l.agent === t.agent && canSeeLane(u, l));
    case 'stream':
    case 'lanes':
      return u.role === 'technician' && u.sites.includes(t.site);
    default:
      return false;
  }
}

export interface FixtureBroker {
  aedes: Aedes;
  publish(topic: string, payload: unknown, retain?: boolean): Promise<void>;
  /** How many messages were withheld from clients by the read scope. */
  readonly withheld: number;
  close(): Promise<void>;
}

export async function attachBroker(server: Server, scope: Scope): Promise<FixtureBroker> {
  const users = new WeakMap<Client, FixtureUser>();
  let withheld = 0;
  const aedes = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      const u = scope.userFor(password?.toString('utf8') ?? '');
      if (!u || u.name !== username) {
        done(Object.assign(new Error('bad user name or password'), { returnCode: 4 }), false);
        return;
      }
      users.set(client, u);
      done(null, true);
    },
    authorizePublish: (client, _packet, cb) => cb(client ? new Error('dashboards do not publish') : null),
    authorizeSubscribe: (_client, sub, cb) => cb(null, sub),
    authorizeForward: (client, packet) => {
      const u = users.get(client);
      if (u && mayRead(u, packet.topic, scope.lanes())) return packet;
      withheld++;
      return null;
    },
  });

  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/mqtt') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => {});
      aedes.handle(stream, req);
    });
  };
  server.on('upgrade', onUpgrade);

  return {
    aedes,
    get withheld() {
      return withheld;
    },
    publish: (topic, payload, retain = false) =>
      new Promise<void>((resolve, reject) => {
        aedes.publish(
          {
            cmd: 'publish',
            topic,
            payload: Buffer.from(JSON.stringify(payload)),
            qos: 1,
            retain,
            dup: false,
          },
          (err) => (err ? reject(err) : resolve()),
        );
      }),
    close: async () => {
      server.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}
