/**
 * The demo's closed loop, unattended, in process: the fast lane orders, the automatic supplier
 * acknowledges and ships through the HTTP API as the supplier's own user (the audit trail names
 * it), here always one pack short; the goods arrive on the simulated shelf item by item and the
 * shelf's weight marks the order received with what it counted. The API and the order events show
 * the short delivery as such. Without `--webhook` none of the order events can be sent: central
 * says so once per supplier at the demo's default level (warn), not once per event, and the outbox
 * metric counts the skipped deliveries. The scheduled supplier's needs go round as purchase orders:
 * sent (at once when a lane would run out before the next weekly delivery, else by the store's
 * operator, early), acknowledged and shipped by the supplier's user, every lane's share delivered
 * and counted, the PO received. Seeded simulator, free ports, every wait bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Demo } from '@shelfsense/demo';
import {
  DEMO_PACK_SIZE,
  DEMO_SITE,
  DEMO_SKUS,
  DEMO_USERS,
  type DeliveryDone,
  demoCentralConfig,
  type SupplierAct,
} from '@shelfsense/demo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDemo } from '../helpers/demo.js';
import { captureLog } from '../helpers/log-capture.js';
import { waitFor } from '../helpers/wait.js';

const WARN = 40;

/** The demo's supplier on a delivery schedule: its lane orders move with their purchase orders. */
const SCHEDULED = demoCentralConfig({
  dataDir: '.',
  httpPort: 0,
  mqttPort: 0,
  logLevel: 'warn',
}).suppliers?.find((s) => s.schedule)?.id as string;

interface ApiOrder {
  id: string;
  state: string;
  supplier: string;
  quantity: number;
  shippedQuantity: number | null;
  receivedQuantity: number | null;
}

describe('[demo loop] the automatic supplier closes an order unattended; a short delivery shows as short', () => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-loop-'));
  let demo: Demo;
  const acts: SupplierAct[] = [];
  const poActs: { purchaseOrderId: string; user: string; state: string }[] = [];
  const earlySends: { purchaseOrderId: string; user: string }[] = [];
  const delivered: DeliveryDone[] = [];
  const capture = captureLog('info');
  capture.log.level = 'warn'; // the demo's default

  beforeAll(async () => {
    demo = await startFastDemo(dir, { supplier: 'auto', shortRate: 1 }, capture.log);
    demo.supplier!.on('acted', (a) => acts.push(a));
    demo.supplier!.on('actedOnPurchaseOrder', (a) => poActs.push(a));
    demo.operator!.on('sent', (x) => earlySends.push(x));
    demo.delivery.on('delivered', (d) => delivered.push(d));
  }, 60_000);

  const firstLaneOrder = () =>
    demo.central.orders!.list({ site: DEMO_SITE }).find((o) => o.supplier !== SCHEDULED);

  afterAll(async () => {
    await demo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('[closed loop] open → acknowledged → shipped (one pack short) → received by weight, no one at the keyboard', async () => {
    const orders = demo.central.orders!;
    // The first order of a supplier that takes one order per lane.
    const first = await waitFor(() => firstLaneOrder(), 90_000, {
      intervalMs: 100,
      what: 'the first order of the demo',
    });
    const received = await waitFor(
      () => {
        const o = orders.get(first.id)!;
        return o.state === 'received' || o.state === 'closed' ? o : null;
      },
      60_000,
      { intervalMs: 100, what: `order ${first.id} to be received by weight` },
    );

    // The supplier acted, in order, as its own user; one pack short, as configured.
    const mine = acts.filter((a) => a.orderId === first.id);
    expect(mine.map((a) => a.state)).toEqual(['acknowledged', 'shipped']);
    expect(mine.every((a) => a.user === first.supplier)).toBe(true);
    expect(received.shippedQuantity).toBe(first.quantity - DEMO_PACK_SIZE);
    // The van brought exactly what was shipped, item by item onto the ordered lane.
    const van = delivered.find((d) => d.orderId === first.id);
    expect(van?.items).toBe(received.shippedQuantity);
    // The shelf counted what arrived; a customer picking mid-delivery may take one or two.
    expect(received.receivedQuantity).toBeGreaterThan(0);
    expect(Math.abs(received.receivedQuantity! - received.shippedQuantity!)).toBeLessThanOrEqual(2);

    // The audit trail: the supplier's authenticated user made the supplier's transitions, and
    // nobody (the shelf, through the rules) made the receipt.
    const rows = demo.central
      .store!.db.prepare('SELECT state, actor FROM order_events WHERE order_id = ? ORDER BY rowid')
      .all(first.id) as { state: string; actor: string | null }[];
    const actors = Object.fromEntries(rows.map((r) => [r.state, r.actor ? JSON.parse(r.actor) : null]));
    expect(rows.map((r) => r.state).slice(0, 4)).toEqual(['open', 'acknowledged', 'shipped', 'received']);
    expect(actors['acknowledged']).toEqual({ user: first.supplier, role: 'supplier' });
    expect(actors['shipped']).toEqual({ user: first.supplier, role: 'supplier' });
    expect(actors['received']).toBeNull();
  }, 160_000);

  it('[short delivery] the API shows the order received short of what was ordered', async () => {
    const first = firstLaneOrder()!;
    const user = DEMO_USERS.find((u) => u.name === first.supplier)!;
    const base = demo.urls.dashboard;
    const login = await fetch(new URL('/api/login', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: user.name, password: user.password }),
    });
    const { token } = (await login.json()) as { token: string };
    const r = await fetch(new URL(`/api/orders/${first.id}`, base), {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(r.status).toBe(200);
    const o = (await r.json()) as ApiOrder;
    expect(['received', 'closed']).toContain(o.state);
    expect(o.shippedQuantity).toBe(o.quantity - DEMO_PACK_SIZE);
    expect(o.receivedQuantity).toBeLessThan(o.quantity);
  });

  it('[once per supplier] an order taken from open to received warns once, naming --webhook', async () => {
    const orders = demo.central.orders!;
    // The first order, received by weight in the first test.
    const first = firstLaneOrder()!;
    // Every event of that order has been through the webhook worker (skipped, as nobody listens).
    const outbox = orders.outbox;
    const skipped = await waitFor(
      () => {
        const mine = outbox.list({ orderId: first.id });
        return mine.length >= 4 && mine.every((e) => e.state === 'skipped') ? mine : null;
      },
      10_000,
      { intervalMs: 50, what: `the events of ${first.id} to be skipped` },
    );
    expect(skipped.length).toBeGreaterThanOrEqual(4);

    const warnings = capture.entries.filter((e) => e.level === WARN && /no webhook/.test(e.msg));
    const bySupplier = new Map<string, number>();
    for (const w of warnings) {
      const s = (w as { supplier?: string }).supplier ?? '?';
      bySupplier.set(s, (bySupplier.get(s) ?? 0) + 1);
    }
    expect(bySupplier.get(first.supplier)).toBe(1);
    expect([...bySupplier.values()].every((n) => n === 1)).toBe(true);
    expect(warnings[0]?.msg).toMatch(/--webhook URL/);
    expect(warnings[0]?.msg).toMatch(/replenishment\.webhooks\.suppliers/);

    // The skipped deliveries are counted where operators look.
    const metrics = await (await fetch(new URL('/metrics', demo.urls.dashboard))).text();
    const line = metrics
      .split('\n')
      .find((l) => l.startsWith('shelfsense_central_webhook_outbox{state="skipped"}'));
    expect(Number(line?.split(' ').pop())).toBeGreaterThanOrEqual(skipped.length);
  }, 160_000);

  it('[purchase order] sent → acknowledged → shipped by the supplier → every lane delivered → received by weight', async () => {
    const store = demo.central.store!;
    const po = await waitFor(
      () =>
        store.purchaseOrders
          .list({ supplier: SCHEDULED })
          .find((p) => p.state === 'received' || p.state === 'closed'),
      150_000,
      { intervalMs: 200, what: `${SCHEDULED}'s first purchase order to be received by weight` },
    );
    // The supplier's own user acknowledged and shipped it, in that order; it never acted on one
    // of crunchy's lane orders by itself (they move with their PO).
    expect(poActs.filter((a) => a.purchaseOrderId === po.id).map((a) => [a.state, a.user])).toEqual([
      ['acknowledged', SCHEDULED],
      ['shipped', SCHEDULED],
    ]);
    expect(acts.some((a) => a.user === SCHEDULED)).toBe(false);

    // One event (and webhook body) per version, from sent to received.
    const events = (
      store.db
        .prepare('SELECT state, actor, body FROM po_events WHERE po_id = ? ORDER BY rowid')
        .all(po.id) as {
        state: string;
        actor: string | null;
        body: string;
      }[]
    ).map((e) => ({ ...e, actor: e.actor ? JSON.parse(e.actor) : null, body: JSON.parse(e.body) }));
    expect(events.map((e) => e.state).slice(0, 4)).toEqual(['sent', 'acknowledged', 'shipped', 'received']);
    const keys = events.map((e) => e.body.idempotencyKey as string);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.every((k, i) => k === `${po.id}:v${events[i]!.body.version}`)).toBe(true);
    expect(events[1]!.actor).toEqual({ user: SCHEDULED, role: 'supplier' });
    expect(events[2]!.actor).toEqual({ user: SCHEDULED, role: 'supplier' });
    expect(events[3]!.actor).toBeNull();
    // Sent at once because a lane would run out before the next weekly delivery, or early by the
    // store's operator: either way not by the supplier.
    const sent = events[0]!;
    if (sent.actor) {
      expect(sent.actor).toEqual({ user: 'store', role: 'operator' });
      expect(earlySends.map((x) => x.purchaseOrderId)).toContain(po.id);
    } else expect(sent.body.urgent).toBe(true);

    // Every lane of the PO got its share from the van, and the shelf counted it.
    const needs = store.purchaseOrders.needs(po.id);
    expect(needs.length).toBeGreaterThan(0);
    for (const n of needs) {
      const van = delivered.find((d) => d.orderId === n.orderId);
      expect(van?.purchaseOrderId).toBe(po.id);
      expect(van?.items).toBe(n.shippedQuantity);
      expect(n.receivedQuantity).toBeGreaterThan(0);
      // A customer picking while the goods were shelved may take one or two.
      expect(Math.abs(n.receivedQuantity! - n.shippedQuantity!)).toBeLessThanOrEqual(2);
    }
    expect(store.purchaseOrders.lines(po.id).every((l) => l.receivedQuantity !== null)).toBe(true);
  }, 180_000);

  it('[early send] a line the store adds by hand waits on the draft until the operator sends it early', async () => {
    const store = demo.central.store!;
    const user = DEMO_USERS.find((u) => u.name === 'store')!;
    const base = demo.urls.dashboard;
    const login = await fetch(new URL('/api/login', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: user.name, password: user.password }),
    });
    const { token } = (await login.json()) as { token: string };
    const sku = DEMO_SKUS.find((x) => x.supplier === SCHEDULED)!.id;
    // A lane need joining the draft meanwhile is urgent and sends it at once (not early): try again.
    let early: string | null = null;
    for (let attempt = 0; attempt < 3 && !early; attempt++) {
      const r = await fetch(new URL('/api/purchase-orders/manual-lines', base), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ site: DEMO_SITE, supplier: SCHEDULED, sku, quantity: 4, reason: 'demo test' }),
      });
      expect(r.status).toBe(200);
      const draft = (await r.json()) as { id: string; state: string };
      expect(draft.state).toBe('draft');
      const sent = await waitFor(
        () => {
          const p = store.purchaseOrders.get(draft.id);
          return p && p.state !== 'draft' ? p : null;
        },
        30_000,
        { intervalMs: 100, what: `draft ${draft.id} to be sent` },
      );
      const row = store.db
        .prepare("SELECT actor FROM po_events WHERE po_id = ? AND state = 'sent'")
        .get(sent.id) as { actor: string | null };
      if (row.actor) {
        expect(JSON.parse(row.actor)).toEqual({ user: 'store', role: 'operator' });
        early = sent.id;
      }
    }
    expect(early, 'a draft sent early by the operator').not.toBeNull();
    expect(earlySends.map((x) => x.purchaseOrderId)).toContain(early);
    // The supplier takes it from there, as any PO.
    await waitFor(() => poActs.some((a) => a.purchaseOrderId === early && a.state === 'shipped'), 30_000, {
      intervalMs: 100,
      what: `the supplier to ship ${early}`,
    });
  }, 120_000);
});
