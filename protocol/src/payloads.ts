/**
 * Every MQTT payload, as one zod schema each; the schema is the type (`z.infer`). Unknown keys
 * are stripped rather than refused, so a newer agent can talk to an older central.
 */

import { type CommandName, ID_PATTERN } from './topics.js';
import type { AnySchema } from './zod.js';
import * as z from './zod.js';

export const Id = z.string().check(z.regex(ID_PATTERN, 'letters, digits, _ and -, 1–64 characters'));
export const Serial = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ and -, 1–32 characters'));
/** Milliseconds since the Unix epoch. */
export const EpochMs = z.number().check(z.int(), z.nonnegative());
/** The agent's own increasing sequence number, one per outbox record. */
export const AgentSeq = z.number().check(z.int(), z.positive());
export const FrameSeq = z.number().check(z.int(), z.minimum(0), z.maximum(4_294_967_295));

export const LaneStates = ['ok', 'unstable', 'anomalous', 'fault', 'offline'] as const;
export const LaneState = z.enum(LaneStates);
export type LaneState = z.infer<typeof LaneState>;

/** `.../{lane}/level`: the last stable count, retained. */
export const LevelPayload = z.object({
  agent: Id,
  serial: Serial,
  sku: z.nullable(Id),
  units: z.number().check(z.int(), z.nonnegative()),
  grams: z.number(),
  /** units / capacity; above 1 when overfilled, null when the capacity is unknown. */
  fill: z.nullable(z.number().check(z.nonnegative())),
  stable: z.boolean(),
  /** 0..1: how close the net weight is to a whole number of items, scaled by the noise. */
  confidence: z.number().check(z.minimum(0), z.maximum(1)),
  state: LaneState,
  ts: EpochMs,
  seq: AgentSeq,
  frameSeq: FrameSeq,
});
export type LevelPayload = z.infer<typeof LevelPayload>;

export const EventKinds = ['pick', 'restock', 'adjust'] as const;
/** `.../{lane}/event`: a change in the stable count. */
export const EventPayload = z.object({
  agent: Id,
  serial: Serial,
  sku: z.nullable(Id),
  kind: z.enum(EventKinds),
  /** Items added (positive) or taken (negative). */
  delta: z.number().check(z.int()),
  units: z.number().check(z.int(), z.nonnegative()),
  ts: EpochMs,
  seq: AgentSeq,
  frameSeq: FrameSeq,
});
export type EventPayload = z.infer<typeof EventPayload>;

/**
 * What a lane's weight says beyond its count, `.../{lane}/observation`, QoS 1, sent through the outbox
 * like events. `open` when the agent sees it begin, `cleared` when it ends; `observation` ties the two.
 * - hand / lean: a force on the lane that is no whole number of items (brief / lasting);
 * - foreign-object: a mass left on the lane that is not a whole count of its items, or that weighs
 *   like N items but did not arrive the way items do (`items` says how many it would count as);
 * - misplaced-item: a step that is a whole count of another lane's item (`otherLane`), not this one's;
 * - tamper: a cell disconnected and reconnected under a different load (`cause: 'cell'`), or, raised
 *   by central, a weight change while the store is closed (`cause: 'closed'`);
 * - unit-weight: the steps of picks and restocks propose a unit weight (`proposal`); `wrong` when
 *   the lane's configured unit weight does not explain them.
 */
export const ObservationKinds = [
  'hand',
  'lean',
  'foreign-object',
  'misplaced-item',
  'tamper',
  'unit-weight',
] as const;
export const ObservationKind = z.enum(ObservationKinds);
export type ObservationKind = z.infer<typeof ObservationKind>;

export const UnitWeightProposal = z.object({
  /** The greatest common step of the lane's recent weight steps, grams. */
  unitWeightG: z.number().check(z.positive()),
  /** 0..1: how well every step is a whole multiple of it, given the noise. */
  confidence: z.number().check(z.minimum(0), z.maximum(1)),
  /** How many steps it rests on. */
  steps: z.number().check(z.int(), z.nonnegative()),
  /** The lane's configured unit weight does not explain the steps. */
  wrong: z.boolean(),
});
export type UnitWeightProposal = z.infer<typeof UnitWeightProposal>;

export const ObservationPayload = z.object({
  agent: Id,
  serial: Serial,
  sku: z.nullable(Id),
  /** Ties an `open` observation to its `cleared` one: unique per agent. */
  observation: z.string().check(z.minLength(1), z.maxLength(64)),
  kind: ObservationKind,
  state: z.enum(['open', 'cleared']),
  /** The weight involved (the object, the lean, the step), grams. */
  grams: z.number(),
  /** That weight in this lane's items; null when meaningless. */
  items: z._default(z.nullable(z.number()), null),
  /** misplaced-item: the lane whose item it weighs like. */
  otherLane: z._default(z.nullable(Id), null),
  /** tamper: what gave it away. */
  cause: z._default(z.nullable(z.enum(['cell', 'closed'])), null),
  proposal: z._default(z.nullable(UnitWeightProposal), null),
  detail: z._default(z.string().check(z.maxLength(200)), ''),
  ts: EpochMs,
  seq: AgentSeq,
  frameSeq: FrameSeq,
});
export type ObservationPayload = z.infer<typeof ObservationPayload>;

export const HealthStatuses = ['ok', 'noisy', 'drifting', 'saturated', 'disconnected', 'no_data'] as const;
export const HealthStatus = z.enum(HealthStatuses);
export type HealthStatus = z.infer<typeof HealthStatus>;

/** A shelf temperature, °C: the range of the sensors a shelf may carry (−55..125 °C). */
export const TemperatureC = z.number().check(z.minimum(-55), z.maximum(125));

/**
 * How a channel's reading moves with temperature (see docs/agent.md, Temperature). Zero drift is
 * relative to the tare's temperature (`tempC`, else `refC`); span (sensitivity) drift is relative
 * to `refC`, the temperature the scale and points are expressed at.
 */
export const ThermalCoefficients = z.object({
  /** Temperature the scale and points refer to, °C. */
  refC: TemperatureC,
  /** Zero drift, grams per °C (the tray's own span drift included). */
  zeroGPerC: z.number().check(z.minimum(-50), z.maximum(50)),
  /** Span drift, parts per million of the reading per °C. */
  spanPpmPerC: z.number().check(z.minimum(-5000), z.maximum(5000)),
  /** `calibration`: from a tare or a reference mass repeated at two temperatures; `learned`: at rest. */
  source: z.enum(['calibration', 'learned']),
  /** What the learner has seen: Σ over its rests of the square of their temperature range, °C². */
  evidence: z.optional(z.number().check(z.nonnegative())),
});
export type ThermalCoefficients = z.infer<typeof ThermalCoefficients>;

/** `.../{shelf}/health`: worst channel status plus per-channel detail, retained. */
export const HealthPayload = z.object({
  agent: Id,
  serial: Serial,
  status: HealthStatus,
  channels: z.array(
    z.object({
      channel: z.number().check(z.int(), z.minimum(0), z.maximum(7)),
      status: HealthStatus,
      /** Raw noise: standard deviation of a single raw sample (before filtering), grams. */
      noiseG: z.number().check(z.nonnegative()),
      /** Zero drift corrected so far, grams. */
      driftG: z.number(),
      /** Temperature coefficients in force on the channel (shelves that report a temperature). */
      thermal: z.optional(ThermalCoefficients),
    }),
  ),
  rejects: z._default(z.record(z.string(), z.number().check(z.int(), z.nonnegative())), {}),
  /** The shelf's temperature when the health was published, °C (protocol v1.1 shelves). */
  tempC: z.optional(TemperatureC),
  ts: EpochMs,
});
export type HealthPayload = z.infer<typeof HealthPayload>;

/** Bound on `attached` in an agent status (an agent reads a few shelves; the bound keeps it small). */
export const MAX_ATTACHED = 256;

/** One shelf attached to an agent now, as its firmware identified itself. */
export const AttachedShelf = z.object({
  serial: Serial,
  /** Load-cell channels, from the identity frame. */
  channels: z.number().check(z.int(), z.minimum(1), z.maximum(8)),
});
export type AttachedShelf = z.infer<typeof AttachedShelf>;

/** `.../agents/{agent}/status`: retained; the last will says offline. */
export const AgentStatusPayload = z.object({
  agent: Id,
  site: Id,
  state: z.enum(['online', 'offline']),
  version: z.optional(z.string().check(z.maxLength(32))),
  /** Every serial the agent has identified since it started (attached or not). */
  shelves: z._default(z.array(Serial), []),
  /**
   * The shelves attached now, with their channel count, so central can offer a shelf it does not
   * know for onboarding. Optional: an older agent does not send it (and an older central strips it).
   */
  attached: z.optional(z.array(AttachedShelf).check(z.maxLength(MAX_ATTACHED))),
  ts: EpochMs,
});
export type AgentStatusPayload = z.infer<typeof AgentStatusPayload>;

export const LaneSetting = z.object({
  lane: Id,
  /** Channels summed into this lane. */
  channels: z.array(z.number().check(z.int(), z.minimum(0), z.maximum(7))).check(z.minLength(1)),
  sku: z._default(z.nullable(Id), null),
  unitWeightG: z.number().check(z.positive()),
  capacity: z._default(z.nullable(z.number().check(z.int(), z.positive())), null),
});
export type LaneSetting = z.infer<typeof LaneSetting>;

/** `.../agents/{agent}/lanes`: which shelf serial is which shelf id, and its lanes. Retained. */
export const LaneSettingsPayload = z.object({
  agent: Id,
  revision: z.number().check(z.int(), z.nonnegative()),
  shelves: z.array(
    z.object({
      shelf: Id,
      serial: Serial,
      lanes: z.array(LaneSetting),
    }),
  ),
});
export type LaneSettingsPayload = z.infer<typeof LaneSettingsPayload>;

/** `.../agents/{agent}/stored`: the highest agent sequence central has committed. Retained. */
export const StoredMarkPayload = z.object({
  agent: Id,
  seq: z.number().check(z.int(), z.nonnegative()),
  ts: EpochMs,
});
export type StoredMarkPayload = z.infer<typeof StoredMarkPayload>;

/** Who asked: stamped by central or the broker from the authenticated session, never by the requester. */
export const Actor = z.object({
  user: z.string().check(z.minLength(1), z.maxLength(64)),
  role: z.string().check(z.minLength(1), z.maxLength(32)),
});
export type Actor = z.infer<typeof Actor>;

const LaneRef = { shelf: Id, lane: Id };
export const CommandArgs = {
  identify: z.object({}),
  tare: z.object(LaneRef),
  calibrate: z.object({ ...LaneRef, massG: z.number().check(z.positive(), z.maximum(1_000_000)) }),
  'learn-unit': z.object({ ...LaneRef, count: z.number().check(z.int(), z.minimum(1), z.maximum(10_000)) }),
  /** Drops the reference point nearest `grams`; `channel` picks the cell on a lane of several. */
  'remove-point': z.object({
    ...LaneRef,
    grams: z.number().check(z.positive(), z.maximum(1_000_000)),
    channel: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(7))),
  }),
  stream: z.object({ shelf: Id, durationMs: z.number().check(z.int(), z.minimum(100), z.maximum(600_000)) }),
} satisfies Record<CommandName, AnySchema>;

/** `.../agents/{agent}/request/{command}` */
export const CommandRequest = z.object({
  transaction: z.string().check(z.minLength(1), z.maxLength(64)),
  args: z._default(z.record(z.string(), z.unknown()), {}),
  actor: z.optional(Actor),
});
export type CommandRequest = z.infer<typeof CommandRequest>;

/** `.../agents/{agent}/response/{command}` */
export const CommandResponse = z.object({
  transaction: z.string().check(z.minLength(1), z.maxLength(64)),
  status: z.enum(['ok', 'error']),
  data: z.optional(z.unknown()),
  error: z.optional(z.object({ code: z.string(), message: z.string() })),
});
export type CommandResponse = z.infer<typeof CommandResponse>;

export const Calibration = z.object({
  /** Raw counts at zero load, per channel. */
  offset: z.number(),
  /** Counts per gram. */
  scale: z.number(),
  /** Extra reference points (grams → raw counts above offset) for piecewise-linear calibration. */
  points: z._default(
    z.array(
      z.object({
        grams: z.number(),
        counts: z.number(),
        /** The shelf's temperature when the point was measured, °C (shelves that report one). */
        tempC: z.optional(TemperatureC),
      }),
    ),
    [],
  ),
  /** The shelf's temperature at the tare (the offset), °C, when the shelf reports one. */
  tempC: z.optional(TemperatureC),
  /** Temperature coefficients; none: the reading is not corrected for temperature. */
  thermal: z.optional(ThermalCoefficients),
});
export type Calibration = z.infer<typeof Calibration>;

/** `.../{lane}/calibration`: one record per tare / calibrate / learn-unit, audited. */
export const CalibrationRecord = z.object({
  agent: Id,
  serial: Serial,
  shelf: Id,
  lane: Id,
  kind: z.enum(['tare', 'calibrate', 'learn-unit', 'remove-point']),
  by: z.nullable(Actor),
  channels: z.array(z.number().check(z.int(), z.minimum(0), z.maximum(7))),
  referenceG: z.nullable(z.number()),
  items: z.nullable(z.number().check(z.int())),
  before: z.record(z.string(), z.unknown()),
  after: z.record(z.string(), z.unknown()),
  /**
   * Error left after the operation, grams: a fresh settled reading under the new calibration
   * minus what should be there (0 after a tare, the reference mass, N × the learned unit weight).
   */
  residualG: z.nullable(z.number()),
  /** How far the previous calibration was off, grams: the error this operation corrected. */
  correctionG: z.optional(z.nullable(z.number())),
  ts: EpochMs,
  seq: AgentSeq,
});
export type CalibrationRecord = z.infer<typeof CalibrationRecord>;

export const OrderStates = ['open', 'acknowledged', 'shipped', 'received', 'closed', 'cancelled'] as const;
export const OrderState = z.enum(OrderStates);
export type OrderState = z.infer<typeof OrderState>;

/** `.../{lane}/order` and the webhook body. */
export const OrderEvent = z.object({
  eventId: z.string().check(z.minLength(1), z.maxLength(64)),
  /** Stable per (order, transition): the receiver processes each key once. */
  idempotencyKey: z.string().check(z.minLength(1), z.maxLength(128)),
  orderId: z.string().check(z.minLength(1), z.maxLength(64)),
  state: OrderState,
  site: Id,
  shelf: Id,
  lane: Id,
  sku: Id,
  supplier: Id,
  quantity: z.number().check(z.int(), z.positive()),
  receivedQuantity: z._default(z.nullable(z.number().check(z.int(), z.nonnegative())), null),
  ts: EpochMs,
});
export type OrderEvent = z.infer<typeof OrderEvent>;

export const AlertKinds = [
  'stock-out',
  'offline',
  'sensor-fault',
  'anomaly',
  'foreign-object',
  'misplaced-item',
  'tamper',
  'unit-weight',
] as const;
/** `.../{lane}/alert` */
export const AlertEvent = z.object({
  alertId: z.string().check(z.minLength(1), z.maxLength(64)),
  kind: z.enum(AlertKinds),
  state: z.enum(['open', 'acknowledged', 'cleared']),
  site: Id,
  shelf: Id,
  lane: Id,
  message: z.string().check(z.maxLength(500)),
  ts: EpochMs,
});
export type AlertEvent = z.infer<typeof AlertEvent>;

/** The typed topic → payload map, shared by every part. */
export interface TopicPayloads {
  level: LevelPayload;
  event: EventPayload;
  observation: ObservationPayload;
  calibration: CalibrationRecord;
  order: OrderEvent;
  alert: AlertEvent;
  health: HealthPayload;
  status: AgentStatusPayload;
  lanes: LaneSettingsPayload;
  stored: StoredMarkPayload;
  request: CommandRequest;
  response: CommandResponse;
}

export const PayloadSchemas = {
  level: LevelPayload,
  event: EventPayload,
  observation: ObservationPayload,
  calibration: CalibrationRecord,
  order: OrderEvent,
  alert: AlertEvent,
  health: HealthPayload,
  status: AgentStatusPayload,
  lanes: LaneSettingsPayload,
  stored: StoredMarkPayload,
  request: CommandRequest,
  response: CommandResponse,
} as const satisfies { [K in keyof TopicPayloads]: AnySchema<TopicPayloads[K], unknown> };
