/**
 * Purchase orders in Chromium against the REAL central side (Central with its HTTP API, MQTT over
 * WebSocket, orders, purchase orders and SQLite; a real agent; a simulated shelf). Proves, each
 * step in the page and then through the API: an admin gives the supplier a delivery schedule in
 * the Suppliers tab; a store operator orders by hand (offered only that supplier's SKUs) and sends
 * the draft now; the supplier sees the sent PO and proposes another quantity; the operator accepts
 * it; the supplier acknowledges and ships one line short; the CSV and the printable page carry the
 * PO; no console errors. One browser, one role at a time: each login reads the PO afresh, so no
 * step waits on a poll.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserPage,
  buildDashboard,
  DESKTOP,
  launchBrowser,
  loginAt,
  PHONE,
  screenshot,
  widths,
} from './browser.js';
import { SITE, startSettledWorld, type World } from './real-world.js';

const LANES = [
  { sku: 'cola-330', name: 'Cola 0.33 l', unitWeightG: 352, items: 12, capacity: 24 },
  { sku: 'water-500', name: 'Still water 0.5 l', unitWeightG: 521, items: 12, capacity: 18 },
];
/** Another supplier's SKU: the manual line's SKU list must not offer it for acme. */
const OTHER_SKU = { id: 'chips-crunchy', name: 'Crunchy chips', unitWeightG: 160, supplier: 'crunchy' };
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const DAY_NAMES = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};

/** What the printable page's checks read inside Chromium (the test program has no DOM types). */
interface PrintWin {
  document: { adoptedStyleSheets: unknown[] };
  getComputedStyle(e: unknown): { borderCollapse: string };
}

interface Po {
  id: string;
  state: string;
  lines: {
    sku: string;
    quantity: number;
    manualQuantity: number;
    shippedQuantity: number | null;
    proposal: { quantity: number; note: string | null; by: string } | null;
  }[];
}

describe('[real central] purchase orders: schedule, manual lines, proposal, acknowledge and ship', () => {
  let w: World;
  let admin: string;
  let b: BrowserPage;
  let poId = '';
  // The cut-off two days from now (UTC): never reached while the test runs, so the draft waits.
  const now = new Date();
  const cutoffDay = DAYS[(now.getUTCDay() + 2) % 7]!;
  const deliveryDay = DAYS[(now.getUTCDay() + 4) % 7]!;

  const api = async <T>(token: string, method: string, path: string, body?: unknown): Promise<T> => {
    const r = await w.api(path, token, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await r.json()) as T;
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
  const getPo = async (user = 'store') => api<Po>(await w.login(user), 'GET', `/api/purchase-orders/${poId}`);
  const line = (po: Po, sku: string) => po.lines.find((l) => l.sku === sku)!;

  /** Logs in and opens the Purchase orders page from the header. */
  const openPurchaseOrders = async (page: Page, user: string, password: string, home: string) => {
    await loginAt(page, w.url, user, password, home);
    await page
      .getByRole('navigation', { name: 'Views' })
      .getByRole('link', { name: 'Purchase orders' })
      .click();
    await page.getByRole('heading', { level: 1, name: 'Purchase orders' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/purchase-orders');
  };
  const item = (page: Page) =>
    page
      .getByRole('list', { name: 'Purchase orders' })
      .getByRole('listitem', { name: `Purchase order ${poId}: acme to ${SITE}` });
  const logout = (page: Page) => page.getByRole('button', { name: 'Log out' }).click();

  beforeAll(async () => {
    buildDashboard();
    ({ world: w, admin } = await startSettledWorld({
      seed: 71,
      shelf: 'shelf-a',
      serial: 'REAL-PO',
      lanes: LANES,
    }));
    await api(admin, 'PUT', '/api/catalogue/suppliers/crunchy', { name: 'Crunchy Snacks' });
    await api(admin, 'PUT', `/api/catalogue/skus/${OTHER_SKU.id}`, {
      name: OTHER_SKU.name,
      unitWeightG: OTHER_SKU.unitWeightG,
      supplier: OTHER_SKU.supplier,
    });
    b = await launchBrowser(DESKTOP);
  }, 90_000);

  afterAll(async () => {
    await b?.context.close().catch(() => {});
    await b?.browser.close().catch(() => {});
    await w?.stop();
  });

  it('[schedule] an admin gives acme a delivery schedule in the Suppliers tab; name and contacts stay', async () => {
    const { page } = b;
    await loginAt(page, w.url, 'admin', 'admin-password-1', 'Fill levels & orders');
    await page
      .getByRole('navigation', { name: 'Views' })
      .getByRole('link', { name: 'Catalogue & users' })
      .click();
    await page.getByRole('tab', { name: 'Suppliers' }).click();
    const acme = page.getByRole('region', { name: 'ACME Beverages (acme)' });
    await acme.getByText(/^No schedule: each lane's need is ordered at once/).waitFor();
    await acme.getByRole('button', { name: 'Add a delivery schedule' }).click();
    const form = page.getByRole('form', { name: 'Delivery schedule of acme' });
    await form.getByLabel('Time zone', { exact: true }).fill('UTC');
    await form.getByLabel('Cycle 1 cut-off day').selectOption(cutoffDay);
    await form.getByLabel('Cycle 1 cut-off time').fill('12:00');
    await form.getByLabel('Cycle 1 delivery day').selectOption(deliveryDay);
    await form.getByLabel('Cycle 1 delivery time').fill('07:30');
    await form.getByRole('button', { name: 'Save schedule' }).click();
    await acme
      .getByRole('list', { name: 'Delivery cycles of acme' })
      .getByText(`Cut-off ${DAY_NAMES[cutoffDay]} 12:00, delivery ${DAY_NAMES[deliveryDay]} 07:30`)
      .waitFor();
    const cat = await api<{ suppliers: { id: string; name: string | null; schedule: unknown }[] }>(
      admin,
      'GET',
      '/api/catalogue',
    );
    expect(cat.suppliers.find((s) => s.id === 'acme')).toMatchObject({
      name: 'ACME Beverages',
      schedule: {
        timezone: 'UTC',
        cycles: [{ cutoff: { day: cutoffDay, at: '12:00' }, delivery: { day: deliveryDay, at: '07:30' } }],
      },
    });
    await logout(page);
  });

  it("[manual lines] the operator orders by hand from the supplier's SKUs only, then sends the draft now", async () => {
    const { page } = b;
    await openPurchaseOrders(page, 'store', 'store-password-1', 'Store operations');
    const form = page.getByRole('form', { name: 'Order by hand' });
    const skuChoices = () =>
      form
        .getByLabel('SKU', { exact: true })
        .locator('option')
        .evaluateAll((os) => os.map((o) => o.getAttribute('value')));
    await form.getByLabel('Supplier').selectOption('crunchy');
    expect(await skuChoices()).toEqual([OTHER_SKU.id]);
    await form.getByLabel('Supplier').selectOption('acme');
    expect(await skuChoices()).toEqual(['cola-330', 'water-500']);

    const add = async (sku: string, quantity: number, reason: string) => {
      await form.getByLabel('SKU', { exact: true }).selectOption(sku);
      await form.getByLabel('Quantity').fill(String(quantity));
      await form.getByLabel('Reason').fill(reason);
      await form.getByRole('button', { name: 'Add to purchase order' }).click();
      const done = form.getByRole('status').filter({ hasText: `Added ${quantity} × ${sku} to ` });
      await done.waitFor();
      return /to (\S+) \(draft\)/.exec((await done.textContent()) ?? '')?.[1] ?? '';
    };
    poId = await add('cola-330', 6, 'Weekend promotion');
    expect(await add('water-500', 4, 'Display stand')).toBe(poId);

    const draft = await getPo();
    expect(draft.state).toBe('draft');
    expect(line(draft, 'cola-330')).toMatchObject({ quantity: 6, manualQuantity: 6 });
    expect(line(draft, 'water-500')).toMatchObject({ quantity: 4, manualQuantity: 4 });

    const po = item(page);
    await po.getByText('Purchase order state: Draft').waitFor();
    await po.getByRole('button', { name: 'Send now' }).click();
    await po.getByText('Purchase order state: Sent').waitFor();
    expect((await getPo()).state).toBe('sent');
    await logout(page);
  });

  it('[proposal] the supplier sees the sent PO and proposes another quantity for a line', async () => {
    const { page } = b;
    await openPurchaseOrders(page, 'acme', 'acme-password-1', 'Fill levels & orders');
    const po = item(page);
    await po.getByText('Purchase order state: Sent').waitFor();
    await po.getByRole('button', { name: 'Show details' }).click();
    const lines = po.getByRole('table', { name: `Lines of ${poId}` });
    await lines.getByRole('row', { name: /^cola-330 Cola 0\.33 l 6 6/ }).waitFor();
    await po.getByRole('button', { name: 'Propose a quantity for cola-330' }).click();
    const form = po.getByRole('form', { name: 'Propose a quantity for cola-330' });
    await form.getByLabel('Proposed quantity of cola-330').fill('8');
    await form.getByLabel('Note to the store').fill('Sold in packs of 8');
    await form.getByRole('button', { name: 'Send proposal' }).click();
    await po
      .getByRole('region', { name: 'Proposal for cola-330' })
      .getByText('acme proposes 8 instead of 6')
      .waitFor();
    expect(line(await getPo(), 'cola-330').proposal).toMatchObject({
      quantity: 8,
      note: 'Sold in packs of 8',
      by: 'acme',
    });
    // The forecast panel answers either way: a table, or that this central has none yet.
    await page
      .getByRole('region', { name: 'Stock and sales forecast' })
      .getByText(/does not offer forecasts yet|Per SKU and store|No stock to forecast/)
      .waitFor();
    await logout(page);
  });

  it('[accept] the operator accepts the proposal: the line takes the quantity', async () => {
    const { page } = b;
    await openPurchaseOrders(page, 'store', 'store-password-1', 'Store operations');
    const po = item(page);
    await po.getByRole('button', { name: 'Show details' }).click();
    const proposal = po.getByRole('region', { name: 'Proposal for cola-330' });
    await proposal.getByRole('button', { name: 'Accept 8' }).click();
    await proposal.waitFor({ state: 'detached' });
    await po
      .getByRole('table', { name: `Lines of ${poId}` })
      .getByRole('row', { name: /^cola-330 Cola 0\.33 l 8 / })
      .waitFor();
    const after = await getPo();
    expect(line(after, 'cola-330')).toMatchObject({ quantity: 8, proposal: null });
    expect(after.state).toBe('sent');
    await logout(page);
  });

  it('[acknowledge and ship] the supplier acknowledges, then ships one line short; CSV and Print carry the PO', async () => {
    const { page, context } = b;
    await openPurchaseOrders(page, 'acme', 'acme-password-1', 'Fill levels & orders');
    const po = item(page);
    await po.getByRole('button', { name: 'Show details' }).click();
    await po.getByRole('button', { name: 'Acknowledge', exact: true }).click();
    await po.getByText('Purchase order state: Acknowledged').waitFor();
    expect((await getPo()).state).toBe('acknowledged');

    await po.getByRole('button', { name: 'Ship', exact: true }).click();
    const ship = po.getByRole('form', { name: `Ship ${poId}` });
    expect(await ship.getByLabel('Quantity shipped of cola-330').inputValue()).toBe('8');
    await ship.getByLabel('Quantity shipped of water-500').fill('3');
    await ship.getByRole('button', { name: 'Confirm shipment' }).click();
    await po.getByText('Purchase order state: Shipped').waitFor();
    const shipped = await getPo();
    expect(shipped.state).toBe('shipped');
    expect(line(shipped, 'cola-330').shippedQuantity).toBe(8);
    expect(line(shipped, 'water-500').shippedQuantity).toBe(3);
    await screenshot(page, 'purchase-orders');

    const download = page.waitForEvent('download');
    await po.getByRole('button', { name: 'Download CSV' }).click();
    const csv = readFileSync((await (await download).path()) as string, 'utf8').split('\r\n');
    expect(csv[0]).toMatch(
      /^purchase_order,state,site,supplier,sku,sku_name,quantity,manual_quantity,shipped_quantity/,
    );
    expect(csv.filter((r) => r.startsWith(`${poId},shipped,${SITE},acme,`))).toHaveLength(2);

    const tab = context.waitForEvent('page');
    await po.getByRole('button', { name: 'Print' }).click();
    const printable = await tab;
    const refused: string[] = [];
    printable.on('console', (m) => refused.push(m.text()));
    await printable.waitForURL(/^blob:/);
    await printable.getByRole('heading', { level: 1, name: `Purchase order ${poId}` }).waitFor();
    // The page's own style applies although it opens under the dashboard's CSP, and nothing is refused.
    await printable.waitForFunction(
      () => (globalThis as unknown as PrintWin).document.adoptedStyleSheets.length > 0,
    );
    const collapse = await printable
      .locator('table')
      .first()
      .evaluate((e) => (globalThis as unknown as PrintWin).getComputedStyle(e).borderCollapse);
    expect(collapse).toBe('collapse');
    expect(refused).toEqual([]);
    await printable.close();
  });

  it('[phone] at 390 px the purchase orders page, a PO opened, does not scroll sideways', async () => {
    const { page } = b;
    await page.setViewportSize(PHONE);
    await item(page)
      .getByRole('table', { name: `Lines of ${poId}` })
      .waitFor();
    const s = await widths(page);
    expect(s.scrollWidth).toBeLessThanOrEqual(s.clientWidth);
    await page.setViewportSize(DESKTOP);
  });

  it('[no CDN, strict CSP] the page ran without console errors or exceptions', () => {
    expect(b.errors).toEqual([]);
  });
});
