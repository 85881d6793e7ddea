/**
 * Ground truth: what really is on every lane, so tests and benchmarks can score the agent's counts.
 * One record per change (never one per frame), keyed by shelf serial and the first frame sequence
 * number it applies from; written as JSON lines and kept in memory for `truth(serial, seq)`.
 */
import { once } from 'node:events';
import { createWriteStream, openSync, readFileSync, type WriteStream } from 'node:fs';
import { ErrorCodes, FrameSeq, formatIssues, Serial, ShelfError, toIssues } from '@shelfsense/protocol';
import { z } from 'zod';

export const TruthLane = z.object({
  lane: z.number().int().nonnegative(),
  channels: z.array(z.number().int().nonnegative()),
  unitWeightG: z.number(),
  items: z.number().int().nonnegative(),
  capacity: z.number().int().nonnegative(),
  /** Mass that is not this lane's own items: reference weights, items moved from other lanes. */
  extraG: z.number(),
  /** Nominal force of a hand leaning on the lane, grams (it wobbles around this); 0 when none. */
  leanG: z.number(),
});
export type TruthLane = z.infer<typeof TruthLane>;

export const TruthState = z.object({
  kind: z.literal('state'),
  serial: Serial,
  /** First frame sequence number this state applies to. */
  seq: FrameSeq,
  /** Device clock of that frame. */
  deviceMs: z.number().int().nonnegative(),
  /** The action that led here (`start`, `remove`, `vanish`, ...). */
  cause: z.string(),
  source: z.enum(['start', 'scenario', 'control', 'device']),
  lanes: z.array(TruthLane),
  cells: z.array(z.object({ offset: z.number(), scale: z.number(), trayG: z.number() })),
  /** Channels whose cell is unplugged (they read 8388607). */
  unplugged: z.array(z.number().int().nonnegative()),
  /** The port is gone (vanish fault); frames generated meanwhile never reach the host. */
  vanished: z.boolean(),
  /** The shelf's true temperature, °C, when the record was made (temperature model only). */
  tempC: z.number().optional(),
});
export type TruthState = z.infer<typeof TruthState>;

/** A fault on one line: `drop` (never sent), `corrupt` (a byte altered after the CRC), `garbage`. */
export const TruthLineFault = z.object({
  kind: z.literal('fault'),
  serial: Serial,
  /** The frame affected; for garbage, the frame the junk bytes were sent before. */
  seq: FrameSeq,
  fault: z.enum(['drop', 'corrupt', 'garbage']),
  bytes: z.number().int().positive().optional(),
});
export type TruthLineFault = z.infer<typeof TruthLineFault>;

export const TruthRecord = z.discriminatedUnion('kind', [TruthState, TruthLineFault]);
export type TruthRecord = z.infer<typeof TruthRecord>;

interface PerShelf {
  states: TruthState[];
  faults: TruthLineFault[];
}

/** Every truth record, indexed for lookups by (serial, seq). */
export class GroundTruth {
  private readonly shelves = new Map<string, PerShelf>();

  /**
   * @param limit records kept per shelf and kind; past it the oldest tenth is forgotten, so a
   * simulator left running for weeks stays bounded (the truth file keeps everything).
   */
  constructor(private readonly limit = Number.POSITIVE_INFINITY) {}

  add(record: TruthRecord): void {
    let s = this.shelves.get(record.serial);
    if (!s) {
      s = { states: [], faults: [] };
      this.shelves.set(record.serial, s);
    }
    const list: TruthRecord[] = record.kind === 'state' ? s.states : s.faults;
    list.push(record);
    if (list.length > this.limit) list.splice(0, Math.max(1, Math.floor(this.limit / 10)));
  }

  serials(): string[] {
    return [...this.shelves.keys()];
  }

  /** The state that frame `seq` of shelf `serial` was generated in; undefined before the first. */
  at(serial: string, seq: number): TruthState | undefined {
    const states = this.shelves.get(serial)?.states;
    if (!states) return undefined;
    // Last record with record.seq <= seq; several records may share a seq, the last one wins.
    let lo = 0;
    let hi = states.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((states[mid] as TruthState).seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? undefined : states[lo - 1];
  }

  /** The newest state of a shelf. */
  current(serial: string): TruthState | undefined {
    const states = this.shelves.get(serial)?.states;
    return states?.[states.length - 1];
  }

  states(serial: string): readonly TruthState[] {
    return this.shelves.get(serial)?.states ?? [];
  }

  faults(serial: string, fault?: TruthLineFault['fault']): readonly TruthLineFault[] {
    const all = this.shelves.get(serial)?.faults ?? [];
    return fault ? all.filter((f) => f.fault === fault) : all;
  }
}

/** Reads a truth file written by the simulator; every line is validated. */
export function loadTruth(file: string): GroundTruth {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ShelfError(ErrorCodes.FILE, `cannot read truth file ${file}: ${(err as Error).message}`);
  }
  return parseTruth(text, file);
}

export function parseTruth(text: string, what = 'truth'): GroundTruth {
  const truth = new GroundTruth();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new ShelfError(ErrorCodes.FILE, `${what} line ${i + 1} is not JSON: ${(err as Error).message}`);
    }
    const r = TruthRecord.safeParse(value);
    if (!r.success) {
      const issues = toIssues(r.error);
      throw new ShelfError(ErrorCodes.INVALID, `${what} line ${i + 1}: ${formatIssues(issues)}`, issues);
    }
    truth.add(r.data);
  }
  return truth;
}

/** Appends truth records to a JSON-lines file; close() flushes and releases the file. */
export class TruthWriter {
  private readonly stream: WriteStream;
  private failed: Error | null = null;

  constructor(readonly file: string) {
    let fd: number;
    try {
      fd = openSync(file, 'w');
    } catch (err) {
      throw new ShelfError(ErrorCodes.FILE, `cannot write truth file ${file}: ${(err as Error).message}`);
    }
    this.stream = createWriteStream(file, { fd });
    this.stream.on('error', (err) => {
      this.failed = err;
    });
  }

  get error(): Error | null {
    return this.failed;
  }

  write(record: TruthRecord): void {
    if (!this.failed) this.stream.write(`${JSON.stringify(record)}\n`);
  }

  async close(): Promise<void> {
    if (this.stream.closed || this.stream.destroyed) return;
    const done = once(this.stream, 'close').catch(() => undefined);
    this.stream.end();
    await done;
  }
}
