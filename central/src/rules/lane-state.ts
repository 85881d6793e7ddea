/**
 * What the rules remember about one lane between readings. Persisted as JSON in `rule_state`, so a
 * restarted rules service keeps its debounce clocks, hysteresis and consumption rate.
 */
import { AlertKinds, LaneState } from '@shelfsense/protocol';
import { z } from 'zod';
import type { Step } from '../orders/receipt.js';
import { type DemandDays, emptyRate, type RateState } from './rate.js';

export interface LaneRuleState {
  /** The last stable count (null before the first reading). */
  units: number | null;
  /** Whether the newest level reading was stable. */
  stable: boolean;
  /** The state the agent reported with the newest level. */
  reported: LaneState;
  /** Newest reading timestamp (the agent's clock); older readings are ignored by the rules. */
  lastTs: number | null;
  /** Debounce: since when (reading time) the lane has been stable and at or below its reorder point. */
  belowSince: number | null;
  /** Since when (reading time) the lane has been unstable or anomalous. */
  shakySince: number | null;
  /** Hysteresis: false from an order until the count rises above reorder point + margin, or receipt. */
  armed: boolean;
  /** The agent's status says offline (its last will). */
  agentOffline: boolean;
  /** Nothing heard from the lane for longer than the offline timeout. */
  stale: boolean;
  /** A channel of the lane is saturated or disconnected (shelf health). */
  healthFault: boolean;
  rate: RateState;
  /** Items picked per day, for the spread of demand (absent until the first pick). */
  demand?: DemandDays;
  /** Candidate delivery steps for the live order. */
  receipt: { orderId: string | null; steps: Step[] };
  /** Alerts this lane has live (mirrors the alerts table, saves a query per reading). */
  alerts: (typeof AlertKinds)[number][];
}

export function initialLaneState(): LaneRuleState {
  return {
    units: null,
    stable: false,
    reported: 'ok',
    lastTs: null,
    belowSince: null,
    shakySince: null,
    armed: true,
    agentOffline: false,
    stale: false,
    healthFault: false,
    rate: emptyRate(),
    receipt: { orderId: null, steps: [] },
    alerts: [],
  };
}

const Ts = z.number().int().nullable();

/** Validates state read back from the database (a damaged row falls back to a fresh state). */
export const LaneRuleStateSchema = z.object({
  units: z.number().int().nonnegative().nullable(),
  stable: z.boolean(),
  reported: LaneState,
  lastTs: Ts,
  belowSince: Ts,
  shakySince: Ts,
  armed: z.boolean(),
  agentOffline: z.boolean(),
  stale: z.boolean(),
  healthFault: z.boolean(),
  rate: z.object({ sum: z.number().nonnegative(), lastTs: Ts, since: Ts }),
  demand: z
    .object({
      day: z.number().int(),
      today: z.number().nonnegative(),
      days: z.array(z.number().nonnegative()).max(366),
    })
    .optional(),
  receipt: z.object({
    orderId: z.string().nullable(),
    steps: z.array(z.object({ ts: z.number().int(), delta: z.number().int() })),
  }),
  alerts: z.array(z.enum(AlertKinds)),
}) satisfies z.ZodType<LaneRuleState>;
