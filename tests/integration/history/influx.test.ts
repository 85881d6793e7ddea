/**
 * What only the InfluxDB store does, against a real influxd: a database the user owns left as it
 * is, the database and retention policy it prepares only when asked, the measurement layout Grafana reads (tags and typed fields), an unreachable server,
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
      setup: true,
      ...over,
    });
    const store = new InfluxHistoryStore({ config, log });
    stores.push(store);
    await store.start();
    return store;
  };

  const policies = async (db: string) =>
    (await raw.showRetentionPolicies(db)).map((p) => ({
      name: p.name,
      duration: p.duration,
      default: p.default,
    }));
  const count = async (from: string) =>
    (
      await raw.query<{ count: number }>(`SELECT count("units") FROM ${from}`, {
        database: from.split('.')[0]!.replaceAll('"', ''),
      })
    )[0]?.count ?? 0;

  it('[HIST-INFLUX-OWNED] by default a database the user owns is written to as it is: no policy created or altered', async () => {
    await raw.createDatabase('owned');
    await raw.createRetentionPolicy('keep_1y', {
      database: 'owned',
      duration: '52w',
      replication: 1,
      isDefault: true,
    });
    const before = await policies('owned');
    const store = await open({ database: 'owned', setup: false });
    const pts = new Points();
    await store.write([pts.level(LANE, BASE_TS), pts.level(LANE, BASE_TS + 1)]);
    expect(await policies('owned')).toEqual(before);
    expect(before.find((p) => p.default)).toMatchObject({ name: 'keep_1y', duration: '8736h0m0s' });
    // Written to, and read from, the database's default policy.
    expect(await count('"owned"."keep_1y"."level"')).toBe(2);
    expect((await store.levels(LANE)).map((r) => r.ts)).toEqual([BASE_TS, BASE_TS + 1]);
  });

  it('[HIST-INFLUX-OWNED] a missing database is not created: the write is retried and says how to fix it', async () => {
    const store = await open({ database: 'not_yet', setup: false });
    const pts = new Points();
    let err: unknown;
    try {
      await store.write([pts.level(LANE, BASE_TS)]);
    } catch (e) {
      err = e;
    }
    expect(isHistoryError(err, HistoryErrorCodes.UNAVAILABLE)).toBe(true);
    expect((err as Error).message).toMatch(/CREATE DATABASE "not_yet"/);
    expect((err as Error).message).toMatch(/history\.influx\.setup: true/);
    expect(await raw.getDatabaseNames()).not.toContain('not_yet');
    // Once its owner creates it, the same write goes through.
    await raw.createDatabase('not_yet');
    await store.write([pts.level(LANE, BASE_TS)]);
    expect((await store.levels(LANE)).map((r) => r.ts)).toEqual([BASE_TS]);
  });

  it('[HIST-INFLUX-OWNED] a named retention policy that does not exist is retried, not dropped', async () => {
    await raw.createDatabase('owned_rp');
    const store = await open({ database: 'owned_rp', setup: false, retentionPolicy: 'absent' });
    const pts = new Points();
    await expect(store.write([pts.level(LANE, BASE_TS)])).rejects.toSatisfy(
      (e: unknown) =>
        isHistoryError(e, HistoryErrorCodes.UNAVAILABLE) &&
        /retention policy "absent"/.test((e as Error).message),
    );
    expect((await policies('owned_rp')).map((p) => p.name)).not.toContain('absent');
  });

  it('[HIST-INFLUX-SETUP] with setup, a missing database is created with its own default policy; nothing existing is altered', async () => {
    const store = await open({ database: 'prep', retention: '2d', retentionPolicy: 'keep' });
    expect(await raw.getDatabaseNames()).toContain('prep');
    expect(await policies('prep')).toEqual([{ name: 'keep', duration: '48h0m0s', default: true }]);
    const pts = new Points();
    await store.write([pts.level(LANE, BASE_TS)]);
    // Readers that name no policy, as Grafana's queries do, see the points.
    expect(await count('"prep".."level"')).toBe(1);

    // A later start with another retention leaves the existing policy as it is.
    await open({ database: 'prep', retention: '36h', retentionPolicy: 'keep' });
    expect(await policies('prep')).toEqual([{ name: 'keep', duration: '48h0m0s', default: true }]);

    // A policy named for an existing database is created beside its default, not as it.
    const other = await open({ database: 'prep', retention: 0, retentionPolicy: 'extra' });
    expect(await policies('prep')).toEqual([
      { name: 'keep', duration: '48h0m0s', default: true },
      { name: 'extra', duration: '0s', default: false },
    ]);
    await other.write([pts.level(LANE, BASE_TS + 1)]);
    expect(await count('"prep"."extra"."level"')).toBe(1);
    expect(await count('"prep"."keep"."level"')).toBe(1);
  });

  it('[HIST-INFLUX-SETUP] setup on a database the user owns changes none of its policies', async () => {
    await raw.createDatabase('owned_default');
    await raw.createRetentionPolicy('mine', {
      database: 'owned_default',
      duration: '30d',
      replication: 1,
      isDefault: true,
    });
    const before = await policies('owned_default');
    const store = await open({ database: 'owned_default', retention: '2d' });
    await store.write([new Points().level(LANE, BASE_TS)]);
    expect(await policies('owned_default')).toEqual(before);
    expect(await count('"owned_default"."mine"."level"')).toBe(1);
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
