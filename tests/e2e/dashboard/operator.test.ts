/**
 * The store operator's dashboard in Chromium: its sites' lanes only, alerts with acknowledge,
 * orders in flight with cancel (and no supplier actions), live refresh on alert messages, and a
 * phone-sized screen without sideways scrolling.
 */
import { topics } from '@shelfsense/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DESKTOP,
  type Harness,
  login,
  PHONE,
  screenshot,
  startHarness,
  waitForCall,
  widths,
} from './browser.js';

describe('operator view', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(DESKTOP);
    await login(h, 'store-op', 'store-pass', 'Store operations');
  });
  afterAll(() => h?.close());

  it("[operator scope] sees its own site's lanes, from every supplier", async () => {
    const list = h.page.getByRole('list', { name: 'Store lanes' });
    await list.getByRole('listitem').first().waitFor();
    const names = await list
      .getByRole('listitem')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    expect(names.sort()).toEqual([
      'Bolts M6 (box) at store-1 · shelf-a · L2',
      'Chips 150 g at store-1 · shelf-b · L0',
      'Cola 0.33 l at store-1 · shelf-a · L0',
      'Water 0.5 l at store-1 · shelf-a · L1',
    ]);
    await list.getByRole('listitem', { name: /Bolts/ }).getByText('bolt', { exact: true }).waitFor();
  });

  it('[alerts] lists its alerts and acknowledges one through the API', async () => {
    const { page, server } = h;
    const alerts = page.getByRole('list', { name: 'Alerts' });
    const items = alerts.getByRole('listitem');
    await items.first().waitFor();
    expect(await items.count()).toBe(1);
    const alert = alerts.getByRole('listitem', { name: 'Anomaly alert at store-1 · shelf-a · L0' });
    await alert.getByText('The weight has not settled for 5 minutes.').waitFor();
    await alert.getByRole('button', { name: 'Acknowledge' }).click();
    const call = await waitForCall(server, 'POST', '/api/alerts/a-1/acknowledge');
    expect(call.user).toBe('store-op');
    await alert.getByText('Alert state: Acknowledged').waitFor();
    await alert.getByText(/acknowledged by store-op/).waitFor();
    expect(await alert.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0);
  });

  it('[orders] orders in flight offer cancel, never acknowledge or ship', async () => {
    const orders = h.page.getByRole('list', { name: 'Orders in flight' });
    await orders.getByRole('listitem').first().waitFor();
    expect(await orders.getByRole('listitem').count()).toBe(2);
    expect(await orders.getByRole('button', { name: 'Cancel order' }).count()).toBe(2);
    expect(await orders.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0);
    expect(await orders.getByRole('button', { name: 'Ship' }).count()).toBe(0);
    await screenshot(h.page, 'fixture-operator');
  });

  it('[orders] cancelling an order calls the API and it leaves the list', async () => {
    const { page, server } = h;
    const orders = page.getByRole('list', { name: 'Orders in flight' });
    await orders
      .getByRole('listitem', { name: /^Order o-2001:/ })
      .getByRole('button', { name: 'Cancel order' })
      .click();
    const call = await waitForCall(server, 'POST', '/api/orders/o-2001/cancel');
    expect(call.user).toBe('store-op');
    await orders.getByRole('listitem', { name: /^Order o-2001:/ }).waitFor({ state: 'detached' });
  });

  it('[live] an alert message makes the alert list reload', async () => {
    const { server } = h;
    const before = server.calls.filter((c) => c.path.startsWith('/api/alerts?')).length;
    await server.publish(topics.alert('store-1', 'shelf-a', 'L0'), { alertId: 'a-1', state: 'cleared' });
    const deadline = Date.now() + 10_000;
    while (server.calls.filter((c) => c.path.startsWith('/api/alerts?')).length === before) {
      if (Date.now() > deadline) throw new Error('alerts were not reloaded');
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it('[phone] at 390 px nothing scrolls sideways', async () => {
    const { page } = h;
    await page.setViewportSize(PHONE);
    await page.getByRole('list', { name: 'Store lanes' }).waitFor();
    const w = await widths(page);
    expect(w.scrollWidth).toBeLessThanOrEqual(w.clientWidth);
    await page.setViewportSize(DESKTOP);
  });

  it('[no CDN, strict CSP] the page ran without console errors or exceptions', () => {
    expect(h.errors).toEqual([]);
  });

  it('[role views] an operator is sent to its own view from another path', async () => {
    await h.page.goto(`${h.server.url}/technician`);
    await h.page.getByRole('heading', { level: 1, name: 'Store operations' }).waitFor();
    expect(new URL(h.page.url()).pathname).toBe('/operator');
    // Its own view, Catalogue & users and the purchase orders, nothing else.
    expect(await h.page.getByRole('navigation', { name: 'Views' }).getByRole('link').allInnerTexts()).toEqual(
      ['Store operations', 'Catalogue & users', 'Purchase orders'],
    );
  });
});

describe('admin', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(DESKTOP);
    await login(h, 'admin', 'admin-pass', 'Fill levels & orders');
  });
  afterAll(() => h?.close());

  it('[role views] an admin switches between every view by link', async () => {
    const nav = h.page.getByRole('navigation', { name: 'Views' });
    expect(await nav.getByRole('link').allInnerTexts()).toEqual([
      'Fill levels & orders',
      'Store operations',
      'Sensors & calibration',
      'Catalogue & users',
      'Purchase orders',
    ]);
    await nav.getByRole('link', { name: 'Sensors & calibration' }).click();
    await h.page.getByRole('heading', { level: 1, name: 'Sensors & calibration' }).waitFor();
    expect(new URL(h.page.url()).pathname).toBe('/technician');
    expect(await nav.getByRole('link', { name: 'Sensors & calibration' }).getAttribute('aria-current')).toBe(
      'page',
    );
    await h.page.goBack();
    await h.page.getByRole('heading', { level: 1, name: 'Fill levels & orders' }).waitFor();
    // An admin sees every supplier's lanes.
    await h.page
      .getByRole('listitem', { name: 'Bolts M6 (box) at store-1 · shelf-a · L2', exact: true })
      .waitFor();
  });
});
