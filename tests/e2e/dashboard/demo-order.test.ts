/**
 * One order of `shelfsense demo` followed in Chromium from Open to Received, with the supplier at
 * the keyboard (manual-supplier mode): the supplier logs in, sees the fast lane's order open,
 * acknowledges it, ships it one pack short, watches the goods arrive on the shelf, and sees the
 * shelf confirm the delivery by weight — the order Received, marked as a short delivery. The demo
 * runs in process (seeded simulator, free ports, short delivery delays); every wait is bounded.
 * Writes docs/screenshots/order-{open,acknowledged,shipped,received}.png.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Demo } from '@shelfsense/demo';
import {
  DEMO_PACK_SIZE,
  DEMO_SHELVES,
  DEMO_SITE,
  DEMO_SKUS,
  type DeliveryDone,
  demoSimLane,
} from '@shelfsense/demo/testing';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDemo } from '../../helpers/demo.js';
import { waitFor } from '../../helpers/wait.js';
import { type BrowserPage, buildDashboard, DESKTOP, launchBrowser, loginAt, SCREENSHOTS } from './browser.js';

/** The shelf needs the agent to settle and the receipt's move window (5 s) to pass. */
const RECEIPT_TIMEOUT_MS = 45_000;

async function shoot(card: Locator, state: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await card.screenshot({ path: join(SCREENSHOTS, `order-${state}.png`) });
}

describe('[demo, in Chromium] a supplier follows one order from Open to Received by weight', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dash-demo-order-'));
  let demo: Demo;
  let b: BrowserPage;
  const delivered: DeliveryDone[] = [];

  beforeAll(async () => {
    // The central side serves dashboard/dist/public; build it (atomically) so it is current.
    buildDashboard();
    demo = await startFastDemo(dir, { supplier: 'manual', deliveryDelayMs: 1_000 });
    demo.delivery.on('delivered', (d) => delivered.push(d));
    b = await launchBrowser(DESKTOP);
  }, 90_000);

  afterAll(async () => {
    await b?.context.close().catch(() => {});
    await b?.browser.close().catch(() => {});
    await demo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('[open → acknowledged → shipped → received] the shelf closes the loop the supplier started', async () => {
    const { page } = b;
    await loginAt(page, demo.urls.dashboard, 'acme', 'demo-acme', 'Fill levels & orders');
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();

    // The fast-selling lane orders within a minute; nobody acts on it but the supplier here.
    const order = await waitFor(() => demo.central.orders!.list({ supplier: 'acme' })[0], 90_000, {
      intervalMs: 100,
      what: "acme's first order",
    });
    const card = page
      .getByRole('list', { name: 'Orders' })
      .getByRole('listitem', { name: new RegExp(`^Order ${order.id}:`) });
    await card.getByText('Order state: Open').waitFor({ timeout: 15_000 });
    await shoot(card, 'open');

    await card.getByRole('button', { name: 'Acknowledge' }).click();
    await card.getByText('Order state: Acknowledged').waitFor();
    await shoot(card, 'acknowledged');

    // One pack short: the supplier has no more, and says so in the quantity shipped.
    const shipped = order.quantity - DEMO_PACK_SIZE;
    await card.getByLabel('Quantity shipped').fill(String(shipped));
    await card.getByRole('button', { name: 'Ship' }).click();
    await card.getByText('Order state: Shipped').waitFor();
    await card.getByText(`Short shipment: ${DEMO_PACK_SIZE} short of the order`).waitFor();
    await shoot(card, 'shipped');

    // The goods arrive on the ordered lane, item by item, and the lane's count shows them.
    const van = await waitFor(() => delivered.find((d) => d.orderId === order.id), 20_000, {
      intervalMs: 50,
      what: `the goods of order ${order.id} on the shelf`,
    });
    expect(van).toEqual({ orderId: order.id, ...demoSimLane(order.shelf, order.lane), items: shipped });
    const shelf = DEMO_SHELVES.find((s) => s.id === order.shelf)!;
    const capacity = shelf.lanes[van.lane]!.capacity;
    const skuName = DEMO_SKUS.find((s) => s.id === order.sku)!.name;
    const units = page
      .getByRole('list', { name: 'Your lanes' })
      .getByRole('listitem', {
        name: `${skuName} at ${DEMO_SITE} · ${order.shelf} · ${order.lane}`,
        exact: true,
      })
      .locator('dd.units');
    // Before the delivery the lane held at most its reorder point (4); a pick meanwhile may take one or two.
    await waitFor(
      async () => {
        const m = /^(\d+) of \d+ items$/.exec((await units.textContent()) ?? '');
        return m && Number(m[1]) >= shipped - 2;
      },
      15_000,
      { intervalMs: 100, what: `the lane to show the ${shipped} items delivered` },
    );
    expect(await units.textContent()).toMatch(new RegExp(` of ${capacity} items$`));

    // The weight confirms the delivery: Received, with what the shelf counted — short of the order.
    await card.getByText('Order state: Received').waitFor({ timeout: RECEIPT_TIMEOUT_MS });
    await card.getByText(/^Short delivery: \d+ items received, \d+ short of the order/).waitFor();
    await shoot(card, 'received');
    const o = demo.central.orders!.get(order.id)!;
    expect(o.shippedQuantity).toBe(shipped);
    expect(o.receivedQuantity).toBeGreaterThan(0);
    expect(Math.abs(o.receivedQuantity! - shipped)).toBeLessThanOrEqual(2);
  }, 200_000);

  it('[no console errors] the page ran without console errors or exceptions', () => {
    expect(b.errors).toEqual([]);
  });
});
