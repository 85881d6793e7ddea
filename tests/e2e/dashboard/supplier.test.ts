/**
 * The supplier's dashboard in Chromium against the fixture central side: login, scoping, every
 * status with its label, live counts over MQTT/WebSocket, order transitions, history chart, CSV
 * export, and a phone-sized screen that never scrolls sideways.
 */
import { readFileSync } from 'node:fs';
import { topics } from '@shelfsense/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DESKTOP,
  type Harness,
  login,
  PHONE,
  screenshot,
  startHarness,
  type Win,
  waitForCall,
  widths,
} from './browser.js';

const STATUS_LABELS = ['OK', 'Below reorder point', 'Ordered', 'Stock-out', 'Sensor fault', 'Offline'];

describe('supplier view', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(DESKTOP);
  });
  afterAll(() => h?.close());

  it('[login] a wrong password is refused with a message', async () => {
    await h.page.goto(h.server.url);
    await h.page.getByLabel('User name').fill('acme-ops');
    await h.page.getByLabel('Password').fill('wrong');
    await h.page.getByRole('button', { name: 'Log in' }).click();
    await h.page.getByRole('alert').filter({ hasText: 'Wrong user name or password.' }).waitFor();
  });

  it('[login] logs in with the form and keeps only the token, never the password', async () => {
    await login(h, 'acme-ops', 'acme-pass', 'Fill levels & orders');
    const stored = await h.page.evaluate(() => {
      const w = globalThis as unknown as Win;
      const all: string[] = [];
      for (let i = 0; i < w.sessionStorage.length; i++) {
        const k = w.sessionStorage.key(i) ?? '';
        all.push(k, w.sessionStorage.getItem(k) ?? '');
      }
      return all.join('\n');
    });
    expect(stored).toContain('tok-');
    expect(stored).not.toContain('acme-pass');
    expect(await h.page.evaluate(() => (globalThis as unknown as Win).localStorage.length)).toBe(0);
    await h.page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  });

  it('[supplier scope] sees only lanes holding its SKUs, at every site', async () => {
    const list = h.page.getByRole('list', { name: 'Your lanes' });
    await list.getByRole('listitem').first().waitFor();
    const names = await list
      .getByRole('listitem')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    expect(names).toHaveLength(6);
    expect(names.join('\n')).not.toContain('Bolts');
    for (const site of ['store-1', 'store-2', 'store-3']) expect(names.join('\n')).toContain(site);
    expect(await h.page.getByText('Bolts M6').count()).toBe(0);
  });

  it('[status colours] every status renders in its own colour with its text label', async () => {
    const list = h.page.getByRole('list', { name: 'Your lanes' });
    const colours = new Set<string>();
    for (const label of STATUS_LABELS) {
      const item = list.getByRole('listitem').filter({ hasText: `Status: ${label}` });
      expect(await item.count(), label).toBe(1);
      const badge = item.locator('.badge');
      expect(await badge.textContent()).toBe(`Status: ${label}`);
      expect(await badge.evaluate((e) => e.getBoundingClientRect().width)).toBeGreaterThan(20);
      colours.add(
        await badge.evaluate((e) => (globalThis as unknown as Win).getComputedStyle(e).backgroundColor),
      );
      expect(await item.getByRole('meter', { name: 'Fill level' }).count()).toBe(1);
    }
    expect(colours.size).toBe(STATUS_LABELS.length);
  });

  it('[live] a level message changes the count and status without a reload', async () => {
    const { page, server } = h;
    await page.evaluate(() => {
      (globalThis as unknown as Win).marker = 42;
    });
    const item = page.getByRole('listitem', { name: 'Cola 0.33 l at store-1 · shelf-a · L0' });
    await item.getByText('20 of 24 items').waitFor();
    await server.publish(topics.level('store-1', 'shelf-a', 'L0'), {
      agent: 'pi-1',
      serial: 'SN-shelf-a',
      sku: 'cola-330',
      units: 7,
      grams: 2450,
      fill: 7 / 24,
      stable: true,
      confidence: 0.98,
      state: 'ok',
      ts: Date.now(),
      seq: 1001,
      frameSeq: 5000,
    });
    await item.getByText('7 of 24 items').waitFor();
    await item.getByText('Status: Below reorder point').waitFor();
    expect(await item.getByRole('meter', { name: 'Fill level' }).getAttribute('value')).toBe('29');
    expect(await page.evaluate(() => (globalThis as unknown as Win).marker)).toBe(42);
  });

  it('[supplier scope] a live message for another supplier never reaches the page', async () => {
    const before = h.server.broker.withheld;
    await h.server.publish(topics.level('store-1', 'shelf-a', 'L2'), { units: 1 });
    expect(h.server.broker.withheld).toBeGreaterThan(before);
    expect(await h.page.getByText('Bolts M6').count()).toBe(0);
  });

  it('[orders] acknowledge and ship call the API and show the new state', async () => {
    const { page, server } = h;
    const orders = page.getByRole('list', { name: 'Orders' });
    const order = orders.getByRole('listitem', { name: /^Order o-1002:/ });
    await order.getByRole('button', { name: 'Acknowledge' }).click();
    const ack = await waitForCall(server, 'POST', '/api/orders/o-1002/acknowledge');
    expect(ack.user).toBe('acme-ops');
    await order.getByText('Order state: Acknowledged').waitFor();
    await order.getByLabel('Quantity shipped').fill('20');
    await order.getByRole('button', { name: 'Ship' }).click();
    const ship = await waitForCall(server, 'POST', '/api/orders/o-1002/ship');
    expect(ship.body).toEqual({ quantity: 20 });
    await order.getByText('Order state: Shipped').waitFor();
    await order.getByText('20 items', { exact: true }).waitFor();
    expect(await orders.getByRole('listitem', { name: /^Order o-2001:/ }).count()).toBe(0);
  });

  it('[history] a lane opens its history chart from the API', async () => {
    const { page, server } = h;
    const item = page.getByRole('listitem', { name: 'Water 0.5 l at store-1 · shelf-a · L1' });
    await item.getByRole('button', { name: 'Show history' }).click();
    await waitForCall(server, 'GET', /^\/api\/lanes\/store-1\/shelf-a\/L1\/history\?from=\d+&to=\d+$/);
    await item
      .getByRole('img', { name: 'Items on store-1 · shelf-a · L1 over time' })
      .locator('canvas')
      .waitFor();
    await item.getByText(/^48 readings;/).waitFor();
    expect(await item.getByRole('button', { name: 'Hide history' }).getAttribute('aria-expanded')).toBe(
      'true',
    );
    await screenshot(page, 'fixture-supplier');
  });

  it('[CSV] the export is fetched with the token header and saved as a file', async () => {
    const { page, server } = h;
    await page.getByLabel('Site', { exact: true }).selectOption('store-2');
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    const file = await download;
    const call = await waitForCall(server, 'GET', /^\/api\/export\.csv\?/);
    expect(call.user).toBe('acme-ops');
    expect(call.path).toMatch(/^\/api\/export\.csv\?from=\d+&to=\d+&site=store-2$/);
    expect(call.path).not.toContain('tok-');
    expect(file.suggestedFilename()).toMatch(/^shelfsense-levels-\d+-\d+\.csv$/);
    const text = readFileSync((await file.path()) as string, 'utf8');
    expect(text.split('\n')[0]).toBe('ts,iso,site,shelf,lane,sku,units,grams,state');
    expect(text).toContain('store-2,shelf-a,L0,cola-330');
    expect(text).not.toContain('store-1');
  });

  it('[phone] at 390 px nothing scrolls sideways', async () => {
    const { page } = h;
    await page.setViewportSize(PHONE);
    await page.getByRole('listitem', { name: 'Water 0.5 l at store-1 · shelf-a · L1' }).waitFor();
    const w = await widths(page);
    expect(w.scrollWidth).toBeLessThanOrEqual(w.clientWidth);
    await screenshot(page, 'supplier-phone');
    await page.setViewportSize(DESKTOP);
  });

  it('[no CDN, strict CSP] the page ran without console errors or exceptions', () => {
    expect(h.errors).toEqual([]);
  });

  it('[logout] logging out forgets the token', async () => {
    await h.page.getByRole('button', { name: 'Log out' }).click();
    await h.page.getByRole('button', { name: 'Log in' }).waitFor();
    expect(await h.page.evaluate(() => (globalThis as unknown as Win).sessionStorage.length)).toBe(0);
  });
});
