/**
 * The parts every central runs first: the store, the history, orders, and (when switched on) the
 * rules and the webhook worker. Order and alert events go out on the bus.
 */
import { ensurePrivateDir, topics } from '@shelfsense/protocol';
import { announce } from '../bus/bus.js';
import { HistoryService, registerHistoryMetrics } from '../history/index.js';
import { OrderService } from '../orders/orders.js';
import { PurchaseOrderService } from '../orders/purchase-orders.js';
import { RulesEngine } from '../rules/engine.js';
import { closedAtFor } from '../rules/hours.js';
import { lanesFromCentral } from '../rules/lanes.js';
import type { Part, PartContext } from '../service/part.js';
import type { CentralStore } from '../store/repositories.js';
import { WebhookWorker } from '../webhooks/worker.js';

/** A store its owner closes: SQLite's, or Postgres's behind the synchronous interface. */
export type ClosableStore = CentralStore & { close(): void };

/** Opens the store (and the data directory it lives in) for the parts after it. */
export function storePart(open: (ctx: Omit<PartContext, 'store'>) => Promise<ClosableStore>): Part {
  let store: ClosableStore | null = null;
  return {
    name: 'store',
    async start(ctx) {
      // Created 0700; an existing directory keeps its mode, reported once if others can enter it.
      await ensurePrivateDir(ctx.dataDir, ctx.log);
      store = await open(ctx);
    },
    stop() {
      store?.close();
      store = null;
    },
  };
}

export function historyPart(): Part {
  let history: HistoryService | null = null;
  return {
    name: 'history',
    async start(ctx) {
      const map = ctx.map;
      history = new HistoryService({
        config: ctx.config.history,
        store: ctx.store,
        supplierOf: (site, shelf, lane) => map.supplierOf(site, shelf, lane),
        log: ctx.log,
      });
      await history.start();
      registerHistoryMetrics(ctx.registry, history.writer);
      ctx.services.history = history;
    },
    async stop() {
      await history?.stop();
    },
  };
}

/** The longest the purchase orders' cut-off timer sleeps (it also sweeps needs left on no PO). */
const CUTOFF_POLL_MS = 30_000;

export function ordersPart(): Part {
  /** The catalogue version whose cancellations have been announced. */
  let seen = 0;
  let config: PartContext['config'] | null = null;
  let timer: NodeJS.Timeout | null = null;
  return {
    name: 'orders',
    start(ctx) {
      const { bus, services } = ctx;
      config = ctx.config;
      const orders = new OrderService(ctx.store, {
        logger: ctx.log,
        onEvent: (e) => {
          services.worker?.notify();
          announce(bus, topics.order(e.site, e.shelf, e.lane), e, ctx.log);
        },
      });
      const purchaseOrders = new PurchaseOrderService(ctx.store, orders, {
        config: () => config ?? ctx.config,
        logger: ctx.log,
        onEvent: (e) => {
          services.worker?.notify();
          // People hear of a new PO once (its revisions reach the supplier by webhook).
          if (e.state !== 'sent') return;
          services.notifier?.publish({
            kind: 'purchase-order',
            key: `po:${e.purchaseOrderId}:sent`,
            site: e.site,
            supplier: e.supplier,
            subject: `${e.urgent ? 'Urgent purchase order' : 'Purchase order'} for ${e.site}`,
            text: e.lines.map((l) => `${l.sku}: ${l.quantity}`).join('\n'),
            ts: e.ts,
            link: `/purchase-orders/${e.purchaseOrderId}`,
          });
        },
        onDiscrepancy: (d) =>
          services.notifier?.publish({
            kind: 'discrepancy',
            key: `discrepancy:${d.id}`,
            site: d.site,
            supplier: d.supplier,
            subject: `Delivery ${d.kind} at ${d.site}: ${d.sku}`,
            text: `${d.sku} on ${d.poId}: shipped ${d.expected}, counted ${d.counted} on the shelf`,
            ts: d.openedAt,
            link: `/purchase-orders/${d.poId}`,
          }),
      });
      orders.gatherer = purchaseOrders;
      services.orders = orders;
      services.purchaseOrders = purchaseOrders;
      seen = ctx.store.catalogue.version();
      // Drafts go out at their cut-off: wake then, or every CUTOFF_POLL_MS to sweep.
      const tick = () => {
        timer = null;
        const now = ctx.clock.now();
        try {
          purchaseOrders.sendDue(now);
        } catch (err) {
          ctx.log.error({ err }, 'purchase orders not sent');
        }
        if (!ctx.store.isOpen) return;
        const next = purchaseOrders.nextCutoff();
        const delay =
          next === null ? CUTOFF_POLL_MS : Math.min(Math.max(0, next - ctx.clock.now()), CUTOFF_POLL_MS);
        timer = setTimeout(tick, delay);
        timer.unref();
      };
      tick();
    },
    reconfigure(ctx) {
      config = ctx.config;
      // A catalogue change cancels orders in its own transaction, in this process or another
      // (`config apply`): announce them here, once, for every version taken up.
      const orders = ctx.services.orders;
      if (!orders) return;
      for (const c of ctx.store.catalogue.cancellationsSince(seen)) {
        seen = Math.max(seen, c.version);
        const e = orders.events(c.orderId).find((x) => x.state === 'cancelled');
        if (!e) continue;
        // A lane given to another supplier: its topic is the new supplier's now, so the old one
        // hears of the cancellation by its webhook and the API, never on a topic another reads.
        const owner = ctx.map.supplierOf(e.site, e.shelf, e.lane);
        if (owner !== undefined && owner !== e.supplier) continue;
        announce(ctx.bus, topics.order(e.site, e.shelf, e.lane), e, ctx.log);
      }
      ctx.services.worker?.notify();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

export function rulesPart(): Part {
  let rules: RulesEngine | null = null;
  return {
    name: 'rules',
    start(ctx) {
      const c = ctx.config;
      if (!ctx.services.orders) throw new Error('the rules need the orders part before them');
      rules = new RulesEngine({
        store: ctx.store,
        orders: ctx.services.orders,
        config: c.replenishment,
        lanes: lanesFromCentral(c),
        offlineAfterMs: c.timing.offlineAfterMs,
        logger: ctx.log,
        leadTime: (site, supplier) => ctx.services.purchaseOrders?.learnedLeadTime(site, supplier) ?? null,
        closedAt: closedAtFor(c),
      });
      rules.on('alert', (a) => announce(ctx.bus, topics.alert(a.site, a.shelf, a.lane), a, ctx.log));
      rules.start();
      ctx.services.rules = rules;
    },
    stop() {
      rules?.stop();
    },
    reconfigure(ctx) {
      rules?.setClosedAt(closedAtFor(ctx.config));
      rules?.reconfigure(ctx.config.replenishment, lanesFromCentral(ctx.config));
    },
  };
}

export function webhooksPart(): Part {
  let worker: WebhookWorker | null = null;
  return {
    name: 'webhooks',
    start(ctx) {
      worker = new WebhookWorker({
        store: ctx.store,
        config: ctx.config.replenishment.webhooks,
        logger: ctx.log,
      });
      worker.start();
      ctx.services.worker = worker;
    },
    async stop() {
      await worker?.stop();
    },
    reconfigure(ctx) {
      worker?.reconfigure(ctx.config.replenishment.webhooks);
    },
  };
}
