/**
 * A lane given to another supplier while both suppliers watch, in Chromium against the REAL
 * central side (Central with its HTTP API, MQTT over WebSocket, rules and SQLite; a real agent; a
 * simulated shelf). Proves: the old supplier's open dashboard drops the lane as soon as the
 * catalogue version is announced, and its MQTT subscription receives nothing of the lane
 * afterwards; the new supplier's dashboard shows it, and the next low count orders from the new
 * supplier. No restart, no reload of either page.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/wait.js';
import { type BrowserPage, buildDashboard, DESKTOP, launchBrowser, loginAt } from './browser.js';
import { type ApiLane, SITE, startSettledWorld, type World } from './real-world.js';

const SHELF = 'shelf-a';
const LANES = [
  { sku: 'cola-330', name: 'Cola 0.33 l', unitWeightG: 352, items: 12, capacity: 24 },
  { sku: 'water-500', name: 'Still water 0.5 l', unitWeightG: 521, items: 12, capacity: 18 },
];
const CRUNCHY = { name: 'crunchy', password: 'crunchy-password-1' };
/** The new supplier's own SKU for the same bottles (same weight: the shelf's items do not change). */
const NEW_SKU = { id: 'water-crunchy', name: 'Crunchy water 0.5 l', unitWeightG: 521, supplier: 'crunchy' };

describe('[real central] a lane reassigned while both suppliers watch', () => {
  let w: World;
  let admin: string;
  let acmePage: BrowserPage;
  let crunchyPage: BrowserPage;
  let acmeMqtt: MqttClient;
  const acmeTopics: string[] = [];
  const laneName = (sku: string) => `${sku} at ${SITE} · ${SHELF} · L2`;

  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const r = await w.api(path, admin, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await r.json()) as T;
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  };

  beforeAll(async () => {
    buildDashboard();
    ({ world: w, admin } = await startSettledWorld({
      seed: 53,
      shelf: SHELF,
      serial: 'REAL-LIVE',
      lanes: LANES,
    }));
    await w.central.broker!.users.add(
      CRUNCHY.name,
      { role: 'supplier', supplier: 'crunchy' },
      CRUNCHY.password,
    );
    await api('PUT', '/api/catalogue/suppliers/crunchy', { name: 'Crunchy Drinks' });
    await api('PUT', `/api/catalogue/skus/${NEW_SKU.id}`, {
      name: NEW_SKU.name,
      unitWeightG: NEW_SKU.unitWeightG,
      supplier: NEW_SKU.supplier,
    });
    acmeMqtt = await mqtt.connectAsync(`mqtt://127.0.0.1:${w.central.mqttPort}`, {
      username: 'acme',
      password: 'acme-password-1',
      reconnectPeriod: 0,
    });
    acmeMqtt.on('message', (topic) => acmeTopics.push(topic));
    await acmeMqtt.subscribeAsync('shelfsense/v1/+/+/+/+', { qos: 1 });
    acmePage = await launchBrowser(DESKTOP);
    crunchyPage = await launchBrowser(DESKTOP);
  }, 90_000);

  afterAll(async () => {
    await acmeMqtt?.endAsync().catch(() => {});
    for (const b of [acmePage, crunchyPage]) {
      await b?.context.close().catch(() => {});
      await b?.browser.close().catch(() => {});
    }
    await w?.stop();
  });

  it('[reassign] the old supplier’s page drops the lane at once; the new one’s shows it and gets the order', async () => {
    await loginAt(acmePage.page, w.url, 'acme', 'acme-password-1', 'Fill levels & orders');
    await loginAt(crunchyPage.page, w.url, CRUNCHY.name, CRUNCHY.password, 'Fill levels & orders');
    const acmeLane = acmePage.page.getByRole('listitem', {
      name: laneName('Still water 0.5 l'),
      exact: true,
    });
    await acmeLane.waitFor();
    await crunchyPage.page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await acmePage.page.getByRole('status').filter({ hasText: 'Live' }).waitFor();

    const catalogue = await api<{ sites: { shelves: { lanes: { id: string; revision: number }[] }[] }[] }>(
      'GET',
      '/api/catalogue',
    );
    const revision = catalogue.sites[0]!.shelves[0]!.lanes.find((l) => l.id === 'L2')!.revision;
    const at = Date.now();
    await api('PUT', `/api/catalogue/sites/${SITE}/shelves/${SHELF}/lanes/L2`, {
      channels: [1],
      sku: NEW_SKU.id,
      capacity: 18,
      revision,
    });
    // Neither page is reloaded: the catalogue announcement makes each read its lanes again.
    await acmeLane.waitFor({ state: 'detached', timeout: 5_000 });
    const dropped = Date.now() - at;
    await crunchyPage.page
      .getByRole('listitem', { name: laneName(NEW_SKU.name), exact: true })
      .waitFor({ timeout: 5_000 });
    console.log(`lane dropped from the old supplier's open page ${dropped} ms after the change was saved`);
    const heardBefore = acmeTopics.length;

    // The shelf moves: 12 → 3 bottles on L2 (below the reorder point 4), and cola too.
    await w.control({ action: 'remove', lane: 1, count: 9 });
    await w.control({ action: 'remove', lane: 0, count: 1 });
    const ordered = await w.waitLane('L2', admin, 'an order', (l: ApiLane) => l.openOrder !== null, 20_000);
    const order = await api<{ supplier: string; sku: string }>('GET', `/api/orders/${ordered.openOrder!.id}`);
    expect(order).toMatchObject({ supplier: 'crunchy', sku: NEW_SKU.id });
    await crunchyPage.page
      .getByRole('listitem', { name: laneName(NEW_SKU.name), exact: true })
      .getByText('Status: Ordered', { exact: true })
      .waitFor({ timeout: 10_000 });
    // acme still hears its own lane, and never L2 again.
    await waitFor(() => acmeTopics.slice(heardBefore).some((t) => t.endsWith(`/${SHELF}/L1/level`)), 10_000, {
      what: 'acme hears L1 move',
    });
    expect(acmeTopics.slice(heardBefore).filter((t) => t.includes(`/${SHELF}/L2/`))).toEqual([]);
    const audit = await api<{ actor: string; before: { sku: string }; after: { sku: string } }[]>(
      'GET',
      `/api/audit?target=lane&targetId=${encodeURIComponent(`${SITE}/${SHELF}/L2`)}`,
    );
    expect(audit[0]).toMatchObject({
      actor: 'admin',
      before: { sku: 'water-500' },
      after: { sku: NEW_SKU.id },
    });
    expect(acmePage.errors).toEqual([]);
    expect(crunchyPage.errors).toEqual([]);
  });
});
