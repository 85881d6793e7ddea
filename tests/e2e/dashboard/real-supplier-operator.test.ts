/**
 * The supplier's and the operator's dashboard in Chromium against the REAL central side (Central
 * with its HTTP API, MQTT over WebSocket, rules, orders and SQLite; a real agent; a simulated shelf
 * driven through its control API). Proves: every lane status reached by the shelf itself and shown
 * in its own colour; the supplier acknowledges and ships an order in the page and the API agrees;
 * the CSV export equals the API's history for the same range; the operator acknowledges an alert
 * in the page and the API agrees; no sideways scrolling at 390 px; no console errors.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/wait.js';
import {
  type BrowserPage,
  buildDashboard,
  DESKTOP,
  launchBrowser,
  loginAt,
  PHONE,
  screenshot,
  type Win,
  widths,
} from './browser.js';
import { type ApiLane, SITE, startSettledWorld, type World } from './real-world.js';

const SHELF = 'shelf-a';
const LABELS = {
  ok: 'OK',
  'below-reorder': 'Below reorder point',
  ordered: 'Ordered',
  'stock-out': 'Stock-out',
  'sensor-fault': 'Sensor fault',
  offline: 'Offline',
} as const;

/** One lane per status; lane i rests on channel i. Reorder point 4 everywhere. */
const LANES = [
  { sku: 'cola-330', name: 'Cola 0.33 l', unitWeightG: 352, items: 12, capacity: 24 },
  // Held below the reorder point by a debounce longer than the test.
  {
    sku: 'water-500',
    name: 'Still water 0.5 l',
    unitWeightG: 521,
    items: 10,
    capacity: 18,
    policy: { debounceMs: 600_000 },
  },
  { sku: 'chips-salt', name: 'Salted chips 150 g', unitWeightG: 168, items: 10, capacity: 20 },
  { sku: 'nuts-mix', name: 'Nut mix 200 g', unitWeightG: 214, items: 6, capacity: 20 },
  { sku: 'juice-1l', name: 'Orange juice 1 l', unitWeightG: 1080, items: 5, capacity: 8 },
];

const badgeColour = (page: Page, laneName: string) =>
  page
    .getByRole('listitem', { name: laneName, exact: true })
    .locator('.badge')
    .evaluate((e) => (globalThis as unknown as Win).getComputedStyle(e).backgroundColor);

/** Parses RFC 4180 CSV without quoted fields (none of these values holds a comma or quote). */
function csvRows(text: string): string[][] {
  return text
    .split('\r\n')
    .filter((l) => l !== '')
    .map((l) => l.split(','));
}

describe('[real central] supplier and operator views on simulated shelves', () => {
  let w: World;
  let b: BrowserPage;
  let admin: string;
  const name = (i: number) => `${LANES[i]!.name} at ${SITE} · ${SHELF} · L${i + 1}`;
  const colours = new Map<string, string>();

  beforeAll(async () => {
    buildDashboard();
    ({ world: w, admin } = await startSettledWorld({
      seed: 31,
      shelf: SHELF,
      serial: 'REAL-A',
      lanes: LANES,
    }));
    b = await launchBrowser(DESKTOP);
  }, 60_000);

  afterAll(async () => {
    await b?.context.close().catch(() => {});
    await b?.browser.close().catch(() => {});
    await w?.stop();
  });

  it('[status colours] the shelf drives lanes to ok, below reorder, ordered, stock-out and sensor fault', async () => {
    const { page } = b;
    await loginAt(page, w.url, 'acme', 'acme-password-1', 'Fill levels & orders');
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await w.control({ action: 'remove', lane: 1, count: 7 }); // 10 → 3, long debounce: no order yet
    await w.control({ action: 'remove', lane: 2, count: 7 }); // 10 → 3, orders after 1 s
    await w.control({ action: 'remove', lane: 3, count: 6 }); // 6 → 0
    await w.control({ action: 'unplug', channel: 4 });
    const want: (keyof typeof LABELS)[] = ['ok', 'below-reorder', 'ordered', 'stock-out', 'sensor-fault'];
    for (const [i, status] of want.entries()) {
      await w.waitLane(`L${i + 1}`, admin, status, (l: ApiLane) => l.status === status);
      const item = page.getByRole('listitem', { name: name(i), exact: true });
      await item.getByText(`Status: ${LABELS[status]}`, { exact: true }).waitFor({ timeout: 15_000 });
      colours.set(status, await badgeColour(page, name(i)));
    }
    expect(new Set(colours.values()).size).toBe(want.length);
    // The counts on screen are the shelf's: the stock-out lane shows 0 items.
    await page
      .getByRole('listitem', { name: name(3), exact: true })
      .getByText('0 of 20 items')
      .waitFor();
    await screenshot(page, 'supplier');
  });

  it('[orders] the supplier acknowledges and ships an order in the page; the API shows each state', async () => {
    const { page } = b;
    const lane = await w.lane('L3', admin);
    const id = lane.openOrder!.id;
    expect(lane.openOrder!.state).toBe('open');
    const order = page
      .getByRole('list', { name: 'Orders' })
      .getByRole('listitem', { name: new RegExp(`^Order ${id}:`) });
    await order.getByRole('button', { name: 'Acknowledge' }).click();
    await order.getByText('Order state: Acknowledged').waitFor();
    const acme = await w.login('acme');
    const get = async () =>
      (await (await w.api(`/api/orders/${id}`, acme)).json()) as Record<string, unknown>;
    expect(await get()).toMatchObject({ id, state: 'acknowledged', lane: 'L3' });
    const quantity = (await get()).quantity as number;
    await order.getByLabel('Quantity shipped').fill(String(quantity - 2));
    await order.getByRole('button', { name: 'Ship' }).click();
    await order.getByText('Order state: Shipped').waitFor();
    expect(await get()).toMatchObject({ id, state: 'shipped', shippedQuantity: quantity - 2 });
    // The lane stays "Ordered" while the order is shipped.
    await page
      .getByRole('listitem', { name: name(2), exact: true })
      .getByText('Status: Ordered')
      .waitFor();
  });

  it('[CSV] the export the page downloads equals the API history for the same range', async () => {
    const { page } = b;
    const request = page.waitForRequest(/\/api\/export\.csv\?/);
    const download = page.waitForEvent('download');
    await page.getByLabel('Period').selectOption('1');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    const q = new URL((await request).url()).searchParams;
    const text = readFileSync((await (await download).path()) as string, 'utf8');
    const rows = csvRows(text);
    expect(rows[0]).toEqual(['ts', 'iso', 'site', 'shelf', 'lane', 'sku', 'units', 'grams', 'state']);
    const acme = await w.login('acme');
    const expected: string[][] = [];
    for (const [i, l] of LANES.entries()) {
      const r = await w.api(
        `/api/lanes/${SITE}/${SHELF}/L${i + 1}/history?from=${q.get('from')}&to=${q.get('to')}`,
        acme,
      );
      const h = (await r.json()) as { levels: { ts: number; units: number; grams: number; state: string }[] };
      for (const v of h.levels) {
        expected.push([
          String(v.ts),
          new Date(v.ts).toISOString(),
          SITE,
          SHELF,
          `L${i + 1}`,
          l.sku,
          String(v.units),
          String(v.grams),
          v.state,
        ]);
      }
    }
    expect(expected.length).toBeGreaterThan(LANES.length); // first levels and every change since
    const body = rows.slice(1);
    expect(body.map((r) => r.slice(0, 7).concat(r[8]!))).toEqual(
      expected.map((r) => r.slice(0, 7).concat(r[8]!)),
    );
    for (const [k, r] of body.entries()) expect(Number(r[7])).toBeCloseTo(Number(expected[k]![7]), 1);
  });

  it('[phone] at 390 px the supplier view does not scroll sideways', async () => {
    const { page } = b;
    await page.setViewportSize(PHONE);
    await page.getByRole('list', { name: 'Your lanes' }).getByRole('listitem').first().waitFor();
    const s = await widths(page);
    expect(s.scrollWidth).toBeLessThanOrEqual(s.clientWidth);
    await page.setViewportSize(DESKTOP);
    await page.getByRole('button', { name: 'Log out' }).click();
  });

  it('[alerts] the operator acknowledges an alert in the page; the API shows it acknowledged', async () => {
    const { page } = b;
    await loginAt(page, w.url, 'store', 'store-password-1', 'Store operations');
    const store = await w.login('store');
    const open = await waitFor(
      async () => {
        const all = (await (await w.api('/api/alerts', store)).json()) as {
          id: string;
          kind: string;
          lane: string;
          state: string;
        }[];
        return all.find((a) => a.kind === 'stock-out' && a.lane === 'L4' && a.state === 'open');
      },
      15_000,
      { intervalMs: 100, what: 'the stock-out alert of L4' },
    );
    const alert = page
      .getByRole('list', { name: 'Alerts' })
      .getByRole('listitem', { name: `Stock-out alert at ${SITE} · ${SHELF} · L4` });
    await alert.getByRole('button', { name: 'Acknowledge' }).click();
    await alert.getByText('Alert state: Acknowledged').waitFor();
    await alert.getByText(/acknowledged by store/).waitFor();
    const after = (await (await w.api('/api/alerts?state=open,acknowledged,cleared', store)).json()) as {
      id: string;
      state: string;
      acknowledgedBy: string | null;
    }[];
    expect(after.find((a) => a.id === open.id)).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'store',
    });
    // The sensor fault raised its own maintenance alert, not an order.
    await page
      .getByRole('list', { name: 'Alerts' })
      .getByRole('listitem', { name: `Sensor fault alert at ${SITE} · ${SHELF} · L5` })
      .waitFor();
    expect((await w.lane('L5', admin)).openOrder).toBeNull();
    await screenshot(page, 'operator');
  });

  it('[phone] at 390 px the operator view does not scroll sideways', async () => {
    const { page } = b;
    await page.setViewportSize(PHONE);
    await page.getByRole('list', { name: 'Store lanes' }).getByRole('listitem').first().waitFor();
    const s = await widths(page);
    expect(s.scrollWidth).toBeLessThanOrEqual(s.clientWidth);
    await page.setViewportSize(DESKTOP);
  });

  it('[status colours] stopping the agent turns its lanes offline, in the sixth colour', async () => {
    const { page } = b;
    await w.agent.stop();
    await w.waitLane('L1', admin, 'offline', (l) => l.status === 'offline');
    const lanes = page.getByRole('list', { name: 'Store lanes' });
    for (const i of LANES.keys()) {
      await lanes
        .getByRole('listitem', { name: name(i), exact: true })
        .getByText('Status: Offline', { exact: true })
        .waitFor();
    }
    colours.set('offline', await badgeColour(page, name(0)));
    expect(new Set(colours.values()).size).toBe(Object.keys(LABELS).length);
  });

  it('[no CDN, strict CSP] the page ran without console errors or exceptions', () => {
    expect(b.errors).toEqual([]);
  });
});
