/**
 * One identified shelf on the agent: its pipeline, the mapping of its device clock to wall time,
 * and the records it hands to the outbox (levels, events) and the publisher (health).
 */

import type { AgentConfig } from '@shelfsense/protocol';
import {
  type Calibration,
  type EventPayload,
  type HealthPayload,
  type IdentityFrame,
  type LaneSetting,
  type LevelPayload,
  type ObservationPayload,
  type SampleFrame,
  topics,
} from '@shelfsense/protocol';
import type { Logger } from './log.js';
import { type LaneEvent, type LaneReading, ShelfPipeline } from './pipeline/index.js';
import type { LaneObservation } from './pipeline/observe.js';
import { CalibrationStore } from './state/calibration-store.js';
import { CountKeeper, type CountKeeperOptions } from './state/count-keeper.js';
import type { LaneCountStore } from './state/lane-counts.js';

export interface ShelfSinks {
  /** Durable: levels and events go through the outbox. */
  record(topic: string, payload: Record<string, unknown>, retain: boolean): void;
  /** Best effort: retained health, published when connected. */
  health(topic: string, payload: HealthPayload): void;
}

export interface ShelfSetup {
  identity: IdentityFrame;
  shelfId: string;
  lanes: LaneSetting[];
  calibrations: Calibration[];
  /** Where lane counts persist across restarts; restored from here at once. None: not persisted. */
  counts?: LaneCountStore;
  countSaving?: CountKeeperOptions;
  /**
   * Where temperature coefficients learned at rest persist (and are restored from). Default: the
   * state directory's calibration store when counts persist; none otherwise.
   */
  thermal?: CalibrationStore;
}

export class ShelfRuntime {
  readonly serial: string;
  shelfId: string;
  identity: IdentityFrame;
  readonly pipeline: ShelfPipeline;
  /** Wall-clock ms of the last line from this shelf (for the no-data watch). */
  lastLineAt = Date.now();
  online = true;
  /** Its link is up (false from the link going down until the shelf identifies itself again). */
  attached = true;
  /**
   * Central has not assigned this shelf: its levels and events stay out of the durable outbox
   * (central would only store readings of a shelf id nobody chose, and a broker that refuses them
   * would stall delivery). Health, raw streams and calibration still work, so it can be set up.
   */
  unassigned = false;
  /** Levels and events not recorded because the shelf was unassigned. */
  heldBack = 0;
  /** Wall time = anchorWall + (deviceT − anchorDevice): timestamps follow the shelf's own clock. */
  private anchorWall = 0;
  private anchorDevice = 0;
  private lastDeviceMs = -1;
  private unwrapped = 0;
  private lastHealthJson = '';
  private readonly waiters = new Set<() => void>();
  private readonly keeper: CountKeeper | null = null;
  /** Observation ids: serial, this runtime's start (base 36) and the pipeline's number, unique per agent. */
  private readonly observationPrefix = `${Date.now().toString(36)}`;

  constructor(
    setup: ShelfSetup,
    private readonly config: Readonly<AgentConfig>,
    private readonly sinks: ShelfSinks,
    log: Logger,
  ) {
    this.serial = setup.identity.serial;
    this.identity = setup.identity;
    this.shelfId = setup.shelfId;
    // The last counts and count references, so a restart neither recounts from nothing nor reads
    // the zero drift followed so far as weight.
    const restored = setup.counts?.restore(this.serial, setup.lanes);
    const thermal = setup.thermal ?? (setup.counts ? new CalibrationStore(config.stateDir, log) : undefined);
    this.pipeline = new ShelfPipeline({
      channels: setup.identity.channels,
      rate: setup.identity.rate,
      signal: config.signal,
      calibrations: thermal
        ? setup.calibrations.map((cal, ch) => thermal.withThermal(this.serial, ch, cal))
        : setup.calibrations,
      lanes: setup.lanes,
      counts: restored?.counts ?? {},
      baselines: restored?.baselines ?? {},
      log,
      onEvent: (e) => this.onEvent(e),
      onLaneChange: (lane) => this.onLaneChange(lane),
      onHealthChange: () => this.publishHealth(),
      onCalibrationLearned: (ch, cal) => {
        if (!thermal || !cal.thermal) return;
        log.info({ channel: ch, thermal: cal.thermal }, 'temperature coefficients learned');
        try {
          thermal.setThermal(this.serial, ch, cal.thermal);
        } catch (err) {
          // Learned again at the next rest: a full disk must not stop the shelf being read.
          log.error({ err: (err as Error).message, channel: ch }, 'temperature coefficients not saved');
        }
      },
      onObservation: (o) => this.onObservation(o),
    });
    if (setup.counts) {
      this.keeper = new CountKeeper(setup.counts, this.serial, log, setup.countSaving);
      this.keeper.restored(restored?.stored ?? {});
      if (restored && Object.keys(restored.counts).length > 0) {
        log.info({ counts: restored.counts, baselines: restored.baselines }, 'lane counts restored');
      }
    }
  }

  /** The shelf (re)identified itself, e.g. after a reconnect. */
  reidentified(identity: IdentityFrame): void {
    this.identity = identity;
    this.pipeline.setRate(identity.rate);
    this.online = true;
    this.attached = true;
  }

  push(frame: SampleFrame): void {
    this.lastLineAt = Date.now();
    this.online = true;
    this.advanceClock(frame.deviceMs);
    this.pipeline.push(frame);
    if (this.waiters.size) for (const w of [...this.waiters]) w();
  }

  private advanceClock(deviceMs: number): void {
    if (this.lastDeviceMs < 0) {
      this.anchorWall = Date.now();
      this.anchorDevice = 0;
      this.unwrapped = 0;
    } else {
      const d = (deviceMs - this.lastDeviceMs + 4_294_967_296) % 4_294_967_296;
      // A jump of more than a day is a reboot of the shelf: re-anchor on the wall clock.
      if (d > 86_400_000) {
        this.anchorWall = Date.now();
        this.anchorDevice = this.unwrapped;
      } else this.unwrapped += d;
    }
    this.lastDeviceMs = deviceMs;
  }

  /** Wall-clock time of the current frame, following the device clock. */
  now(): number {
    return Math.round(this.anchorWall + (this.unwrapped - this.anchorDevice));
  }

  /** The link dropped: the clock re-anchors on the next frame. */
  linkDown(): void {
    this.lastDeviceMs = -1;
    this.attached = false;
  }

  /** Durable records go to the outbox only for an assigned shelf. */
  private record(topic: string, payload: Record<string, unknown>, retain: boolean): void {
    if (this.unassigned) {
      this.heldBack++;
      return;
    }
    this.sinks.record(topic, payload, retain);
  }

  /** Resolves on the next frame, or after `ms` (used by commands waiting for a settled lane). */
  nextFrame(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  private levelPayload(lane: LaneReading): Omit<LevelPayload, 'seq'> | null {
    if (lane.units === null) return null;
    return {
      agent: this.config.agent.id,
      serial: this.serial,
      sku: lane.sku,
      units: lane.units,
      grams: Math.round(lane.settledG * 10) / 10,
      fill: lane.capacity ? lane.units / lane.capacity : null,
      stable: lane.stable,
      confidence: lane.confidence,
      state: lane.state,
      ts: this.now(),
      // The frame the count is known to be true of (a few frames behind the newest while stable).
      frameSeq: lane.frameSeq,
    };
  }

  private onEvent(e: LaneEvent): void {
    const payload: Omit<EventPayload, 'seq'> = {
      agent: this.config.agent.id,
      serial: this.serial,
      sku: e.sku,
      kind: e.kind,
      delta: e.delta,
      units: e.units,
      ts: this.now(),
      frameSeq: e.frameSeq,
    };
    this.record(topics.event(this.config.agent.site, this.shelfId, e.lane), payload, false);
    this.keeper?.maybeSave(this.pipeline.lanes());
  }

  /** Open and cleared observations go through the outbox like events. */
  private onObservation(o: LaneObservation): void {
    const payload: Omit<ObservationPayload, 'seq'> = {
      agent: this.config.agent.id,
      serial: this.serial,
      sku: o.sku,
      observation: `${this.serial}-${this.observationPrefix}-${o.id}`,
      kind: o.kind,
      state: o.state,
      grams: o.grams,
      items: o.items,
      otherLane: o.otherLane,
      cause: o.cause,
      proposal: o.proposal,
      detail: o.detail,
      ts: this.now(),
      frameSeq: o.frameSeq,
    };
    this.record(topics.observation(this.config.agent.site, this.shelfId, o.lane), payload, false);
  }

  private onLaneChange(lane: LaneReading): void {
    this.publishLevel(lane);
  }

  publishLevel(lane: LaneReading): void {
    const payload = this.levelPayload(lane);
    if (!payload) return;
    this.record(topics.level(this.config.agent.site, this.shelfId, lane.id), payload, true);
  }

  /** Heartbeat: every lane's level again, and health. */
  heartbeat(): void {
    for (const lane of this.pipeline.lanes()) this.publishLevel(lane);
    this.publishHealth(true);
  }

  publishHealth(force = false): void {
    const h = this.pipeline.health();
    const payload: HealthPayload = {
      agent: this.config.agent.id,
      serial: this.serial,
      status: h.status,
      channels: h.channels.map((c) => ({
        ...c,
        noiseG: Math.round(c.noiseG * 100) / 100,
        driftG: Math.round(c.driftG * 100) / 100,
      })),
      rejects: h.rejects,
      // The shelf's temperature, when its frames carry one (each channel's coefficients ride along).
      ...(h.tempC !== undefined ? { tempC: Math.round(h.tempC * 100) / 100 } : {}),
      ts: Date.now(),
    };
    const key = JSON.stringify([payload.status, payload.channels.map((c) => c.status)]);
    if (!force && key === this.lastHealthJson) return;
    this.lastHealthJson = key;
    this.sinks.health(topics.health(this.config.agent.site, this.shelfId), payload);
  }

  /**
   * The agent's watch tick (about once a second): the wall-clock silence check, and the lane
   * counts saved if they changed since the last write.
   */
  checkSilence(): void {
    if (this.pipeline.noteSilence(Date.now() - this.lastLineAt)) this.publishHealth();
    this.keeper?.maybeSave(this.pipeline.lanes());
  }

  /** Writes the lane counts now if they changed (the agent is stopping). */
  saveCounts(): void {
    this.keeper?.flush(this.pipeline.lanes());
  }

  /** Lane-count writes done and failed (0 when counts are not persisted). */
  get countWrites(): { writes: number; failures: number } {
    return { writes: this.keeper?.writes ?? 0, failures: this.keeper?.failures ?? 0 };
  }
}
