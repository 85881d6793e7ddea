/**
 * How history maps onto InfluxDB 1.x: four measurements, their tags (indexed, for WHERE and
 * GROUP BY in Grafana) and fields, and the conversions both ways. Docs: docs/grafana.md.
 *
 * A point's timestamp is the reading time in ns plus (seq mod 10^6) ns. InfluxDB keeps one point
 * per (measurement, tag set, timestamp), so two readings of one lane within the same millisecond
 * stay apart, and a reading written twice (a retried batch) lands on itself: stored once.
 */

import type { AnySchema } from '@shelfsense/protocol';
import {
  CalibrationRecord,
  type HealthPayload,
  HealthStatus,
  LevelPayload,
  parseJsonWith,
  parseWith,
} from '@shelfsense/protocol';
import { FieldType, type IPoint, type ISchemaOptions } from 'influx';
import { z } from 'zod';
import type { CalibrationRow, EventRow, HealthRow, HistoryPoint, LatestLevel, LevelRow } from './contract.js';
import { HistoryError, HistoryErrorCodes } from './errors.js';

export const MEASUREMENTS = { level: 'level', event: 'event', health: 'health', calibration: 'calibration' };
const CHANNELS = 8;
const NS_PER_MS = 1_000_000n;

/** Health status as a number, worst highest, so Grafana can draw and threshold it. */
export const HEALTH_SEVERITY: Record<HealthStatus, number> = {
  ok: 0,
  no_data: 1,
  noisy: 2,
  drifting: 3,
  saturated: 4,
  disconnected: 5,
};

const channelFields: Record<string, FieldType> = {};
for (let ch = 0; ch < CHANNELS; ch++) {
  channelFields[`ch${ch}_status`] = FieldType.STRING;
  channelFields[`ch${ch}_noise_g`] = FieldType.FLOAT;
  channelFields[`ch${ch}_drift_g`] = FieldType.FLOAT;
}

/** The schema given to the influx client: it types each field (integers as `i`) and refuses stray keys. */
export function influxSchemas(database: string): ISchemaOptions[] {
  const I = FieldType.INTEGER;
  const F = FieldType.FLOAT;
  const S = FieldType.STRING;
  const B = FieldType.BOOLEAN;
  return [
    {
      database,
      measurement: MEASUREMENTS.level,
      tags: ['site', 'shelf', 'lane', 'sku', 'supplier', 'agent'],
      fields: {
        units: I,
        grams: F,
        fill: F,
        stable: B,
        confidence: F,
        state: S,
        seq: I,
        serial: S,
        frame_seq: I,
      },
    },
    {
      database,
      measurement: MEASUREMENTS.event,
      tags: ['site', 'shelf', 'lane', 'sku', 'supplier', 'agent', 'kind'],
      fields: { delta: I, units: I, seq: I, serial: S, frame_seq: I },
    },
    {
      database,
      measurement: MEASUREMENTS.calibration,
      tags: ['site', 'shelf', 'lane', 'agent', 'kind'],
      fields: {
        seq: I,
        serial: S,
        by_user: S,
        by_role: S,
        reference_g: F,
        residual_g: F,
        items: I,
        record: S,
      },
    },
    {
      database,
      measurement: MEASUREMENTS.health,
      tags: ['site', 'shelf', 'agent'],
      fields: {
        status: S,
        severity: I,
        serial: S,
        channels: I,
        rejects: S,
        rejects_total: I,
        ...channelFields,
      },
    },
  ];
}

/** ns timestamp (as the decimal string InfluxDB's line protocol takes). */
export function pointTime(tsMs: number, seq = 0): string {
  return (BigInt(tsMs) * NS_PER_MS + BigInt(seq % 1_000_000)).toString();
}

/** Tags without the null ones: InfluxDB has no null tag, an absent tag reads back as null. */
function tags(t: Record<string, string | null | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(t)) if (v !== null && v !== undefined && v !== '') out[k] = v;
  return out;
}

/** Fields without the null ones (InfluxDB has no null field either). */
function fields(f: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) if (v !== null && v !== undefined) out[k] = v;
  return out;
}

export function toInfluxPoint(p: HistoryPoint): IPoint {
  switch (p.kind) {
    case 'level': {
      const l = p.payload;
      return {
        measurement: MEASUREMENTS.level,
        tags: tags({
          site: p.site,
          shelf: p.shelf,
          lane: p.lane,
          sku: l.sku,
          supplier: p.supplier,
          agent: l.agent,
        }),
        fields: fields({
          units: l.units,
          grams: l.grams,
          fill: l.fill,
          stable: l.stable,
          confidence: l.confidence,
          state: l.state,
          seq: l.seq,
          serial: l.serial,
          frame_seq: l.frameSeq,
        }),
        timestamp: pointTime(l.ts, l.seq),
      };
    }
    case 'event': {
      const e = p.payload;
      return {
        measurement: MEASUREMENTS.event,
        tags: tags({
          site: p.site,
          shelf: p.shelf,
          lane: p.lane,
          sku: e.sku,
          supplier: p.supplier,
          agent: e.agent,
          kind: e.kind,
        }),
        fields: fields({
          delta: e.delta,
          units: e.units,
          seq: e.seq,
          serial: e.serial,
          frame_seq: e.frameSeq,
        }),
        timestamp: pointTime(e.ts, e.seq),
      };
    }
    case 'calibration': {
      const c = p.payload;
      return {
        measurement: MEASUREMENTS.calibration,
        tags: tags({ site: p.site, shelf: p.shelf, lane: p.lane, agent: c.agent, kind: c.kind }),
        fields: fields({
          seq: c.seq,
          serial: c.serial,
          by_user: c.by?.user,
          by_role: c.by?.role,
          reference_g: c.referenceG,
          residual_g: c.residualG,
          items: c.items,
          record: JSON.stringify(c),
        }),
        timestamp: pointTime(c.ts, c.seq),
      };
    }
    case 'health':
      return healthPoint(p.site, p.shelf, p.payload);
  }
}

function healthPoint(site: string, shelf: string, h: HealthPayload): IPoint {
  const f: Record<string, unknown> = {
    status: h.status,
    severity: HEALTH_SEVERITY[h.status],
    serial: h.serial,
    channels: h.channels.length,
    rejects: JSON.stringify(h.rejects),
    rejects_total: Object.values(h.rejects).reduce((a, b) => a + b, 0),
  };
  for (const c of h.channels) {
    f[`ch${c.channel}_status`] = c.status;
    f[`ch${c.channel}_noise_g`] = c.noiseG;
    f[`ch${c.channel}_drift_g`] = c.driftG;
  }
  return {
    measurement: MEASUREMENTS.health,
    tags: tags({ site, shelf, agent: h.agent }),
    fields: f,
    timestamp: pointTime(h.ts),
  };
}

// --- reading rows back -------------------------------------------------------------------------------

/**
 * Rows are read with epoch=ms: InfluxDB then answers the reading time in ms (the sub-millisecond
 * seq offset floored away) as a plain number, which is cheaper than parsing ns ISO dates.
 */
const Time = z.number().int().nonnegative();
const Tag = z.string().min(1);
const OptTag = z.string().nullish();
const Int = z.number().int();

function parseRow<S extends AnySchema>(schema: S, row: unknown, what: string): z.output<S> {
  try {
    return parseWith(schema, row, what);
  } catch (err) {
    throw new HistoryError(HistoryErrorCodes.CORRUPT, (err as Error).message);
  }
}

const LevelDbRow = z.object({
  time: Time,
  site: Tag,
  shelf: Tag,
  lane: Tag,
  sku: OptTag,
  agent: Tag,
  units: Int.nonnegative(),
  grams: z.number(),
  fill: z.number().nullish(),
  stable: z.boolean(),
  confidence: z.number(),
  state: LevelPayload.shape.state,
  seq: Int,
  serial: z.string().nullish(),
  frame_seq: Int.nullish(),
});

export function levelRow(row: unknown): LevelRow {
  const r = parseRow(LevelDbRow, row, 'level point');
  return {
    site: r.site,
    shelf: r.shelf,
    lane: r.lane,
    ts: r.time,
    units: r.units,
    grams: r.grams,
    fill: r.fill ?? null,
    stable: r.stable,
    confidence: r.confidence,
    state: r.state,
    sku: r.sku ?? null,
    agent: r.agent,
    seq: r.seq,
  };
}

export function latestLevel(row: unknown): LatestLevel {
  const r = parseRow(LevelDbRow, row, 'level point');
  const level = parseRow(
    LevelPayload,
    {
      agent: r.agent,
      serial: r.serial,
      sku: r.sku ?? null,
      units: r.units,
      grams: r.grams,
      fill: r.fill ?? null,
      stable: r.stable,
      confidence: r.confidence,
      state: r.state,
      ts: r.time,
      seq: r.seq,
      frameSeq: r.frame_seq,
    },
    'level point',
  );
  return { site: r.site, shelf: r.shelf, lane: r.lane, level };
}

const EventDbRow = z.object({
  time: Time,
  site: Tag,
  shelf: Tag,
  lane: Tag,
  sku: OptTag,
  agent: Tag,
  kind: z.enum(['pick', 'restock', 'adjust']),
  delta: Int,
  units: Int.nonnegative(),
  seq: Int,
});

export function eventRow(row: unknown): EventRow {
  const r = parseRow(EventDbRow, row, 'event point');
  return {
    site: r.site,
    shelf: r.shelf,
    lane: r.lane,
    agent: r.agent,
    seq: r.seq,
    kind: r.kind,
    delta: r.delta,
    units: r.units,
    sku: r.sku ?? null,
    ts: r.time,
  };
}

const CalibrationDbRow = z.object({ site: Tag, shelf: Tag, lane: Tag, record: z.string() });

export function calibrationRow(row: unknown): CalibrationRow {
  const r = parseRow(CalibrationDbRow, row, 'calibration point');
  let record: CalibrationRecord;
  try {
    record = parseJsonWith(CalibrationRecord, r.record, 'calibration point record');
  } catch (err) {
    throw new HistoryError(HistoryErrorCodes.CORRUPT, (err as Error).message);
  }
  return {
    site: r.site,
    shelf: r.shelf,
    lane: r.lane,
    agent: record.agent,
    seq: record.seq,
    kind: record.kind,
    ts: record.ts,
    record,
  };
}

const HealthDbRow = z
  .object({
    time: Time,
    site: Tag,
    shelf: Tag,
    agent: Tag,
    serial: z.string(),
    status: HealthStatus,
    rejects: z.string().nullish(),
  })
  .catchall(z.unknown());

export function healthRow(row: unknown): HealthRow {
  const r = parseRow(HealthDbRow, row, 'health point');
  const channels: HealthRow['channels'] = [];
  for (let ch = 0; ch < CHANNELS; ch++) {
    const status = r[`ch${ch}_status`];
    if (status === null || status === undefined) continue;
    const c = parseRow(
      z.object({ status: HealthStatus, noiseG: z.number().nonnegative(), driftG: z.number() }),
      { status, noiseG: r[`ch${ch}_noise_g`], driftG: r[`ch${ch}_drift_g`] },
      `health point channel ${ch}`,
    );
    channels.push({ channel: ch, ...c });
  }
  let rejects: Record<string, number> = {};
  if (r.rejects) {
    rejects = parseRow(
      z.record(z.string(), z.number().int().nonnegative()),
      safeJson(r.rejects),
      'health point rejects',
    );
  }
  return {
    site: r.site,
    shelf: r.shelf,
    agent: r.agent,
    serial: r.serial,
    status: r.status,
    channels,
    rejects,
    ts: r.time,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
