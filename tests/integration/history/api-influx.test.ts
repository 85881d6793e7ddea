/**
 * With `history.store: influx`, the HTTP API's history route and CSV export (and so the dashboard's
 * charts) read InfluxDB: a real influxd on free ports, the real API over real HTTP (the http
 * harness), and different readings in InfluxDB and in the SQLite store, so each answer shows which
 * one it came from. The lane view's newest level stays with the central store (docs/http-api.md).
 */
import { type HistoryPoint, InfluxHistoryStore } from '@shelfsense/central/history';
import { type LaneView, parseCsv } from '@shelfsense/central/http';
import { levelPages } from '@shelfsense/central/testing';
import { InfluxHistoryConfig, ShelfMap } from '@shelfsense/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/brokers.js';
import { startInfluxd, type TestInfluxd } from '../../helpers/influxd.js';
import { CONFIG, type Harness, startHarness, T0 } from '../http/harness.js';

const log = pino({ level: 'silent' });
const FROM = T0 - 3_600_000;

interface History {
  levels: { ts: number; units: number; grams: number; state: string }[];
  events: { ts: number; kind: string; delta: number; units: number }[];
}

/** InfluxDB keeps points forever here: the harness's clock (T0) lies in the past. */
function influxConfig(host: string, port: number, database: string) {
  return InfluxHistoryConfig.parse({
    host,
    port,
    database,
    setup: true,
    retention: 0,
    requestTimeoutMs: 5_000,
  });
}

describe('HTTP API on InfluxDB history', () => {
  let influxd: TestInfluxd;
  let influx: InfluxHistoryStore;
  let h: Harness;
  let admin: string;

  beforeAll(async () => {
    influxd = await startInfluxd();
    influx = new InfluxHistoryStore({ config: influxConfig(influxd.host, influxd.port, 'api'), log });
    await influx.start();
    h = await startHarness({ history: influx });
    admin = await h.login('admin');

    // InfluxDB: what the history writer would have written.
    const points: HistoryPoint[] = [
      { ...h.level('AX', 7, -3_000), supplier: 'X' },
      { ...h.event('AX', 'pick', -1, 6, -2_000), supplier: 'X' },
      { ...h.level('AX', 6, -2_000), supplier: 'X' },
      { ...h.level('BY', 3, -1_000), supplier: 'Y' },
    ] as HistoryPoint[];
    const w = await influx.write(points);
    expect(w).toEqual({ written: 4, rejected: 0 });
    // SQLite: readings InfluxDB never saw (other counts, other times).
    h.store.readings.commit([h.level('AX', 20, -1_500), h.event('AX', 'restock', 14, 20, -1_500)], h.now.t);
  });

  afterAll(async () => {
    await h?.close();
    await influx?.stop();
    await influxd?.close();
  });

  it('[HIST-API-INFLUX] the lane history route returns the levels and events written to InfluxDB, not to SQLite', async () => {
    const r = await h.call<History>('GET', `/api/lanes/A/a1/l1/history?from=${FROM}&to=${T0}`, {
      token: admin,
    });
    expect(r.status).toBe(200);
    expect(r.body.levels).toEqual([
      { ts: T0 - 3_000, units: 7, grams: 7 * 350 + 0.25, state: 'ok' },
      { ts: T0 - 2_000, units: 6, grams: 6 * 350 + 0.25, state: 'ok' },
    ]);
    expect(r.body.events).toEqual([{ ts: T0 - 2_000, kind: 'pick', delta: -1, units: 6 }]);
  });

  it('[HIST-API-INFLUX] the CSV export returns the rows written to InfluxDB, not to SQLite, within the user scope', async () => {
    const all = await h.call<string>('GET', `/api/export.csv?from=${FROM}&to=${T0}`, { token: admin });
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = parseCsv(all.text);
    expect(rows[0]).toEqual(['ts', 'iso', 'site', 'shelf', 'lane', 'sku', 'units', 'grams', 'state']);
    expect(rows.slice(1).map((c) => [c[0], c[2], c[3], c[4], c[5], c[6]])).toEqual([
      [String(T0 - 3_000), 'A', 'a1', 'l1', 'x-cola', '7'],
      [String(T0 - 2_000), 'A', 'a1', 'l1', 'x-cola', '6'],
      [String(T0 - 1_000), 'B', 'b1', 'l2', 'y-chips', '3'],
    ]);

    // A supplier's export holds only its own lanes, from InfluxDB as well.
    const x = await h.call<string>('GET', `/api/export.csv?from=${FROM}&to=${T0}`, {
      token: await h.login('sup-x'),
    });
    expect(
      parseCsv(x.text)
        .slice(1)
        .map((c) => [c[2], c[6]]),
    ).toEqual([
      ['A', '7'],
      ['A', '6'],
    ]);
  });

  it('[HIST-API-INFLUX] the lane view keeps the newest level from the central store', async () => {
    const r = await h.call<LaneView>('GET', '/api/lanes/A/a1/l1', { token: admin });
    expect(r.status).toBe(200);
    expect(r.body.units).toBe(20);
    expect(r.body.updatedAt).toBe(T0 - 1_500);
  });

  it('[HIST-API-INFLUX] export pages over InfluxDB add up to one query, also across rows of one millisecond', async () => {
    const lane = new ShelfMap(CONFIG).lane('A', 'a1', 'l2');
    if (!lane) throw new Error('lane A/a1/l2 missing from the map');
    const points: HistoryPoint[] = [];
    for (let i = 0; i < 23; i++) {
      // Runs of three readings in one millisecond, kept apart by their sub-millisecond seq offset.
      points.push({
        ...h.level('AY', i % 5, -600_000 + Math.floor(i / 3) * 10),
        supplier: 'Y',
      } as HistoryPoint);
    }
    await influx.write(points);
    const ref = { site: 'A', shelf: 'a1', lane: 'l2', from: FROM, to: T0 };
    const whole = await influx.levels(ref);
    expect(whole).toHaveLength(23);
    for (const size of [1, 2, 3, 4, 22, 23, 100]) {
      const paged = [];
      for await (const page of levelPages(influx, lane, FROM, T0, size)) paged.push(...page);
      expect(paged, `page size ${size}`).toEqual(whole);
    }
  });
});

describe('HTTP API on an unreachable InfluxDB', () => {
  let h: Harness;
  let influx: InfluxHistoryStore;
  let admin: string;

  beforeAll(async () => {
    // A free port nobody listens on: every query is refused at once.
    influx = new InfluxHistoryStore({ config: influxConfig('127.0.0.1', await freePort(), 'gone'), log });
    await influx.start();
    h = await startHarness({ history: influx });
    admin = await h.login('admin');
  });
  afterAll(async () => {
    await h?.close();
    await influx?.stop();
  });

  it('[HIST-API-UNAVAILABLE] the history route answers 503 SHELF_ERR_HISTORY_UNAVAILABLE', async () => {
    const r = await h.call<{ error: { code: string } }>('GET', '/api/lanes/A/a1/l1/history', {
      token: admin,
    });
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('SHELF_ERR_HISTORY_UNAVAILABLE');
    expect(r.headers.get('retry-after')).toBe('5');
  });

  it('[HIST-API-UNAVAILABLE] the CSV export answers a JSON 503, never an empty CSV', async () => {
    const r = await h.call<{ error: { code: string } }>('GET', '/api/export.csv', { token: admin });
    expect(r.status).toBe(503);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body.error.code).toBe('SHELF_ERR_HISTORY_UNAVAILABLE');
  });
});
