/**
 * The ShelfPipeline's inputs: the options schema (validated with zod in the constructor), the
 * callbacks, and the shapes of what it reports.
 */
import {
  Calibration,
  type HealthStatus,
  LaneSetting,
  SignalConfig,
  type ThermalCoefficients,
} from '@shelfsense/protocol';
import * as z from '@shelfsense/protocol/zod';
import type { Logger } from 'pino';
import type { CalibrationChange } from './calibrate.js';
import type { ChannelReading } from './channel.js';
import type { LaneEvent, LaneReading } from './count.js';
import type { LaneObservation } from './observe.js';

export const RateSchema = z.union([z.literal(10), z.literal(80)]);
export const CalibrationSchema = Calibration.check(
  z.refine((c) => Number.isFinite(c.scale) && c.scale !== 0, {
    message: 'scale must be a non-zero number of counts per gram',
    path: ['scale'],
  }),
);

export const Options = z
  .object({
    channels: z.number().check(z.int(), z.minimum(1), z.maximum(8)),
    signal: z.prefault(SignalConfig, {}),
    calibrations: z.array(CalibrationSchema),
    lanes: z._default(z.array(LaneSetting), []),
    rate: z._default(RateSchema, 80),
    /** Last published count per lane id, restored after an agent restart. */
    counts: z._default(z.record(z.string(), z.number().check(z.int(), z.nonnegative())), {}),
    /** Each lane's count reference (LaneReading.baselineG) as persisted with its count. */
    baselines: z._default(z.record(z.string(), z.number()), {}),
  })
  .check(
    z.superRefine((o, ctx) => {
      if (o.calibrations.length !== o.channels) {
        ctx.addIssue({
          code: 'custom',
          path: ['calibrations'],
          message: `needs one per channel (${o.channels})`,
        });
      }
      for (const issue of laneIssues(o.lanes, o.channels)) ctx.addIssue({ code: 'custom', ...issue });
    }),
  );

export type ShelfPipelineInput = z.input<typeof Options>;

/** Lanes must name existing channels, and no channel may serve two lanes (zero-tracking would fight). */
export function laneIssues(
  lanes: readonly LaneSetting[],
  channels: number,
): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const owner = new Map<number, string>();
  const ids = new Set<string>();
  lanes.forEach((lane, i) => {
    if (ids.has(lane.lane))
      issues.push({ path: ['lanes', i, 'lane'], message: `duplicate lane "${lane.lane}"` });
    ids.add(lane.lane);
    lane.channels.forEach((ch, j) => {
      if (ch >= channels) {
        issues.push({
          path: ['lanes', i, 'channels', j],
          message: `channel ${ch} does not exist (${channels} channels)`,
        });
      } else if (owner.has(ch)) {
        issues.push({
          path: ['lanes', i, 'channels', j],
          message: `channel ${ch} already belongs to lane "${owner.get(ch)}"`,
        });
      } else owner.set(ch, lane.lane);
    });
  });
  return issues;
}

export interface PipelineCallbacks {
  /** A pick, restock or adjust. */
  onEvent?: (event: LaneEvent) => void;
  /** A lane's state or count changed (a live view). */
  onLaneChange?: (lane: LaneReading) => void;
  /** A channel's health status changed (a live view). */
  onHealthChange?: (channel: ChannelReading) => void;
  /** Temperature coefficients were learned for a channel: its calibration with them, to keep. */
  onCalibrationLearned?: (channel: number, calibration: Calibration) => void;
  /** What a lane's weight says beyond its count, open and cleared (observe.ts). */
  onObservation?: (observation: LaneObservation) => void;
}

export interface ShelfPipelineOptions extends ShelfPipelineInput, PipelineCallbacks {
  /** Parent logger; the pipeline logs state changes at debug through a child. Silent when absent. */
  log?: Logger;
}

/** The shelf's health, shaped like the `health` payload's status, channels and rejects. */
export interface ShelfHealth {
  status: HealthStatus;
  channels: {
    channel: number;
    status: HealthStatus;
    noiseG: number;
    driftG: number;
    /** Temperature coefficients in force, when the channel has any. */
    thermal?: ThermalCoefficients;
  }[];
  rejects: Record<string, number>;
  /** The shelf's temperature in force, °C, when its frames carry one. */
  tempC?: number;
}

/** Result of a technician operation on a lane. */
export interface LaneCalibrationResult {
  lane: string;
  channels: number[];
  /** One per lane channel; null for a channel that kept its calibration. */
  changes: (CalibrationChange | null)[];
  /** Sum over the lane's channels, grams. */
  residualG: number;
}
