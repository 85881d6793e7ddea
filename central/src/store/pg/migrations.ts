/**
 * The schema of the central store on Postgres, as numbered migrations applied in order (the
 * applied version is in `schema_version`). Version 1 is the whole of SQLite's migrations 1–8 in
 * Postgres types, the workers' partition leases, and the web nodes' users and shared secrets
 * (users.db in Postgres types): times are BIGINT epoch milliseconds, JSON is kept as the text
 * that was written.
 * Never edit a released migration: add the next number.
 */
import type { Migration } from '../migrations.js';
import { OBSERVATIONS_PG } from '../observations.js';
import { ALERTS_SCHEMA } from './alerts.js';
import { AUDIT_SCHEMA } from './audit.js';
import { CATALOGUE_SCHEMA } from './catalogue.js';
import { HEALTH_SCHEMA } from './health.js';
import { HISTORY_SCHEMA } from './history.js';
import { LEASES_SCHEMA } from './leases.js';
import { NOTIFICATIONS_SCHEMA } from './notifications.js';
import { ORDERS_SCHEMA } from './orders.js';
import { OUTBOX_SCHEMA } from './outbox.js';
import { PURCHASE_ORDERS_SCHEMA } from './purchase-orders.js';
import { READINGS_SCHEMA } from './readings.js';
import { RULE_STATE_SCHEMA } from './rule-state.js';
import { USERS_SCHEMA } from './users.js';

export const PG_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'the central store',
    // In this order: later tables refer to earlier ones (outbox and cancellations to orders).
    sql: [
      READINGS_SCHEMA,
      HISTORY_SCHEMA,
      HEALTH_SCHEMA,
      ALERTS_SCHEMA,
      ORDERS_SCHEMA,
      OUTBOX_SCHEMA,
      RULE_STATE_SCHEMA,
      CATALOGUE_SCHEMA,
      AUDIT_SCHEMA,
      LEASES_SCHEMA,
      USERS_SCHEMA,
    ].join('\n'),
  },
  { version: 2, name: 'purchase orders', sql: PURCHASE_ORDERS_SCHEMA },
  { version: 3, name: 'notification settings, notices and their send queue', sql: NOTIFICATIONS_SCHEMA },
  { version: 4, name: 'lane observations and their alert kinds', sql: OBSERVATIONS_PG },
];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;
