/**
 * The lane view (docs/http-api.md "Lanes"): its fields from the store, the rules, the agent status
 * and shelf health; its status through every colour; history over a range; and the CSV export,
 * which must hold exactly what the history route gives for the same range.
 */
import { CSV_HEADER, parseCsv } from '@shelfsense/central/http';
import type { HealthPayload } from '@shelfsense/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, LANES, OFFLINE_AFTER_MS, startHarness, T0 } from './harness.js';

type Lane = Record<string, unknown> & { status: string; site: string; shelf: string; lane: string };
type History = {
  levels: { ts: number; units: number; grams: number; state: string }[];
  events: { ts: number; kind: string; delta: number; units: number }[];
};
type ErrorBody = { error: { code: string; message: string; issues?: { path: string }[] } };

function health(channels: [number, HealthPayload['status']][], ts: number): HealthPayload {
  return {
    agent: 'agent-a',
    serial: 'SA1',
    status: channels.some(([, s]) => s !== 'ok') ? 'saturated' : 'ok',
    channels: channels.map(([channel, status]) => ({ channel, status, noiseG: 0.4, driftG: 0 })),
    rejects: {},
    ts,
  };
}

describe('HTTP API: lanes, history and export', () => {
  let h: Harness;
  let admin: string;
  beforeAll(async () => {
    h = await startHarness();
    admin = await h.login('admin');
  });
  afterAll(() => h?.close());

  const lane = async (path = '/api/lanes/A/a1/l1') =>
    (await h.call<Lane>('GET', path, { token: admin })).body;

  it('[lane view] a lane that never reported is offline with its map facts and nulls for the unknown', async () => {
    const v = await lane();
    expect(v).toEqual({
      site: 'A',
      shelf: 'a1',
      lane: 'l1',
      sku: 'x-cola',
      skuName: 'Cola 0.33 l',
      supplier: 'X',
      unitWeightG: 350,
      capacity: 24,
      units: null,
      grams: null,
      fill: null,
      state: null,
      stable: null,
      confidence: null,
      status: 'offline',
      offlineAfterMs: OFFLINE_AFTER_MS,
      reorderPoint: 4,
      orderUpTo: 24,
      ratePerDay: null,
      daysOfCover: null,
      stockoutAt: null,
      agent: 'agent-a',
      agentOnline: null,
      health: null,
      updatedAt: null,
      openOrder: null,
    });
  });

  it('[lane status] ok → below-reorder → ordered → stock-out → sensor-fault → offline, from real readings', async () => {
    h.live.onStatus('A', { agent: 'agent-a', site: 'A', state: 'online', shelves: ['SA1'], ts: T0 - 10_000 });
    h.live.onHealth(
      'A',
      'a1',
      health(
        [
          [0, 'ok'],
          [1, 'ok'],
        ],
        T0 - 10_000,
      ),
    );
    h.feed(h.level('AX', 10, -9_000), h.event('AX', 'pick', -2, 8, -8_000), h.level('AX', 8, -8_000));
    let v = await lane();
    expect(v).toMatchObject({
      status: 'ok',
      units: 8,
      grams: 8 * 350 + 0.25,
      fill: 8 / 24,
      state: 'ok',
      stable: true,
      confidence: 0.97,
      agentOnline: true,
      health: 'ok',
      updatedAt: T0 - 8_000,
    });
    expect(v.ratePerDay).toEqual(expect.any(Number));
    expect(v.daysOfCover).toEqual(expect.any(Number));
    expect(v.stockoutAt).toEqual(expect.any(Number));

    h.feed(h.level('AX', 4, -7_000));
    expect((await lane()).status).toBe('below-reorder');

    const id = h.openOrder('AX', 20);
    v = await lane();
    expect(v.status).toBe('ordered');
    expect(v.openOrder).toEqual({ id, state: 'open', quantity: 20 });

    h.feed(h.level('AX', 0, -6_000));
    expect((await lane()).status).toBe('stock-out');

    // A saturated cell on channel 0 faults l1 only; l2 (channel 1) stays as it is.
    h.feed(h.level('AY', 20, -6_000));
    h.live.onHealth(
      'A',
      'a1',
      health(
        [
          [0, 'saturated'],
          [1, 'ok'],
        ],
        T0 - 5_000,
      ),
    );
    v = await lane();
    expect(v).toMatchObject({ status: 'sensor-fault', health: 'saturated' });
    expect(await lane('/api/lanes/A/a1/l2')).toMatchObject({ status: 'ok', health: 'ok' });
    // The lane's own fault state does it too.
    h.live.onHealth(
      'A',
      'a1',
      health(
        [
          [0, 'ok'],
          [1, 'ok'],
        ],
        T0 - 4_000,
      ),
    );
    h.feed(h.level('AY', 20, -4_000, { state: 'fault' }));
    expect((await lane('/api/lanes/A/a1/l2')).status).toBe('sensor-fault');

    // The agent's last will: everything it serves is offline.
    h.live.onStatus('A', { agent: 'agent-a', site: 'A', state: 'offline', shelves: [], ts: T0 - 3_000 });
    expect((await lane()).status).toBe('offline');
    expect((await lane()).agentOnline).toBe(false);
    // Back online: the previous status returns. An older retained status does not undo it.
    h.live.onStatus('A', { agent: 'agent-a', site: 'A', state: 'online', shelves: [], ts: T0 - 2_000 });
    h.live.onStatus('A', { agent: 'agent-a', site: 'A', state: 'offline', shelves: [], ts: T0 - 20_000 });
    expect((await lane()).status).toBe('stock-out');
    h.orders.transition(id, 'cancelled', { now: h.now.t });
  });

  it('[lane status] no level for the offline timeout is offline, though the agent says online', async () => {
    const start = h.now.t;
    try {
      h.feed(h.level('BX', 10, -1_000));
      const b = '/api/lanes/B/b1/l1';
      expect((await lane(b)).status).toBe('ok');
      h.now.t = T0 - 1_000 + OFFLINE_AFTER_MS;
      expect((await lane(b)).status).toBe('offline');
    } finally {
      h.now.t = start;
    }
  });

  it('[lanes] the list holds the same views as the single-lane route', async () => {
    const list = (await h.call<Lane[]>('GET', '/api/lanes', { token: admin })).body;
    expect(list.map((l) => `${l.site}/${l.shelf}/${l.lane}`)).toEqual([
      'A/a1/l1',
      'A/a1/l2',
      'B/b1/l1',
      'B/b1/l2',
    ]);
    for (const l of list) expect(await lane(`/api/lanes/${l.site}/${l.shelf}/${l.lane}`)).toEqual(l);
  });

  it('[history] levels and events in [from, to), the last 24 hours by default', async () => {
    const day = 86_400_000;
    h.feed(
      h.level('BY', 30, -day - 60_000),
      h.level('BY', 28, -3_600_000),
      h.event('BY', 'pick', -2, 28, -3_600_000),
      h.level('BY', 25, -1_800_000),
      h.event('BY', 'pick', -3, 25, -1_800_000),
    );
    const dflt = await h.call<History>('GET', '/api/lanes/B/b1/l2/history', { token: admin });
    expect(dflt.status).toBe(200);
    expect(dflt.body.levels.map((l) => l.units)).toEqual([28, 25]);
    expect(dflt.body.levels[0]).toEqual({
      ts: T0 - 3_600_000,
      units: 28,
      grams: 28 * 120 + 0.25,
      state: 'ok',
    });
    expect(dflt.body.events).toEqual([
      { ts: T0 - 3_600_000, kind: 'pick', delta: -2, units: 28 },
      { ts: T0 - 1_800_000, kind: 'pick', delta: -3, units: 25 },
    ]);
    const range = await h.call<History>(
      'GET',
      `/api/lanes/B/b1/l2/history?from=${T0 - 2 * day}&to=${T0 - 1_800_000}`,
      { token: admin },
    );
    expect(range.body.levels.map((l) => l.units)).toEqual([30, 28]);
    expect(range.body.events.map((e) => e.delta)).toEqual([-2]);
  });

  it('[400] history and export query strings are validated, naming the field', async () => {
    const bad = await h.call<ErrorBody>('GET', '/api/lanes/B/b1/l2/history?from=yesterday', { token: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues?.map((i) => i.path)).toEqual(['from']);
    const order = await h.call<ErrorBody>('GET', `/api/lanes/B/b1/l2/history?from=${T0}&to=${T0 - 1}`, {
      token: admin,
    });
    expect(order.status).toBe(400);
    expect(order.body.error.issues?.map((i) => i.path)).toEqual(['to']);
    const csv = await h.call<ErrorBody>('GET', '/api/export.csv?to=-5', { token: admin });
    expect(csv.status).toBe(400);
    expect(csv.body.error.issues?.map((i) => i.path)).toEqual(['to']);
    const sku = await h.call<ErrorBody>('GET', '/api/export.csv?sku=a,b', { token: admin });
    expect(sku.body.error.issues?.map((i) => i.path)).toEqual(['sku']);
  });

  it('[export] the CSV holds exactly the history the API gives for the same range, lane by lane', async () => {
    const from = T0 - 2 * 86_400_000;
    const to = T0;
    const r = await h.call<string>('GET', `/api/export.csv?from=${from}&to=${to}`, { token: admin });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="shelfsense-levels-/);
    expect(r.text.endsWith('\r\n')).toBe(true);
    const [header, ...rows] = parseCsv(r.text);
    expect(header).toEqual([...CSV_HEADER]);
    let total = 0;
    for (const ref of Object.values(LANES)) {
      const path = `/api/lanes/${ref.site}/${ref.shelf}/${ref.lane}/history?from=${from}&to=${to}`;
      const hist = (await h.call<History>('GET', path, { token: admin })).body;
      const mine = rows.filter((c) => c[2] === ref.site && c[3] === ref.shelf && c[4] === ref.lane);
      expect(
        mine.map((c) => ({ ts: Number(c[0]), units: Number(c[6]), grams: Number(c[7]), state: c[8] })),
      ).toEqual(hist.levels);
      for (const c of mine) {
        expect(c[1]).toBe(new Date(Number(c[0])).toISOString());
        expect(c[5]).toBe(ref.lane === 'l1' ? 'x-cola' : 'y-chips');
      }
      total += mine.length;
    }
    expect(total).toBe(rows.length);
    expect(total).toBeGreaterThan(5);
    // The site filter.
    const b = parseCsv(
      (await h.call<string>('GET', `/api/export.csv?from=${from}&to=${to}&site=B`, { token: admin })).text,
    );
    expect(b.slice(1).every((c) => c[2] === 'B')).toBe(true);
    expect(b.length - 1).toBe(rows.filter((c) => c[2] === 'B').length);
  });

  it('[calibrations] a lane’s calibration records, newest first, naming the technician', async () => {
    const rec = (seq: number, ts: number, user: string) => ({
      site: 'A',
      shelf: 'a1',
      lane: 'l1',
      kind: 'calibration' as const,
      payload: {
        agent: 'agent-a',
        serial: 'SA1',
        shelf: 'a1',
        lane: 'l1',
        kind: 'tare' as const,
        by: { user, role: 'technician' },
        channels: [0],
        referenceG: null,
        items: null,
        before: { offset: 1 },
        after: { offset: 2 },
        residualG: null,
        ts,
        seq,
      },
    });
    h.store.readings.commit([rec(9_001, T0 - 5_000, 'tech-a'), rec(9_002, T0 - 4_000, 'tech-b')], h.now.t);
    const r = await h.call<{ by: { user: string }; ts: number }[]>('GET', '/api/lanes/A/a1/l1/calibrations', {
      token: await h.login('tech-a'),
    });
    expect(r.status).toBe(200);
    expect(r.body.map((c) => [c.by.user, c.ts])).toEqual([
      ['tech-b', T0 - 4_000],
      ['tech-a', T0 - 5_000],
    ]);
  });
});
