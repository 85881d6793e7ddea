/**
 * The InfluxDB mapping without a server: point timestamps, encoding and decoding of each
 * measurement (rows shaped as the influx client returns them), WHERE clauses, durations, and how
 * client errors are sorted into "try again" and "refused". The real round trip is in
 * tests/integration/history.
 */
import { HEALTH_SEVERITY, HistoryErrorCodes, isHistoryError } from '@shelfsense/central/history';
import {
  calibrationRow,
  classify,
  eventRow,
  healthRow,
  latestLevel,
  levelRow,
  parseInfluxDuration,
  pointTime,
  retentionDuration,
  rowsOf,
  timeRange,
  toInfluxPoint,
} from '@shelfsense/central/testing';
import { describe, expect, it } from 'vitest';
import { BASE_TS, Points } from '../../../integration/history/fixtures.js';

const LANE = { site: 's1', shelf: 'a', lane: 'l1' };
const TAGS: Record<string, string[]> = {
  level: ['site', 'shelf', 'lane', 'sku', 'supplier', 'agent'],
  event: ['site', 'shelf', 'lane', 'sku', 'supplier', 'agent', 'kind'],
  health: ['site', 'shelf', 'agent'],
  calibration: ['site', 'shelf', 'lane', 'agent', 'kind'],
};

/** The row InfluxDB answers for a point (epoch=ms: time floored to ms); absent tags read back as null. */
function asRow(p: ReturnType<typeof toInfluxPoint>): Record<string, unknown> {
  const row: Record<string, unknown> = {
    time: Number(BigInt(String(p.timestamp)) / 1_000_000n),
    ...p.fields,
  };
  for (const t of TAGS[p.measurement ?? ''] ?? []) row[t] = p.tags?.[t] ?? null;
  return row;
}

describe('InfluxDB point mapping', () => {
  it('[HIST-SAME-MS] a point time is the reading time in ns plus the seq (mod 10^6)', () => {
    expect(pointTime(1_700_000_000_123, 7)).toBe('1700000000123000007');
    expect(pointTime(1_700_000_000_123, 2_000_005)).toBe('1700000000123000005');
    expect(pointTime(1_700_000_000_123)).toBe('1700000000123000000');
  });

  it('a level round-trips, nulls (sku, fill, supplier) become absent tags and fields', () => {
    const pts = new Points();
    const full = pts.level(LANE, BASE_TS + 1, {}, 'acme');
    const bare = pts.level(LANE, BASE_TS + 2, { sku: null, fill: null }, null);
    const enc = toInfluxPoint(bare);
    expect(enc.tags).not.toHaveProperty('sku');
    expect(enc.tags).not.toHaveProperty('supplier');
    expect(enc.fields).not.toHaveProperty('fill');
    for (const p of [full, bare]) {
      const row = asRow(toInfluxPoint(p));
      expect(levelRow(row)).toMatchObject({
        ...LANE,
        ts: p.payload.ts,
        sku: p.payload.sku,
        fill: p.payload.fill,
      });
      expect(latestLevel(row).level).toEqual(p.payload);
    }
  });

  it('events, calibrations and health round-trip', () => {
    const pts = new Points();
    const e = pts.event(LANE, BASE_TS, { kind: 'restock', delta: 6, units: 10 });
    expect(eventRow(asRow(toInfluxPoint(e)))).toEqual({
      ...LANE,
      agent: e.payload.agent,
      seq: e.payload.seq,
      kind: 'restock',
      delta: 6,
      units: 10,
      sku: 'cola-330',
      ts: BASE_TS,
    });
    const c = pts.calibration(LANE, BASE_TS + 5);
    expect(calibrationRow(asRow(toInfluxPoint(c))).record).toEqual(c.payload);
    const h = pts.health('s1', 'a', BASE_TS + 9);
    const hp = toInfluxPoint(h);
    expect(hp.fields).toMatchObject({ severity: HEALTH_SEVERITY.noisy, rejects_total: 4, ch1_noise_g: 4.5 });
    expect(healthRow(asRow(hp))).toEqual({ site: 's1', shelf: 'a', ...h.payload });
  });

  it('[HIST-CORRUPT] a row of the wrong shape is a HistoryError naming the field', () => {
    const row = asRow(toInfluxPoint(new Points().level(LANE, BASE_TS)));
    row['units'] = 'ten';
    let err: unknown;
    try {
      levelRow(row);
    } catch (e) {
      err = e;
    }
    expect(isHistoryError(err, HistoryErrorCodes.CORRUPT)).toBe(true);
    expect((err as Error).message).toMatch(/units/);
  });
});

describe('InfluxQL helpers', () => {
  it('WHERE clauses quote tag keys, escape tag values and bound time in ns as [from, to)', () => {
    expect(timeRange({})).toBe('');
    expect(timeRange({ site: "it's", from: 1_000, to: 2_000 }, { kind: 'pick' })).toBe(
      ` WHERE "site" = 'it\\'s' AND "kind" = 'pick' AND time >= 1000000000 AND time < 2000000000`,
    );
  });

  it('a raw answer becomes rows with the GROUP BY tags; an error inside it is thrown', () => {
    const raw = {
      results: [
        {
          statement_id: 0,
          series: [
            {
              name: 'level',
              tags: { lane: 'l1' },
              columns: ['time', 'units'],
              values: [
                [1, 5],
                [2, 6],
              ],
            },
            { name: 'level', tags: { lane: 'l2' }, columns: ['time', 'units'], values: [[3, 7]] },
          ],
        },
      ],
    };
    expect(rowsOf(raw, 'query')).toEqual([
      { lane: 'l1', time: 1, units: 5 },
      { lane: 'l1', time: 2, units: 6 },
      { lane: 'l2', time: 3, units: 7 },
    ]);
    expect(rowsOf({ results: [{ statement_id: 0 }] }, 'query')).toEqual([]);
    expect(() => rowsOf({ results: [{ error: 'database not found: x' }] }, 'query')).toThrow(
      /database not found/,
    );
    expect(() => rowsOf({ nope: 1 }, 'query')).toThrow(/unexpected answer/);
  });

  it('retention durations in InfluxQL and back', () => {
    expect(retentionDuration(0)).toBe('INF');
    expect(retentionDuration(90 * 86_400_000)).toBe('7776000s');
    expect(parseInfluxDuration('2160h0m0s')).toBe(90 * 86_400_000);
    expect(parseInfluxDuration('1h30m15s')).toBe(5_415_000);
    expect(parseInfluxDuration('0s')).toBe(0);
  });

  it('client errors: no answer, 5xx, 401/403/404 are unavailable (retry); other 4xx are refused', () => {
    const code = (err: unknown) => classify(err, 'write').code;
    expect(code(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(
      HistoryErrorCodes.UNAVAILABLE,
    );
    expect(code({ message: 'Request timed out' })).toBe(HistoryErrorCodes.UNAVAILABLE);
    for (const s of [500, 503, 401, 403, 404]) {
      expect(code({ message: 'x', res: { statusCode: s } })).toBe(HistoryErrorCodes.UNAVAILABLE);
    }
    const refused = classify({ message: 'partial write dropped=2', res: { statusCode: 400 } }, 'write');
    expect(refused.code).toBe(HistoryErrorCodes.REJECTED);
    expect(refused.status).toBe(400);
  });
});
