/**
 * A lane as the dashboard holds it: the contract's `ApiLane`, with a status always known. A status
 * the API leaves out, or one this dashboard does not know, is derived from the reading by the
 * shared rules, so the lane still gets a colour.
 */
import { ApiLane, LANE_STATUSES } from '@shelfsense/protocol';
import * as z from '@shelfsense/protocol/zod';
import { deriveStatus } from './status.js';

export const Lane = z.pipe(
  z.extend(ApiLane, { status: z.catch(z.nullable(z.enum(LANE_STATUSES)), null) }),
  z.transform((l) => ({ ...l, status: l.status ?? deriveStatus(l) })),
);
export type Lane = z.output<typeof Lane>;
export const Lanes = z.array(Lane);
