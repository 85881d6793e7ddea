/**
 * Onboarding in Chromium against the REAL central side and a real agent, with no restart: a
 * simulated shelf is plugged into the running agent (its TCP bridge comes up), appears in the
 * technician's unassigned shelves with its channels and live raw readings, is assigned a shelf id
 * and a lane in the Assign wizard (a missing SKU is refused first, naming the field), and is tared
 * and calibrated in the wizard that follows — it has no factory calibration, so nothing else
 * could count it right. The first count the page shows equals the simulator's ground truth.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, createLogger } from '@shelfsense/agent';
import { Central, serviceParts } from '@shelfsense/central';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import { AgentConfig, CentralConfig, parseWith } from '@shelfsense/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/wait.js';
import {
  type BrowserPage,
  buildDashboard,
  DESKTOP,
  launchBrowser,
  loginAt,
  PHONE,
  widths,
} from './browser.js';

const SITE = 'store-1';
const AGENT = 'pi-1';
const NEW_SERIAL = 'PLUG-7';
const NEW_SHELF = 'shelf-new';
const UNIT_G = 400;
const ITEMS = 7;
const REFERENCE_G = 2_000;
/** A command waits for the lane to settle (up to 15 s) before it answers. */
const COMMAND_MS = 25_000;
const USERS = [
  { name: 'tech', password: 'tech-password-1', grant: { role: 'technician', sites: [SITE] } },
  { name: AGENT, password: 'agent-password-1', grant: { role: 'agent', site: SITE, agent: AGENT } },
] as const;

/** A port nothing listens on yet: where the new shelf's bridge will come up. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('[real central] a shelf plugged in at runtime is onboarded from the dashboard', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dash-onboarding-'));
  let central: Central;
  let known: Simulator;
  let plugged: Simulator | null = null;
  let agent: Agent;
  let b: BrowserPage;
  let newPort: number;

  const control = async (action: Record<string, unknown>) => {
    const r = await fetch(`${plugged!.controlUrl}/shelves/${NEW_SERIAL}/actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(action),
    });
    if (r.status !== 200) throw new Error(`control ${JSON.stringify(action)}: ${r.status} ${await r.text()}`);
  };
  /** The agent's own reading of the new shelf's lane (what its next level will say). */
  const agentLane = () => agent.shelves.get(NEW_SERIAL)?.pipeline.lane('L1');

  beforeAll(async () => {
    buildDashboard();
    const config = parseWith(
      CentralConfig,
      {
        dataDir: join(dir, 'central'),
        log: { level: 'warn' },
        auth: { scrypt: { cost: 1024 } },
        http: { host: '127.0.0.1', port: 0 },
        mqtt: { host: '127.0.0.1', port: 0 },
        integrations: { nodeRed: { enabled: false } },
        suppliers: [{ id: 'acme', name: 'ACME Foods' }],
        skus: [
          { id: 'rice-250', name: 'Rice 250 g', unitWeightG: 250, supplier: 'acme' },
          { id: 'beans-400', name: 'Beans 400 g', unitWeightG: UNIT_G, supplier: 'acme' },
        ],
        sites: [
          {
            id: SITE,
            shelves: [
              {
                id: 'shelf-a',
                serial: 'KNOWN-1',
                agent: AGENT,
                lanes: [{ id: 'L1', channels: [0], sku: 'rice-250', capacity: 24 }],
              },
            ],
          },
        ],
      },
      'test central config',
    );
    central = new Central({ config, logger: pino({ level: 'error' }), parts: serviceParts() });
    await central.start();
    for (const u of USERS) await central.broker!.users.add(u.name, u.grant as never, u.password);

    known = await startSimulator({
      transport: 'tcp',
      tcpPort: 0,
      seed: 11,
      scenario: { shelves: [{ serial: 'KNOWN-1', lanes: [{ unitWeightG: 250, items: 10, capacity: 24 }] }] },
      logger: pino({ level: 'warn' }),
    });
    newPort = await freePort();
    const agentConfig = parseWith(
      AgentConfig,
      {
        agent: { id: AGENT, site: SITE },
        // The second bridge has no shelf behind it yet: the agent keeps trying it.
        sources: [
          { url: `tcp://127.0.0.1:${known.shelves[0]!.tcpPort}` },
          { url: `tcp://127.0.0.1:${newPort}` },
        ],
        broker: {
          url: `mqtt://127.0.0.1:${central.mqttPort}`,
          username: AGENT,
          password: USERS[1].password,
          reconnectMs: 200,
        },
        reconnect: { minMs: 100, maxMs: 300 },
        stateDir: join(dir, 'agent'),
        delivery: { redeliverMs: 1_500 },
        log: { level: 'warn' },
        shelves: [
          {
            serial: 'KNOWN-1',
            shelf: 'shelf-a',
            calibration: known
              .truth('KNOWN-1', 0)
              .cells.map((c, channel) => ({ channel, offset: c.offset + c.trayG * c.scale, scale: c.scale })),
          },
        ],
      },
      'test agent config',
    );
    agent = new Agent(agentConfig, createLogger('error', { part: 'agent' }));
    await agent.start();
    b = await launchBrowser(DESKTOP);
  }, 60_000);

  afterAll(async () => {
    await b?.context.close().catch(() => {});
    await b?.browser.close().catch(() => {});
    await agent?.stop();
    await plugged?.stop();
    await known?.stop();
    await central?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('[onboarding] unknown serial → Assign → tare + calibrate → first correct count, live', async () => {
    const { page } = b;
    await loginAt(
      page,
      `http://127.0.0.1:${central.httpPort}/`,
      'tech',
      'tech-password-1',
      'Sensors & calibration',
    );
    const panel = page.getByRole('region', { name: 'Unassigned shelves' });
    await panel.getByText('No unassigned shelves').waitFor();

    // Plugged in: the shelf's bridge comes up, empty, on the port the agent is trying.
    plugged = await startSimulator({
      transport: 'tcp',
      tcpPort: newPort,
      seed: 12,
      scenario: {
        shelves: [
          {
            serial: NEW_SERIAL,
            lanes: [
              { unitWeightG: UNIT_G, items: 0, capacity: 20 },
              { unitWeightG: UNIT_G, items: 0, capacity: 20 },
            ],
          },
        ],
      },
      logger: pino({ level: 'warn' }),
    });
    const row = panel.getByRole('row', { name: new RegExp(NEW_SERIAL) });
    await row.waitFor({ timeout: 15_000 });
    expect(await row.getByRole('cell').allInnerTexts()).toEqual([
      SITE,
      AGENT,
      '2',
      'Online',
      expect.any(String),
    ]);

    // Its raw signal, streamed under its serial.
    await row.getByRole('button', { name: `Raw readings of ${NEW_SERIAL}` }).click();
    await panel.getByRole('button', { name: 'Start live readings' }).click();
    const raw = panel.getByRole('table', { name: `Channels of ${NEW_SERIAL}` });
    await raw.waitFor({ timeout: 15_000 });
    expect(await raw.locator('tbody tr').count()).toBe(2);
    await panel.getByRole('button', { name: 'Stop live readings' }).click();

    // The Assign wizard: a lane with no SKU is refused, naming the field; then the shelf is created.
    await row.getByRole('button', { name: `Assign ${NEW_SERIAL}` }).click();
    const wizard = page.getByRole('region', { name: `Assign shelf ${NEW_SERIAL}` });
    await wizard.getByLabel('Shelf id').fill(NEW_SHELF);
    await wizard.getByRole('button', { name: 'Remove lane 2' }).click();
    await wizard.getByRole('button', { name: 'Create shelf' }).click();
    await wizard.getByText('Lane 1 SKU: choose an SKU').waitFor();
    expect(await wizard.getByLabel('Lane 1 SKU').getAttribute('aria-invalid')).toBe('true');
    // On a phone the form does not scroll sideways.
    await page.setViewportSize(PHONE);
    const w = await widths(page);
    expect(w.scrollWidth).toBeLessThanOrEqual(w.clientWidth);
    await page.setViewportSize(DESKTOP);
    await wizard.getByLabel('Lane 1 SKU').selectOption('beans-400');
    await wizard.getByLabel('Lane 1 capacity (items)').fill('20');
    await wizard.getByRole('button', { name: 'Create shelf' }).click();
    await wizard.getByText('Step 3 of 3: tare and calibrate each lane').waitFor({ timeout: 15_000 });
    await waitFor(
      () =>
        agent.describe().shelves.find((s) => s.serial === NEW_SERIAL && s.shelf === NEW_SHELF && s.assigned),
      5_000,
      { what: 'the agent counting the shelf under its new id' },
    );

    // Tare the empty lane.
    const cal = wizard.getByRole('region', { name: `Calibration — ${SITE} · ${NEW_SHELF} · L1` });
    await cal.getByRole('button', { name: 'Tare (set zero)' }).click();
    await cal.getByRole('button', { name: 'The shelf is ready' }).click();
    await cal.getByRole('button', { name: 'Tare now' }).click();
    await cal.getByText(/^Residual error: /).waitFor({ timeout: COMMAND_MS });

    // Calibrate with a reference mass: the default scale is far off, so this is what makes it count.
    await control({ action: 'place', lane: 0, grams: REFERENCE_G });
    // Read through the default calibration, the mass is far from what it is.
    const before = await waitFor(
      () => {
        const l = agentLane();
        // A settled evaluation of the loaded lane (not a whole number of items: 'anomalous').
        return l && l.state !== 'unstable' && l.settledG > 100 ? l.settledG : null;
      },
      15_000,
      { what: 'the reference mass settled on the new lane' },
    );
    expect(Math.abs(before - REFERENCE_G)).toBeGreaterThan(0.05 * REFERENCE_G);
    await cal.getByRole('button', { name: 'Calibrate with a known mass' }).click();
    await cal.getByRole('button', { name: 'The shelf is ready' }).click();
    await cal.getByLabel('Reference mass (grams)').fill(String(REFERENCE_G));
    await cal.getByRole('button', { name: 'Calibrate now' }).click();
    await cal.getByText('Good: counts on this lane will be exact.').waitFor({ timeout: COMMAND_MS });

    // Items go on: the page shows the count the simulator says is there.
    await control({ action: 'lift', lane: 0 });
    await control({ action: 'set', lane: 0, count: ITEMS });
    const counts = wizard.getByRole('list', { name: `Counts of ${NEW_SHELF}` });
    await counts.getByText(`L1: ${ITEMS} items, stable`).waitFor({ timeout: 30_000 });
    const truth = plugged.truth(NEW_SERIAL);
    expect(truth.lanes[0]!.items).toBe(ITEMS);
    expect(truth.lanes[0]!.extraG).toBe(0);

    // No longer unassigned, for anyone looking.
    await wizard.getByRole('button', { name: 'Done' }).click();
    await panel.getByText('No unassigned shelves').waitFor();
    expect(b.errors).toEqual([]);
    // Who assigned it and what it became, in the audit trail.
    expect(central.store!.audit.list({ target: 'shelf', targetId: `${SITE}/${NEW_SHELF}` })).toEqual([
      expect.objectContaining({
        actor: 'tech',
        role: 'technician',
        action: 'catalogue.added',
        site: SITE,
        after: expect.objectContaining({ serial: NEW_SERIAL, agent: AGENT }),
      }),
    ]);
  }, 150_000);
});
