/**
 * The history contract (abstract-store.ts) run against both stores: SQLite on a temp file, and a
 * real InfluxDB 1.x started for this file on free ports.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxHistoryStore, SqliteHistoryStore } from '@shelfsense/central/history';
import { Store } from '@shelfsense/central/store';
import { InfluxHistoryConfig } from '@shelfsense/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe } from 'vitest';
import { startInfluxd, type TestInfluxd } from '../../helpers/influxd.js';
import { historyStoreContract } from './abstract-store.js';

const log = pino({ level: 'silent' });

describe('SQLite history store', () => {
  historyStoreContract('SQLite', async ({ levelIntervalMs }) => {
    const dir = mkdtempSync(join(tmpdir(), 'history-sqlite-'));
    const db = Store.open({ file: join(dir, 'central.db'), historyIntervalMs: levelIntervalMs });
    const store = new SqliteHistoryStore(db);
    await store.start();
    return {
      store,
      async close() {
        await store.stop();
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});

describe('InfluxDB history store', () => {
  let influxd: TestInfluxd;
  let n = 0;
  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(async () => {
    await influxd?.close();
  });

  historyStoreContract('InfluxDB 1.x', async ({ levelIntervalMs }) => {
    const config = InfluxHistoryConfig.parse({
      host: influxd.host,
      port: influxd.port,
      database: `contract_${++n}`,
      retention: '7d',
      setup: true,
      levels: levelIntervalMs > 0 ? 'downsampled' : 'all',
      levelIntervalMs,
    });
    const store = new InfluxHistoryStore({ config, log });
    await store.start();
    return { store, close: () => store.stop() };
  });
});
