/**
 * Observations in Chromium against the REAL central (embedded broker, SQLite, HTTP, the built
 * dashboard): an agent's unit-weight proposal arrives over MQTT; the technician sees it on a
 * 390 px phone, in plain words and without sideways scrolling, and accepts it; the agent's lane
 * settings then carry the new unit weight; the alert goes once the agent's `cleared` record
 * arrives. The agent here is an MQTT client holding the agent's credentials.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Central, serviceParts } from '@shelfsense/central';
import {
  CentralConfig,
  clientIds,
  type LaneSettingsPayload,
  type ObservationPayload,
  parseWith,
  topics,
} from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/wait.js';
import {
  type BrowserPage,
  buildDashboard,
  launchBrowser,
  loginAt,
  PHONE,
  screenshot,
  widths,
} from './browser.js';

const SITE = 'store-1';
const SHELF = 'shelf-o';
const AGENT = 'pi-1';
const PASSWORDS = { tech: 'tech-password-1', store: 'store-password-1', agent: 'agent-password-1' };
const PROPOSAL = { unitWeightG: 262.5, confidence: 0.94, steps: 14, wrong: true };

describe('[real central] a technician accepts a lane’s unit-weight proposal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dash-observations-'));
  let central: Central;
  let agent: MqttClient;
  let b: BrowserPage;
  let seq = 0;
  const settings: LaneSettingsPayload[] = [];
  const unitWeightAtAgent = () =>
    settings
      .at(-1)
      ?.shelves.find((s) => s.shelf === SHELF)
      ?.lanes.find((l) => l.lane === 'L1')?.unitWeightG;

  const observe = (state: 'open' | 'cleared', over: Partial<ObservationPayload> = {}, lane = 'L1') => {
    const p: ObservationPayload = {
      agent: AGENT,
      serial: 'REAL-O',
      sku: 'rice-250',
      observation: 'uw-1',
      kind: 'unit-weight',
      state,
      grams: PROPOSAL.unitWeightG,
      items: null,
      otherLane: null,
      cause: null,
      proposal: PROPOSAL,
      detail: '',
      ts: Date.now(),
      seq: ++seq,
      frameSeq: seq,
      ...over,
    };
    return agent.publishAsync(topics.observation(SITE, SHELF, lane), JSON.stringify(p), { qos: 1 });
  };
  const liveUnitWeightAlert = () =>
    central.store!.alerts.list({ state: 'live', kind: 'unit-weight' }).find((a) => a.lane === 'L1');

  beforeAll(async () => {
    buildDashboard();
    const config = parseWith(
      CentralConfig,
      {
        dataDir: join(dir, 'central'),
        log: { level: 'warn' },
        auth: { scrypt: { cost: 1024 } },
        suppliers: [{ id: 'acme' }],
        skus: [
          { id: 'rice-250', name: 'Rice 250 g', unitWeightG: 250, supplier: 'acme' },
          { id: 'chips-salt', name: 'Salted chips', unitWeightG: 168, supplier: 'acme' },
        ],
        sites: [
          {
            id: SITE,
            shelves: [
              {
                id: SHELF,
                serial: 'REAL-O',
                agent: AGENT,
                lanes: [
                  { id: 'L1', channels: [0], sku: 'rice-250', capacity: 24 },
                  { id: 'L2', channels: [1], sku: 'chips-salt', capacity: 20 },
                ],
              },
            ],
          },
        ],
        http: { host: '127.0.0.1', port: 0 },
        mqtt: { host: '127.0.0.1', port: 0 },
        integrations: { nodeRed: { enabled: false } },
      },
      'test central config',
    );
    central = new Central({ config, logger: pino({ level: 'error' }), parts: serviceParts() });
    await central.start();
    const users = central.broker!.users;
    await users.add('tech', { role: 'technician', sites: [SITE] }, PASSWORDS.tech);
    await users.add('store', { role: 'operator', sites: [SITE] }, PASSWORDS.store);
    await users.add(AGENT, { role: 'agent', site: SITE, agent: AGENT }, PASSWORDS.agent);
    agent = await mqtt.connectAsync(`mqtt://127.0.0.1:${central.mqttPort}`, {
      username: AGENT,
      password: PASSWORDS.agent,
      clientId: clientIds.agent(SITE, AGENT),
      reconnectPeriod: 0,
    });
    agent.on('message', (topic, p) => {
      if (topic === topics.laneSettings(SITE, AGENT) && p.length) settings.push(JSON.parse(p.toString()));
    });
    await agent.subscribeAsync(topics.laneSettings(SITE, AGENT), { qos: 1 });
    await waitFor(() => unitWeightAtAgent() === 250, 5_000, { what: 'the first lane settings' });
    b = await launchBrowser(PHONE);
  }, 90_000);

  afterAll(async () => {
    await b?.context.close().catch(() => {});
    await b?.browser.close().catch(() => {});
    await agent?.endAsync().catch(() => {});
    await central?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the proposal arrives and the technician sees it in plain words, on a phone', async () => {
    await observe('open');
    await waitFor(liveUnitWeightAlert, 5_000, { what: 'the unit-weight alert' });
    const { page } = b;
    await loginAt(
      page,
      `http://127.0.0.1:${central.httpPort}/`,
      'tech',
      PASSWORDS.tech,
      'Sensors & calibration',
    );
    await page.getByLabel('Lane', { exact: true }).selectOption('L1');
    const box = page.getByRole('region', { name: `Unit weight — ${SITE} · ${SHELF} · L1` });
    await box.getByText('Proposed: 262.5 g per item').waitFor();
    await box.getByText('Configured: 250.0 g per item of rice-250').waitFor();
    await box.getByText('94 % sure').waitFor();
    await box.getByText('from 14 pick and restock steps').waitFor();
    await box.getByText(/does not explain the steps/).waitFor();
    // The alert and the observation, where the technician's alerts are.
    const alert = page.getByRole('listitem', {
      name: `Unit weight looks wrong alert at ${SITE} · ${SHELF} · L1`,
    });
    await alert.getByText(/picks and restocks step by 262\.5 g/).waitFor();
    const seen = page.getByRole('listitem', { name: `Unit weight looks wrong at ${SITE} · ${SHELF} · L1` });
    await seen.getByText(/^Since /).waitFor();
    const s = await widths(page);
    expect(s.scrollWidth).toBeLessThanOrEqual(s.clientWidth);
  }, 60_000);

  it('Accept changes the SKU’s unit weight, and the agent receives it in its lane settings', async () => {
    const { page } = b;
    const box = page.getByRole('region', { name: `Unit weight — ${SITE} · ${SHELF} · L1` });
    await box.getByRole('button', { name: 'Accept 262.5 g' }).click();
    await box
      .getByRole('status')
      .getByText('Accepted: rice-250 now weighs 262.5 g per item (was 250.0 g).')
      .waitFor();
    await waitFor(() => unitWeightAtAgent() === 262.5, 5_000, { what: 'the new unit weight at the agent' });
    expect(central.map.lane(SITE, SHELF, 'L1')?.unitWeightG).toBe(262.5);
    const audit = central.store!.audit.list({}).find((e) => e.action === 'unit-weight.accepted');
    expect(audit).toMatchObject({ actor: 'tech', role: 'technician', site: SITE });
    await screenshot(page, 'technician-unit-weight');
  }, 60_000);

  it('the cleared record clears the alert, in the store and on the page', async () => {
    expect(liveUnitWeightAlert()).toBeDefined();
    await observe('cleared');
    await waitFor(() => !liveUnitWeightAlert(), 5_000, { what: 'the alert cleared' });
    const { page } = b;
    await page
      .getByRole('listitem', { name: `Unit weight looks wrong alert at ${SITE} · ${SHELF} · L1` })
      .waitFor({ state: 'detached' });
    const s = await widths(page);
    expect(s.scrollWidth).toBeLessThanOrEqual(s.clientWidth);
  }, 60_000);

  it('an operator sees a foreign object in plain words — what, where, how much, since when', async () => {
    await observe(
      'open',
      {
        observation: 'fo-1',
        kind: 'foreign-object',
        sku: 'chips-salt',
        grams: 212,
        items: 1.3,
        proposal: null,
      },
      'L2',
    );
    const context = await b.browser.newContext({ viewport: PHONE });
    try {
      const page = await context.newPage();
      await loginAt(
        page,
        `http://127.0.0.1:${central.httpPort}/`,
        'store',
        PASSWORDS.store,
        'Store operations',
      );
      const card = page.getByRole('listitem', { name: `Foreign object at ${SITE} · ${SHELF} · L2` });
      await card.getByText('212.0 g · about 1.3 items').waitFor();
      await card
        .getByText("something that is not this lane's item was left on it: 212 g (about 1.3 items)")
        .waitFor();
      await card.getByText(/^Since /).waitFor();
      await page
        .getByRole('listitem', { name: `Foreign object on the lane alert at ${SITE} · ${SHELF} · L2` })
        .waitFor();
      const s = await widths(page);
      expect(s.scrollWidth).toBeLessThanOrEqual(s.clientWidth);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('[no CDN, strict CSP] the page ran without console errors or exceptions', () => {
    expect(b.errors).toEqual([]);
  });
});
