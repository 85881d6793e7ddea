/**
 * The technician's calibration wizard in Chromium against the REAL central side and a real agent:
 * a lane whose load cell's scale is off by 8 % (changed in the simulator, so the agent counts
 * wrong) is tared empty, calibrated with a reference mass, and filled again; afterwards the agent's
 * counts equal the simulator's ground truth and the new records are listed with the logged-in
 * technician's name. Also: no sideways scrolling at 390 px, no console errors.
 */
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

const SHELF = 'shelf-t';
const UNIT_G = 250;
const ITEMS = 16;
const REFERENCE_G = 2000;
/** A command waits for the lane to settle (up to 15 s by default) before it answers. */
const COMMAND_MS = 25_000;

const LANES = [
  { sku: 'rice-250', name: 'Rice 250 g', unitWeightG: UNIT_G, items: ITEMS, capacity: 24 },
  { sku: 'chips-salt', name: 'Salted chips 150 g', unitWeightG: 168, items: 10, capacity: 20 },
];

describe('[real central] technician calibrates a lane whose scale is wrong', () => {
  let w: World;
  let b: BrowserPage;
  let admin: string;

  beforeAll(async () => {
    buildDashboard();
    ({ world: w, admin } = await startSettledWorld({
      seed: 43,
      shelf: SHELF,
      serial: 'REAL-T',
      lanes: LANES,
    }));
    b = await launchBrowser(DESKTOP);
  }, 60_000);

  afterAll(async () => {
    await b?.context.close().catch(() => {});
    await b?.browser.close().catch(() => {});
    await w?.stop();
  });

  it('[calibration] an 8 % scale error makes the agent count wrong', async () => {
    const truth = await w.truth();
    await w.control({ action: 'cell', channel: 0, scale: truth.cells[0]!.scale * 1.08 });
    // Items leave the lane: the weight the agent sees no longer matches a whole number of items.
    await w.control({ action: 'remove', lane: 0, count: 12 });
    const wrong = await w.waitLane('L1', admin, 'the pick to be seen', (l) => (l.grams ?? 1e9) < 2_000);
    const now = (await w.truth()).lanes[0]!;
    expect(now.items).toBe(ITEMS - 12);
    expect(wrong.units).not.toBe(now.items);
    expect(Math.abs((wrong.grams ?? 0) - now.items * UNIT_G)).toBeGreaterThan(0.25 * UNIT_G);
  });

  it('[calibration] tare → calibrate with a known mass → items back: counts match the ground truth', async () => {
    const { page } = b;
    await loginAt(page, w.url, 'tech', 'tech-password-1', 'Sensors & calibration');
    expect(await page.getByLabel('Site', { exact: true }).inputValue()).toBe(SITE);
    await page.getByLabel('Shelf', { exact: true }).selectOption(SHELF);
    await page.getByLabel('Lane', { exact: true }).selectOption('L1');
    const wizard = page.getByRole('region', { name: `Calibration — ${SITE} · ${SHELF} · L1` });
    /** The result step's residual, grams (shown as "Residual error: ±X g"). */
    const residual = async () => {
      const text = await wizard.getByText(/^Residual error: /).textContent({ timeout: COMMAND_MS });
      return Number(/±([\d,.]+) g/.exec(text ?? '')?.[1]?.replace(/,/g, '') ?? Number.NaN);
    };

    // Tare: the lane is emptied on the simulated shelf.
    await w.control({ action: 'set', lane: 0, count: 0 });
    await w.waitLane('L1', admin, 'empty and stable', (l) => l.units === 0 && l.stable === true);
    await wizard.getByRole('button', { name: 'Tare (set zero)' }).click();
    await wizard.getByRole('button', { name: 'The shelf is ready' }).click();
    await wizard.getByRole('button', { name: 'Tare now' }).click();
    await wizard.getByText(/^Residual error: /).waitFor({ timeout: COMMAND_MS });

    // Calibrate: a reference mass on the empty lane; the agent still reads it 8 % heavy.
    await w.control({ action: 'place', lane: 0, grams: REFERENCE_G });
    const heavy = await w.waitLane(
      'L1',
      admin,
      'the reference mass',
      (l) => (l.grams ?? 0) > REFERENCE_G * 1.05,
    );
    expect(heavy.grams).toBeCloseTo(REFERENCE_G * 1.08, -1);
    await wizard.getByRole('button', { name: 'Calibrate with a known mass' }).click();
    await wizard.getByRole('button', { name: 'The shelf is ready' }).click();
    await wizard.getByLabel('Reference mass (grams)').fill(String(REFERENCE_G));
    await wizard.getByRole('button', { name: 'Calibrate now' }).click();
    await wizard.getByText(/^Reference mass: 2,?000\.0 g$/).waitFor({ timeout: COMMAND_MS });
    // The 8 % error is found and corrected; fresh readings under the new calibration agree.
    const corrected = await wizard.getByText(/^Corrected: /).textContent({ timeout: COMMAND_MS });
    expect(Number(/±([\d,.]+) g/.exec(corrected ?? '')?.[1]?.replace(/,/g, ''))).toBeGreaterThan(
      0.06 * REFERENCE_G,
    );
    expect(await residual()).toBeLessThan(0.1 * UNIT_G);
    await wizard.getByText('Good: counts on this lane will be exact.').waitFor();

    // The mass comes off and the items go back.
    await w.control({ action: 'lift', lane: 0 });
    await w.control({ action: 'set', lane: 0, count: ITEMS });
    const back = await w.waitLane(
      'L1',
      admin,
      `${ITEMS} items again`,
      (l) => l.stable === true && l.units === ITEMS,
    );
    expect(Math.abs((back.grams ?? 0) - ITEMS * UNIT_G)).toBeLessThan(0.1 * UNIT_G);
    const truth = await w.truth();
    for (const t of truth.lanes) {
      expect(t.extraG).toBe(0);
      expect((await w.lane(`L${t.lane + 1}`, admin)).units, `lane ${t.lane}`).toBe(t.items);
    }
    expect(truth.lanes[0]!.items).toBe(ITEMS);
  }, 90_000);

  it('[audit] the new records are listed in the page with the logged-in technician', async () => {
    const { page } = b;
    const log = page.getByRole('region', { name: `Calibration records — ${SITE} · ${SHELF} · L1` });
    const table = log.getByRole('table');
    await table.getByRole('cell', { name: 'Calibrate', exact: true }).first().waitFor();
    const rows = await table.locator('tbody tr').allInnerTexts();
    expect(rows[0]).toMatch(/\bCalibrate\s+tech\s+2,?000(\.0)? g/);
    expect(rows[1]).toMatch(/\bTare\s+tech\b/);
    const tech = await w.login('tech');
    const api = (await (await w.api(`/api/lanes/${SITE}/${SHELF}/L1/calibrations`, tech)).json()) as {
      kind: string;
      by: { user: string } | null;
    }[];
    expect(api.slice(0, 2).map((r) => [r.kind, r.by?.user])).toEqual([
      ['calibrate', 'tech'],
      ['tare', 'tech'],
    ]);
  });

  it('[live readings] the real agent streams the calibrated lane', async () => {
    const { page } = b;
    await page.getByRole('button', { name: 'Start live readings' }).click();
    await page
      .getByRole('list', { name: `Lanes of ${SHELF}` })
      .getByText(new RegExp(`L1: ${ITEMS} items`))
      .waitFor({ timeout: 15_000 });
    await screenshot(page, 'technician');
    await page.getByRole('button', { name: 'Stop live readings' }).click();
  });

  it('[phone] at 390 px the technician view does not scroll sideways', async () => {
    const { page } = b;
    await page.setViewportSize(PHONE);
    await page.getByLabel('Lane', { exact: true }).waitFor();
    const s = await widths(page);
    expect(s.scrollWidth).toBeLessThanOrEqual(s.clientWidth);
    await page.setViewportSize(DESKTOP);
  });

  it('[no CDN, strict CSP] the page ran without console errors or exceptions', () => {
    expect(b.errors).toEqual([]);
  });
});
