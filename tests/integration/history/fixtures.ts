/**
 * History points for tests: valid payloads with defaults, one increasing sequence per agent (so
 * the SQLite store, which keys readings by (agent, seq), and InfluxDB see the same readings).
 */
import type { HistoryPoint } from '@shelfsense/central/history';
import type { CalibrationRecord, EventPayload, HealthPayload, LevelPayload } from '@shelfsense/protocol';

export interface Lane {
  site: string;
  shelf: string;
  lane: string;
}

/** Well inside any retention policy (InfluxDB refuses points older than its policy). */
export const BASE_TS = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;

export class Points {
  private readonly seqs = new Map<string, number>();

  nextSeq(agent: string): number {
    const s = (this.seqs.get(agent) ?? 0) + 1;
    this.seqs.set(agent, s);
    return s;
  }

  level(
    at: Lane,
    ts: number,
    over: Partial<LevelPayload> = {},
    supplier: string | null = 'acme',
  ): HistoryPoint & { kind: 'level' } {
    const agent = over.agent ?? `agent-${at.site}`;
    const payload: LevelPayload = {
      agent,
      serial: `SN-${at.shelf}`,
      sku: 'cola-330',
      units: 10,
      grams: 3300,
      fill: 0.5,
      stable: true,
      confidence: 0.97,
      state: 'ok',
      ts,
      seq: over.seq ?? this.nextSeq(agent),
      frameSeq: 100,
      ...over,
    };
    return { ...at, kind: 'level', payload, supplier };
  }

  event(at: Lane, ts: number, over: Partial<EventPayload> = {}): HistoryPoint & { kind: 'event' } {
    const agent = over.agent ?? `agent-${at.site}`;
    const payload: EventPayload = {
      agent,
      serial: `SN-${at.shelf}`,
      sku: 'cola-330',
      kind: 'pick',
      delta: -1,
      units: 9,
      ts,
      seq: over.seq ?? this.nextSeq(agent),
      frameSeq: 101,
      ...over,
    };
    return { ...at, kind: 'event', payload, supplier: 'acme' };
  }

  calibration(
    at: Lane,
    ts: number,
    over: Partial<CalibrationRecord> = {},
  ): HistoryPoint & { kind: 'calibration' } {
    const agent = over.agent ?? `agent-${at.site}`;
    const payload: CalibrationRecord = {
      agent,
      serial: `SN-${at.shelf}`,
      shelf: at.shelf,
      lane: at.lane,
      kind: 'calibrate',
      by: { user: 'tina', role: 'technician' },
      channels: [0, 1],
      referenceG: 500,
      items: null,
      before: { offset: 1000, scale: 420.5 },
      after: { offset: 1012, scale: 421.25, points: [{ grams: 500, counts: 210_625 }] },
      residualG: 0.4,
      ts,
      seq: over.seq ?? this.nextSeq(agent),
      ...over,
    };
    return { ...at, kind: 'calibration', payload };
  }

  health(
    site: string,
    shelf: string,
    ts: number,
    over: Partial<HealthPayload> = {},
  ): HistoryPoint & { kind: 'health' } {
    const payload: HealthPayload = {
      agent: `agent-${site}`,
      serial: `SN-${shelf}`,
      status: 'noisy',
      channels: [
        { channel: 0, status: 'ok', noiseG: 0.25, driftG: 0.5 },
        { channel: 1, status: 'noisy', noiseG: 4.5, driftG: -1.25 },
      ],
      rejects: { checksum: 3, seq_lost: 1 },
      ts,
      ...over,
    };
    return { kind: 'health', site, shelf, payload };
  }
}
