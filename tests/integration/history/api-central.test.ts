/**
 * The central process wires its history store into the HTTP API: the compiled `shelfsense central`
 * with `history.store: influx` against a real influxd. A reading published over MQTT goes through
 * ingest and the history writer into InfluxDB, and a reading that exists only in InfluxDB shows up
 * in the API's history and CSV export — so the API reads InfluxDB, not the SQLite store.
 * Needs `npx tsc -b tsconfig.build.json` (central runs from dist).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxHistoryStore } from '@shelfsense/central/history';
import { parseCsv } from '@shelfsense/central/http';
import { InfluxHistoryConfig, LevelPayload, topics } from '@shelfsense/protocol';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, type CentralProcess, startCentral } from '../../helpers/central.js';
import { startInfluxd, type TestInfluxd } from '../../helpers/influxd.js';
import { killAll } from '../../helpers/proc.js';
import { waitFor } from '../../helpers/wait.js';

const LANE = { site: 'store-1', shelf: 'shelf-1', lane: 'L0' };
const NOW = Math.floor(Date.now() / 1000) * 1000;

const level = (units: number, seq: number, ts: number) =>
  LevelPayload.parse({
    agent: 'pi-1',
    serial: 'SHELF-H',
    sku: 'cola',
    units,
    grams: units * 350,
    fill: units / 20,
    stable: true,
    confidence: 0.97,
    state: 'ok',
    ts,
    seq,
    frameSeq: seq,
  });

describe('central with InfluxDB history', () => {
  const dir = mkdtempSync(join(tmpdir(), 'central-influx-'));
  let influxd: TestInfluxd;
  let influx: InfluxHistoryStore;
  let central: CentralProcess;
  let admin: string;

  beforeAll(async () => {
    influxd = await startInfluxd();
    const influxConfig = {
      host: influxd.host,
      port: influxd.port,
      database: 'central',
      setup: true,
      flushMs: 50,
    };
    influx = new InfluxHistoryStore({
      config: InfluxHistoryConfig.parse(influxConfig),
      log: pino({ level: 'silent' }),
    });
    const dataDir = join(dir, 'central');
    addUser(dataDir, 'pi-1', ['--role', 'agent', '--site', 'store-1'], 'agent-password-1');
    addUser(dataDir, 'admin', ['--role', 'admin'], 'admin-password-1');
    central = await startCentral(
      {
        dataDir,
        log: { level: 'warn' },
        http: { host: '127.0.0.1', port: 0 },
        mqtt: { host: '127.0.0.1', port: 0 },
        suppliers: [{ id: 'acme' }],
        skus: [{ id: 'cola', unitWeightG: 350, supplier: 'acme' }],
        sites: [
          {
            id: 'store-1',
            shelves: [
              {
                id: 'shelf-1',
                serial: 'SHELF-H',
                agent: 'pi-1',
                lanes: [{ id: 'L0', channels: [0], sku: 'cola', capacity: 20 }],
              },
            ],
          },
        ],
        history: { store: 'influx', influx: influxConfig },
      },
      dir,
    );
    admin = await central.login('admin', 'admin-password-1');
  });

  afterAll(async () => {
    await central?.stop();
    await killAll();
    await influx?.stop();
    await influxd?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('[HIST-API-CENTRAL] the history route and the CSV export of central read InfluxDB', async () => {
    // A reading through MQTT: ingest commits it (SQLite), the history writer sends it to InfluxDB.
    const agent = await mqtt.connectAsync(`mqtt://127.0.0.1:${central.mqtt}`, {
      username: 'pi-1',
      password: 'agent-password-1',
      reconnectPeriod: 0,
    });
    try {
      await agent.publishAsync(
        topics.level(LANE.site, LANE.shelf, LANE.lane),
        JSON.stringify(level(9, 1, NOW - 5_000)),
        { qos: 1 },
      );
    } finally {
      await agent.endAsync();
    }
    await waitFor(async () => (await influx.levels(LANE)).length === 1, 10_000, {
      what: 'the reading in InfluxDB',
    });
    // A reading only InfluxDB holds (central's SQLite store never saw it).
    await influx.write([{ ...LANE, kind: 'level', payload: level(4, 2, NOW - 3_000), supplier: 'acme' }]);

    const range = `from=${NOW - 60_000}&to=${NOW + 60_000}`;
    const h = await central.api(`/api/lanes/store-1/shelf-1/L0/history?${range}`, admin);
    expect(h.status).toBe(200);
    const body = (await h.json()) as { levels: { ts: number; units: number }[] };
    expect(body.levels.map((l) => [l.ts, l.units])).toEqual([
      [NOW - 5_000, 9],
      [NOW - 3_000, 4],
    ]);

    const csv = await central.api(`/api/export.csv?${range}`, admin);
    expect(csv.status).toBe(200);
    expect(
      parseCsv(await csv.text())
        .slice(1)
        .map((c) => [c[0], c[6]]),
    ).toEqual([
      [String(NOW - 5_000), '9'],
      [String(NOW - 3_000), '4'],
    ]);

    // The lane view's newest level is the central store's (the InfluxDB-only reading is not there).
    const view = (await (await central.api('/api/lanes/store-1/shelf-1/L0', admin)).json()) as {
      units: number;
    };
    expect(view.units).toBe(9);
  });
});
