/**
 * The history service as central wires it: with SQLite the commit already holds the readings and
 * only health is written; with InfluxDB a writer is fed, and its counters are Prometheus gauges.
 */

import {
  HistoryService,
  pointsFromReadings,
  pruneHealth,
  registerHistoryMetrics,
} from '@shelfsense/central/history';
import { Store } from '@shelfsense/central/store';
import { HistoryConfig } from '@shelfsense/protocol';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../helpers/brokers.js';
import { waitFor } from '../../../helpers/wait.js';
import { BASE_TS, Points } from '../../../integration/history/fixtures.js';

const log = pino({ level: 'silent' });
const LANE = { site: 's1', shelf: 'a', lane: 'l1' };
const open: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.stop();
});

describe('HistoryService', () => {
  it('[HIST-SQLITE] with SQLite, committed readings are the history and health is written beside them', async () => {
    const store = Store.open(':memory:');
    const history = new HistoryService({ config: HistoryConfig.parse({}), store, log });
    await history.start();
    open.push({
      stop: async () => {
        await history.stop();
        store.close();
      },
    });
    const pts = new Points();
    const reading = pts.level(LANE, BASE_TS);
    const accepted = store.readings.commit([reading]).accepted;
    history.onCommitted(accepted); // nothing to do: the commit wrote it
    expect(history.writer.buffered).toBe(0);
    expect(await history.store.levels(LANE)).toHaveLength(1);
    const h = pts.health('s1', 'a', BASE_TS);
    history.onHealth('s1', 'a', h.payload);
    // Health goes through the same writer as with InfluxDB.
    expect(history.writer.buffered).toBe(1);
    await waitFor(async () => (await history.store.health()).length === 1, 2_000, { what: 'the health row' });
    expect(pruneHealth(store, BASE_TS)).toBe(0);
    expect(pruneHealth(store, BASE_TS + 1)).toBe(1);
    expect(await history.store.health()).toEqual([]);
  });

  it('[HIST-TAGS] committed readings become points tagged with their lane’s supplier', () => {
    const pts = new Points();
    const points = pointsFromReadings(
      [pts.level(LANE, BASE_TS), pts.event(LANE, BASE_TS + 1), pts.calibration(LANE, BASE_TS + 2)],
      (site, shelf, lane) => (`${site}/${shelf}/${lane}` === 's1/a/l1' ? 'acme' : undefined),
    );
    expect(points.map((p) => ('supplier' in p ? p.supplier : 'none'))).toEqual(['acme', 'acme', 'none']);
  });

  it('[HIST-METRICS] with InfluxDB, the writer takes the readings at once and its counters are gauges', async () => {
    const store = Store.open(':memory:');
    const config = HistoryConfig.parse({
      store: 'influx',
      influx: { port: await freePort(), flushMs: 60_000, stopTimeoutMs: 0 },
    });
    const history = new HistoryService({ config, store, log });
    await history.start(); // nothing listens there: start still succeeds
    open.push({
      stop: async () => {
        await history.stop();
        store.close();
      },
    });
    const pts = new Points();
    history.onCommitted([pts.level(LANE, BASE_TS), pts.event(LANE, BASE_TS + 1)]);
    history.onHealth('s1', 'a', pts.health('s1', 'a', BASE_TS).payload);
    expect(history.writer?.buffered).toBe(3);
    const registry = new Registry();
    registerHistoryMetrics(registry, history.writer!);
    const text = await registry.metrics();
    expect(text).toMatch(/^shelfsense_central_history_buffered 3$/m);
    expect(text).toMatch(/^shelfsense_central_history_dropped_total 0$/m);
    expect(text).toMatch(/^shelfsense_central_history_written_total 0$/m);
  });
});
