/**
 * The edge agent: sources → links (identify, frame checks) → one pipeline per shelf serial →
 * durable outbox → MQTT publisher; technician commands; health; optional metrics.
 *
 *   const agent = new Agent(config, log); await agent.start(); … await agent.stop();
 */
import { join } from 'node:path';
import {
  type AgentConfig,
  type Calibration,
  type CalibrationRecord,
  childLogger,
  ensurePrivateDir,
  type IdentityFrame,
  type LaneSetting,
  type LaneSettingsPayload,
  MAX_ATTACHED,
  topics,
} from '@shelfsense/protocol';
import { CommandHandler } from './commands.js';
import { ShelfLink } from './link.js';
import { type Logger, RateLimitedLog } from './log.js';
import type { AgentMetrics } from './metrics.js';
import { Outbox } from './outbox/index.js';
import { Publisher } from './publisher.js';
import { ShelfRuntime } from './shelf.js';
import { ReadPacer } from './source/pacer.js';
import type { SerialSource } from './source/serial.js';
import type { ShelfSource } from './source/source.js';
import { TcpSource } from './source/tcp.js';
import { CalibrationStore } from './state/calibration-store.js';
import { LaneCountStore } from './state/lane-counts.js';
import { LaneSettingsStore } from './state/lane-settings.js';

export const AGENT_VERSION = '0.1.0';

/** Status changes closer together than this go out as one status message. */
const STATUS_COALESCE_MS = 100;

export type AgentRuntimeConfig = Readonly<AgentConfig> & { defaultUnitWeightG?: number };

export class Agent {
  private outbox: Outbox | null = null;
  private publisher: Publisher | null = null;
  private links: ShelfLink[] = [];
  readonly shelves = new Map<string, ShelfRuntime>();
  private readonly calibrations: CalibrationStore;
  /** Each lane's unit weight in central's last lane settings, by serial then lane (this run only). */
  private readonly centralWeights = new Map<string, Map<string, number>>();
  private readonly settings: LaneSettingsStore;
  private commands: CommandHandler | null = null;
  private metrics: AgentMetrics | null = null;
  metricsPort: number | null = null;
  private timers: NodeJS.Timeout[] = [];
  private statusTimer: NodeJS.Timeout | null = null;
  private readonly limited: RateLimitedLog;
  private readonly pacer: ReadPacer;

  constructor(
    readonly config: AgentRuntimeConfig,
    private readonly log: Logger,
  ) {
    this.limited = new RateLimitedLog(log);
    this.pacer = new ReadPacer(config.readBatchMs);
    this.calibrations = new CalibrationStore(config.stateDir, log);
    this.settings = new LaneSettingsStore(
      config.stateDir,
      config.shelves.map((s) => ({ serial: s.serial, shelf: s.shelf, lanes: s.lanes })),
      config.defaultUnitWeightG ?? 100,
      log,
    );
  }

  async start(): Promise<void> {
    const c = this.config;
    // Outbox, calibration, counts and lane settings are this agent's alone (0700, files 0600).
    ensurePrivateDir(c.stateDir, this.log);
    this.outbox = await Outbox.open(join(c.stateDir, 'outbox'), {
      maxRecords: c.delivery.maxRecords,
      maxBytes: c.delivery.maxBytes,
      maxAgeMs: c.delivery.maxAgeMs,
      fsync: c.delivery.fsync,
      fsyncIntervalMs: c.delivery.fsyncIntervalMs,
      logger: this.log,
    });
    this.requeueCalibrationRecords(this.outbox);
    const publisher = new Publisher(
      {
        url: c.broker.url,
        username: c.broker.username,
        password: c.broker.password,
        protocol: c.broker.protocol,
        keepaliveS: c.broker.keepaliveS,
        reconnectMs: c.broker.reconnectMs,
        site: c.agent.site,
        agent: c.agent.id,
        trimOn: c.delivery.trimOn,
        window: c.delivery.window,
        redeliverMs: c.delivery.redeliverMs,
        version: AGENT_VERSION,
      },
      this.outbox,
      childLogger(this.log, 'mqtt'),
    );
    this.publisher = publisher;
    publisher.shelves = () => [...this.shelves.keys()];
    publisher.attached = () =>
      [...this.shelves.values()]
        .filter((s) => s.attached)
        .slice(0, MAX_ATTACHED)
        .map((s) => ({ serial: s.serial, channels: s.identity.channels }));
    publisher.on('laneSettings', (s) => this.onLaneSettings(s));
    // Health goes out directly, not through the outbox: say it again on every (re)connect.
    publisher.on('connected', () => {
      for (const s of this.shelves.values()) s.publishHealth(true);
    });
    this.commands = new CommandHandler(
      {
        site: c.agent.site,
        agent: c.agent.id,
        settleTimeoutMs: c.commands.settleTimeoutMs,
        verifyMs: c.signal.stableMs,
        shelves: () => [...this.shelves.values()],
        respond: (topic, body, properties) =>
          publisher.publishDirect(topic, body, { qos: 1, ...(properties ? { properties } : {}) }),
        stream: (payload) =>
          publisher.publishDirect(topics.stream(c.agent.site, c.agent.id), payload, { qos: 0 }),
        persist: (shelf, record) => this.persistCalibration(shelf, record),
        identify: () => this.describe(),
      },
      childLogger(this.log, 'commands'),
    );
    publisher.on('request', (cmd, payload, packet) => {
      this.commands?.handle(cmd, payload, packet).catch((err: Error) => {
        this.log.error({ err: err.message, cmd }, 'command handler failed');
      });
    });
    publisher.start();

    // serialport and its native binding are loaded only for serial sources: an agent reading TCP
    // bridges alone never has them in memory.
    const serial = c.sources.some((s) => !('url' in s)) ? await import('./source/serial.js') : null;
    for (const src of c.sources) this.addLink(this.makeSource(src, serial?.SerialSource));
    for (const link of this.links) link.start();

    this.timers.push(setInterval(() => this.heartbeat(), c.signal.heartbeatMs));
    this.timers.push(setInterval(() => this.watchSilence(), Math.min(1_000, c.signal.noDataMs / 2)));
    for (const t of this.timers) t.unref();

    if (c.metrics.port !== undefined) {
      // Loaded only when asked for: prom-client and node:http are ≈ 1.2 MB of an agent's memory.
      const { AgentMetrics } = await import('./metrics.js');
      this.metrics = new AgentMetrics({
        framesIn: () => this.links.reduce((n, l) => n + l.framesIn, 0),
        rejects: () => this.rejects(),
        outbox: () => {
          const s = this.outbox?.stats();
          const dropped = s ? Object.values(s.dropped).reduce((a, b) => a + b, 0) : 0;
          return { depth: s?.queued ?? 0, dropped, appended: s?.appended ?? 0 };
        },
        publisher: () => ({ ...publisher.counters, connected: publisher.connected }),
        sourceReconnects: () => this.links.reduce((n, l) => n + l.source.reconnects, 0),
      });
      this.metricsPort = await this.metrics.listen(c.metrics.port, c.metrics.host);
    }
  }

  private makeSource(
    src: AgentConfig['sources'][number],
    SerialSource: typeof import('./source/serial.js').SerialSource | undefined,
  ): ShelfSource {
    const backoff = { minMs: this.config.reconnect.minMs, maxMs: this.config.reconnect.maxMs };
    const log = childLogger(this.log, 'source');
    if ('url' in src) return new TcpSource(src.url, backoff, log, this.pacer);
    if (!SerialSource) throw new Error('serial source module not loaded');
    if ('path' in src) {
      return new SerialSource({ path: src.path, baudRate: src.baudRate }, backoff, log, this.pacer);
    }
    return new SerialSource(
      {
        discover: src.discover,
        baudRate: src.baudRate,
        exclude: () =>
          new Set(
            this.links.map((l) => (l.source as SerialSource).currentPath).filter((p): p is string => !!p),
          ),
      },
      backoff,
      log,
      this.pacer,
    );
  }

  private addLink(source: ShelfSource): void {
    const link = new ShelfLink(
      source,
      { identifyRetryMs: this.config.commands.identifyRetryMs },
      childLogger(this.log, 'link'),
      this.limited,
    );
    link.on('identity', (id) => this.onIdentity(id));
    link.on('frame', (frame, id) => {
      const shelf = this.shelves.get(id.serial);
      if (shelf) shelf.push(frame);
    });
    link.on('down', (serial, reason) => {
      this.log.warn({ serial, source: source.describe, reason }, 'shelf link down');
      const shelf = serial ? this.shelves.get(serial) : undefined;
      if (!shelf) return;
      const was = shelf.attached;
      shelf.linkDown();
      if (was) this.statusChanged();
    });
    this.links.push(link);
  }

  private calibrationsFor(identity: IdentityFrame): Calibration[] {
    const local = this.config.shelves.find((s) => s.serial === identity.serial);
    return Array.from({ length: identity.channels }, (_, ch) => {
      const stored = this.calibrations.get(identity.serial, ch);
      if (stored) return stored;
      const factory = local?.calibration.find((x) => x.channel === ch);
      const base = factory ?? this.config.defaultCalibration;
      return { offset: base.offset, scale: base.scale, points: [] };
    });
  }

  private lanesFor(serial: string, channels: number): { shelf: string; lanes: LaneSetting[] } {
    const s = this.settings.forShelf(serial, channels);
    // An unassigned shelf has no lanes: counts under made-up lanes and a default unit weight would
    // only mislead. Its channels are still read, for health and the technician's raw stream.
    if (!this.isAssigned(serial)) return { shelf: s.shelf, lanes: [] };
    const learned = this.calibrations.unitWeights(serial);
    return {
      shelf: s.shelf,
      lanes: s.lanes
        .filter((l) => l.channels.every((ch) => ch < channels))
        .map((l) => (learned[l.lane] ? { ...l, unitWeightG: learned[l.lane] as number } : l)),
    };
  }

  private onIdentity(identity: IdentityFrame): void {
    const existing = this.shelves.get(identity.serial);
    if (existing && existing.identity.channels === identity.channels) {
      const back = !existing.attached;
      existing.reidentified(identity);
      if (back) this.statusChanged();
      return;
    }
    const { shelf: shelfId, lanes } = this.lanesFor(identity.serial, identity.channels);
    const make = (laneSettings: LaneSetting[]) =>
      new ShelfRuntime(
        {
          identity,
          shelfId,
          lanes: laneSettings,
          calibrations: this.calibrationsFor(identity),
          counts: new LaneCountStore(this.config.stateDir, this.log),
        },
        this.config,
        {
          record: (topic, payload, retain) => this.outbox?.append({ topic, payload, qos: 1, retain }),
          health: (topic, payload) => this.publisher?.publishDirect(topic, payload, { qos: 1, retain: true }),
        },
        this.log.child({ serial: identity.serial, shelf: shelfId }),
      );
    let runtime: ShelfRuntime;
    try {
      runtime = make(lanes);
    } catch (err) {
      // Lane settings that do not fit this shelf (two lanes on one channel) must not stop it being
      // read: this runs inside the serial line handler. The shelf runs without lanes — health and
      // raw readings, no counts rather than wrong ones — until settings that fit arrive.
      this.log.error({ err: (err as Error).message, serial: identity.serial }, 'lane settings refused');
      runtime = make([]);
    }
    runtime.unassigned = !this.isAssigned(identity.serial);
    this.shelves.set(identity.serial, runtime);
    this.log.info({ serial: identity.serial, shelf: shelfId, lanes: lanes.length }, 'shelf ready');
    if (runtime.unassigned) {
      this.log.info(
        { serial: identity.serial, channels: identity.channels },
        'shelf not assigned by central: health and raw readings only until it is',
      );
    }
    this.statusChanged();
  }

  private isAssigned(serial: string): boolean {
    return this.settings.assigned(serial, this.config.delivery.trimOn === 'broker');
  }

  /**
   * Says the agent's status again (shelves attached, detached or renamed), so central sees a new
   * shelf within moments. Coalesced: a hub of shelves enumerating at once is one message.
   */
  private statusChanged(): void {
    if (this.statusTimer) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = null;
      this.publisher?.publishStatus();
    }, STATUS_COALESCE_MS);
    this.statusTimer.unref();
  }

  private onLaneSettings(settings: LaneSettingsPayload): void {
    if (settings.agent !== this.config.agent.id) return;
    if (!this.settings.applyCentral(settings)) return;
    this.log.info({ revision: settings.revision }, 'lane settings from central');
    this.followCentralWeights(settings);
    let changed = false;
    for (const shelf of this.shelves.values()) {
      const { shelf: shelfId, lanes } = this.lanesFor(shelf.serial, shelf.identity.channels);
      const wasUnassigned = shelf.unassigned;
      const renamed = shelf.shelfId !== shelfId;
      // The old id's retained health would otherwise show a shelf that no longer exists.
      if (renamed) this.publisher?.clearRetained(topics.health(this.config.agent.site, shelf.shelfId));
      shelf.shelfId = shelfId;
      shelf.unassigned = !this.isAssigned(shelf.serial);
      try {
        shelf.pipeline.setLanes(lanes);
      } catch (err) {
        this.log.error({ err: (err as Error).message, serial: shelf.serial }, 'lane settings refused');
      }
      if (renamed || wasUnassigned !== shelf.unassigned) {
        changed = true;
        this.log.info(
          { serial: shelf.serial, shelf: shelfId, assigned: !shelf.unassigned },
          shelf.unassigned ? 'shelf no longer assigned by central' : 'shelf assigned by central',
        );
        // Under its new id at once: the lanes' counts so far, and the shelf's health.
        if (!shelf.unassigned) for (const lane of shelf.pipeline.lanes()) shelf.publishLevel(lane);
        shelf.publishHealth(true);
      }
    }
    if (changed) this.statusChanged();
  }

  /**
   * A unit weight learned on the agent overrides the lane settings — until central changes that
   * lane's weight (a technician accepted a proposal in the dashboard): the later decision wins, so
   * it replaces the learned one. Only a change between two settings this run saw counts.
   */
  private followCentralWeights(settings: LaneSettingsPayload): void {
    for (const s of settings.shelves) {
      const before = this.centralWeights.get(s.serial);
      const now = new Map(s.lanes.map((l) => [l.lane, l.unitWeightG] as const));
      this.centralWeights.set(s.serial, now);
      if (!before) continue;
      const learned = this.calibrations.unitWeights(s.serial);
      const replaced: Record<string, number> = {};
      for (const [lane, w] of now) {
        const was = before.get(lane);
        if (was !== undefined && was !== w && learned[lane] !== undefined && learned[lane] !== w)
          replaced[lane] = w;
      }
      if (Object.keys(replaced).length === 0) continue;
      this.log.info({ serial: s.serial, unitWeights: replaced }, 'central changed learned unit weights');
      this.calibrations.set(s.serial, {}, replaced);
    }
  }

  private persistCalibration(shelf: ShelfRuntime, record: Omit<CalibrationRecord, 'seq'>): void {
    const updates: Record<number, Calibration> = {};
    const units: Record<string, number> = {};
    if (record.kind === 'learn-unit') {
      const lane = shelf.pipeline.lane(record.lane);
      if (lane) units[record.lane] = lane.unitWeightG;
    } else {
      for (const ch of record.channels) updates[ch] = shelf.pipeline.calibration(ch);
    }
    const topic = topics.calibration(this.config.agent.site, shelf.shelfId, record.lane);
    const payload = record as unknown as Record<string, unknown>;
    // The file names its record and where in the outbox it goes: a power cut between the two
    // writes is repaired at the next start. Nothing appends between them (both are synchronous).
    const afterSeq = this.outbox?.lastSeq ?? 0;
    this.calibrations.set(shelf.serial, updates, units, { afterSeq, topic, record: payload });
    this.outbox?.append({ topic, payload, qos: 1, retain: false });
  }

  /**
   * Queues the audit record of a calibration that was stored just before the agent died, when the
   * outbox never got it: the record that followed `afterSeq` is absent from the outbox and was
   * never trimmed (a power-loss skip of sequence numbers does not count as having it).
   */
  private requeueCalibrationRecords(outbox: Outbox): void {
    for (const p of this.calibrations.pending()) {
      const next = p.afterSeq + 1;
      const has = outbox.trimmedThrough >= next || outbox.peek(p.afterSeq, 1)[0]?.seq === next;
      if (!has) {
        this.log.warn(
          { serial: p.serial, afterSeq: p.afterSeq },
          'calibration record queued again after a crash',
        );
        outbox.append({ topic: p.topic, payload: p.record, qos: 1, retain: false });
      }
      this.calibrations.clearPending(p.serial);
    }
  }

  private heartbeat(): void {
    for (const s of this.shelves.values()) s.heartbeat();
  }

  private watchSilence(): void {
    for (const s of this.shelves.values()) s.checkSilence();
  }

  rejects(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const l of this.links) for (const [k, v] of Object.entries(l.rejects)) out[k] = (out[k] ?? 0) + v;
    for (const s of this.shelves.values()) {
      for (const [k, v] of Object.entries(s.pipeline.health().rejects)) out[k] = (out[k] ?? 0) + v;
    }
    return out;
  }

  describe() {
    return {
      agent: this.config.agent.id,
      site: this.config.agent.site,
      version: AGENT_VERSION,
      shelves: [...this.shelves.values()].map((s) => ({
        serial: s.serial,
        shelf: s.shelfId,
        firmware: s.identity.firmware,
        channels: s.identity.channels,
        rate: s.identity.rate,
        attached: s.attached,
        assigned: !s.unassigned,
        heldBack: s.heldBack,
        lanes: s.pipeline.lanes().map((l) => ({ lane: l.id, sku: l.sku, units: l.units, state: l.state })),
      })),
      // Which port or bridge carries which shelf, and how its line is doing.
      sources: this.links.map((l) => ({
        source: l.source.describe,
        serial: l.identity?.serial ?? null,
        frames: l.framesIn,
        rejects: { ...l.rejects },
        reconnects: l.source.reconnects,
      })),
      outbox: this.outbox?.stats(),
      publisher: this.publisher
        ? {
            ...this.publisher.counters,
            connected: this.publisher.connected,
            broker: this.publisher.brokerUrl,
          }
        : null,
    };
  }

  get outboxStats() {
    return this.outbox?.stats();
  }

  get connected(): boolean {
    return this.publisher?.connected ?? false;
  }

  /** Connected to the broker and listening for lane settings, stored marks and commands. */
  get ready(): boolean {
    return this.publisher?.ready ?? false;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.statusTimer = null;
    this.commands?.stop();
    await Promise.allSettled(this.links.map((l) => l.stop()));
    for (const s of this.shelves.values()) s.saveCounts();
    await this.publisher?.stop();
    await this.metrics?.close();
    await this.outbox?.close();
  }
}
