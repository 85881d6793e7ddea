/**
 * Alerts: the user's alerts (`GET /api/alerts`) and acknowledging one, which answers with the
 * alert.
 */
import { AlertKinds, Id } from '../payloads.js';
import * as z from '../zod.js';
import { limitParam, listParam, orNull } from './common.js';

export const AlertStates = ['open', 'acknowledged', 'cleared'] as const;
export const AlertState = z.enum(AlertStates);
export type AlertState = z.infer<typeof AlertState>;

/** `GET /api/alerts?state=open,acknowledged&kind=…&site=…&limit=N` (default: the live states). */
export const AlertsQuery = z.object({
  state: z.optional(listParam(AlertStates)),
  kind: z.optional(listParam(AlertKinds)),
  site: z.optional(Id),
  limit: z.optional(limitParam(10_000)),
});
export type AlertsQuery = z.infer<typeof AlertsQuery>;

export const ApiAlert = z.object({
  id: z.string(),
  kind: z.enum(AlertKinds),
  state: AlertState,
  site: z.string(),
  shelf: orNull(z.string()),
  lane: orNull(z.string()),
  message: z._default(z.string(), ''),
  openedAt: z.number(),
  updatedAt: orNull(z.number()),
  acknowledgedAt: orNull(z.number()),
  acknowledgedBy: orNull(z.string()),
  clearedAt: orNull(z.number()),
});
export type ApiAlert = z.infer<typeof ApiAlert>;

/** Newest first. */
export const AlertsResponse = z.array(ApiAlert);
export type AlertsResponse = z.infer<typeof AlertsResponse>;
