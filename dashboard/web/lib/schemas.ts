/**
 * The shapes the dashboard reads from the central HTTP API (docs/http-api.md) and from the one
 * MQTT topic whose payload is not in the shared contract (the technician stream). Every response
 * is checked here before the UI uses it; a field the API leaves out reads as null.
 */
import { OrderState } from '@shelfsense/protocol';
import { z } from 'zod';
import { deriveStatus, LANE_STATUSES } from './status.js';

const orNull = <T extends z.ZodType>(schema: T) => schema.nullable().default(null);
const num = orNull(z.number());
const str = orNull(z.string());

export const User = z.object({
  name: z.string().min(1),
  role: z.string().min(1),
  supplier: str,
  sites: z.array(z.string()).default([]),
});
export type User = z.infer<typeof User>;

export const LoginResponse = z.object({
  token: z.string().min(1),
  expiresAt: z.number(),
  user: User,
});
export type LoginResponse = z.infer<typeof LoginResponse>;

export const OpenOrderRef = z.object({ id: z.string(), state: z.string(), quantity: z.number() });

export const Lane = z
  .object({
    site: z.string(),
    shelf: z.string(),
    lane: z.string(),
    sku: str,
    skuName: str,
    supplier: str,
    unitWeightG: num,
    capacity: num,
    units: num,
    grams: num,
    fill: num,
    state: str,
    stable: orNull(z.boolean()),
    confidence: num,
    /** A status this dashboard does not know reads as null and is derived from the reading. */
    status: z.enum(LANE_STATUSES).nullable().catch(null),
    /** Central's offline timeout (null from a central that does not send it: no timeout here). */
    offlineAfterMs: num,
    reorderPoint: num,
    orderUpTo: num,
    ratePerDay: num,
    daysOfCover: num,
    stockoutAt: num,
    agent: str,
    agentOnline: orNull(z.boolean()),
    health: str,
    updatedAt: num,
    openOrder: orNull(OpenOrderRef),
  })
  .transform((l) => ({ ...l, status: l.status ?? deriveStatus(l) }));
export type Lane = z.infer<typeof Lane>;
export const Lanes = z.array(Lane);

export const Delivery = z.object({ state: z.string(), attempts: z.number().int().nonnegative() });

export const Order = z.object({
  id: z.string(),
  site: z.string(),
  shelf: z.string(),
  lane: z.string(),
  sku: z.string(),
  supplier: z.string(),
  state: OrderState,
  quantity: z.number(),
  shippedQuantity: num,
  receivedQuantity: num,
  createdAt: z.number(),
  updatedAt: z.number(),
  delivery: orNull(Delivery),
});
export type Order = z.infer<typeof Order>;
export const Orders = z.array(Order);

export const Alert = z.object({
  id: z.string(),
  kind: z.string(),
  state: z.string(),
  site: z.string(),
  shelf: str,
  lane: str,
  message: z.string().default(''),
  openedAt: z.number(),
  updatedAt: num,
  acknowledgedBy: str,
});
export type Alert = z.infer<typeof Alert>;
export const Alerts = z.array(Alert);

export const History = z.object({
  levels: z.array(z.object({ ts: z.number(), units: num, grams: num, state: str })).default([]),
  events: z.array(z.object({ ts: z.number(), kind: z.string(), delta: z.number(), units: num })).default([]),
});
export type History = z.infer<typeof History>;

/** A calibration record as the agent wrote it (protocol CalibrationRecord), read leniently. */
export const CalibrationRow = z.object({
  id: z.union([z.string(), z.number()]).optional(),
  agent: str,
  shelf: z.string(),
  lane: z.string(),
  kind: z.string(),
  by: orNull(z.object({ user: z.string(), role: z.string().optional() })),
  channels: z.array(z.number()).default([]),
  referenceG: num,
  items: num,
  before: z.record(z.string(), z.unknown()).default({}),
  after: z.record(z.string(), z.unknown()).default({}),
  residualG: num,
  ts: z.number(),
});
export type CalibrationRow = z.infer<typeof CalibrationRow>;
export const CalibrationRows = z.array(CalibrationRow);

/** The reply central relays from the agent for a technician command. */
export const CommandReply = z.object({
  status: z.enum(['ok', 'error']),
  data: z.unknown().optional(),
  error: z.object({ code: z.string(), message: z.string() }).nullish(),
  transaction: z.string().optional(),
});
export type CommandReply = z.infer<typeof CommandReply>;

/** `.../agents/{agent}/stream`: the agent's live per-channel and per-lane readings. */
export const StreamPayload = z.object({
  shelf: z.string(),
  serial: z.string().optional(),
  ts: z.number(),
  channels: z.array(
    z.object({
      channel: z.number().int(),
      raw: num,
      grams: num,
      stable: z.boolean().default(false),
      noiseG: num,
      status: z.string().default('ok'),
    }),
  ),
  lanes: z
    .array(z.object({ lane: z.string(), units: num, netG: num, state: z.string().default('ok') }))
    .default([]),
});
export type StreamPayload = z.infer<typeof StreamPayload>;

export const ApiErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});
