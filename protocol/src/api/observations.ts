/**
 * Lane observations over HTTP: what a lane's weight says beyond its count (a hand, a lean, a
 * foreign object, another lane's item, tamper, a unit-weight proposal), a lane's records and a
 * site's, and accepting a lane's unit-weight proposal (which changes its SKU's unit weight).
 */
import { Id, ObservationKinds, UnitWeightProposal } from '../payloads.js';
import * as z from '../zod.js';
import { EpochMsParam, limitParam, listParam, orNull } from './common.js';

/**
 * `?kind=…&state=open|cleared|live&from=MS&to=MS&limit=N` (and `site=` on the site-wide list).
 * `live`: the observations not cleared yet, one row each (their `open` record); the time range
 * then bounds when they opened. Without from/to: every record kept.
 */
export const ObservationsQuery = z.object({
  kind: z.optional(listParam(ObservationKinds)),
  state: z.optional(z.enum(['open', 'cleared', 'live'])),
  site: z.optional(Id),
  from: z.optional(EpochMsParam),
  to: z.optional(EpochMsParam),
  limit: z.optional(limitParam(10_000)),
});
export type ObservationsQuery = z.infer<typeof ObservationsQuery>;

export const ApiObservation = z.object({
  /** `{agent}:{seq}`: the record. */
  id: z.string(),
  /** The agent's id of the observation, shared by its open and cleared records. */
  observation: z.string(),
  site: z.string(),
  shelf: z.string(),
  lane: z.string(),
  agent: z.string(),
  sku: orNull(z.string()),
  kind: z.enum(ObservationKinds),
  state: z.enum(['open', 'cleared']),
  grams: z.number(),
  items: orNull(z.number()),
  otherLane: orNull(z.string()),
  cause: orNull(z.enum(['cell', 'closed'])),
  proposal: orNull(UnitWeightProposal),
  detail: z._default(z.string(), ''),
  ts: z.number(),
  /** A plain sentence: what, where, how much. */
  message: z._default(z.string(), ''),
  /** A unit-weight proposal accepted: when and by whom. */
  acceptedAt: orNull(z.number()),
  acceptedBy: orNull(z.string()),
});
export type ApiObservation = z.infer<typeof ApiObservation>;

/** Newest first. */
export const ObservationsResponse = z.array(ApiObservation);
export type ObservationsResponse = z.infer<typeof ObservationsResponse>;

/**
 * `GET /api/lanes/{site}/{shelf}/{lane}/unit-weight`: the lane's SKU, its configured unit weight,
 * and the newest unit-weight proposal still open (null when none).
 */
export const UnitWeightView = z.object({
  site: z.string(),
  shelf: z.string(),
  lane: z.string(),
  sku: z.string(),
  unitWeightG: z.number(),
  proposal: orNull(ApiObservation),
});
export type UnitWeightView = z.infer<typeof UnitWeightView>;

/**
 * `POST /api/lanes/{site}/{shelf}/{lane}/unit-weight/accept`: `observation` is the proposal's record
 * id (`{agent}:{seq}`, as listed); `unitWeightG` overrides the proposed weight (a technician's
 * rounding), positive.
 */
export const AcceptUnitWeightBody = z.strictObject({
  observation: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}:\d{1,15}$/, 'a record id {agent}:{seq}')),
  unitWeightG: z.optional(z.number().check(z.positive(), z.maximum(1_000_000))),
});
export type AcceptUnitWeightBody = z.infer<typeof AcceptUnitWeightBody>;

export const AcceptUnitWeightResponse = z.object({
  sku: z.string(),
  before: z.number(),
  unitWeightG: z.number(),
  /** The catalogue version the change made (null when the weight was already that). */
  version: orNull(z.number()),
  proposal: ApiObservation,
});
export type AcceptUnitWeightResponse = z.infer<typeof AcceptUnitWeightResponse>;
