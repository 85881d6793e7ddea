/**
 * What only the InfluxDB store does, against a real influxd: the database and retention policy it
 * prepares, the measurement layout Grafana reads (tags and typed fields), an unreachable server,
 * points InfluxDB refuses, and a database that vanished behind its back.
 */
import {
  HistoryErrorCodes,
  HistoryWriter,
  InfluxHistoryStore,
  isHistoryError,
} from '@shelfsense/central/history';
import { InfluxHistoryConfig, type InfluxHistoryConfigInput, isShelfError } from '@shelfsense/protocol';
import { InfluxDB } from 'influx';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/brokers.js';
import { startInfluxd, type TestInfluxd } from '../../helpers/influxd.js';
import { waitFor } from '../../helpers/wait.js';
import { BASE_TS, Points } from './fixtures.js';

const log = pino({ level: 'silent' });
const LANE = { site: 's1', shelf: 'a', lane: 'l1' };

describe('InfluxDB history store', () => {
  let influxd: TestInfluxd;
  let raw: InfluxDB;
  const stores: { stop(): Promise<void> }[] = [];
  beforeAll(async () => {
    influxd = await startInfluxd();
    raw = new InfluxDB({ host: influxd.host, port: influxd.port });
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.stop();
  });
  afterAll(async () => {
    await influxd?.close();
  });

  const open = async (over: InfluxHistoryConfigInput = {}) => {
    const config = InfluxHistoryConfig.parse({
      host: influxd.host,
      port: influxd.port,
      retention: '7d',
      ...over,
    });
    const store = new InfluxHistoryStore({ config, log });
    stores.push(store);
    await store.start();
    return store;
  };

  it('[HIST-INFLUX-PREPARE] start creates the database and a default retention policy; a changed retention is altered', async () => {
    await open({ database: 'prep', retention: '2d', retentionPolicy: 'keep' });
    expect(await raw.getDatabaseNames()).toContain('prep');
    let rp = (await raw.showRetentionPolicies('prep')).find((p) => p.name === 'keep');
    expect(rp).toMatchObject({ duration: '48h0m0s', default: true });

    await open({ database: 'prep', retention: '36h', retentionPolicy: 'keep' });
    rp = (await raw.showRetentionPolicies('prep')).find((p) => p.name === 'keep');
    expect(rp).toMatchObject({ duration: '36h0m0s', default: true });

    await open({ database: 'prep', retention: 0, retentionPolicy: 'keep' });
    rp = (await raw.showRetentionPolicies('prep')).find((p) => p.name === 'keep');
    expect(rp).toMatchObject({ duration: '0s', default: true });
  });

  it('[HIST-INFLUX-LAYOUT] level points carry the tags site, shelf, lane, sku, supplier, agent and typed fields', async () => {
    const store = await open({ database: 'layout' });
    const pts = new Points();
    await store.write([
      pts.level(LANE, BASE_TS, {}, 'acme'),
      pts.event(LANE, BASE_TS + 1),
      pts.health('s1', 'a', BASE_TS + 2),
      pts.calibration(LANE, BASE_TS + 3),
    ]);
    const tagKeys = async (m: string) =>
      (await raw.query<{ tagKey: string }>(`SHOW TAG KEYS ON "layout" FROM "${m}"`, { database: 'layout' }))
        .map((r) => r.tagKey)
        .sort();
    const fieldTypes = async (m: string) =>
      Object.fromEntries(
        (
          await raw.query<{ fieldKey: string; fieldType: string }>(
            `SHOW FIELD KEYS ON "layout" FROM "${m}"`,
            {
              database: 'layout',
            },
          )
        ).map((r) => [r.fieldKey, r.fieldType]),
      );
    expect(await tagKeys('level')).toEqual(['agent', 'lane', 'shelf', 'site', 'sku', 'supplier']);
    expect(await fieldTypes('level')).toMatchObject({
      units: 'integer',
      grams: 'float',
      fill: 'float',
      stable: 'boolean',
      confidence: 'float',
      state: 'string',
      seq: 'integer',
    });
    expect(await tagKeys('event')).toEqual(['agent', 'kind', 'lane', 'shelf', 'site', 'sku', 'supplier']);
    expect(await tagKeys('health')).toEqual(['agent', 'shelf', 'site']);
    expect(await fieldTypes('health')).toMatchObject({
      status: 'string',
      severity: 'integer',
      ch1_noise_g: 'float',
    });
    expect(await tagKeys('calibration')).toEqual(['agent', 'kind', 'lane', 'shelf', 'site']);
    const supplier = await raw.query<{ value: string }>(
      'SHOW TAG VALUES ON "layout" FROM "level" WITH KEY = "supplier"',
      { database: 'layout' },
    );
    expect(supplier.map((r) => r.value)).toEqual(['acme']);
  });

  it('[HIST-INFLUX-UNREACHABLE] start does not fail without a server; writes and queries reject as unavailable', async () => {
    const config = InfluxHistoryConfig.parse({
      host: '127.0.0.1',
      port: await freePort(),
      requestTimeoutMs: 2_000,
    });
    const store = new InfluxHistoryStore({ config, log });
    stores.push(store);
    await store.start();
    const write = store.write([new Points().level(LANE, BASE_TS)]);
    await expect(write).rejects.toSatisfy((e) => isHistoryError(e, HistoryErrorCodes.UNAVAILABLE));
    await expect(store.levels(LANE)).rejects.toSatisfy((e) =>
      isHistoryError(e, HistoryErrorCodes.UNAVAILABLE),
    );
  });

  it('[HIST-INFLUX-REJECTED] a point InfluxDB refuses (field type conflict) is counted as rejected, the rest is written', async () => {
    const store = await open({ database: 'conflict' });
    // Someone else wrote `units` as a string into the same shard first.
    await raw.writePoints(
      [
        {
          measurement: 'level',
          tags: { site: 'x' },
          fields: { units: 'many' },
          timestamp: new Date(BASE_TS),
        },
      ],
      { database: 'conflict', precision: 'ms' },
    );
    const pts = new Points();
    const r = await store.write([pts.event(LANE, BASE_TS + 1), pts.level(LANE, BASE_TS + 2)]);
    expect(r).toEqual({ written: 1, rejected: 1 });
    expect(await store.events(LANE)).toHaveLength(1);
  });

  it('[HIST-INFLUX-RECREATE] a database dropped behind the store is created again and the writer delivers', async () => {
    const store = await open({ database: 'gone' });
    const writer = new HistoryWriter({
      store,
      batchSize: 10,
      flushMs: 5,
      bufferLimit: 100,
      retry: { initialMs: 10, maxMs: 50 },
      log,
    });
    writer.start();
    stores.push(writer);
    const pts = new Points();
    writer.enqueue([pts.level(LANE, BASE_TS)]);
    await waitFor(() => writer.counters.written === 1, 5_000, { what: 'the first point' });
    await raw.dropDatabase('gone');
    writer.enqueue([pts.level(LANE, BASE_TS + 1)]);
    await waitFor(() => writer.counters.written === 2, 5_000, { what: 'the point after the drop' });
    expect((await store.levels(LANE)).map((r) => r.ts)).toEqual([BASE_TS + 1]);
  });

  it('[HIST-INFLUX-PASSWORD] an unreadable password file is a clear config error', () => {
    const config = InfluxHistoryConfig.parse({ username: 'u', passwordFile: '/nonexistent/influx.pw' });
    let err: unknown;
    try {
      new InfluxHistoryStore({ config, log });
    } catch (e) {
      err = e;
    }
    expect(isShelfError(err, 'SHELF_ERR_FILE')).toBe(true);
    expect((err as Error).message).toMatch(/history\.influx\.passwordFile/);
  });
});
