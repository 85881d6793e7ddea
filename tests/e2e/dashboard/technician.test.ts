/**
 * The technician's dashboard in Chromium: pickers by label, live readings after a stream command,
 * shelf health from the retained topic, the three wizards with their results and the calibration
 * log (records name the logged-in user), and a phone-sized screen without sideways scrolling.
 */
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

describe('technician view', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(DESKTOP);
    await login(h, 'tech', 'tech-pass', 'Sensors & calibration');
  });
  afterAll(() => h?.close());

  it('[pickers] site, agent, shelf and lane are chosen by label', async () => {
    const { page } = h;
    expect(await page.getByLabel('Site', { exact: true }).inputValue()).toBe('store-1');
    expect(await page.getByLabel('Agent', { exact: true }).inputValue()).toBe('pi-1');
    await page.getByLabel('Shelf', { exact: true }).selectOption('shelf-a');
    await page.getByLabel('Lane', { exact: true }).selectOption('L1');
    expect(await page.getByLabel('Lane', { exact: true }).inputValue()).toBe('L1');
    await page.getByRole('heading', { name: 'Calibration — store-1 · shelf-a · L1' }).waitFor();
  });

  it('[shelf health] shows the retained health report of the shelf', async () => {
    const health = h.page.getByRole('region', { name: 'Shelf health — shelf-a' });
    await health.getByText('Shelf health: OK').waitFor();
    const rows = health.getByRole('table', { name: 'Channels' }).getByRole('row');
    expect(await rows.count()).toBe(5);
    await health.getByText('Rejected serial lines: checksum 3').waitFor();
  });

  it('[live readings] a stream command brings raw counts, weight and stability', async () => {
    const { page, server } = h;
    await page.getByRole('button', { name: 'Start live readings' }).click();
    const call = await waitForCall(server, 'POST', '/api/agents/store-1/pi-1/commands/stream');
    expect(call.body).toEqual({ args: { shelf: 'shelf-a', durationMs: 60_000 } });
    const table = page.getByRole('table', { name: 'Channels of shelf-a' });
    await table.waitFor();
    const row = table.getByRole('row', { name: /^1 / });
    const cells = await row.getByRole('cell').allInnerTexts();
    expect(cells[0]).toMatch(/^[\d,]+$/);
    expect(cells[1]).toMatch(/^1,7[45]\d\.\d g$/);
    expect(['Stable', 'Settling']).toContain(cells[3]);
    await page
      .getByRole('list', { name: 'Lanes of shelf-a' })
      .getByText(/L1: 5 items/)
      .waitFor();
    await page.getByRole('button', { name: 'Stop live readings' }).click();
  });

  it('[wizard] tare says what to do, runs, and shows the residual', async () => {
    const { page, server } = h;
    const wizard = page.getByRole('region', { name: 'Calibration — store-1 · shelf-a · L1' });
    await wizard.getByText('Take every item off the lane, so it is completely empty.').waitFor();
    await wizard.getByRole('button', { name: 'The shelf is ready' }).click();
    await wizard.getByRole('button', { name: 'Tare now' }).click();
    const call = await waitForCall(server, 'POST', '/api/agents/store-1/pi-1/commands/tare');
    expect(call.body).toEqual({ args: { shelf: 'shelf-a', lane: 'L1' } });
    await wizard.getByText('Residual error: ±0.12 g').waitFor();
    await wizard.getByText('Good: counts on this lane will be exact.').waitFor();
  });

  it('[wizard] calibrate checks the mass before sending, then shows the result', async () => {
    const { page, server } = h;
    const wizard = page.getByRole('region', { name: 'Calibration — store-1 · shelf-a · L1' });
    await wizard.getByRole('button', { name: 'Calibrate with a known mass' }).click();
    await wizard.getByRole('button', { name: 'The shelf is ready' }).click();
    await wizard.getByLabel('Reference mass (grams)').fill('-5');
    await wizard.getByRole('button', { name: 'Calibrate now' }).click();
    await wizard.getByRole('alert').filter({ hasText: 'must be between 1 and' }).waitFor();
    expect(server.calls.some((c) => c.path.endsWith('/commands/calibrate'))).toBe(false);
    await wizard.getByLabel('Reference mass (grams)').fill('500');
    await wizard.getByRole('button', { name: 'Calibrate now' }).click();
    const call = await waitForCall(server, 'POST', '/api/agents/store-1/pi-1/commands/calibrate');
    expect(call.body).toEqual({ args: { shelf: 'shelf-a', lane: 'L1', massG: 500 } });
    await wizard.getByText('Reference mass: 500.0 g').waitFor();
    await wizard.getByText('Residual error: ±0.42 g').waitFor();
  });

  it('[wizard] learn unit weight from N items shows the learned weight', async () => {
    const { page, server } = h;
    const wizard = page.getByRole('region', { name: 'Calibration — store-1 · shelf-a · L1' });
    await wizard.getByRole('button', { name: 'Learn unit weight' }).first().click();
    await wizard.getByRole('button', { name: 'The shelf is ready' }).click();
    await wizard.getByLabel('Number of items placed').fill('5');
    await wizard.getByRole('button', { name: 'Learn unit weight' }).last().click();
    const call = await waitForCall(server, 'POST', '/api/agents/store-1/pi-1/commands/learn-unit');
    expect(call.body).toEqual({ args: { shelf: 'shelf-a', lane: 'L1', count: 5 } });
    await wizard.getByText('Unit weight: 350.0 g (was 350.0 g)').waitFor();
  });

  it('[audit] the calibration log lists each record with the authenticated user', async () => {
    const log = h.page.getByRole('region', { name: 'Calibration records — store-1 · shelf-a · L1' });
    const table = log.getByRole('table');
    await table.getByRole('cell', { name: 'Learn unit weight' }).waitFor();
    const rows = await table.locator('tbody tr').allInnerTexts();
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/Learn unit weight\s+tech\s+5 items/);
    expect(rows[2]).toMatch(/Tare\s+tech/);
    await screenshot(h.page, 'technician');
  });

  it('[no CDN, strict CSP] the page ran without console errors or exceptions', () => {
    expect(h.errors).toEqual([]);
  });

  it('[phone] at 390 px nothing scrolls sideways', async () => {
    const { page } = h;
    await page.setViewportSize(PHONE);
    await page.getByLabel('Lane', { exact: true }).waitFor();
    const w = await widths(page);
    expect(w.scrollWidth).toBeLessThanOrEqual(w.clientWidth);
    await page.setViewportSize(DESKTOP);
  });
});
