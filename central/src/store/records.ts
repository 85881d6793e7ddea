/** What the store keeps of an agent's records: a lane, and a reading addressed to it. */
import type { CalibrationRecord, EventPayload, LevelPayload, ObservationPayload } from '@shelfsense/protocol';

export interface LaneRef {
  site: string;
  shelf: string;
  lane: string;
}

export type ReadingInput =
  | (LaneRef & { kind: 'level'; payload: LevelPayload })
  | (LaneRef & { kind: 'event'; payload: EventPayload })
  | (LaneRef & { kind: 'observation'; payload: ObservationPayload })
  | (LaneRef & { kind: 'calibration'; payload: CalibrationRecord });
