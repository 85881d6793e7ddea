/**
 * The parts people and other systems talk to: the HTTP API (with the live agent status and shelf
 * health it reports), Node-RED, Home Assistant discovery, the dashboard, and the HTTP listener.
 */
import { type UserAuditEvent, UserStore } from '@shelfsense/broker';
import { serveDashboard } from '@shelfsense/dashboard';
import { filters, type Grant, topics } from '@shelfsense/protocol';
import { announce, type Unsubscribe } from '../bus/bus.js';
import { startHomeAssistant } from '../ha/start.js';
import { createApi } from '../http/api.js';
import { CommandRelayError, CommandRelayErrorCodes } from '../http/deps.js';
import { LiveState } from '../http/live-state.js';
import { type MountedNodeRed, mountNodeRed } from '../nodered/mount.js';
import type { HttpMount, Part, PartContext } from '../service/part.js';
import type { AuditInput } from '../store/audit.js';
import type { CentralStore } from '../store/repositories.js';

/** The users HTTP logins check: the broker's when it runs here (one login limiter), else its own. */
function users(ctx: PartContext, own: { store: UserStore | null }): UserStore {
  if (ctx.services.users) return ctx.services.users;
  const c = ctx.config.auth;
  own.store = new UserStore(ctx.dataDir, {
    scrypt: c.scrypt,
    verifyCacheMs: c.verifyCacheMs,
    login: c.login,
  });
  ctx.services.users = own.store;
  return own.store;
}

/** How often central takes the audit events `shelfsense users` left in users.db. */
const PENDING_AUDIT_MS = 1_000;

/** The one site of a grant bound to exactly one, so an operator can be shown its site's rows. */
function siteOf(grant: Grant | undefined): string | null {
  if (!grant) return null;
  if (grant.role === 'agent') return grant.site;
  return 'sites' in grant && grant.sites.length === 1 ? (grant.sites[0] ?? null) : null;
}

export function userAuditRow(e: UserAuditEvent): AuditInput {
  return {
    at: e.at,
    actor: e.actor.user,
    role: e.actor.role,
    action: e.action,
    target: 'user',
    targetId: e.user,
    site: siteOf(e.after?.grant ?? e.before?.grant),
    before: e.before,
    after: e.after,
    detail: e.detail,
  };
}

/**
 * Every login, failed login, token issued and user change of the store goes to central's audit
 * log, and what the CLI left in users.db within a second. Rows are written once per turn of the
 * event loop, in one transaction: one commit per login would make a cached MQTT login about four
 * times slower, and a reconnect storm writes hundreds at once. Returns the way to stop (which
 * writes what is waiting).
 */
function auditUsers(users: UserStore, store: CentralStore, log: PartContext['log']): () => void {
  const waiting: AuditInput[] = [];
  let scheduled: NodeJS.Immediate | null = null;
  const flush = () => {
    scheduled = null;
    const rows = waiting.splice(0);
    if (rows.length === 0) return;
    try {
      store.audit.appendAll(rows);
    } catch (err) {
      log.error({ err: (err as Error).message, rows: rows.length }, 'audit rows of users not written');
    }
  };
  const off = users.onAudit((e) => {
    waiting.push(userAuditRow(e));
    scheduled ??= setImmediate(flush);
  });
  const drain = () => {
    try {
      users.drainPendingAudit((events) => store.audit.appendAll(events.map(userAuditRow)));
    } catch (err) {
      log.error({ err: (err as Error).message }, 'cannot move the users audit events into the audit log');
    }
  };
  drain();
  const timer = setInterval(drain, PENDING_AUDIT_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    off();
    if (scheduled) clearImmediate(scheduled);
    flush();
  };
}

export function apiPart(): Part {
  const own: { store: UserStore | null } = { store: null };
  const offs: Unsubscribe[] = [];
  let live: LiveState | null = null;
  let handler: HttpMount = () => false;
  let stopAudit: (() => void) | null = null;

  /** The API over the parts that run and the catalogue of the moment. */
  const build = (ctx: PartContext): HttpMount => {
    const c = ctx.config;
    const { orders, rules, worker, history, broker } = ctx.services;
    if (!orders) throw new Error('the API needs the orders part before it');
    const commands = ctx.services.commands ?? {
      send: () =>
        Promise.reject(
          new CommandRelayError(CommandRelayErrorCodes.UNAVAILABLE, 'the commands part is not running'),
        ),
    };
    return createApi({
      users: users(ctx, own),
      map: ctx.map,
      store: ctx.store,
      history: history?.store,
      orders,
      ...(ctx.services.purchaseOrders ? { purchaseOrders: ctx.services.purchaseOrders } : {}),
      rules: rules ?? null,
      replenishment: c.replenishment,
      commands,
      log: ctx.log,
      tokenTtlMs: c.auth.tokenTtlMs,
      skus: c.skus,
      live: live as LiveState,
      offlineAfterMs: c.timing.offlineAfterMs,
      registry: ctx.registry,
      catalogue: ctx.services.catalogue,
      onAlert: (a) => announce(ctx.bus, topics.alert(a.site, a.shelf, a.lane), a, ctx.log),
      ...(worker ? { webhooks: worker } : {}),
      ...(broker ? { disconnectUser: (user: string) => broker.disconnectUser(user) } : {}),
    });
  };

  return {
    name: 'api',
    async start(ctx) {
      const state = new LiveState(ctx.map);
      live = state;
      // Status and health are retained, so a (re)started central learns them at once.
      offs.push(
        await ctx.bus.subscribe(
          filters.agentKind('status'),
          (ref, p) => {
            if (p.agent === ref.agent) state.onStatus(ref.site, p);
            else state.rejected++;
          },
          { retained: true, onInvalid: () => state.rejected++ },
        ),
        await ctx.bus.subscribe(filters.health(), (ref, p) => state.onHealth(ref.site, ref.shelf, p), {
          retained: true,
          onInvalid: () => state.rejected++,
        }),
      );
      ctx.services.live = state;
      stopAudit = auditUsers(users(ctx, own), ctx.store, ctx.log);
      handler = build(ctx);
      // Mounted once; a changed catalogue swaps the handler behind it.
      ctx.mount((req, res) => handler(req, res));
    },
    reconfigure(ctx) {
      handler = build(ctx);
    },
    async stop() {
      for (const off of offs.splice(0)) await off();
      stopAudit?.();
      stopAudit = null;
      own.store?.close();
      own.store = null;
    },
  };
}

export function nodeRedPart(): Part {
  const own: { store: UserStore | null } = { store: null };
  let red: MountedNodeRed | null = null;
  return {
    name: 'node-red',
    async start(ctx) {
      const orders = ctx.services.orders;
      if (!orders) throw new Error('Node-RED needs the orders part before it');
      red = await mountNodeRed(
        ctx.server,
        {
          map: ctx.map,
          orders,
          bus: ctx.bus,
          ingest: ctx.services.ingest ?? null,
          dataDir: ctx.dataDir,
          log: ctx.log,
          config: ctx.config,
          users: users(ctx, own),
        },
        ctx.config.integrations.nodeRed,
      );
      if (red) ctx.mount(red.mount);
    },
    async stop() {
      await red?.stop();
      red = null;
      own.store?.close();
      own.store = null;
    },
  };
}

export function homeAssistantPart(): Part {
  let ha: Awaited<ReturnType<typeof startHomeAssistant>> = null;
  return {
    name: 'home-assistant',
    async start(ctx) {
      const { services } = ctx;
      ha = await startHomeAssistant(
        {
          bus: ctx.bus,
          dataDir: ctx.dataDir,
          log: ctx.log,
          config: ctx.config,
          rules: () => services.rules,
          orders: () => services.orders,
          latest: () => ctx.store.history.latest(),
        },
        ctx.config.integrations.homeAssistant,
      );
    },
    async stop() {
      await ha?.stop();
      ha = null;
    },
    async reconfigure(ctx) {
      // New lanes get entities; the entities of lanes that are gone are removed.
      await ha?.reconfigure(ctx.config);
    },
  };
}

export function dashboardPart(): Part {
  return {
    name: 'dashboard',
    start(ctx) {
      ctx.mount((req, res) => serveDashboard(req, res));
    },
    stop() {},
  };
}

/** The HTTP server starts listening last, once every handler is mounted. */
export function listenPart(): Part {
  let server: import('node:http').Server | null = null;
  // Every socket, upgraded ones too: closeAllConnections() forgets a socket once it is upgraded
  // (MQTT over WebSocket at /mqtt), and close() would wait on it for ever.
  const sockets = new Set<import('node:net').Socket>();
  return {
    name: 'http',
    async start(ctx) {
      const s = ctx.server;
      s.on('connection', (sock) => {
        sockets.add(sock);
        sock.once('close', () => sockets.delete(sock));
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(ctx.config.http.port, ctx.config.http.host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      server = s;
    },
    async stop() {
      const s = server;
      server = null;
      if (!s) return;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections?.();
        for (const sock of sockets) sock.destroy();
        sockets.clear();
      });
    },
  };
}
