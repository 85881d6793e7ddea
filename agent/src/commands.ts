/**
 * Technician commands over MQTT request/response, scoped to this agent: identify, tare, calibrate
 * with a known mass (each mass adds a reference point), remove a bad reference point, learn a unit
 * weight from N items, stream raw and filtered readings for a while.
 * Answers `{status: "ok" | "error", data, error, transaction}` on the response topic (and on the
 * MQTT 5 response topic with its correlation data when the requester gave one).
 *
 * "Who" in a calibration record is the `actor` the broker or central stamped on the request from
 * the authenticated session; the agent never takes a name from anywhere else in the body.
 */
import {
  type Actor,
  type Calibration,
  type CalibrationRecord,
  CommandArgs,
  type CommandName,
  CommandRequest,
  type CommandResponse,
  isShelfError,
  parseJsonWith,
  parseWith,
  type StreamPayload,
  topics,
} from '@shelfsense/protocol';
import type { IPublishPacket } from 'mqtt';
import type { Logger } from './log.js';
import { removePointOnLane, withResiduals } from './pipeline/calibrate.js';
import { isPipelineError, PipelineError, PipelineErrorCodes } from './pipeline/index.js';
import type { ShelfRuntime } from './shelf.js';

export interface CommandContext {
  site: string;
  agent: string;
  settleTimeoutMs: number;
  /** How much fresh data (device time) the verification of a calibration waits for. */
  verifyMs: number;
  shelves(): ShelfRuntime[];
  respond(topic: string, body: CommandResponse, properties?: object): void;
  /** The live readings a technician asked for, as the dashboard reads them. */
  stream(payload: StreamPayload): void;
  /** Persists calibration and lane overrides, and queues the record; throws if it cannot persist. */
  persist(shelf: ShelfRuntime, record: Omit<CalibrationRecord, 'seq'>): void;
  identify(): unknown;
}

const commandError = (code: string, message: string) => Object.assign(new Error(message), { code });

export class CommandHandler {
  private readonly streams = new Set<NodeJS.Timeout>();
  readonly counters = { ok: 0, error: 0, invalid: 0 };

  constructor(
    private readonly ctx: CommandContext,
    private readonly log: Logger,
  ) {}

  async handle(command: CommandName, payload: Buffer, packet: IPublishPacket): Promise<void> {
    const props = packet.properties;
    const responseProps = props?.correlationData ? { correlationData: props.correlationData } : undefined;
    const reply = (body: CommandResponse) => {
      this.ctx.respond(topics.response(this.ctx.site, this.ctx.agent, command), body, responseProps);
      if (props?.responseTopic) this.ctx.respond(props.responseTopic, body, responseProps);
    };
    let req: CommandRequest;
    try {
      req = parseJsonWith(CommandRequest, payload, `${command} request`);
    } catch (err) {
      this.counters.invalid++;
      this.log.warn({ command, err: (err as Error).message }, 'invalid command request');
      // Without a transaction id the requester cannot match a reply; answer with a placeholder.
      reply({
        transaction: extractTransaction(payload),
        status: 'error',
        error: { code: 'SHELF_ERR_INVALID', message: (err as Error).message },
      });
      return;
    }
    try {
      const data = await this.run(command, req);
      this.counters.ok++;
      reply({ transaction: req.transaction, status: 'ok', data });
    } catch (err) {
      this.counters.error++;
      const code = isShelfError(err) ? err.code : ((err as { code?: string }).code ?? 'SHELF_ERR_COMMAND');
      this.log.info({ command, code, err: (err as Error).message }, 'command failed');
      reply({
        transaction: req.transaction,
        status: 'error',
        error: { code, message: (err as Error).message },
      });
    }
  }

  private shelf(id: string): ShelfRuntime {
    const s = this.ctx.shelves().find((x) => x.shelfId === id || x.serial === id);
    if (!s) throw commandError('SHELF_ERR_UNKNOWN_SHELF', `no shelf "${id}" on agent ${this.ctx.agent}`);
    return s;
  }

  /** Runs a technician operation once the lane has settled, waiting up to settleTimeoutMs. */
  private async whenSettled<T>(shelf: ShelfRuntime, op: () => T): Promise<T> {
    const deadline = Date.now() + this.ctx.settleTimeoutMs;
    for (;;) {
      try {
        return op();
      } catch (err) {
        const notStable = isPipelineError(err) && (err.code as string) === PipelineErrorCodes.NOT_STABLE;
        if (!notStable || Date.now() > deadline) throw err;
      }
      await shelf.nextFrame(100);
    }
  }

  /**
   * The error left after an operation: once a fresh stability window of frames has passed under
   * the new calibration, the lane's filtered weight minus what should be on it. Null when the lane
   * did not settle again in time (the result is still applied and recorded).
   */
  private async verify(
    shelf: ShelfRuntime,
    channels: readonly number[],
    expectedG: number,
  ): Promise<number | null> {
    const p = shelf.pipeline;
    const frames = Math.max(8, Math.ceil((p.sampleRate * this.ctx.verifyMs) / 1000));
    const target = p.frames + frames;
    const deadline = Date.now() + this.ctx.settleTimeoutMs;
    while (p.frames < target || !channels.every((c) => p.channel(c).stable)) {
      if (Date.now() > deadline) return null;
      await shelf.nextFrame(100);
    }
    let grams = 0;
    for (const c of channels) grams += p.channel(c).grams;
    return grams - expectedG;
  }

  private async run(command: CommandName, req: CommandRequest): Promise<unknown> {
    const by: Actor | null = req.actor ?? null;
    switch (command) {
      case 'identify':
        parseWith(CommandArgs.identify, req.args, 'identify arguments');
        return this.ctx.identify();
      case 'tare': {
        const a = parseWith(CommandArgs.tare, req.args, 'tare arguments');
        const shelf = this.shelf(a.shelf);
        const r = await this.whenSettled(shelf, () => shelf.pipeline.tareLane(a.lane));
        const residual = await this.verify(shelf, r.channels, 0);
        return this.record(
          shelf,
          'tare',
          by,
          r.lane,
          r.channels,
          null,
          null,
          r.changes,
          residual,
          r.residualG,
        );
      }
      case 'calibrate': {
        const a = parseWith(CommandArgs.calibrate, req.args, 'calibrate arguments');
        const shelf = this.shelf(a.shelf);
        const r = await this.whenSettled(shelf, () => shelf.pipeline.calibrateLane(a.lane, a.massG));
        const residual = await this.verify(shelf, r.channels, a.massG);
        return this.record(
          shelf,
          'calibrate',
          by,
          r.lane,
          r.channels,
          a.massG,
          null,
          r.changes,
          residual,
          r.residualG,
        );
      }
      case 'learn-unit': {
        const a = parseWith(CommandArgs['learn-unit'], req.args, 'learn-unit arguments');
        const shelf = this.shelf(a.shelf);
        const r = await this.whenSettled(shelf, () => shelf.pipeline.learnUnit(a.lane, a.count));
        const lane = shelf.pipeline.lane(a.lane);
        const channels = [...(lane?.channels ?? [])];
        const residual = await this.verify(
          shelf,
          channels,
          (lane?.baselineG ?? 0) + a.count * r.change.after,
        );
        return this.record(
          shelf,
          'learn-unit',
          by,
          a.lane,
          [...(lane?.channels ?? [])],
          null,
          a.count,
          [
            {
              before: { unitWeightG: r.change.before },
              after: { unitWeightG: r.change.after },
              residualG: r.change.residualG,
            },
          ],
          residual,
          r.change.residualG,
        );
      }
      case 'remove-point': {
        const a = parseWith(CommandArgs['remove-point'], req.args, 'remove-point arguments');
        const shelf = this.shelf(a.shelf);
        const lane = shelf.pipeline.lane(a.lane);
        if (!lane) {
          throw new PipelineError(PipelineErrorCodes.UNKNOWN_LANE, `no lane "${a.lane}" on this shelf`, [
            { path: 'lane', message: 'unknown lane' },
          ]);
        }
        const channels = [...lane.channels];
        // No reading is needed: the point leaves the table whatever is on the lane now.
        const r = removePointOnLane(
          channels,
          channels.map((c) => shelf.pipeline.calibration(c)),
          a.grams,
          a.channel,
        );
        r.changes.forEach((c, i) => {
          if (c) shelf.pipeline.setCalibration(channels[i] as number, c.after);
        });
        // The record's correction is how far the removed point was from the curve left without it.
        return this.record(
          shelf,
          'remove-point',
          by,
          a.lane,
          channels,
          r.removed.grams,
          null,
          r.changes,
          null,
          r.residualG,
        );
      }
      case 'stream': {
        const a = parseWith(CommandArgs.stream, req.args, 'stream arguments');
        const shelf = this.shelf(a.shelf);
        this.startStream(shelf, a.durationMs);
        return { shelf: shelf.shelfId, until: Date.now() + a.durationMs };
      }
    }
  }

  private record(
    shelf: ShelfRuntime,
    kind: CalibrationRecord['kind'],
    by: Actor | null,
    lane: string,
    channels: number[],
    referenceG: number | null,
    items: number | null,
    changes: ({ before: unknown; after: unknown; residualG?: number } | null)[],
    residualG: number | null,
    correctionG: number,
  ) {
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    // Calibrations are recorded with every reference point and its residual.
    const shown = (v: unknown) => (kind === 'learn-unit' ? v : withResiduals(v as Calibration));
    changes.forEach((c, i) => {
      if (!c) return;
      before[String(channels[i] ?? i)] = shown(c.before);
      after[String(channels[i] ?? i)] = shown(c.after);
    });
    const rec: Omit<CalibrationRecord, 'seq'> = {
      agent: this.ctx.agent,
      serial: shelf.serial,
      shelf: shelf.shelfId,
      lane,
      kind,
      by,
      channels,
      referenceG,
      items,
      before,
      after,
      residualG: residualG === null ? null : Math.round(residualG * 1000) / 1000,
      correctionG: Math.round(correctionG * 1000) / 1000,
      ts: Date.now(),
    };
    this.ctx.persist(shelf, rec);
    return rec;
  }

  private startStream(shelf: ShelfRuntime, durationMs: number): void {
    const until = Date.now() + durationMs;
    const t = setInterval(() => {
      if (Date.now() > until) {
        clearInterval(t);
        this.streams.delete(t);
        return;
      }
      const p = shelf.pipeline;
      this.ctx.stream({
        shelf: shelf.shelfId,
        serial: shelf.serial,
        ts: Date.now(),
        channels: Array.from({ length: p.channelCount }, (_, i) => {
          const c = p.channel(i);
          return {
            channel: i,
            raw: Number.isFinite(c.filteredRaw) ? Math.round(c.filteredRaw) : null,
            grams: Number.isFinite(c.grams) ? Math.round(c.grams * 10) / 10 : null,
            stable: c.stable,
            noiseG: Number.isFinite(c.noiseG) ? Math.round(c.noiseG * 100) / 100 : null,
            status: c.status,
          };
        }),
        lanes: p
          .lanes()
          .map((l) => ({ lane: l.id, units: l.units, netG: Math.round(l.netG * 10) / 10, state: l.state })),
      });
    }, 200);
    this.streams.add(t);
  }

  stop(): void {
    for (const t of this.streams) clearInterval(t);
    this.streams.clear();
  }
}

function extractTransaction(payload: Buffer): string {
  try {
    const t = (JSON.parse(payload.toString('utf8')) as { transaction?: unknown }).transaction;
    if (typeof t === 'string' && t.length > 0 && t.length <= 64) return t;
  } catch {
    // not JSON
  }
  return 'unknown';
}
