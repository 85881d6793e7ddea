/**
 * Technician commands: `POST /api/agents/{site}/{agent}/commands/{command}` with `{"args": {…}}`,
 * answered with the agent's reply; and the stream the `stream` command starts, read live over MQTT.
 */
import { CommandArgs, HealthStatus, LaneState, Serial } from '../payloads.js';
import type { CommandName } from '../topics.js';
import type { AnySchema } from '../zod.js';
import * as z from '../zod.js';
import { orNull } from './common.js';

/** The body; its `args` are checked against the command's ApiCommandArgs once the command is known. */
export const CommandBody = z.strictObject({ args: z._default(z.record(z.string(), z.unknown()), {}) });
export type CommandBody = z.infer<typeof CommandBody>;

/** Each command's arguments as the API takes them: unknown keys refused, so a typo is an error. */
export const ApiCommandArgs = {
  identify: z.strictObject(CommandArgs.identify.shape),
  tare: z.strictObject(CommandArgs.tare.shape),
  calibrate: z.strictObject(CommandArgs.calibrate.shape),
  'learn-unit': z.strictObject(CommandArgs['learn-unit'].shape),
  'remove-point': z.strictObject(CommandArgs['remove-point'].shape),
  stream: z.strictObject(CommandArgs.stream.shape),
} satisfies Record<CommandName, AnySchema>;

/** The agent's reply as central relays it; an agent's `error` reply is still HTTP 200. */
export const CommandReply = z.object({
  status: z.enum(['ok', 'error']),
  data: z.unknown(),
  error: orNull(z.object({ code: z.string(), message: z.string() })),
  transaction: z.string(),
});
export type CommandReply = z.infer<typeof CommandReply>;

/**
 * `.../agents/{agent}/stream`: the agent's live per-channel and per-lane readings, several times a
 * second while a technician asked for them (QoS 0, never stored).
 */
export const StreamPayload = z.object({
  shelf: z.string(),
  serial: z.optional(Serial),
  ts: z.number(),
  channels: z.array(
    z.object({
      channel: z.number().check(z.int()),
      raw: orNull(z.number()),
      grams: orNull(z.number()),
      stable: z._default(z.boolean(), false),
      noiseG: orNull(z.number()),
      status: z._default(HealthStatus, 'ok'),
    }),
  ),
  lanes: z._default(
    z.array(
      z.object({
        lane: z.string(),
        units: orNull(z.number()),
        netG: orNull(z.number()),
        state: z._default(LaneState, 'ok'),
      }),
    ),
    [],
  ),
});
export type StreamPayload = z.infer<typeof StreamPayload>;
