/**
 * The schema of the central SQLite file, as numbered migrations applied in order. The applied
 * version is `PRAGMA user_version`. Never edit a released migration: add the next number.
 */
import { NOTIFICATIONS_SQL } from './notifications.js';
import { OBSERVATIONS_SQLITE } from './observations.js';
import { PURCHASE_ORDERS_SQLITE } from './purchase-orders.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'readings, marks, history, events, calibrations, alerts',
    sql: `
      -- Every record an agent sent, once: (agent, seq) is the deduplication key.
      CREATE TABLE readings (
        agent TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('level', 'event', 'calibration')),
        site TEXT NOT NULL,
        shelf TEXT NOT NULL,
        lane TEXT NOT NULL,
        ts INTEGER NOT NULL,
        payload TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (agent, seq)
      ) WITHOUT ROWID;
      CREATE INDEX readings_received ON readings (received_at);

      -- The stored high-water mark per agent: every seq <= mark is committed or given up as a gap.
      CREATE TABLE agent_marks (
        agent TEXT PRIMARY KEY,
        mark INTEGER NOT NULL,
        highest INTEGER NOT NULL,
        gap_since INTEGER,
        last_commit_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      -- Sequence ranges the mark stepped over because they never arrived.
      CREATE TABLE seq_gaps (
        agent TEXT NOT NULL,
        first INTEGER NOT NULL,
        last INTEGER NOT NULL,
        skipped_at INTEGER NOT NULL,
        late INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (agent, first)
      );

      -- Downsampled level history: one row per lane per interval, plus every change.
      CREATE TABLE level_history (
        id INTEGER PRIMARY KEY,
        site TEXT NOT NULL,
        shelf TEXT NOT NULL,
        lane TEXT NOT NULL,
        ts INTEGER NOT NULL,
        units INTEGER NOT NULL,
        grams REAL NOT NULL,
        fill REAL,
        stable INTEGER NOT NULL,
        confidence REAL NOT NULL,
        state TEXT NOT NULL,
        sku TEXT,
        agent TEXT NOT NULL,
        seq INTEGER NOT NULL
      );
      CREATE INDEX level_history_lane_ts ON level_history (site, shelf, lane, ts);
      CREATE INDEX level_history_ts ON level_history (ts);

      -- The newest level per lane, whatever the downsampling kept.
      CREATE TABLE lane_latest (
        site TEXT NOT NULL,
        shelf TEXT NOT NULL,
        lane TEXT NOT NULL,
        ts INTEGER NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (site, shelf, lane)
      ) WITHOUT ROWID;

      CREATE TABLE events (
        agent TEXT NOT NULL,
        seq INTEGER NOT NULL,
        site TEXT NOT NULL,
        shelf TEXT NOT NULL,
        lane TEXT NOT NULL,
        kind TEXT NOT NULL,
        delta INTEGER NOT NULL,
        units INTEGER NOT NULL,
        sku TEXT,
        ts INTEGER NOT NULL,
        PRIMARY KEY (agent, seq)
      ) WITHOUT ROWID;
      CREATE INDEX events_lane_ts ON events (site, shelf, lane, ts);
      CREATE INDEX events_shelf_ts ON events (site, shelf, ts);

      CREATE TABLE calibrations (
        agent TEXT NOT NULL,
        seq INTEGER NOT NULL,
        site TEXT NOT NULL,
        shelf TEXT NOT NULL,
        lane TEXT NOT NULL,
        kind TEXT NOT NULL,
        by_user TEXT,
        by_role TEXT,
        ts INTEGER NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (agent, seq)
      ) WITHOUT ROWID;
      CREATE INDEX calibrations_lane_ts ON calibrations (site, shelf, lane, ts);

      CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('stock-out', 'offline', 'sensor-fault', 'anomaly')),
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
      -- One live alert of each kind per lane.
      CREATE UNIQUE INDEX alerts_one_live ON alerts (site, shelf, lane, kind) WHERE state <> 'cleared';
      CREATE INDEX alerts_lane_opened ON alerts (site, shelf, lane, opened_at);
      CREATE INDEX alerts_state ON alerts (state, opened_at);
    `,
  },
  {
    version: 2,
    name: 'orders, order events, webhook outbox',
    sql: `
      CREATE TABLE orders (
        id TEXT PRIMARY KEY,
        site TEXT NOT NULL,
        shelf TEXT NOT NULL,
        lane TEXT NOT NULL,
        sku TEXT NOT NULL,
        supplier TEXT NOT NULL,
        state TEXT NOT NULL
          CHECK (state IN ('open', 'acknowledged', 'shipped', 'received', 'closed', 'cancelled')),
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        shipped_quantity INTEGER,
        received_quantity INTEGER,
        reason TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        version INTEGER NOT NULL DEFAULT 1
      );
      -- At most one order per lane in a non-final state, whoever tries to open a second one:
      -- a restart, a replayed backlog or two rules instances on one file.
      CREATE UNIQUE INDEX orders_one_live_per_lane ON orders (site, shelf, lane)
        WHERE state NOT IN ('closed', 'cancelled');
      CREATE INDEX orders_lane_created ON orders (site, shelf, lane, created_at);
      CREATE INDEX orders_supplier_state ON orders (supplier, state, created_at);

      -- Every transition, in order: the audit trail and the body of each order event.
      CREATE TABLE order_events (
        event_id TEXT PRIMARY KEY,
        order_id TEXT NOT NULL REFERENCES orders (id),
        state TEXT NOT NULL,
        actor TEXT,
        body TEXT NOT NULL,
        ts INTEGER NOT NULL
      );
      CREATE INDEX order_events_order ON order_events (order_id, ts);

      -- Durable webhook outbox, written in the same transaction as the order change.
      CREATE TABLE webhook_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE REFERENCES order_events (event_id),
        order_id TEXT NOT NULL,
        supplier TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        body TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead', 'skipped')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        lease_until INTEGER,
        last_status INTEGER,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        delivered_at INTEGER
      );
      CREATE INDEX webhook_outbox_due ON webhook_outbox (state, next_attempt_at);
      CREATE INDEX webhook_outbox_order ON webhook_outbox (order_id, id);
    `,
  },
  {
    version: 3,
    name: 'rules lane state',
    sql: `
      CREATE TABLE rule_state (
        site TEXT NOT NULL,
        shelf TEXT NOT NULL,
        lane TEXT NOT NULL,
        state TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (site, shelf, lane)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    name: 'readings, marks, gaps, events and calibrations keyed by site and agent',
    sql: `
      -- Agent ids are unique within a site only: every seq belongs to (site, agent).
      CREATE TABLE readings_v4 (
        site TEXT NOT NULL,
        agent TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('level', 'event', 'calibration')),
        shelf TEXT NOT NULL,
        lane TEXT NOT NULL,
        ts INTEGER NOT NULL,
        payload TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (site, agent, seq)
      ) WITHOUT ROWID;
      INSERT INTO readings_v4 (site, agent, seq, kind, shelf, lane, ts, payload, received_at)
        SELECT site, agent, seq, kind, shelf, lane, ts, payload, received_at FROM readings;
      DROP TABLE readings;
      ALTER TABLE readings_v4 RENAME TO readings;
      CREATE INDEX readings_received ON readings (received_at);

      -- A mark goes to each site its agent's readings came from. A mark whose readings were all
      -- pruned has no known site and is dropped: the agent's next records start a gap the
      -- gap timeout steps over.
      CREATE TABLE agent_marks_v4 (
        site TEXT NOT NULL,
        agent TEXT NOT NULL,
        mark INTEGER NOT NULL,
        highest INTEGER NOT NULL,
        gap_since INTEGER,
        last_commit_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (site, agent)
      );
      INSERT INTO agent_marks_v4 (site, agent, mark, highest, gap_since, last_commit_at, updated_at)
        SELECT s.site, m.agent, m.mark, m.highest, m.gap_since, m.last_commit_at, m.updated_at
        FROM agent_marks m JOIN (SELECT DISTINCT site, agent FROM readings) s ON s.agent = m.agent;
      DROP TABLE agent_marks;
      ALTER TABLE agent_marks_v4 RENAME TO agent_marks;

      CREATE TABLE seq_gaps_v4 (
        site TEXT NOT NULL,
        agent TEXT NOT NULL,
        first INTEGER NOT NULL,
        last INTEGER NOT NULL,
        skipped_at INTEGER NOT NULL,
        late INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (site, agent, first)
      );
      INSERT INTO seq_gaps_v4 (site, agent, first, last, skipped_at, late)
        SELECT m.site, g.agent, g.first, g.last, g.skipped_at, g.late
        FROM seq_gaps g JOIN agent_marks m ON m.agent = g.agent;
      DROP TABLE seq_gaps;
      ALTER TABLE seq_gaps_v4 RENAME TO seq_gaps;

      -- Events and calibration records are readings too: one per (site, agent, seq).
      CREATE TABLE events_v4 (
        agent TEXT NOT NULL,
        seq INTEGER NOT NULL,
        site TEXT NOT NULL,
        shelf TEXT NOT NULL,
        lane TEXT NOT NULL,
        kind TEXT NOT NULL,
        delta INTEGER NOT NULL,
        units INTEGER NOT NULL,
        sku TEXT,
        ts INTEGER NOT NULL,
        PRIMARY KEY (site, agent, seq)
      ) WITHOUT ROWID;
      INSERT INTO events_v4 SELECT agent, seq, site, shelf, lane, kind, delta, units, sku, ts FROM events;
      DROP TABLE events;
      ALTER TABLE events_v4 RENAME TO events;
      CREATE INDEX events_lane_ts ON events (site, shelf, lane, ts);
      CREATE INDEX events_shelf_ts ON events (site, shelf, ts);

      CREATE TABLE calibrations_v4 (
        agent TEXT NOT NULL,
        seq INTEGER NOT NULL,
        site TEXT NOT NULL,
        shelf TEXT NOT NULL,
        lane TEXT NOT NULL,
        kind TEXT NOT NULL,
        by_user TEXT,
        by_role TEXT,
        ts INTEGER NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (site, agent, seq)
      ) WITHOUT ROWID;
      INSERT INTO calibrations_v4
        SELECT agent, seq, site, shelf, lane, kind, by_user, by_role, ts, record FROM calibrations;
      DROP TABLE calibrations;
      ALTER TABLE calibrations_v4 RENAME TO calibrations;
      CREATE INDEX calibrations_lane_ts ON calibrations (site, shelf, lane, ts);
    `,
  },
  {
    version: 5,
    name: 'health history',
    sql: `
      -- Shelf health reports, one per shelf and time. Files written before this migration may
      -- have the table already (the SQLite history created it itself).
      CREATE TABLE IF NOT EXISTS health_history (
        site TEXT NOT NULL,
        shelf TEXT NOT NULL,
        ts INTEGER NOT NULL,
        agent TEXT NOT NULL,
        status TEXT NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (site, shelf, ts)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS health_history_ts ON health_history (ts);
    `,
  },
  {
    version: 6,
    name: 'catalogue versions',
    sql: `
      -- The catalogue (sites, shelves, lanes, SKUs, suppliers, policies, webhooks), one row per
      -- applied version, never rewritten: the newest row is the catalogue in force.
      CREATE TABLE catalogue_versions (
        version INTEGER PRIMARY KEY,
        catalogue TEXT NOT NULL,
        applied_at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        summary TEXT NOT NULL
      );
      -- Why a catalogue change cancelled an order (the order event carries no reason field).
      CREATE TABLE catalogue_cancellations (
        order_id TEXT PRIMARY KEY REFERENCES orders (id),
        version INTEGER NOT NULL REFERENCES catalogue_versions (version),
        reason TEXT NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: 'audit log and catalogue revisions',
    sql: `
      -- Who did what, when: catalogue changes, logins, tokens, user changes, order actions.
      -- Append-only: the triggers refuse every UPDATE and DELETE, whoever asks.
      CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        role TEXT,
        action TEXT NOT NULL,
        target TEXT,
        target_id TEXT,
        site TEXT,
        before TEXT,
        after TEXT,
        detail TEXT
      );
      CREATE INDEX audit_log_at ON audit_log (at);
      CREATE INDEX audit_log_site ON audit_log (site, seq);
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      -- The catalogue version in which each object last changed; an object absent here has not
      -- changed since version 1.
      CREATE TABLE catalogue_revisions (
        what TEXT NOT NULL,
        id TEXT NOT NULL,
        revision INTEGER NOT NULL,
        PRIMARY KEY (what, id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 8,
    name: 'audit log: no replace',
    sql: `
      -- INSERT OR REPLACE deletes the row it collides with without firing the DELETE trigger
      -- (SQLite fires none for REPLACE unless recursive_triggers is on), so refuse the insert.
      CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
        WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq)
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    `,
  },
  {
    version: 9,
    name: 'purchase orders',
    sql: PURCHASE_ORDERS_SQLITE,
  },
  {
    version: 10,
    name: 'notification settings, notices and their send queue',
    sql: NOTIFICATIONS_SQL,
  },
  {
    version: 11,
    name: 'lane observations and their alert kinds',
    sql: OBSERVATIONS_SQLITE,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;
