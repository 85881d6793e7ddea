/**
 * The outbox's small meta file: the next sequence number to hand out and the trim mark, so numbers
 * keep increasing across restarts even when every segment has been trimmed away. Written
 * atomically (temp file, fsync, rename, fsync the directory): a power cut leaves the old or the new
 * content, never a mix. It also records whether the outbox was open and in which boot, so an
 * unclean stop across a reboot (a power cut) can be told apart from a process kill.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_FILE_MODE, parseJsonWith } from '@shelfsense/protocol';
import * as z from '@shelfsense/protocol/zod';

export const META_FILE = 'outbox.meta.json';

export const OutboxMeta = z.object({
  version: z.literal(1),
  /** Every sequence number below this one has been handed out. */
  nextSeq: z.number().check(z.int(), z.positive()),
  /** Records up to and including this sequence number are delivered or dropped. */
  trimmedThrough: z.number().check(z.int(), z.nonnegative()),
  /** True while an Outbox has the directory open; false after a clean close. */
  open: z.boolean(),
  /** Linux boot id of the machine run that last opened the outbox, if known. */
  bootId: z.nullable(z.string()),
});
export type OutboxMeta = z.infer<typeof OutboxMeta>;

export type MetaRead =
  | { kind: 'missing' }
  | { kind: 'ok'; meta: OutboxMeta }
  | { kind: 'bad'; reason: string };

export function readMeta(dir: string): MetaRead {
  let text: string;
  try {
    text = readFileSync(join(dir, META_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'bad', reason: (err as Error).message };
  }
  try {
    return { kind: 'ok', meta: parseJsonWith(OutboxMeta, text, 'outbox meta file') };
  } catch (err) {
    return { kind: 'bad', reason: (err as Error).message };
  }
}

/** Writes every byte of `data` (writeSync may write less than asked). */
export function writeAll(fd: number, data: Buffer): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done);
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function writeMeta(dir: string, meta: OutboxMeta): void {
  const file = join(dir, META_FILE);
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', PRIVATE_FILE_MODE);
  try {
    writeAll(fd, Buffer.from(`${JSON.stringify(meta)}\n`));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(dir);
}

/** The kernel's id of the current boot (Linux); null elsewhere. */
export function currentBootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}
