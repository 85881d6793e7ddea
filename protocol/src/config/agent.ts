/**
 * The agent's YAML config. One schema is the source of truth for fields, defaults and type.
 */

import { Id, LaneSetting, Serial } from '../payloads.js';
import * as z from '../zod.js';
import { BrokerUrl, Duration, LogLevel, TimerDuration } from './common.js';

const BaudRate = z._default(z.number().check(z.int(), z.positive()), 115_200);

const UsbId = (what: string) =>
  z.optional(z.string().check(z.regex(/^[0-9a-fA-F]{4}$/, `a USB ${what} id: 4 hex digits, e.g. 1a86`)));
const AbsolutePath = z.optional(z.string().check(z.regex(/^\//, 'an absolute directory path')));

/**
 * Which serial port a discovered source takes: every given criterion must hold. The agent lists
 * ports from sysfs and the /dev/serial links itself (no udevadm), so a Zigbee or Z-Wave stick on
 * the same Pi is left alone as long as the criteria single out the shelves' adapters.
 */
export const DiscoverConfig = z
  .strictObject({
    /** USB vendor id (`idVendor`), 4 hex digits, any case. */
    vendorId: UsbId('vendor'),
    /** USB product id (`idProduct`), 4 hex digits, any case. */
    productId: UsbId('product'),
    /** USB serial number string (`serial`), exact; one adapter. */
    serialNumber: z.optional(z.string().check(z.minLength(1))),
    /** `*` and `?` (not across `/`), matched against the device path and its by-id / by-path links. */
    glob: z.optional(z.string().check(z.minLength(1))),
    /** Where the persistent links by USB identity are (default `/dev/serial/by-id`). */
    byIdDir: AbsolutePath,
    /** Where the persistent links by USB port are (default `/dev/serial/by-path`). */
    byPathDir: AbsolutePath,
  })
  .check(
    z.refine(
      (d) => [d.vendorId, d.productId, d.serialNumber, d.glob].some((v) => v !== undefined),
      'at least one of vendorId, productId, serialNumber or glob: an empty discover takes any serial port',
    ),
  );
export type DiscoverConfig = z.infer<typeof DiscoverConfig>;

/** A shelf source: a serial device path, a TCP bridge (`tcp://host:port`), or discovery by USB ids. */
export const SourceConfig = z.union([
  z.strictObject({ path: z.string().check(z.minLength(1)), baudRate: BaudRate }),
  z.strictObject({ url: z.string().check(z.regex(/^tcp:\/\/[^\s:/]+:\d{1,5}$/, 'tcp://host:port')) }),
  z.strictObject({ discover: DiscoverConfig, baudRate: BaudRate }),
]);
export type SourceConfig = z.infer<typeof SourceConfig>;

/** Local lane settings, used until (and unless) central publishes its own. */
export const LocalShelf = z.strictObject({
  serial: Serial,
  shelf: z.optional(Id),
  lanes: z.optional(z.array(LaneSetting)),
  /**
   * Factory calibration per channel, used until a technician calibrates the shelf (the agent's own
   * calibration records then take precedence).
   */
  calibration: z._default(
    z.array(
      z.strictObject({
        channel: z.number().check(z.int(), z.minimum(0), z.maximum(7)),
        offset: z.number(),
        scale: z.number(),
      }),
    ),
    [],
  ),
});

/**
 * Temperature compensation (agent/src/pipeline/temperature.ts): used when the shelf's frames carry
 * its temperature (protocol v1.1). Durations run on the shelf's device clock.
 */
export const TemperatureConfig = z.strictObject({
  /** Correct each channel for zero and span drift with its coefficients. */
  compensate: z._default(z.boolean(), true),
  /** The last temperature holds this long without a frame carrying one; then it is unknown. */
  holdMs: z._default(z.pipe(Duration, z.number().check(z.minimum(1_000), z.maximum(3_600_000))), 10_000),
  /** Learn the coefficients while lanes rest at their count. */
  learn: z._default(z.boolean(), true),
  /** After a count changes, the learner waits this long (load-cell creep settles: ~3 time constants). */
  learnSettleMs: z._default(z.pipe(Duration, z.number().check(z.maximum(86_400_000))), 900_000),
  /** A rest teaches only if the temperature moved at least this much during it, °C. */
  learnMinSpanC: z._default(z.number().check(z.positive(), z.maximum(20)), 0.5),
  /**
   * Evidence before learned coefficients are used: Σ over the rests of their temperature range
   * squared, °C² (about ten nights of a ±3 °C daily swing with the default).
   */
  learnMinEvidence: z._default(z.number().check(z.positive()), 300),
  /** Largest zero coefficient believed, grams per °C (learned or calibrated). */
  maxZeroGPerC: z._default(z.number().check(z.positive(), z.maximum(50)), 2),
  /** Largest span coefficient believed, ppm per °C. */
  maxSpanPpmPerC: z._default(z.number().check(z.positive(), z.maximum(5000)), 300),
  /** A tare or reference mass repeated at least this much warmer or colder gives coefficients, °C. */
  calibrationDeltaC: z._default(z.number().check(z.positive(), z.maximum(100)), 5),
});
export type TemperatureConfig = z.infer<typeof TemperatureConfig>;

/**
 * The edge agent's signal pipeline (agent/src/pipeline). Window sizes are in samples at 80 SPS; at
 * 10 SPS the pipeline shrinks them toward the same time span (neither below 3 samples). Every
 * duration of the signal runs on the shelf's device clock, not the wall clock; two watch the shelf
 * from outside and run on the wall clock: a shelf that sends nothing (noDataMs) has no clock, and the
 * heartbeat tells central the agent is alive in real time.
 */
export const SignalConfig = z.strictObject({
  /** Median window (samples) that removes single-sample spikes. */
  medianWindow: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(31)), 5),
  /** Moving-average window (samples) after the median. */
  averageWindow: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(256)), 8),
  /** How long the filtered weight must stay within the band to be called stable. */
  stableMs: z._default(z.pipe(Duration, z.number().check(z.minimum(50), z.maximum(60_000))), 500),
  /** Band (grams, peak to peak) within which the filtered weight counts as still. */
  stableBandG: z._default(z.number().check(z.positive()), 3),
  /** A new count must hold, stable and unchanged, this much longer before it is accepted. */
  confirmMs: z._default(z.pipe(Duration, z.number().check(z.maximum(60_000))), 250),
  /** A count is accepted only when the net weight is within this fraction of a unit of a whole number. */
  wholeTolerance: z._default(z.number().check(z.positive(), z.maximum(0.5)), 0.3),
  /** A single sample further than this (grams) from both neighbours, which agree, is dropped. */
  spikeG: z._default(z.number().check(z.positive()), 20),
  /** Largest zero correction zero-tracking may apply, grams. */
  zeroTrackLimitG: z._default(z.number().check(z.nonnegative()), 20),
  /** Time constant of zero-tracking (empty, stable lane). */
  zeroTrackMs: z._default(z.pipe(Duration, z.number().check(z.minimum(1))), 10_000),
  /** Time constant with which a loaded lane's count reference follows slow drift between picks. */
  driftTrackMs: z._default(z.pipe(Duration, z.number().check(z.minimum(1))), 30_000),
  /** A channel reading only junk (saturated / glitch codes) this long is saturated or disconnected. */
  faultMs: z._default(z.pipe(Duration, z.number().check(z.minimum(1))), 500),
  /**
   * A channel with no valid sample this long (device time) is `no_data`; a shelf silent this long
   * (wall-clock time) has every channel `no_data` and every lane `fault`.
   */
  noDataMs: z._default(z.pipe(Duration, z.number().check(z.minimum(1))), 3_000),
  /** Raw noise σ (grams) above which a channel is `noisy`. */
  noisyG: z._default(z.number().check(z.positive()), 4),
  /** Heartbeat (wall clock): republish the level this often even when nothing changed. */
  heartbeatMs: z._default(TimerDuration, 60_000),
  /** Temperature compensation, for shelves whose frames carry a temperature. */
  temperature: z.prefault(TemperatureConfig, {}),
});
export type SignalConfig = z.infer<typeof SignalConfig>;
export type SignalConfigInput = z.input<typeof SignalConfig>;

export const OutboxFsyncModes = ['append', 'interval', 'none'] as const;

/**
 * The outbox's bounds and fsync policy, declared once: the agent config's `delivery` holds them,
 * and the outbox takes them as they are (`Outbox.open(dir, config.delivery)`).
 */
export const OutboxBounds = {
  /** Most records kept; past it the oldest are dropped (reason `maxRecords`). */
  maxRecords: z._default(z.number().check(z.int(), z.positive()), 1_000_000),
  /** Most record bytes kept (headers included); past it the oldest are dropped (`maxBytes`). */
  maxBytes: z._default(z.number().check(z.int(), z.positive()), 256 * 1024 * 1024),
  /** Records whose `ts` is older than this are dropped (`maxAge`). */
  maxAgeMs: z._default(Duration, 30 * 86_400_000),
  /**
   * `append`: fdatasync after every append (no loss on power cut, slow on SD cards);
   * `interval`: fdatasync at most `fsyncIntervalMs` after an append (a power cut can lose the
   * records of that last window); `none`: leave it to the OS (it usually flushes within ~30 s).
   * A process crash or `kill -9` loses nothing in any mode: the OS already holds every append.
   */
  fsync: z._default(z.enum(OutboxFsyncModes), 'interval'),
  fsyncIntervalMs: z._default(TimerDuration, 5),
};

export const AgentConfig = z.strictObject({
  agent: z.strictObject({ id: Id, site: Id }),
  sources: z
    .array(SourceConfig)
    .check(z.minLength(1, 'at least one source (serial path, tcp:// URL or discover)')),
  broker: z.strictObject({
    /**
     * One broker, or the nodes of one cluster: the agent connects to the first and, each time a
     * connection fails or drops, tries the next in turn.
     */
    url: z.union([BrokerUrl, z.array(BrokerUrl).check(z.minLength(1), z.maxLength(16))]),
    username: z.optional(z.string().check(z.minLength(1))),
    password: z.optional(z.string()),
    /** MQTT protocol version; `auto` tries 5 then falls back to 3.1.1. */
    protocol: z._default(z.union([z.literal('auto'), z.literal(4), z.literal(5)]), 'auto'),
    keepaliveS: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(3600)), 30),
    reconnectMs: z._default(TimerDuration, 1_000),
  }),
  delivery: z.prefault(
    z.strictObject({
      /** `central`: trim the outbox on central's stored mark; `broker`: on the broker's PUBACK. */
      trimOn: z._default(z.enum(['central', 'broker']), 'central'),
      ...OutboxBounds,
      /** Records in flight at once. */
      window: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(10_000)), 200),
      /** In `central` mode, send again what the broker took but central did not confirm in this time. */
      redeliverMs: z._default(TimerDuration, 10_000),
    }),
    {},
  ),
  /** Where the outbox, calibration and cached lane settings live. */
  stateDir: z._default(z.string().check(z.minLength(1)), './shelfsense-state'),
  reconnect: z.prefault(
    z.strictObject({ minMs: z._default(TimerDuration, 200), maxMs: z._default(TimerDuration, 30_000) }),
    {},
  ),
  /**
   * Sources (serial and TCP) read at most this often (ms): frames that arrive meanwhile wait in
   * the kernel's tty or socket buffer and come in one read, which saves most of the agent's CPU at
   * a shelf's real rate. Readings are delayed by at most this much; 0 reads every frame as it
   * arrives. A backlog is read on without pausing.
   */
  readBatchMs: z._default(z.number().check(z.int(), z.minimum(0), z.maximum(1000)), 100),
  signal: z.prefault(SignalConfig, {}),
  shelves: z._default(z.array(LocalShelf), []),
  /** Calibration of a channel nobody calibrated yet: raw counts at zero load and counts per gram. */
  defaultCalibration: z.prefault(
    z.strictObject({
      offset: z._default(z.number(), 0),
      scale: z._default(z.number().check(z.positive()), 420),
    }),
    {},
  ),
  commands: z.prefault(
    z.strictObject({
      /** How long tare / calibrate / learn-unit wait for the lane to settle. */
      settleTimeoutMs: z._default(TimerDuration, 15_000),
      /** Re-ask a shelf to identify itself this often until it answers. */
      identifyRetryMs: z._default(TimerDuration, 2_000),
    }),
    {},
  ),
  log: z.prefault(z.strictObject({ level: z._default(LogLevel, 'warn') }), {}),
  /** The Prometheus endpoint `/metrics`; off unless `port` is given. */
  metrics: z.prefault(
    z.strictObject({
      port: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(65535))),
      /**
       * Address it listens on. Loopback by default, so nothing outside the Pi reads it unless asked:
       * `0.0.0.0` (or the Pi's LAN address) lets a central Prometheus scrape the agent.
       */
      host: z._default(
        z.string().check(z.regex(/^[^\s/]+$/, 'an IP address or host name, e.g. 127.0.0.1 or 0.0.0.0')),
        '127.0.0.1',
      ),
    }),
    {},
  ),
});
export type AgentConfig = z.infer<typeof AgentConfig>;
export type AgentConfigInput = z.input<typeof AgentConfig>;
