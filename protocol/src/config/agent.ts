/**
 * The agent's YAML config. One schema is the source of truth for fields, defaults and type.
 */
import { z } from 'zod';
import { Id, LaneSetting, Serial } from '../payloads.js';
import { BrokerUrl, Duration, LogLevel, TimerDuration } from './common.js';

/** A shelf source: a serial device path, a TCP bridge (`tcp://host:port`), or discovery by USB ids. */
export const SourceConfig = z.union([
  z.strictObject({ path: z.string().min(1), baudRate: z.number().int().positive().default(115_200) }),
  z.strictObject({ url: z.string().regex(/^tcp:\/\/[^\s:/]+:\d{1,5}$/, 'tcp://host:port') }),
  z.strictObject({
    discover: z.strictObject({
      vendorId: z
        .string()
        .regex(/^[0-9a-fA-F]{4}$/)
        .optional(),
      productId: z
        .string()
        .regex(/^[0-9a-fA-F]{4}$/)
        .optional(),
      glob: z.string().min(1).optional(),
    }),
    baudRate: z.number().int().positive().default(115_200),
  }),
]);
export type SourceConfig = z.infer<typeof SourceConfig>;

/** Local lane settings, used until (and unless) central publishes its own. */
export const LocalShelf = z.strictObject({
  serial: Serial,
  shelf: Id.optional(),
  lanes: z.array(LaneSetting).optional(),
  /**
   * Factory calibration per channel, used until a technician calibrates the shelf (the agent's own
   * calibration records then take precedence).
   */
  calibration: z
    .array(z.strictObject({ channel: z.number().int().min(0).max(7), offset: z.number(), scale: z.number() }))
    .default([]),
});

/**
 * The edge agent's signal pipeline (agent/src/pipeline). Window sizes are in samples at 80 SPS; at
 * 10 SPS the pipeline shrinks them toward the same time span (neither below 3 samples). Every
 * duration runs on the shelf's device clock, not the wall clock.
 */
export const SignalConfig = z.strictObject({
  /** Median window (samples) that removes single-sample spikes. */
  medianWindow: z.number().int().min(1).max(31).default(5),
  /** Moving-average window (samples) after the median. */
  averageWindow: z.number().int().min(1).max(256).default(8),
  /** How long the filtered weight must stay within the band to be called stable. */
  stableMs: Duration.pipe(z.number().min(50).max(60_000)).default(500),
  /** Band (grams, peak to peak) within which the filtered weight counts as still. */
  stableBandG: z.number().positive().default(3),
  /** A new count must hold, stable and unchanged, this much longer before it is accepted. */
  confirmMs: Duration.pipe(z.number().max(60_000)).default(250),
  /** A count is accepted only when the net weight is within this fraction of a unit of a whole number. */
  wholeTolerance: z.number().positive().max(0.5).default(0.3),
  /** A single sample further than this (grams) from both neighbours, which agree, is dropped. */
  spikeG: z.number().positive().default(20),
  /** Largest zero correction zero-tracking may apply, grams. */
  zeroTrackLimitG: z.number().nonnegative().default(20),
  /** Time constant of zero-tracking (empty, stable lane). */
  zeroTrackMs: Duration.pipe(z.number().min(1)).default(10_000),
  /** Time constant with which a loaded lane's count reference follows slow drift between picks. */
  driftTrackMs: Duration.pipe(z.number().min(1)).default(30_000),
  /** A channel reading only junk (saturated / glitch codes) this long is saturated or disconnected. */
  faultMs: Duration.pipe(z.number().min(1)).default(500),
  /** A channel with no valid sample this long is `no_data`. */
  noDataMs: Duration.pipe(z.number().min(1)).default(3_000),
  /** Raw noise σ (grams) above which a channel is `noisy`. */
  noisyG: z.number().positive().default(4),
  /** Heartbeat: republish the level this often even when nothing changed. */
  heartbeatMs: TimerDuration.default(60_000),
});
export type SignalConfig = z.infer<typeof SignalConfig>;
export type SignalConfigInput = z.input<typeof SignalConfig>;

export const AgentConfig = z.strictObject({
  agent: z.strictObject({ id: Id, site: Id }),
  sources: z.array(SourceConfig).min(1, 'at least one source (serial path, tcp:// URL or discover)'),
  broker: z.strictObject({
    url: BrokerUrl,
    username: z.string().min(1).optional(),
    password: z.string().optional(),
    /** MQTT protocol version; `auto` tries 5 then falls back to 3.1.1. */
    protocol: z.union([z.literal('auto'), z.literal(4), z.literal(5)]).default('auto'),
    keepaliveS: z.number().int().min(1).max(3600).default(30),
    reconnectMs: TimerDuration.default(1_000),
  }),
  delivery: z
    .strictObject({
      /** `central`: trim the outbox on central's stored mark; `broker`: on the broker's PUBACK. */
      trimOn: z.enum(['central', 'broker']).default('central'),
      maxRecords: z.number().int().positive().default(1_000_000),
      maxBytes: z
        .number()
        .int()
        .positive()
        .default(256 * 1024 * 1024),
      maxAgeMs: Duration.default(30 * 86_400_000),
      /** Records in flight at once. */
      window: z.number().int().min(1).max(10_000).default(200),
      /** In `central` mode, send again what the broker took but central did not confirm in this time. */
      redeliverMs: TimerDuration.default(10_000),
      /** Outbox fsync policy: `append` (every record), `interval` (default) or `none`. */
      fsync: z.enum(['append', 'interval', 'none']).default('interval'),
      fsyncIntervalMs: TimerDuration.default(5),
    })
    .prefault({}),
  /** Where the outbox, calibration and cached lane settings live. */
  stateDir: z.string().min(1).default('./shelfsense-state'),
  reconnect: z
    .strictObject({ minMs: TimerDuration.default(200), maxMs: TimerDuration.default(30_000) })
    .prefault({}),
  /**
   * TCP sources read at most this often (ms): frames that arrive meanwhile wait in the kernel's
   * socket buffer and come in one read, which saves most of the agent's CPU at a shelf's real rate.
   * Readings are delayed by at most this much; 0 reads every frame as it arrives. (Serial ports
   * read as data comes: serialport's stream does not resume reliably once paused.)
   */
  readBatchMs: z.number().int().min(0).max(1000).default(100),
  signal: SignalConfig.prefault({}),
  shelves: z.array(LocalShelf).default([]),
  /** Calibration of a channel nobody calibrated yet: raw counts at zero load and counts per gram. */
  defaultCalibration: z
    .strictObject({ offset: z.number().default(0), scale: z.number().positive().default(420) })
    .prefault({}),
  commands: z
    .strictObject({
      /** How long tare / calibrate / learn-unit wait for the lane to settle. */
      settleTimeoutMs: TimerDuration.default(15_000),
      /** Re-ask a shelf to identify itself this often until it answers. */
      identifyRetryMs: TimerDuration.default(2_000),
    })
    .prefault({}),
  log: z.strictObject({ level: LogLevel.default('warn') }).prefault({}),
  metrics: z.strictObject({ port: z.number().int().min(0).max(65535).optional() }).prefault({}),
});
export type AgentConfig = z.infer<typeof AgentConfig>;
export type AgentConfigInput = z.input<typeof AgentConfig>;
