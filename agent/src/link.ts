/**
 * One shelf link: a source plus the protocol handshake and the frame checks.
 *
 * On every (re)open the link asks the shelf to identify itself and keys everything on the serial
 * number it reports — not on the port path, because USB ports renumber on reboot. Every line is
 * checked (length, framing, CRC, fields); rejects are counted by reason, logged rate-limited, and
 * never fatal. Sequence gaps count the frames lost on the line.
 */
import { EventEmitter } from 'node:events';
import {
  type DeviceFrame,
  decodeDeviceLine,
  encodeCommand,
  type IdentityFrame,
  isShelfError,
  type SampleFrame,
} from '@shelfsense/protocol';
import type { Logger, RateLimitedLog } from './log.js';
import type { ShelfSource } from './source/source.js';

export interface LinkEvents {
  identity: [identity: IdentityFrame];
  frame: [frame: SampleFrame, identity: IdentityFrame];
  reply: [frame: DeviceFrame];
  down: [serial: string | null, reason: string];
}

/** Reject reasons, as counted in health and metrics. */
export type RejectReason =
  | 'checksum'
  | 'framing'
  | 'too_long'
  | 'unknown_type'
  | 'field'
  | 'channel_count'
  | 'unidentified'
  | 'gap';

const CODE_TO_REASON: Record<string, RejectReason> = {
  SHELF_ERR_CHECKSUM: 'checksum',
  SHELF_ERR_FRAMING: 'framing',
  SHELF_ERR_TOO_LONG: 'too_long',
  SHELF_ERR_UNKNOWN_TYPE: 'unknown_type',
  SHELF_ERR_FIELD: 'field',
};

export interface LinkOptions {
  /** Re-ask for identity this often until the shelf answers. */
  identifyRetryMs: number;
}

export class ShelfLink extends EventEmitter<LinkEvents> {
  identity: IdentityFrame | null = null;
  private lastSeq = -1;
  /** The shelf lastSeq belongs to: kept across a reopen, so frames lost meanwhile count as a gap. */
  private seqSerial: string | null = null;
  /** Seqs of the first and last samples since the reopen that came before the identity (-1: none). */
  private firstUnidentified = -1;
  private lastUnidentified = -1;
  /** When the source last opened (wall clock, ms). */
  private openedAt = 0;
  private identifyTimer: NodeJS.Timeout | null = null;
  readonly rejects: Record<string, number> = {};
  framesIn = 0;
  linesIn = 0;

  constructor(
    readonly source: ShelfSource,
    private readonly opts: LinkOptions,
    private readonly log: Logger,
    private readonly limited: RateLimitedLog,
  ) {
    super();
    source.on('open', () => this.onOpen());
    source.on('close', (reason) => this.onClose(reason));
    source.on('line', (line) => this.onLine(line));
  }

  start(): void {
    this.source.start();
  }

  async stop(): Promise<void> {
    this.clearIdentify();
    await this.source.stop();
  }

  private onOpen(): void {
    this.openedAt = Date.now();
    this.firstUnidentified = -1;
    this.lastUnidentified = -1;
    this.requestIdentity();
  }

  private requestIdentity(): void {
    this.clearIdentify();
    this.source.write(encodeCommand({ type: 'identify' }));
    this.identifyTimer = setTimeout(() => this.requestIdentity(), this.opts.identifyRetryMs);
  }

  private clearIdentify(): void {
    if (this.identifyTimer) clearTimeout(this.identifyTimer);
    this.identifyTimer = null;
  }

  private onClose(reason: string): void {
    this.clearIdentify();
    const serial = this.identity?.serial ?? null;
    // The identity is asked again on reopen: another shelf may be plugged into the same port.
    this.identity = null;
    this.emit('down', serial, reason);
  }

  /** Counts a rejected line; logged (rate-limited) at warn, or at debug when `quiet`. */
  private reject(reason: RejectReason, detail: string, n = 1, quiet = false): void {
    this.rejects[reason] = (this.rejects[reason] ?? 0) + n;
    if (quiet) {
      this.log.debug({ source: this.source.describe, reason, total: this.rejects[reason] }, detail);
      return;
    }
    this.limited.warn(
      `reject:${this.source.describe}:${reason}`,
      { source: this.source.describe, serial: this.identity?.serial, reason, total: this.rejects[reason] },
      `rejected serial input: ${detail}`,
    );
  }

  onLine(line: string): void {
    this.linesIn++;
    let frame: DeviceFrame;
    try {
      frame = decodeDeviceLine(line);
    } catch (err) {
      if (!isShelfError(err)) throw err;
      this.reject(CODE_TO_REASON[err.code] ?? 'field', err.message);
      return;
    }
    if (frame.type === 'sample') {
      this.onSample(frame);
      return;
    }
    if (frame.type === 'identity') {
      this.clearIdentify();
      const changed = this.identity?.serial !== frame.serial;
      this.identity = frame;
      if (changed) {
        this.log.info(
          { serial: frame.serial, source: this.source.describe, channels: frame.channels },
          'shelf identified',
        );
        if (frame.serial !== this.seqSerial) {
          this.lastSeq = -1;
          this.seqSerial = frame.serial;
        } else if (this.firstUnidentified >= 0) {
          // The same shelf again (a reopen): frames lost while the port was closed are a gap; the
          // ones that came before its identity are counted as unidentified, not again here.
          this.countGap(this.firstUnidentified);
          this.lastSeq = this.lastUnidentified;
        }
        this.firstUnidentified = -1;
        this.lastUnidentified = -1;
      }
      this.emit('identity', frame);
      return;
    }
    this.emit('reply', frame);
  }

  /** Counts the frames missing between the last sample taken and `seq`. */
  private countGap(seq: number): void {
    if (this.lastSeq < 0) return;
    const gap = (seq - this.lastSeq - 1 + 4_294_967_296) % 4_294_967_296;
    // A huge forward jump is a reboot or a re-plug, not billions of lost frames.
    if (gap > 0 && gap < 1_000_000) this.reject('gap', `${gap} frame(s) missing before seq ${seq}`, gap);
  }

  private onSample(frame: SampleFrame): void {
    const id = this.identity;
    if (!id) {
      if (this.firstUnidentified < 0) this.firstUnidentified = frame.seq;
      this.lastUnidentified = frame.seq;
      // A shelf streams from power-on, so the frames of the first moments after the port opens
      // come before its answer to identify: counted, but a warning only once it is overdue.
      const overdue = Date.now() - this.openedAt >= this.opts.identifyRetryMs;
      this.reject('unidentified', `sample ${frame.seq} before the shelf identified itself`, 1, !overdue);
      return;
    }
    if (frame.raw.length !== id.channels) {
      this.reject('channel_count', `sample has ${frame.raw.length} channels, shelf announced ${id.channels}`);
      return;
    }
    this.countGap(frame.seq);
    this.lastSeq = frame.seq;
    this.framesIn++;
    this.emit('frame', frame, id);
  }
}
