/**
 * The history writer against real parts: aedes, ingest committing to a SQLite file, and a real
 * influxd that is stopped, paused and restarted under it. Ingest must never wait for InfluxDB; the
 * writer buffers within its bound and delivers after InfluxDB returns, dropping (and counting)
 * only the oldest points past the bound.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MqttBus } from '@shelfsense/central';
import { HistoryService, HistoryWriter, InfluxHistoryStore } from '@shelfsense/central/history';
import { Store } from '@shelfsense/central/store';
import { Ingest } from '@shelfsense/central/testing';
import { HistoryConfig, InfluxHistoryConfig, type LevelPayload, topics } from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '../../helpers/brokers.js';
import { startInfluxd, type TestInfluxd } from '../../helpers/influxd.js';
import { waitFor } from '../../helpers/wait.js';
import { BASE_TS, Points } from './fixtures.js';

const log = pino({ level: 'silent' });

/** mulberry32: the retry jitter is seeded so a run can be repeated exactly. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function influx(): Promise<TestInfluxd> {
  const s = await startInfluxd();
  cleanups.push(() => s.close());
  return s;
}

function tempStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'history-writer-'));
  const store = Store.open(join(dir, 'central.db'));
  cleanups.push(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

/** Central's ingest on aedes, committing to SQLite and feeding the history service. */
async function pipeline(influxd: TestInfluxd, influxOverrides: Record<string, unknown> = {}) {
  const broker: TestBroker = await startAedes();
  cleanups.push(() => broker.close());
  const store = tempStore();
  const config = HistoryConfig.parse({
    store: 'influx',
    influx: {
      host: influxd.host,
      port: influxd.port,
      database: 'shelfsense',
      retention: '7d',
      setup: true,
      batchSize: 200,
      flushMs: 20,
      bufferLimit: 10_000,
      retry: { initialMs: 50, maxMs: 400 },
      ...influxOverrides,
    },
  });
  const history = new HistoryService({ config, store, supplierOf: () => 'acme', log, random: seeded(7) });
  await history.start();
  cleanups.push(() => history.stop());
  const bus = new MqttBus(log);
  await bus.connect({ url: broker.url, clientId: 'central-history-test' });
  cleanups.push(() => bus.close());
  const ingest = new Ingest({
    bus,
    store,
    rules: null,
    batchSize: 100,
    flushMs: 10,
    log,
  });
  ingest.on('committed', history.onCommitted);
  await ingest.start();
  cleanups.push(() => ingest.stop());
  const pub: MqttClient = await mqtt.connectAsync(broker.url, { clientId: 'agent-s1' });
  cleanups.push(() => pub.endAsync());
  const writer = history.writer as HistoryWriter;
  let seq = 0;
  /** Publishes n level readings (QoS 1, in order) as an agent would. */
  const publish = async (n: number) => {
    for (let i = 0; i < n; i++) {
      seq++;
      const payload: LevelPayload = {
        agent: 'agent-s1',
        serial: 'SN-a',
        sku: 'cola-330',
        units: seq % 24,
        grams: (seq % 24) * 330,
        fill: (seq % 24) / 24,
        stable: true,
        confidence: 0.95,
        state: 'ok',
        ts: BASE_TS + seq * 10,
        seq,
        frameSeq: seq,
      };
      await pub.publishAsync(topics.level('s1', 'a', `l${seq % 4}`), JSON.stringify(payload), { qos: 1 });
    }
  };
  return { store, history, ingest, writer, publish, sent: () => seq };
}

describe('history writer', () => {
  it('[HIST-WRITER-OUTAGE] while influxd is stopped ingest keeps committing, the writer buffers, and after a restart everything arrives', async () => {
    const influxd = await influx();
    const p = await pipeline(influxd);
    await p.publish(100);
    await waitFor(() => p.writer.counters.written === 100, 10_000, {
      what: 'the first 100 points in InfluxDB',
    });

    await influxd.stop();
    await p.publish(2_000);
    // Ingest was never held up: every reading is committed to SQLite while InfluxDB is away.
    await waitFor(() => p.ingest.counters.committed === 2_100, 15_000, {
      what: 'ingest to commit all readings',
    });
    await waitFor(() => p.writer.counters.failures > 0 && p.writer.buffered === 2_000, 10_000, {
      what: 'the writer to notice the outage and hold every point',
    });
    expect(p.writer.counters.written).toBe(100);
    expect(p.writer.counters.dropped).toBe(0);

    await influxd.restart();
    await waitFor(() => p.writer.buffered === 0 && p.writer.counters.written === 2_100, 20_000, {
      what: 'the buffer to drain into the restarted influxd',
    });
    expect(p.writer.counters.retries).toBeGreaterThan(0);
    expect(p.writer.counters.dropped).toBe(0);
    const rows = await p.history.store.levels({ site: 's1' });
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 2_100 }, (_, i) => i + 1));
  });

  it('[HIST-WRITER-HUNG] a paused influxd (requests hang) does not hold ingest, and nothing is doubled after it resumes', async () => {
    const influxd = await influx();
    const p = await pipeline(influxd, { requestTimeoutMs: 300 });
    await p.publish(50);
    await waitFor(() => p.writer.counters.written === 50, 10_000, { what: 'the first points in InfluxDB' });

    influxd.signal('SIGSTOP');
    try {
      await p.publish(500);
      await waitFor(() => p.ingest.counters.committed === 550, 15_000, {
        what: 'ingest to commit while influxd hangs',
      });
      await waitFor(() => p.writer.counters.failures > 0, 10_000, { what: 'a write to time out' });
    } finally {
      influxd.signal('SIGCONT');
    }
    await waitFor(() => p.writer.buffered === 0 && p.writer.counters.written >= 550, 20_000, {
      what: 'the buffer to drain once influxd runs again',
    });
    // A write that timed out on our side may still have landed; written again, it lands on itself.
    const rows = await p.history.store.levels({ site: 's1' });
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 550 }, (_, i) => i + 1));
    expect(p.writer.counters.dropped).toBe(0);
  });

  it('[HIST-WRITER-BOUND] past its bound the buffer drops the oldest points and counts them; the newest arrive', async () => {
    const influxd = await influx();
    const config = InfluxHistoryConfig.parse({
      host: influxd.host,
      port: influxd.port,
      database: 'bound',
      retention: '7d',
      setup: true,
    });
    const store = new InfluxHistoryStore({ config, log });
    await store.start();
    cleanups.push(() => store.stop());
    const writer = new HistoryWriter({
      store,
      batchSize: 100,
      flushMs: 10,
      bufferLimit: 500,
      retry: { initialMs: 20, maxMs: 200 },
      log,
      random: seeded(1),
    });
    writer.start();
    cleanups.push(() => writer.stop());
    await influxd.stop();

    const pts = new Points();
    const lane = { site: 's1', shelf: 'a', lane: 'l1' };
    for (let chunk = 0; chunk < 15; chunk++) {
      writer.enqueue(
        Array.from({ length: 100 }, (_, i) => pts.level(lane, BASE_TS + (chunk * 100 + i) * 10)),
      );
      if (chunk % 5 === 0)
        await waitFor(() => writer.counters.failures > chunk / 5, 5_000, { what: 'a failed write' });
    }
    await waitFor(() => writer.counters.dropped === 1_000, 5_000, { what: '1000 of 1500 points dropped' });
    expect(writer.buffered).toBe(500);

    await influxd.restart();
    await waitFor(() => writer.buffered === 0, 15_000, { what: 'the buffer to drain' });
    expect(writer.counters.written).toBe(500);
    expect(writer.counters.dropped).toBe(1_000);
    const rows = await store.levels(lane);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 500 }, (_, i) => 1_001 + i));
  });

  it('[HIST-WRITER-STOP] stopping while influxd is down gives up what waits and counts it', async () => {
    const influxd = await influx();
    const config = InfluxHistoryConfig.parse({
      host: influxd.host,
      port: influxd.port,
      database: 'stop',
      retention: '7d',
      setup: true,
    });
    const store = new InfluxHistoryStore({ config, log });
    await store.start();
    cleanups.push(() => store.stop());
    const writer = new HistoryWriter({
      store,
      batchSize: 20,
      flushMs: 10,
      bufferLimit: 1_000,
      retry: { initialMs: 60_000, maxMs: 60_000 },
      stopTimeoutMs: 1_000,
      log,
    });
    writer.start();
    await influxd.stop();
    const pts = new Points();
    writer.enqueue(
      Array.from({ length: 50 }, (_, i) => pts.level({ site: 's1', shelf: 'a', lane: 'l1' }, BASE_TS + i)),
    );
    await waitFor(() => writer.counters.failures === 1, 5_000, { what: 'the first failed write' });
    await writer.stop();
    expect(writer.counters.dropped).toBe(50);
    expect(writer.buffered).toBe(0);
    // Stopped: new points are refused at once and counted, never buffered.
    writer.enqueue([pts.level({ site: 's1', shelf: 'a', lane: 'l1' }, BASE_TS + 99)]);
    expect(writer.counters.dropped).toBe(51);
    expect(writer.buffered).toBe(0);
  });
});
