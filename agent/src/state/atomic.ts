import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '@shelfsense/protocol';

/**
 * Writes a file so that a power cut at any instant leaves either the old or the new content, never
 * a torn mix: write a temp file, fsync it, rename over the target, fsync the directory. The file is
 * 0600, and a directory created for it 0700.
 */
export function writeFileAtomic(file: string, data: string): void {
  const dir = dirname(file);
  ensurePrivateDir(dir);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', PRIVATE_FILE_MODE);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/** Reads a JSON file; undefined when it does not exist. */
export function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
