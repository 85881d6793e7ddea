/**
 * The history contract: what the HTTP API and the charts need from wherever history is kept —
 * batched writes of levels, events, health and calibration records, and queries per lane and time
 * range plus the newest level per lane. Two stores satisfy it: SQLite (the central store file) and
 * InfluxDB 1.x; one contract test suite runs against both (tests/integration/history).
 *
 * Every method is asynchronous because a network database answers later; the SQLite store answers
 * at once. Row shapes are the SQLite HistoryRepo's, so callers can switch stores by awaiting.
 */
import {
  type CalibrationRecord,
  EpochMs,
  EventKinds,
  type EventPayload,
  type HealthPayload,
  type HealthStatus,
  Id,
  type LevelPayload,
  parseWith,
} from '@shelfsense/protocol';
import { z } from 'zod';
import type { CalibrationRow, EventRow, LevelRow } from '../store/history.js';
import type { LaneRef } from '../store/readings.js';

export type { CalibrationRow, EventRow, LaneRef, LevelRow };

/** One thing to remember, with where it happened. Level, event and calibration are ingest's readings. */
export type HistoryPoint =
  | (LaneRef & { kind: 'level'; payload: LevelPayload; supplier?: string | null })
  | (LaneRef & { kind: 'event'; payload: EventPayload; supplier?: string | null })
  | (LaneRef & { kind: 'calibration'; payload: CalibrationRecord })
  | { kind: 'health'; site: string; shelf: string; payload: HealthPayload };

export interface HealthRow {
  site: string;
  shelf: string;
  agent: string;
  serial: string;
  status: HealthStatus;
  channels: HealthPayload['channels'];
  rejects: Record<string, number>;
  ts: number;
}

export interface LatestLevel extends LaneRef {
  level: LevelPayload;
}

/** The most rows one query returns (as the SQLite HistoryRepo). */
export const MAX_ROWS = 100_000;

/** A lane (or shelf, or site) and a time range [from, to) in reading time, ms. */
export const HistoryQuery = z.strictObject({
  site: z.optional(Id),
  shelf: z.optional(Id),
  lane: z.optional(Id),
  from: z.optional(EpochMs),
  to: z.optional(EpochMs),
  /** At most this many rows, oldest first (clamped to MAX_ROWS). */
  limit: z.number().int().positive().optional(),
});
export type HistoryQuery = z.input<typeof HistoryQuery>;

export const EventQuery = HistoryQuery.extend({ kind: z.enum(EventKinds).optional() });
export type EventQuery = z.input<typeof EventQuery>;

export const HealthQuery = HistoryQuery.omit({ lane: true });
export type HealthQuery = z.input<typeof HealthQuery>;

export const LatestQuery = HistoryQuery.pick({ site: true, shelf: true, lane: true, limit: true });
export type LatestQuery = z.input<typeof LatestQuery>;

/** Validates a query (ShelfError SHELF_ERR_INVALID naming the field) and clamps its limit. */
export function checkQuery<S extends z.ZodType<{ limit?: number | undefined }>>(
  schema: S,
  q: unknown,
): z.output<S> & { limit: number } {
  const parsed = parseWith(schema, q ?? {}, 'history query');
  return { ...parsed, limit: Math.min(parsed.limit ?? MAX_ROWS, MAX_ROWS) };
}

export interface WriteResult {
  /** Points the store holds now (a point written again over itself counts again). */
  written: number;
  /** Points the store refused (a bad value, a type conflict); writing them again will not help. */
  rejected: number;
}

export interface HistoryStore {
  readonly kind: 'sqlite' | 'influx';
  /** Prepares the store (InfluxDB: database and retention policy). Does not fail on an unreachable server. */
  start(): Promise<void>;
  /** Releases every connection and timer. */
  stop(): Promise<void>;
  /**
   * Writes a batch. Writing a reading again is harmless: it is kept once, by (site, agent, seq); health
   * is kept once per (shelf, ts). Rejects with a HistoryError HISTORY_UNAVAILABLE when the store
   * cannot be reached: the batch may then be retried.
   */
  write(points: readonly HistoryPoint[]): Promise<WriteResult>;
  /** Level rows of the lanes matching the query in [from, to), oldest first. */
  levels(q?: HistoryQuery): Promise<LevelRow[]>;
  events(q?: EventQuery): Promise<EventRow[]>;
  calibrations(q?: HistoryQuery): Promise<CalibrationRow[]>;
  health(q?: HealthQuery): Promise<HealthRow[]>;
  /** The newest level of each lane matching the query, ordered by site, shelf, lane. */
  latest(q?: LatestQuery): Promise<LatestLevel[]>;
}
