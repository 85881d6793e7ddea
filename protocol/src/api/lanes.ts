/**
 * Lanes: the lane view (`GET /api/lanes`, `GET /api/lanes/{site}/{shelf}/{lane}`), a lane's level
 * and event history, its calibration records, and the CSV export's query. Anything not known yet
 * is null (docs/http-api.md "Lanes").
 */
import { LANE_STATUSES } from '../lane-status.js';
import { CalibrationRecord, EventKinds, HealthStatus, Id, LaneState, OrderState } from '../payloads.js';
import * as z from '../zod.js';
import { limitParam, orNull, RangeQuery } from './common.js';

/** The lane routes take no query parameters (unknown ones are ignored). */
export const LanesQuery = z.object({});
export type LanesQuery = z.infer<typeof LanesQuery>;

/** The lane's live order (including one just received). */
export const ApiOpenOrder = z.object({ id: z.string(), state: OrderState, quantity: z.number() });
export type ApiOpenOrder = z.infer<typeof ApiOpenOrder>;

export const ApiLane = z.object({
  site: z.string(),
  shelf: z.string(),
  lane: z.string(),
  sku: orNull(z.string()),
  skuName: orNull(z.string()),
  supplier: orNull(z.string()),
  unitWeightG: orNull(z.number()),
  capacity: orNull(z.number()),
  /** From the newest level: units, grams, fill, state, stable, confidence and `updatedAt` (its ts). */
  units: orNull(z.number()),
  grams: orNull(z.number()),
  fill: orNull(z.number()),
  state: orNull(LaneState),
  stable: orNull(z.boolean()),
  confidence: orNull(z.number()),
  /** `laneStatus` at the time of the request. */
  status: z.enum(LANE_STATUSES),
  /** Central's offline timeout, the one `status` was computed with. */
  offlineAfterMs: orNull(z.number()),
  reorderPoint: orNull(z.number()),
  orderUpTo: orNull(z.number()),
  ratePerDay: orNull(z.number()),
  daysOfCover: orNull(z.number()),
  stockoutAt: orNull(z.number()),
  agent: orNull(z.string()),
  agentOnline: orNull(z.boolean()),
  /** The worst status of the lane's own channels in the shelf's newest health report. */
  health: orNull(HealthStatus),
  updatedAt: orNull(z.number()),
  openOrder: orNull(ApiOpenOrder),
});
export type ApiLane = z.infer<typeof ApiLane>;

/** Sorted by site, shelf and lane. */
export const LanesResponse = z.array(ApiLane);
export type LanesResponse = z.infer<typeof LanesResponse>;

export const ApiLevelPoint = z.object({
  ts: z.number(),
  units: orNull(z.number()),
  grams: orNull(z.number()),
  state: orNull(LaneState),
});
export type ApiLevelPoint = z.infer<typeof ApiLevelPoint>;

export const ApiEventPoint = z.object({
  ts: z.number(),
  kind: z.enum(EventKinds),
  delta: z.number(),
  units: orNull(z.number()),
});
export type ApiEventPoint = z.infer<typeof ApiEventPoint>;

/** `GET …/history?from=MS&to=MS` (query: RangeQuery), oldest first. */
export const HistoryResponse = z.object({
  levels: z._default(z.array(ApiLevelPoint), []),
  events: z._default(z.array(ApiEventPoint), []),
});
export type HistoryResponse = z.infer<typeof HistoryResponse>;

/** `GET …/calibrations?limit=N` */
export const CalibrationsQuery = z.object({ limit: z.optional(limitParam(10_000)) });
export type CalibrationsQuery = z.infer<typeof CalibrationsQuery>;

/** The agent's calibration record (`by`: the technician who asked), plus `{agent}:{seq}` as its id. */
export const ApiCalibration = z.extend(CalibrationRecord, { id: z.string() });
export type ApiCalibration = z.infer<typeof ApiCalibration>;

/** Newest first. */
export const CalibrationsResponse = z.array(ApiCalibration);
export type CalibrationsResponse = z.infer<typeof CalibrationsResponse>;

/** `GET /api/export.csv?from=MS&to=MS&site=…&sku=…` (the answer is CSV). */
export const ExportQuery = z.extend(RangeQuery, { site: z.optional(Id), sku: z.optional(Id) });
export type ExportQuery = z.infer<typeof ExportQuery>;
