/**
 * The shelves routes' bodies (docs/http-api.md, docs/onboarding.md): the shelves agents report
 * that the catalogue does not know yet (`GET /api/shelves/unassigned`).
 */
import { Id, Serial } from '../payloads.js';
import * as z from '../zod.js';
import { orNull } from './common.js';

export const ApiUnassignedShelf = z.object({
  site: Id,
  agent: Id,
  serial: Serial,
  /** Load-cell channels, null when the agent does not report them (an older agent). */
  channels: orNull(z.number().check(z.int(), z.minimum(1), z.maximum(8))),
  agentOnline: z.boolean(),
  /** When the agent last reported the shelf, epoch ms. */
  seenAt: z.number(),
});
export type ApiUnassignedShelf = z.infer<typeof ApiUnassignedShelf>;

/** By site, agent and serial. */
export const UnassignedShelvesResponse = z.array(ApiUnassignedShelf);
export type UnassignedShelvesResponse = z.infer<typeof UnassignedShelvesResponse>;
