/**
 * One Outbox per directory: two writers appending to the same segment would interleave records.
 * The lock is a file holding the owner's pid and boot id, created exclusively. A lock left by a
 * process that no longer runs (after `kill -9`), or written in an earlier boot (after a power cut,
 * when its pid may now belong to another program), is stale and taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_FILE_MODE } from '@shelfsense/protocol';
import { OutboxErrorCodes, outboxError } from './errors.js';
import { writeAll } from './meta.js';

export const LOCK_FILE = 'outbox.lock';

/** Directories this process holds, so a pid reused by a container restart is not mistaken. */
const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireLock(dir: string, bootId: string | null): () => void {
  const file = join(dir, LOCK_FILE);
  if (heldHere.has(file)) {
    throw outboxError(OutboxErrorCodes.LOCKED, `outbox ${dir} is already open in this process`);
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', PRIVATE_FILE_MODE);
      try {
        writeAll(fd, Buffer.from(`${process.pid} ${bootId ?? '-'}\n`));
      } finally {
        closeSync(fd);
      }
      heldHere.add(file);
      return () => {
        heldHere.delete(file);
        try {
          unlinkSync(file);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = Number.NaN;
    let ownerBoot = '-';
    try {
      const [pid, boot] = readFileSync(file, 'utf8').trim().split(' ');
      owner = Number.parseInt(pid ?? '', 10);
      ownerBoot = boot ?? '-';
    } catch {
      // Vanished or unreadable between the two calls: treat as stale.
    }
    const sameBoot = bootId === null || ownerBoot === '-' || ownerBoot === bootId;
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && sameBoot && alive(owner)) {
      throw outboxError(OutboxErrorCodes.LOCKED, `outbox ${dir} is in use by process ${owner}`);
    }
    try {
      unlinkSync(file);
    } catch {
      // Someone else removed it first; retry the exclusive create.
    }
  }
  throw outboxError(OutboxErrorCodes.LOCKED, `outbox ${dir}: could not take the lock`);
}
