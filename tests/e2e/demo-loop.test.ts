/**
 * The demo's closed loop, unattended, in process: the fast lane orders, the automatic supplier
 * acknowledges and ships through the HTTP API as the supplier's own user (the audit trail names
 * it), here always one pack short; the goods arrive on the simulated shelf item by item and the
 * shelf's weight marks the order received with what it counted. The API and the order events show
 * the short delivery as such. Without `--webhook` none of the order events can be sent: central
 * says so once per supplier at the demo's default level (warn), not once per event, and the outbox
 * metric counts the skipped deliveries. Seeded simulator, free ports, every wait bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Demo } from '@shelfsense/demo';
import {
  DEMO_PACK_SIZE,
  DEMO_SITE,
  DEMO_USERS,
  type DeliveryDone,
  type SupplierAct,
} from '@shelfsense/demo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDemo } from '../helpers/demo.js';
import { captureLog } from '../helpers/log-capture.js';
import { waitFor } from '../helpers/wait.js';

const WARN = 40;

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
  const delivered: DeliveryDone[] = [];
  const capture = captureLog('info');
  capture.log.level = 'warn'; // the demo's default

  beforeAll(async () => {
    demo = await startFastDemo(dir, { supplier: 'auto', shortRate: 1 }, capture.log);
    demo.supplier!.on('acted', (a) => acts.push(a));
    demo.delivery.on('delivered', (d) => delivered.push(d));
  }, 60_000);

  afterAll(async () => {
    await demo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('[closed loop] open → acknowledged → shipped (one pack short) → received by weight, no one at the keyboard', async () => {
    const orders = demo.central.orders!;
    const first = await waitFor(() => orders.list({ site: DEMO_SITE })[0], 90_000, {
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
    const first = demo.central.orders!.list({ site: DEMO_SITE })[0]!;
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
    const first = orders.list({ site: DEMO_SITE })[0]!;
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
});
