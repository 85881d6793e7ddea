/**
 * Home Assistant on the user's Mosquitto, fed by the real chain: the demo's simulated shelves, the
 * real agent reading them, central with its rules and store, and Shelfsense's bridge client. The
 * subscriber that follows the discovery sees one device per simulated shelf and one count per
 * simulated lane, each count converging on what the agent last published for that lane.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HomeAssistant, startHomeAssistant } from '@shelfsense/central/testing';
import type { Demo } from '@shelfsense/demo';
import { DEMO_SITE } from '@shelfsense/demo/testing';
import { HomeAssistantConfig } from '@shelfsense/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDemo } from '../../helpers/demo.js';
import { waitFor } from '../../helpers/wait.js';
import { HaFollower, startUserMosquitto, type UserMosquitto } from './ha-helpers.js';

const BRIDGE_PASSWORD = 'bridge secret';
const HASS_PASSWORD = 'hass secret';

describe('[HA-DEMO] Home Assistant entities from simulated shelves through the real agent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-demo-'));
  let demo: Demo;
  let mosq: UserMosquitto;
  let ha: HomeAssistant | null = null;
  let follower: HaFollower;

  beforeAll(async () => {
    demo = await startFastDemo(dir, { supplier: 'manual' }, pino({ level: 'silent' }));
    mosq = await startUserMosquitto({ shelfsense: BRIDGE_PASSWORD, hass: HASS_PASSWORD });
    const c = demo.central;
    ha = await startHomeAssistant(
      {
        bus: c.bus,
        dataDir: join(dir, 'ha'),
        log: pino({ level: 'silent' }),
        config: c.config,
        rules: () => c.rules ?? undefined,
        orders: () => c.orders ?? undefined,
        latest: () => c.store?.history.latest() ?? [],
      },
      HomeAssistantConfig.parse({
        enabled: true,
        centralBroker: false,
        bridges: [
          {
            id: 'home',
            url: mosq.url,
            username: 'shelfsense',
            password: BRIDGE_PASSWORD,
            sites: [DEMO_SITE],
            reconnectMs: 200,
          },
        ],
      }),
    );
    await ha?.bridges[0]?.ready;
    follower = await HaFollower.connect(mosq.url, { username: 'hass', password: HASS_PASSWORD });
  }, 60_000);

  afterAll(async () => {
    await follower?.end().catch(() => undefined);
    await ha?.stop();
    await demo?.stop();
    await mosq?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('one device per simulated shelf, one count per lane, each equal to the agent’s level', async () => {
    const simLanes = demo.sim.shelves.reduce((n, s) => n + s.lanes.length, 0);
    const counts = () =>
      [...follower.entities().values()].filter((e) => e.config.unique_id.endsWith(':count'));
    await waitFor(() => counts().length === simLanes, 10_000, { what: `${simLanes} count sensors` });
    expect(follower.invalid).toEqual([]);
    const devices = new Set(counts().map((e) => e.config.device.identifiers[0]));
    expect(devices.size).toBe(demo.sim.shelves.length);

    const store = demo.central.store!;
    for (const e of counts()) {
      const [, path] = e.config.unique_id.split(':') as [string, string];
      const [site, shelf, lane] = path.split('/') as [string, string, string];
      // Shoppers keep picking: wait for a moment when Home Assistant shows the agent's last level.
      await waitFor(
        () => {
          const latest = store.history.latest({ site, shelf, lane })[0]?.level.units;
          return latest !== undefined && follower.state(path + ':count') === String(latest);
        },
        15_000,
        { what: `${path} count equal to the agent's level` },
      );
    }
    await waitFor(() => counts().every((e) => e.available), 5_000, { what: 'available' });
  });
});
