/**
 * The admin's Policies tab in Chromium against the REAL central side and a real agent: a lane's
 * reorder point raised in the form is in force at once (read back from the catalogue and the lane,
 * and the lane, now at or below it, orders); a server-side refusal is shown beside its field; and
 * a change made by someone else between opening the form and saving is not overwritten: the form
 * says so, and Reload brings the value and revision as they are now (the open tab itself shows the
 * other change as soon as central announces the new version). Also: no sideways scrolling at
 * 390 px, no console errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserPage,
  buildDashboard,
  DESKTOP,
  launchBrowser,
  loginAt,
  PHONE,
  widths,
} from './browser.js';
import { SITE, startSettledWorld, type World } from './real-world.js';

const SHELF = 'shelf-p';
const LANE = `${SITE} · ${SHELF} · L1`;
const POLICY_PATH = `/api/catalogue/policies/lanes/${SITE}/${SHELF}/L1`;
/** Default reorder point 4, capacity 24: 10 items do not order until the lane's point is raised. */
const ITEMS = 10;

const LANES = [
  { sku: 'cola-330', name: 'Cola 330 ml', unitWeightG: 350, items: ITEMS, capacity: 24 },
  { sku: 'chips-salt', name: 'Salted chips 150 g', unitWeightG: 168, items: 12, capacity: 20 },
];

interface LanePolicy {
  site: string;
  shelf: string;
  lane: string;
  reorderPoint?: number;
  revision: number;
}

describe('[real central] admin edits a lane policy in the Policies tab', () => {
  let w: World;
  let b: BrowserPage;
  let admin: string;

  const lanePolicy = async (): Promise<LanePolicy | undefined> => {
    const r = await w.api('/api/catalogue', admin);
    expect(r.status).toBe(200);
    const cat = (await r.json()) as { policies: { lanes: LanePolicy[] } };
    return cat.policies.lanes.find((p) => p.site === SITE && p.shelf === SHELF && p.lane === 'L1');
  };

  beforeAll(async () => {
    buildDashboard();
    ({ world: w, admin } = await startSettledWorld({
      seed: 47,
      shelf: SHELF,
      serial: 'REAL-P',
      lanes: LANES,
    }));
    b = await launchBrowser(DESKTOP);
  }, 60_000);

  afterAll(async () => {
    await b?.context.close().catch(() => {});
    await b?.browser.close().catch(() => {});
    await w?.stop();
  });

  it('[policy in force] a raised reorder point is stored, read back by the lane, and the lane orders', async () => {
    const { page } = b;
    expect((await w.lane('L1', admin)).openOrder).toBeNull();
    await loginAt(page, w.url, 'admin', 'admin-password-1', 'Fill levels & orders');
    await page
      .getByRole('navigation', { name: 'Views' })
      .getByRole('link', { name: 'Catalogue & users' })
      .click();
    await page.getByRole('tab', { name: 'Policies' }).click();
    await page.getByRole('button', { name: `Edit policy of ${LANE}` }).click();
    const form = page.getByRole('form', { name: `Policy of ${LANE}` });
    // Blank inherits, and the form says from where.
    await form.getByText('Blank: inherits 4 from the defaults.').first().waitFor();
    await form.getByLabel('Reorder point', { exact: true }).fill('12');

    // The catalogue's own check (order-up-to above the reorder point) is named beside its field.
    await form.getByLabel('Order up to', { exact: true }).fill('5');
    await form.getByRole('button', { name: 'Save policy' }).click();
    const upTo = form.getByLabel('Order up to', { exact: true });
    await expect.poll(() => upTo.getAttribute('aria-invalid')).toBe('true');
    expect(await form.locator('#policy-orderUpTo-error').textContent()).toMatch(/must be above reorderPoint/);
    expect(await lanePolicy()).toBeUndefined();

    await upTo.fill('');
    await form.getByRole('button', { name: 'Save policy' }).click();
    await form.waitFor({ state: 'detached' });
    const row = page.getByRole('row', { name: new RegExp(`^${LANE}`) });
    await row.getByText('this lane').first().waitFor();

    expect(await lanePolicy()).toMatchObject({ reorderPoint: 12 });
    const lane = await w.waitLane('L1', admin, 'reorder point 12 and an order', (l) => {
      const x = l as typeof l & { reorderPoint: number | null };
      return x.reorderPoint === 12 && l.openOrder !== null;
    });
    // Up to the capacity (24) from 10, in packs of 2.
    expect(lane.openOrder?.quantity).toBe(24 - ITEMS);
    // The audit trail has who raised it, from what to what.
    const audit = await w.api(
      `/api/audit?target=policy&targetId=${encodeURIComponent(`lane ${SITE}/${SHELF}/L1`)}`,
      admin,
    );
    expect(((await audit.json()) as unknown[])[0]).toMatchObject({
      actor: 'admin',
      action: expect.stringMatching(/^catalogue\.(added|changed)$/),
      after: expect.objectContaining({ reorderPoint: 12 }),
    });
  }, 60_000);

  it('[stale revision] a change by someone else meanwhile is not overwritten; Reload shows it', async () => {
    const { page } = b;
    await page.getByRole('button', { name: `Edit policy of ${LANE}` }).click();
    const form = page.getByRole('form', { name: `Policy of ${LANE}` });
    const rop = form.getByLabel('Reorder point', { exact: true });
    expect(await rop.inputValue()).toBe('12');

    // Someone else changes the same policy through the API after the form was opened.
    const read = await lanePolicy();
    const other = await w.api(POLICY_PATH, admin, {
      method: 'PUT',
      body: JSON.stringify({ reorderPoint: 6, revision: read?.revision }),
    });
    expect(other.status).toBe(200);
    // Central announces the new version: the open tab shows it at once; the form keeps what it read.
    const row = page.getByRole('row', { name: new RegExp(`^${LANE}`) });
    await expect
      .poll(() => row.getByRole('cell').nth(1).textContent(), { timeout: 5_000 })
      .toMatch(/^6\s+this lane/);
    expect(await rop.inputValue()).toBe('12');

    await rop.fill('8');
    await form.getByRole('button', { name: 'Save policy' }).click();
    await form.getByText('Changed by someone else since you opened it.').waitFor();
    expect(await lanePolicy()).toMatchObject({ reorderPoint: 6 });

    await form.getByRole('button', { name: 'Reload' }).click();
    await expect.poll(() => rop.inputValue()).toBe('6');
    expect(await form.getByText('Changed by someone else since you opened it.').count()).toBe(0);

    // With the current revision, the user's change goes through.
    await rop.fill('9');
    await form.getByRole('button', { name: 'Save policy' }).click();
    await form.waitFor({ state: 'detached' });
    expect(await lanePolicy()).toMatchObject({ reorderPoint: 9 });
    await w.waitLane(
      'L1',
      admin,
      'reorder point 9',
      (l) => (l as { reorderPoint?: number }).reorderPoint === 9,
    );
  }, 30_000);

  it('[phone] at 390 px the Policies tab does not scroll sideways', async () => {
    const { page } = b;
    await page.setViewportSize(PHONE);
    await page.getByRole('heading', { name: 'Replenishment policies' }).waitFor();
    const s = await widths(page);
    expect(s.scrollWidth).toBeLessThanOrEqual(s.clientWidth);
    await page.setViewportSize(DESKTOP);
  });

  it('[no CDN, strict CSP] the page ran without console errors or exceptions', () => {
    expect(b.errors).toEqual([]);
  });
});
