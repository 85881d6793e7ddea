/**
 * Where the central side keeps level, event, health and calibration history. SQLite (the central
 * store file) is the default; InfluxDB 1.x is for longer history and Grafana. The central config
 * holds it under one key: `history: HistoryConfig.prefault({})`.
 *
 *   history:
 *     store: influx
 *     influx: { host: influx.local, database: shelfsense, flushMs: 1s }
 */
import { z } from 'zod';
import { Duration, TimerDuration } from './common.js';

const HOUR_MS = 3_600_000;

/** InfluxDB names (database, retention policy): kept to a safe alphabet so they never need quoting tricks. */
const InfluxName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/, 'letters, digits, _ and -, starting with a letter or _');

export const InfluxHistoryConfig = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).default(8086),
    protocol: z.enum(['http', 'https']).default('http'),
    database: InfluxName.default('shelfsense'),
    username: z.string().min(1).optional(),
    /** Read from this file, so the password is not in the config. */
    passwordFile: z.string().min(1).optional(),
    /**
     * Opt-in: create the database if it is missing (its default retention policy `retention` long,
     * named `retentionPolicy` or `shelfsense`), or a missing `retentionPolicy` in an existing one
     * (not made the default). Nothing is ever altered. Off, Shelfsense only writes and reads.
     */
    setup: z.boolean().default(false),
    /** How long a policy made by `setup` keeps points: 0 forever; otherwise at least 1h (InfluxDB's floor). */
    retention: z
      .pipe(
        Duration,
        z
          .number()
          .refine((ms) => ms === 0 || ms >= HOUR_MS, '0 (forever) or at least 1h, the InfluxDB minimum'),
      )
      .default(90 * 24 * HOUR_MS),
    /** The retention policy written to and read from. Unset: the database's default one. */
    retentionPolicy: InfluxName.optional(),
    /** Points per write request … */
    batchSize: z.number().int().min(1).max(5_000).default(1_000),
    /** … or write whatever waits after this long. */
    flushMs: z._default(TimerDuration, 1_000),
    /** Points held while InfluxDB cannot be reached; beyond it the oldest are dropped (and counted). */
    bufferLimit: z.number().int().min(1).max(10_000_000).default(100_000),
    /** Retry schedule of a failed write: doubles from initialMs up to maxMs. */
    retry: z
      .strictObject({
        initialMs: z.pipe(TimerDuration, z.number().min(1)).default(500),
        maxMs: z.pipe(TimerDuration, z.number().min(1)).default(30_000),
      })
      .prefault({}),
    /** One HTTP request to InfluxDB gives up after this long. */
    requestTimeoutMs: z.pipe(TimerDuration, z.number().min(1)).default(10_000),
    /** `all` writes every level reading; `downsampled` one per lane per levelIntervalMs plus every change. */
    levels: z.enum(['all', 'downsampled']).default('all'),
    levelIntervalMs: z._default(Duration, 60_000),
    /** On stop, the last write may take this long before what is left is given up (and counted). */
    stopTimeoutMs: z._default(TimerDuration, 2_000),
  })
  .superRefine((c, ctx) => {
    if (c.passwordFile && !c.username) {
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'required when passwordFile is set' });
    }
    if (c.retry.maxMs < c.retry.initialMs) {
      ctx.addIssue({ code: 'custom', path: ['retry', 'maxMs'], message: 'must be at least retry.initialMs' });
    }
  });
export type InfluxHistoryConfig = z.infer<typeof InfluxHistoryConfig>;
export type InfluxHistoryConfigInput = z.input<typeof InfluxHistoryConfig>;

export const HistoryStoreKind = z.enum(['sqlite', 'influx']);
export type HistoryStoreKind = z.infer<typeof HistoryStoreKind>;

export const HistoryConfig = z.strictObject({
  /** `sqlite`: the central store file (the default); `influx`: an InfluxDB 1.x server. */
  store: HistoryStoreKind.default('sqlite'),
  /** Used when store is `influx`. */
  influx: InfluxHistoryConfig.prefault({}),
});
export type HistoryConfig = z.infer<typeof HistoryConfig>;
export type HistoryConfigInput = z.input<typeof HistoryConfig>;
