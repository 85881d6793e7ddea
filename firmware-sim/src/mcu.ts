/**
 * A shelf whose firmware is the real binary: the AVR ELF a technician flashes, run cycle by cycle in
 * simavr (firmware/sim, `shelfsense-mcu`) with an HX711 part on each data pin. The engine here is
 * only the physical world: it serves each channel's raw counts, keyed by device time, on the
 * harness's feed (fd 3), and the firmware does everything else — it clocks the HX711s, frames the
 * samples, answers the host. Its UART is bridged to the shelf's transport byte for byte.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ShelfEngine } from './engine.js';
import { SimError, SimErrorCodes } from './errors.js';
import type { Logger } from './log.js';
import type { Runner } from './runner.js';
import type { Transport } from './transport/transport.js';

export type McuType = 'atmega2560' | 'atmega328p';

export interface McuOptions {
  /** The firmware ELF (firmware/build/<board>/shelfsense.elf). */
  elf: string;
  /** The chip; by default read from the ELF's AVR architecture (avr6: 2560, avr5: 328P). */
  mcu?: McuType;
  /** The harness binary (default firmware/sim/build/shelfsense-mcu in this repository). */
  harness?: string;
}

/** The harness's counters, from its exit line. */
export interface McuStats {
  simUs: number;
  conversions: number;
  reads: number;
  missed: number;
  gainErrors: number;
  powerDowns: number;
  uartTx: number;
  uartRx: number;
  uartRxDropped: number;
}

export const DEFAULT_HARNESS = fileURLToPath(
  new URL('../../firmware/sim/build/shelfsense-mcu', import.meta.url),
);

/** The feed runs this far ahead of the wall clock in real time, so the harness never waits on it. */
const LEAD_US = 100_000;
/** Feed lines written at once in virtual time. */
const BATCH = 64;
/** Ticks of the feed remembered to tell which one a frame was converted from (≈ 100 s). */
const FED_RING = 8_192;
const EEPROM_SIZE: Record<McuType, number> = { atmega2560: 4096, atmega328p: 1024 };

/** The ELF's AVR architecture from its header flags: avr6 is the ATmega2560, avr5 the ATmega328P. */
export function mcuOfElf(elf: string): McuType {
  if (!existsSync(elf)) {
    throw new SimError(SimErrorCodes.MCU, `--mcu: ${elf} does not exist (build it: make -C firmware mega)`);
  }
  const head = Buffer.alloc(40);
  const fd = openSync(elf, 'r');
  try {
    readSync(fd, head, 0, 40, 0);
  } finally {
    closeSync(fd);
  }
  const isAvrElf = head.readUInt32BE(0) === 0x7f454c46 && head.readUInt16LE(18) === 83;
  if (!isAvrElf) throw new SimError(SimErrorCodes.MCU, `--mcu: ${elf} is not an AVR ELF file`);
  const arch = head.readUInt32LE(36) & 0x7f;
  if (arch === 6) return 'atmega2560';
  if (arch === 5) return 'atmega328p';
  throw new SimError(
    SimErrorCodes.MCU,
    `--mcu: ${elf} is built for AVR architecture ${arch}, not avr5 or avr6`,
  );
}

/**
 * The firmware's EEPROM with a provisioned (locked) serial number, as firmware/src/core/eeprom_layout.h
 * lays it out: magic `SN`, flags, length, 32 bytes of serial, a check byte.
 */
export function eepromImage(serial: string, mcu: McuType): Buffer {
  const img = Buffer.alloc(EEPROM_SIZE[mcu], 0xff);
  img[0] = 0x53;
  img[1] = 0x4e;
  img[2] = 0x01;
  img[3] = serial.length;
  img.write(serial, 4, 'latin1');
  let sum = 0;
  for (let i = 0; i < 36; i++) sum = (sum + (img[i] as number)) & 0xff;
  img[36] = sum ^ 0xa5;
  return img;
}

/** Resolves when `w` drains or closes, leaving no listener behind. */
function drained(w: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      w.off('drain', done);
      w.off('close', done);
      resolve();
    };
    w.on('drain', done);
    w.on('close', done);
  });
}

export class McuRunner implements Runner {
  overruns = 0;
  /** Why the shelf stopped before its time, if it did. */
  error: Error | null = null;
  stats: McuStats | null = null;
  private child: ChildProcess | null = null;
  private feed: Writable | null = null;
  private feedsTemperature = false;
  private stopped = false;
  private _done = false;
  private resolveFinished!: () => void;
  readonly finished = new Promise<void>((resolve) => {
    this.resolveFinished = resolve;
  });
  /** The engine tick each sample frame the firmware sent was converted from, by its seq. */
  private readonly frameTicks = new Map<number, number>();
  /** The raw counts of the last FED_RING ticks served, as the firmware writes them (`a,b,…`). */
  private readonly fed: string[] = new Array<string>(FED_RING).fill('');
  private lineBuf = '';
  private readonly dir: string;
  private stderr = '';
  readonly mcu: McuType;
  /** The firmware image this shelf runs. */
  readonly elf: string;

  constructor(
    readonly engine: ShelfEngine,
    readonly transport: Transport | null,
    private readonly log: Logger,
    private readonly durationUs: number,
    private readonly opts: McuOptions,
    private readonly virtual: boolean,
    private readonly frameLimit = 1_000_000,
  ) {
    this.mcu = opts.mcu ?? mcuOfElf(opts.elf);
    this.elf = opts.elf;
    this.dir = mkdtempSync(join(tmpdir(), 'shelfsense-mcu-'));
    transport?.on('line', (line) => {
      this.child?.stdin?.write(`${line}\n`, 'latin1');
    });
  }

  get done(): boolean {
    return this._done;
  }

  get nextDueUs(): number {
    return this.engine.nextDeviceUs - LEAD_US;
  }

  /** Starts the harness; resolves once it says it is running the firmware. */
  async start(): Promise<void> {
    const harness = this.opts.harness ?? DEFAULT_HARNESS;
    if (!existsSync(harness)) {
      throw new SimError(
        SimErrorCodes.MCU,
        `the MCU harness ${harness} is not built: run make -C firmware/sim (needs libsimavr-dev)`,
      );
    }
    const eeprom = join(this.dir, 'eeprom.bin');
    writeFileSync(eeprom, eepromImage(this.engine.serial, this.mcu));
    const args = [
      '--elf',
      this.opts.elf,
      '--mcu',
      this.mcu,
      '--channels',
      String(this.engine.channels),
      '--eeprom',
      eeprom,
      '--speed',
      this.virtual ? '0' : '1',
    ];
    // The 328P reads its own die: at the shelf's temperature from boot, then as the feed moves it.
    const tempC = this.engine.temperatureC;
    this.feedsTemperature = tempC !== undefined && this.mcu === 'atmega328p';
    if (this.feedsTemperature) args.push('--temp-c', String(centi(tempC as number) / 100));
    const child = spawn(harness, args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.feed = child.stdio[3] as Writable;
    this.feed.on('error', () => undefined);
    child.stdin?.on('error', () => undefined);
    child.stdout?.on('data', (chunk: Buffer) => this.fromMcu(chunk));
    const ready = new Promise<void>((resolve, reject) => {
      child.stderr?.on('data', (d: Buffer) => {
        this.stderr += d.toString('utf8');
        for (;;) {
          const nl = this.stderr.indexOf('\n');
          if (nl < 0) break;
          const line = this.stderr.slice(0, nl);
          this.stderr = this.stderr.slice(nl + 1);
          this.onHarnessLine(line, resolve);
        }
      });
      child.once('exit', (code, signal) => {
        const why = `the MCU harness exited (${signal ?? `code ${code}`}) ${this.stderr.trim()}`.trim();
        reject(new SimError(SimErrorCodes.TRANSPORT, why));
        if (!this.stopped) this.fail(new Error(why));
      });
      child.once('error', (err) => reject(new SimError(SimErrorCodes.TRANSPORT, err.message)));
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    try {
      await ready;
    } finally {
      clearTimeout(timer);
    }
  }

  private onHarnessLine(line: string, ready: () => void): void {
    let msg: { event?: string } & Record<string, unknown>;
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      this.log.warn({ line }, 'MCU harness');
      return;
    }
    if (msg.event === 'ready') ready();
    else if (msg.event === 'exit') this.stats = msg as unknown as McuStats;
    else this.log.debug(msg, 'MCU harness');
  }

  /** Bytes the firmware sent: to the host as they are; the sample frames' clocks noted. */
  private fromMcu(chunk: Buffer): void {
    this.note(chunk.toString('latin1'));
    const t = this.transport;
    if (!t) return;
    if (t.ready && !t.blocked) {
      t.write(chunk.toString('latin1'));
      return;
    }
    if (!this.virtual) {
      this.overruns++;
      return;
    }
    // Virtual time: the firmware waits for the host, as the simulator's own shelves do.
    t.write(chunk.toString('latin1'));
    this.child?.stdout?.pause();
    void t.whenWritable().then(() => this.child?.stdout?.resume());
  }

  private note(text: string): void {
    let buf = this.lineBuf + text;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith('ID,')) this.onIdentity(line);
      else if (line.startsWith('S,')) {
        const a = line.indexOf(',', 2);
        const b = line.indexOf(',', a + 1);
        const seq = Number(line.slice(2, a));
        const ms = Number(line.slice(a + 1, b));
        const star = line.lastIndexOf('*');
        // The v1.1 temperature field is not a count: it plays no part in matching the feed.
        const temp = line.lastIndexOf(',T', star);
        const end = temp > b ? temp : star;
        if (Number.isInteger(seq) && Number.isInteger(ms) && star > b) {
          this.onFrame(seq, ms, line.slice(b + 1, end));
        }
      }
      nl = buf.indexOf('\n');
    }
    this.lineBuf = buf.length > 1024 ? '' : buf;
  }

  /** A firmware built for another channel count than the shelf's cannot count it: stop, say so. */
  private onIdentity(line: string): void {
    const channels = Number(line.split(',')[3]);
    if (channels === this.engine.channels || this.error) return;
    this.fail(
      new SimError(
        SimErrorCodes.MCU,
        `the firmware reports ${channels} channels but shelf ${this.engine.serial} has ${this.engine.channels}: ` +
          `build it with make -C firmware ${this.mcu === 'atmega2560' ? 'mega' : 'uno'} CHANNELS=${this.engine.channels}`,
      ),
    );
  }

  private onFrame(seq: number, ms: number, raw: string): void {
    this.frameTicks.set(seq, this.tickOf(ms, raw));
    if (this.frameTicks.size > this.frameLimit) {
      const oldest = this.frameTicks.keys().next().value as number;
      this.frameTicks.delete(oldest);
    }
    if (!this._done && ms * 1000 >= this.durationUs) {
      this._done = true;
      this.resolveFinished();
    }
  }

  /**
   * The tick a frame was converted from: the one near its stamp whose counts it carries. The stamp
   * alone cannot say: conversions fall on the feed's grid and millis() runs a millisecond or two
   * behind the simulated clock, so the stamp often lands in the tick before.
   */
  private tickOf(ms: number, raw: string): number {
    const near = Math.floor(((ms + 1) * 1000) / this.engine.tickUs);
    for (const d of [0, 1, -1, 2, -2, 3]) {
      const t = near + d;
      if (
        t >= 0 &&
        t < this.engine.nextSeq &&
        t > this.engine.nextSeq - FED_RING &&
        this.fed[t % FED_RING] === raw
      )
        return t;
    }
    // A dead chip's channel (8388607) matches no tick: the stamp's is the best there is.
    return near;
  }

  /** The engine tick frame `seq` of the firmware was converted from (undefined before it was seen). */
  frameTick(seq: number): number | undefined {
    return this.frameTicks.get(seq);
  }

  boot(): void {}

  vanish(): void {
    this.log.warn('a vanish fault needs the simulator’s own firmware; ignored for an MCU shelf');
  }

  fail(err: unknown): void {
    this.error ??= err instanceof Error ? err : new Error(String(err));
    this.log.error({ err: this.error.message }, 'MCU shelf stopped');
    this._done = true;
    this.resolveFinished();
  }

  private feedLine(): string {
    const us = this.engine.nextDeviceUs;
    const f = this.engine.tick();
    this.fed[f.seq % FED_RING] = f.raw.join(',');
    if (!this.feedsTemperature) return `${us} ${f.raw.join(' ')}\n`;
    return `${us} ${f.raw.join(' ')} T${centi(this.engine.temperatureC as number)}\n`;
  }

  /** Real time: serves the raw counts up to LEAD_US ahead of `untilUs`. */
  emitDue(untilUs: number): void {
    if (!this.feed || this.stopped) return;
    let out = '';
    while (
      this.engine.nextDeviceUs <= untilUs + LEAD_US &&
      this.engine.nextDeviceUs <= this.durationUs + LEAD_US
    )
      out += this.feedLine();
    if (out) this.feed.write(out);
  }

  /** Virtual time: serves the raw counts as fast as the harness takes them. */
  async pump(): Promise<void> {
    const feed = this.feed;
    if (!feed) return;
    try {
      while (!this.stopped && this.engine.nextDeviceUs <= this.durationUs + LEAD_US) {
        let out = '';
        for (let i = 0; i < BATCH; i++) out += this.feedLine();
        if (!feed.write(out)) await drained(feed);
      }
    } catch (err) {
      if (!this.stopped) this.fail(err);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      // After 'close' its stderr is read to the end: the exit line with its counters included.
      const closed = once(child, 'close');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await closed;
      clearTimeout(timer);
    }
    await this.transport?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** °C as the harness takes it: whole hundredths within the sensor's −55 … 125 °C. */
function centi(tempC: number): number {
  return Math.round(Math.max(-55, Math.min(125, tempC)) * 100);
}
