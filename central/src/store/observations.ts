/**
 * Lane observations: what a lane's weight says beyond its count (a hand, a lean, a foreign object,
 * another lane's item, tamper, a unit-weight proposal). They are agents' records like events — one
 * per (site, agent, seq), committed through the readings — and kept whole, with who accepted a
 * unit-weight proposal and when.
 */
import type { ObservationKind, ObservationPayload } from '@shelfsense/protocol';
import type { LaneRef } from './records.js';

export interface ObservationRow extends LaneRef {
  agent: string;
  seq: number;
  /** The agent's id tying an `open` observation to its `cleared` one. */
  observation: string;
  kind: ObservationKind;
  state: ObservationPayload['state'];
  ts: number;
  payload: ObservationPayload;
  /** A unit-weight proposal accepted: when, and by whom. */
  acceptedAt: number | null;
  acceptedBy: string | null;
}

/** What the observations query narrows by, beyond lane and time range. */
export interface ObservationFilter {
  kind?: ObservationKind;
  state?: ObservationPayload['state'];
  /** One observation (its open and cleared records). */
  observation?: string;
}

/** The alert kinds observations may open. */
export const OBSERVATION_ALERT_KINDS = ['foreign-object', 'misplaced-item', 'tamper', 'unit-weight'] as const;

const ALERT_KINDS_SQL = `('stock-out', 'offline', 'sensor-fault', 'anomaly', ${OBSERVATION_ALERT_KINDS.map((k) => `'${k}'`).join(', ')})`;
const READING_KINDS_SQL = `('level', 'event', 'observation', 'calibration')`;

const OBSERVATIONS_TABLE = (int: string, real: string) => `
  CREATE TABLE observations (
    agent TEXT NOT NULL,
    seq ${int} NOT NULL,
    site TEXT NOT NULL,
    shelf TEXT NOT NULL,
    lane TEXT NOT NULL,
    observation TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    grams ${real} NOT NULL,
    ts ${int} NOT NULL,
    payload TEXT NOT NULL,
    accepted_at ${int},
    accepted_by TEXT,
    PRIMARY KEY (site, agent, seq)
  );
  CREATE INDEX observations_lane_ts ON observations (site, shelf, lane, ts);
  CREATE INDEX observations_site_ts ON observations (site, ts);
`;

/**
 * SQLite: readings and alerts rebuilt with the wider kind checks (SQLite cannot alter a CHECK),
 * and the observations table.
 */
export const OBSERVATIONS_SQLITE = `
  CREATE TABLE readings_v11 (
    site TEXT NOT NULL,
    agent TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ${READING_KINDS_SQL}),
    shelf TEXT NOT NULL,
    lane TEXT NOT NULL,
    ts INTEGER NOT NULL,
    payload TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (site, agent, seq)
  ) WITHOUT ROWID;
  INSERT INTO readings_v11 SELECT site, agent, seq, kind, shelf, lane, ts, payload, received_at FROM readings;
  DROP TABLE readings;
  ALTER TABLE readings_v11 RENAME TO readings;
  CREATE INDEX readings_received ON readings (received_at);

  CREATE TABLE alerts_v11 (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ${ALERT_KINDS_SQL}),
    site TEXT NOT NULL,
    shelf TEXT NOT NULL,
    lane TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'cleared')),
    message TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    cleared_at INTEGER
  );
  INSERT INTO alerts_v11 SELECT id, kind, site, shelf, lane, state, message, opened_at, updated_at,
    acknowledged_at, acknowledged_by, cleared_at FROM alerts;
  DROP TABLE alerts;
  ALTER TABLE alerts_v11 RENAME TO alerts;
  CREATE UNIQUE INDEX alerts_one_live ON alerts (site, shelf, lane, kind) WHERE state <> 'cleared';
  CREATE INDEX alerts_lane_opened ON alerts (site, shelf, lane, opened_at);
  CREATE INDEX alerts_state ON alerts (state, opened_at);
  ${OBSERVATIONS_TABLE('INTEGER', 'REAL')}
`;

/** Postgres: the inline CHECKs of readings and alerts carry Postgres's default names. */
export const OBSERVATIONS_PG = `
  ALTER TABLE readings DROP CONSTRAINT readings_kind_check;
  ALTER TABLE readings ADD CONSTRAINT readings_kind_check CHECK (kind IN ${READING_KINDS_SQL});
  ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
  ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check CHECK (kind IN ${ALERT_KINDS_SQL});
  ${OBSERVATIONS_TABLE('BIGINT', 'DOUBLE PRECISION')}
`;
