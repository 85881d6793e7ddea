/**
 * A stand-in for the central side, for the dashboard's browser tests: one HTTP server that serves
 * the built dashboard (through the dashboard's own static handler, as central mounts it), just
 * enough of docs/http-api.md with fixed data, and MQTT over WebSocket at `/mqtt` (fixture-broker).
 * Every API call is recorded so tests can check what the UI asked for. Swap it for the real
 * central side once that exists: the tests use only `url`, `calls`, `publish` and `close`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createStaticHandler } from '@shelfsense/dashboard';
import { topics } from '@shelfsense/protocol';
import { attachBroker, canSeeLane, type FixtureBroker } from './fixture-broker.js';
import {
  type FixtureLane,
  type FixtureUser,
  makeAlerts,
  makeHealth,
  makeHistory,
  makeLanes,
  makeOrders,
  makeStream,
  USERS,
} from './fixture-data.js';

export interface ApiCall {
  method: string;
  path: string;
  user: string | null;
  body: unknown;
}

export interface FixtureServer {
  url: string;
  calls: ApiCall[];
  broker: FixtureBroker;
  publish(topic: string, payload: unknown, retain?: boolean): Promise<void>;
  /** Forgets every token, as a restarted central side with a new key would. */
  revokeTokens(): void;
  close(): Promise<void>;
}

export interface FixtureOptions {
  /** The built dashboard (scripts/build.mjs output). */
  publicDir: string;
  /** How often a requested stream publishes, ms (default 200, as the agent does). */
  streamIntervalMs?: number;
  /** Token lifetime, ms (default one hour). */
  tokenTtlMs?: number;
}

class HttpFail extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
const notFound = (what: string) => new HttpFail(404, 'SHELF_ERR_NOT_FOUND', `no ${what}`);
const forbidden = (what: string) => new HttpFail(403, 'SHELF_ERR_FORBIDDEN', `may not ${what}`);
const transition = (from: string, to: string) =>
  new HttpFail(409, 'SHELF_ERR_TRANSITION', `order is ${from}: cannot go to ${to}`);

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : undefined;
}

export async function startFixtureServer(opts: FixtureOptions): Promise<FixtureServer> {
  const now = Date.now();
  const lanes = makeLanes(now);
  const orders = makeOrders(now);
  const alerts = makeAlerts(now);
  const calibrations = new Map<string, object[]>();
  const tokens = new Map<string, FixtureUser>();
  const timers = new Set<NodeJS.Timeout>();
  const calls: ApiCall[] = [];
  const serveStatic = createStaticHandler({ root: opts.publicDir });
  const key = (l: { site: string; shelf: string; lane: string }) => `${l.site}/${l.shelf}/${l.lane}`;
  const view = ({ channels: _c, ...l }: FixtureLane) => l;
  const visible = (u: FixtureUser) => lanes.filter((l) => canSeeLane(u, l));
  const laneAt = (u: FixtureUser, site: string, shelf: string, lane: string) => {
    const l = lanes.find((x) => x.site === site && x.shelf === shelf && x.lane === lane);
    if (!l || !canSeeLane(u, l)) throw notFound(`lane ${site}/${shelf}/${lane}`);
    return l;
  };
  const issue = (u: FixtureUser) => {
    const token = `tok-${randomBytes(12).toString('hex')}`;
    tokens.set(token, u);
    return {
      token,
      expiresAt: Date.now() + (opts.tokenTtlMs ?? 3_600_000),
      user: { name: u.name, role: u.role, supplier: u.supplier, sites: u.sites },
    };
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.startsWith('/api/')) {
      if (!serveStatic(req, res))
        send(res, 404, { error: { code: 'SHELF_ERR_NOT_FOUND', message: 'no route' } });
      return;
    }
    handleApi(req, res, url).catch((err: Error) => {
      const e = err instanceof HttpFail ? err : new HttpFail(500, 'SHELF_ERR_INTERNAL', err.message);
      send(res, e.status, { error: { code: e.code, message: e.message } });
    });
  });
  const broker = await attachBroker(server, { userFor: (t) => tokens.get(t), lanes: () => lanes });

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const body = method === 'POST' ? await readBody(req) : undefined;
    const auth = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const user = auth ? tokens.get(auth[1] as string) : undefined;
    calls.push({ method, path: path + url.search, user: user?.name ?? null, body });

    if (method === 'POST' && path === '/api/login') {
      const b = body as { username?: string; password?: string };
      const u = USERS.find((x) => x.name === b?.username && x.password === b?.password);
      if (!u) throw new HttpFail(401, 'SHELF_ERR_UNAUTHENTICATED', 'wrong user name or password');
      return send(res, 200, issue(u));
    }
    if (!user) throw new HttpFail(401, 'SHELF_ERR_UNAUTHENTICATED', 'no valid token');
    if (method === 'POST' && path === '/api/login/refresh') return send(res, 200, issue(user));
    if (method === 'GET' && path === '/api/lanes') return send(res, 200, visible(user).map(view));

    // The fixture shelves report nothing beyond their counts: no observations, no proposals.
    if (method === 'GET' && path === '/api/observations') {
      if (user.role === 'supplier') throw forbidden('read observations');
      return send(res, 200, []);
    }
    let m =
      /^\/api\/lanes\/([^/]+)\/([^/]+)\/([^/]+)(\/history|\/calibrations|\/observations|\/unit-weight)?$/.exec(
        path,
      );
    if (m && method === 'GET') {
      const l = laneAt(user, m[1] as string, m[2] as string, m[3] as string);
      if (!m[4]) return send(res, 200, view(l));
      if (m[4] === '/observations' || m[4] === '/unit-weight') {
        if (user.role === 'supplier') throw forbidden('read observations');
        if (m[4] === '/observations') return send(res, 200, []);
        const { site, shelf, lane, sku, unitWeightG } = view(l);
        return send(res, 200, { site, shelf, lane, sku, unitWeightG, proposal: null });
      }
      if (m[4] === '/history') {
        const to = Number(url.searchParams.get('to') ?? Date.now());
        const from = Number(url.searchParams.get('from') ?? to - 86_400_000);
        return send(res, 200, makeHistory(l, from, to));
      }
      if (user.role === 'supplier') throw forbidden('read calibration records');
      return send(res, 200, [...(calibrations.get(key(l)) ?? [])].reverse());
    }

    if (method === 'GET' && path === '/api/orders') {
      const states = url.searchParams.get('state')?.split(',');
      const mine = orders.filter((o) => canSeeLane(user, o) && (!states || states.includes(o.state)));
      return send(res, 200, mine);
    }
    m = /^\/api\/orders\/([^/]+)\/(acknowledge|ship|cancel)$/.exec(path);
    if (m && method === 'POST') {
      const o = orders.find((x) => x.id === m?.[1] && canSeeLane(user, x));
      if (!o) throw notFound(`order ${m[1]}`);
      const action = m[2] as 'acknowledge' | 'ship' | 'cancel';
      const supplierLike = user.role === 'supplier' || user.role === 'admin';
      const [from, to] = {
        acknowledge: ['open', 'acknowledged'],
        ship: ['acknowledged', 'shipped'],
        cancel: ['open', 'acknowledged'],
      }[action];
      if (action === 'cancel' ? !(user.role === 'operator' || user.role === 'admin') : !supplierLike) {
        throw forbidden(`${action} orders`);
      }
      if (action === 'cancel' ? !['open', 'acknowledged'].includes(o.state) : o.state !== from) {
        throw transition(o.state, to ?? action);
      }
      o.state = action === 'cancel' ? 'cancelled' : (to as string);
      o.updatedAt = Date.now();
      if (action === 'ship') o.shippedQuantity = (body as { quantity?: number })?.quantity ?? o.quantity;
      const l = lanes.find((x) => key(x) === key(o));
      if (l) {
        l.openOrder = o.state === 'cancelled' ? null : { id: o.id, state: o.state, quantity: o.quantity };
        if (o.state === 'cancelled' && l.status === 'ordered') l.status = 'below-reorder';
      }
      await broker.publish(topics.order(o.site, o.shelf, o.lane), { orderId: o.id, state: o.state });
      return send(res, 200, o);
    }

    if (method === 'GET' && path === '/api/alerts') {
      if (user.role === 'supplier') return send(res, 200, []);
      return send(
        res,
        200,
        alerts.filter((a) => canSeeLane(user, a)),
      );
    }
    m = /^\/api\/alerts\/([^/]+)\/acknowledge$/.exec(path);
    if (m && method === 'POST') {
      const a = alerts.find((x) => x.id === m?.[1] && user.role !== 'supplier' && canSeeLane(user, x));
      if (!a) throw notFound(`alert ${m[1]}`);
      if (a.state !== 'open') throw new HttpFail(409, 'SHELF_ERR_TRANSITION', `alert is ${a.state}`);
      a.state = 'acknowledged';
      a.acknowledgedBy = user.name;
      await broker.publish(topics.alert(a.site, a.shelf, a.lane), { alertId: a.id, state: a.state });
      return send(res, 200, a);
    }

    m = /^\/api\/agents\/([^/]+)\/([^/]+)\/commands\/([a-z-]+)$/.exec(path);
    if (m && method === 'POST')
      return send(res, 200, await command(user, m[1] as string, m[2] as string, m[3] as string, body));

    if (method === 'GET' && path === '/api/export.csv') {
      const site = url.searchParams.get('site');
      const rows = visible(user)
        .filter((l) => !site || l.site === site)
        .map((l) =>
          [
            l.updatedAt,
            new Date(l.updatedAt).toISOString(),
            l.site,
            l.shelf,
            l.lane,
            l.sku,
            l.units,
            l.grams,
            l.state,
          ].join(','),
        );
      res.writeHead(200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="shelfsense-levels-${url.searchParams.get('from')}-${url.searchParams.get('to')}.csv"`,
      });
      res.end(`ts,iso,site,shelf,lane,sku,units,grams,state\n${rows.join('\n')}\n`);
      return;
    }
    throw notFound(`route ${method} ${path}`);
  }

  /** Answers as the agent would, stamping the authenticated user on calibration records. */
  async function command(user: FixtureUser, site: string, agent: string, name: string, body: unknown) {
    if (!(user.role === 'technician' || user.role === 'admin')) throw forbidden('send agent commands');
    if (!lanes.some((l) => l.site === site && l.agent === agent && canSeeLane(user, l)))
      throw notFound(`agent ${site}/${agent}`);
    const args = ((body as { args?: Record<string, unknown> })?.args ?? {}) as Record<
      string,
      number | string
    >;
    const transaction = randomBytes(6).toString('hex');
    if (name === 'stream') {
      const shelf = String(args['shelf']);
      const until = Date.now() + Number(args['durationMs']);
      let tick = 0;
      const t = setInterval(() => {
        if (Date.now() > until) {
          clearInterval(t);
          timers.delete(t);
          return;
        }
        void broker.publish(
          topics.stream(site, agent),
          makeStream(
            shelf,
            lanes.filter((l) => l.site === site),
            tick++,
            Date.now(),
          ),
        );
      }, opts.streamIntervalMs ?? 200);
      timers.add(t);
      return { status: 'ok', data: { shelf, until }, error: null, transaction };
    }
    const l = lanes.find((x) => x.site === site && x.shelf === args['shelf'] && x.lane === args['lane']);
    if (!l)
      return {
        status: 'error',
        data: null,
        error: { code: 'SHELF_ERR_UNKNOWN_LANE', message: `no lane ${String(args['lane'])}` },
        transaction,
      };
    const learned = name === 'learn-unit' ? Math.round((l.grams / Number(args['count'])) * 10) / 10 : null;
    const record = {
      agent,
      serial: `SN-${l.shelf}`,
      shelf: l.shelf,
      lane: l.lane,
      kind: name,
      by: { user: user.name, role: user.role },
      channels: l.channels,
      referenceG: name === 'calibrate' ? Number(args['massG']) : null,
      items: name === 'learn-unit' ? Number(args['count']) : null,
      before: name === 'learn-unit' ? { [String(l.channels[0])]: { unitWeightG: l.unitWeightG } } : {},
      after: name === 'learn-unit' ? { [String(l.channels[0])]: { unitWeightG: learned } } : {},
      residualG: name === 'tare' ? 0.12 : 0.42,
      ts: Date.now(),
      seq: calls.length,
    };
    const list = calibrations.get(key(l)) ?? [];
    list.push({ id: `${agent}:${record.seq}`, ...record });
    calibrations.set(key(l), list);
    await broker.publish(topics.calibration(l.site, l.shelf, l.lane), record);
    return { status: 'ok', data: record, error: null, transaction };
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };

  // Retained facts a dashboard receives on subscribe: agent status and shelf health.
  for (const agent of new Set(lanes.map((l) => `${l.site}/${l.agent}`))) {
    const [site = '', id = ''] = agent.split('/');
    const online = lanes.some((l) => l.site === site && l.agent === id && l.agentOnline);
    await broker.publish(
      topics.status(site, id),
      { agent: id, site, state: online ? 'online' : 'offline', shelves: [], ts: now },
      true,
    );
  }
  for (const shelf of new Set(lanes.map((l) => `${l.site}/${l.shelf}/${l.agent}`))) {
    const [site = '', id = '', agent = ''] = shelf.split('/');
    await broker.publish(topics.health(site, id), makeHealth(site, id, agent, now), true);
  }

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    broker,
    publish: broker.publish,
    revokeTokens: () => tokens.clear(),
    close: async () => {
      for (const t of timers) clearInterval(t);
      timers.clear();
      await broker.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
