/**
 * The dashboard's Notifications panel in Chromium against a real central: every signed-in user
 * can open it; it offers only the kinds the role may receive, starting from the role's defaults;
 * a bad address or time zone is refused naming the field, and nothing is saved; a good change is
 * saved and the API agrees. No sideways scrolling at 390 px, no console errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Central } from '@shelfsense/central';
import type { NotificationSettings } from '@shelfsense/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserPage,
  buildDashboard,
  DESKTOP,
  launchBrowser,
  loginAt,
  PHONE,
  widths,
} from '../../e2e/dashboard/browser.js';
import { api, ChatSink, centralConfig, PASSWORD, SmtpSink, startCentral, TestClock } from './harness.js';

const smtp = new SmtpSink();
const chat = new ChatSink();
let dir: string;
let central: Central;
let b: BrowserPage;

beforeAll(async () => {
  buildDashboard();
  await smtp.start();
  await chat.start();
  dir = mkdtempSync(join(tmpdir(), 'notify-dashboard-'));
  central = await startCentral(centralConfig(dir, smtp.port, chat), new TestClock(Date.now()), true);
  b = await launchBrowser(DESKTOP);
}, 120_000);

afterAll(async () => {
  await b?.context.close().catch(() => undefined);
  await b?.browser.close().catch(() => undefined);
  await central?.stop();
  await smtp.stop();
  await chat.stop();
  rmSync(dir, { recursive: true, force: true });
});

const settingsOf = async (user: string) => {
  const http = api(central);
  const r = await http.call<NotificationSettings>('GET', '/api/me/notifications', await http.login(user));
  return r.body;
};

describe('[real central] the Notifications panel', () => {
  it('[NOTIFY-UI-1] an operator sees its kinds and defaults; a bad address or time zone is named and nothing saved; a good change is saved', async () => {
    const { page } = b;
    const url = `http://127.0.0.1:${central.httpPort}`;
    await loginAt(page, url, 'op-a@example.com', PASSWORD, 'Store operations');
    await page.getByRole('button', { name: 'Notifications' }).click();
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    const kind = (name: string) => page.getByRole('checkbox', { name });
    for (const name of ['Stock-outs', 'Shelves offline', 'Sensor faults', 'Delivery discrepancies'])
      expect(await kind(name).isChecked(), name).toBe(true);
    expect(await kind('Purchase orders').isChecked()).toBe(false);
    expect(await page.getByLabel('E-mail address').inputValue()).toBe('op-a@example.com');

    await page.getByLabel('E-mail address').fill('not an address');
    await page.getByRole('checkbox', { name: /Quiet hours/ }).check();
    await page.getByLabel('Time zone').fill('Mars/Olympus_Mons');
    await page.getByRole('button', { name: 'Save' }).click();
    const alert = page.locator('.notifications [role="alert"]');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('E-mail address: an e-mail address');
    expect(await alert.textContent()).toContain('Time zone: an IANA time zone');
    expect(await settingsOf('op-a@example.com')).toMatchObject({ saved: false, quietHours: null });

    await page.getByLabel('E-mail address').fill('ops@store.example');
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await page.getByLabel('Quiet from').fill('21:30');
    await kind('Stock-outs').uncheck();
    await kind('Purchase orders').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    expect(await alert.count()).toBe(0);
    expect(await settingsOf('op-a@example.com')).toMatchObject({
      saved: true,
      kinds: ['shelf-offline', 'sensor-fault', 'purchase-order', 'discrepancy'],
      email: 'ops@store.example',
      quietHours: { from: '21:30', to: '07:00', timeZone: 'Europe/Berlin' },
    });
    await page.getByRole('button', { name: 'Close' }).click();
    expect(await page.getByRole('heading', { name: 'Notifications' }).count()).toBe(0);
  });

  it('[NOTIFY-UI-2] a supplier is offered its two kinds only; the panel fits a phone', async () => {
    const { page } = b;
    await page.setViewportSize(PHONE);
    await page.evaluate(() =>
      (globalThis as unknown as { sessionStorage: { clear(): void } }).sessionStorage.clear(),
    );
    const url = `http://127.0.0.1:${central.httpPort}`;
    await loginAt(page, url, 'sup-x@example.com', PASSWORD, 'Fill levels & orders');
    await page.getByRole('button', { name: 'Notifications' }).click();
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    const labels = await page.locator('.notifications fieldset label').allTextContents();
    expect(labels.map((l) => l.trim())).toEqual(['Purchase orders', 'Delivery discrepancies']);
    await page.getByRole('checkbox', { name: /Quiet hours/ }).check();
    const w = await widths(page);
    expect(w.scrollWidth).toBeLessThanOrEqual(w.clientWidth);
    expect(b.errors).toEqual([]);
  });
});
