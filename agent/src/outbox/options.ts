/**
 * Options of the outbox and the validation of what is appended. The bounds are the contract's
 * `OutboxBounds`, which `delivery` in the agent config holds, so `Outbox.open(dir, config.delivery)`
 * works as is.
 */
import {
  Duration,
  EpochMs,
  ErrorCodes,
  isPublishable,
  OutboxBounds,
  OutboxFsyncModes,
  parseWith,
  ShelfError,
} from '@shelfsense/protocol';
import * as z from '@shelfsense/protocol/zod';
import type { Logger } from 'pino';
import { encodeRecord, U48_MAX } from './record.js';

export const FsyncModes = OutboxFsyncModes;

export const OutboxSettings = z.object({
  ...OutboxBounds,
  /** A segment file is closed and a new one started once it would grow past this size. */
  segmentBytes: z._default(z.number().check(z.int(), z.minimum(4096)), 4 * 1024 * 1024),
  /** How soon a moved trim mark reaches the meta file when no segment is deleted. */
  metaFlushMs: z._default(Duration, 1000),
  /** How often the age bound is checked; default a tenth of maxAgeMs, between 10 ms and 60 s. */
  ageCheckMs: z.optional(Duration),
  /** Largest single record, header included; larger appends are refused. */
  maxRecordBytes: z._default(
    z.number().check(z.int(), z.minimum(256), z.maximum(64 * 1024 * 1024)),
    1024 * 1024,
  ),
  /**
   * After an unclean stop across a reboot (a power cut), records of the last fsync window may be
   * gone while their sequence numbers already left the agent; numbering resumes this far ahead so
   * no number is ever reused for different content. 0 disables it.
   */
  powerLossSeqSkip: z._default(z.number().check(z.int(), z.nonnegative()), 10_000),
});
export type OutboxSettings = z.output<typeof OutboxSettings>;

/** Everything `Outbox.open` accepts: the settings plus hooks that are not data. */
export type OutboxOptions = z.input<typeof OutboxSettings> & {
  /** A pino logger; the outbox logs through a child `{ part: 'outbox' }`. Default: warn on stderr. */
  logger?: Logger;
  /** Wall clock for the age bound and default timestamps (tests run a month in a second). */
  now?: () => number;
  /** Overrides the detected boot id (tests simulate a reboot). */
  bootId?: string | null;
};

function isJsonObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A record's timestamp: epoch milliseconds that fit the record header's 48 bits. */
const RecordTs = EpochMs.check(z.maximum(U48_MAX));

/** What `append` accepts. `ts` defaults to `payload.ts` when that is a number, else to now. */
export const AppendInput = z.object({
  topic: z
    .string()
    .check(
      z.maxLength(65_535),
      z.refine(isPublishable, 'a publishable MQTT topic (no +, #, or empty level)'),
    ),
  payload: z.custom<Record<string, unknown>>(isJsonObject, 'a JSON object'),
  qos: z._default(z.union([z.literal(0), z.literal(1), z.literal(2)]), 1),
  retain: z._default(z.boolean(), false),
  ts: z.optional(RecordTs),
});
export type AppendInput = z.input<typeof AppendInput>;

export function invalid(what: string, path: string, message: string): ShelfError {
  return new ShelfError(ErrorCodes.INVALID, `invalid ${what}: ${path}: ${message}`, [{ path, message }]);
}

/**
 * Validates what `append` was given and encodes it as record `seq`. `ts` is the explicit one, else
 * `payload.ts` when it is an epoch-ms integer, else the clock.
 */
export function encodeAppend(
  input: AppendInput,
  seq: number,
  maxRecordBytes: number,
  now: () => number,
): { buf: Buffer; ts: number } {
  const rec = parseWith(AppendInput, input, 'outbox record');
  let json: string;
  try {
    json = JSON.stringify(rec.payload);
  } catch (err) {
    throw invalid('outbox record', 'payload', `not serialisable as JSON (${(err as Error).message})`);
  }
  const pts = rec.payload['ts'];
  const ts = rec.ts ?? (RecordTs.safeParse(pts).success ? (pts as number) : now());
  const buf = encodeRecord(seq, { topic: rec.topic, qos: rec.qos, retain: rec.retain, ts }, json);
  if (buf.length > maxRecordBytes) {
    throw invalid('outbox record', 'payload', `${buf.length} bytes exceeds the limit of ${maxRecordBytes}`);
  }
  return { buf, ts };
}
