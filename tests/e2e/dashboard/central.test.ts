/**
 * The dashboard against the real central side: `shelfsense demo` (compiled CLI: simulated shelves
 * over TCP, the edge agent, the broker with its ACLs, rules, SQLite, the HTTP API and the
 * dashboard mounted at `/`) driven in Chromium. Proves what the fixture-based tests cannot: the
 * documented API and MQTT over WebSocket as the central side really answers them, a count moving
 * because items were taken off a simulated shelf, and a real agent streaming its raw signal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, shelfsense } from '../../helpers/proc.js';
import { type BrowserPage, buildDashboard, DESKTOP, launchBrowser, loginAt, type Win } from './browser.js';

interface Ready {
  ready: true;
  dashboard: string;
  control: string | null;
}

/** Waits for a condition polled in the test process, bounded. */
async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('[real central] the dashboard on `shelfsense demo`', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dash-central-'));
  let demo: CliProcess;
  let ready: Ready;
  let b: BrowserPage;

  beforeAll(async () => {
    // The central side serves dashboard/dist/public; build it (atomically) so it is current.
    buildDashboard();
    demo = shelfsense([
      'demo',
      '--http-port',
      '0',
      '--mqtt-port',
      '0',
      '--speed',
      '5',
      '--dir',
      join(dir, 'demo'),
    ]);
    ready = await demo.waitForJson<Ready>((o) => o.ready === true, 30_000);
    b = await launchBrowser(DESKTOP);
  }, 60_000);

  afterAll(async () => {
    await b?.context.close().catch(() => {});
    await b?.browser.close().catch(() => {});
    await demo?.kill('SIGINT', 10_000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('[supplier scope] a supplier sees exactly the lanes the API gives it, live', async () => {
    await loginAt(b.page, ready.dashboard, 'acme', 'demo-acme', 'Fill levels & orders');
    await b.page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    const token = await b.page.evaluate(() => {
      const s = (globalThis as unknown as Win).sessionStorage.getItem('shelfsense.session');
      return s ? (JSON.parse(s) as { token: string }).token : '';
    });
    const api = (await (
      await fetch(new URL('/api/lanes', ready.dashboard), { headers: { Authorization: `Bearer ${token}` } })
    ).json()) as { site: string; shelf: string; lane: string; supplier: string }[];
    expect(api.length).toBeGreaterThan(0);
    expect(new Set(api.map((l) => l.supplier))).toEqual(new Set(['acme']));
    const list = b.page.getByRole('list', { name: 'Your lanes' });
    await list.getByRole('listitem').first().waitFor();
    const shown = await list
      .getByRole('listitem')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    expect(shown.map((n) => n?.split(' at ')[1]).sort()).toEqual(
      api.map((l) => `${l.site} · ${l.shelf} · ${l.lane}`).sort(),
    );
  });

  it('[live] taking items off a simulated shelf moves the count without a reload', async () => {
    const { page } = b;
    await page.evaluate(() => {
      (globalThis as unknown as Win).marker = 7;
    });
    // Lane 0 of shelf DEMO-A is shelf-a/L1 (acme's cola in the demo map).
    const item = page
      .getByRole('list', { name: 'Your lanes' })
      .getByRole('listitem', { name: / · shelf-a · L1$/ });
    const units = item.locator('dd.units');
    const before = await units.textContent();
    expect(ready.control).not.toBeNull();
    const r = await fetch(`${ready.control}/shelves/DEMO-A/actions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ action: 'remove', lane: 0, count: 2 }),
    });
    expect(r.ok).toBe(true);
    const after = await until('the count to change', 30_000, async () => {
      const t = await units.textContent();
      return t !== before ? t : null;
    });
    expect(after).toMatch(/^\d+ of \d+ items$/);
    expect(await page.evaluate(() => (globalThis as unknown as Win).marker)).toBe(7);
    await page.getByRole('button', { name: 'Log out' }).click();
  });

  it('[live readings] a technician sees a real agent stream raw counts and weights', async () => {
    const { page } = b;
    await loginAt(page, ready.dashboard, 'tech', 'demo-tech', 'Sensors & calibration');
    await page.getByRole('button', { name: 'Start live readings' }).click();
    const table = page.getByRole('table', { name: /^Channels of / });
    await table.waitFor({ timeout: 15_000 });
    const raw = await table.getByRole('row').nth(1).getByRole('cell').first().textContent();
    expect(raw).toMatch(/^-?[\d,]+$/);
    await page
      .getByRole('region', { name: /^Shelf health — / })
      .getByText(/^Shelf health: /)
      .waitFor();
    const log = page.getByRole('region', { name: /^Calibration records — / });
    await log.getByText('Loading calibration records…').waitFor({ state: 'detached' });
    expect(await log.getByRole('alert').count()).toBe(0);
  });

  it('[no CDN, strict CSP] the page ran without console errors or exceptions', () => {
    expect(b.errors).toEqual([]);
  });
});
