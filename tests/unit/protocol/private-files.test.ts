/**
 * The private-files helpers: directories created 0700 and files 0600 whatever the umask, existing
 * directories left as they are (reported once), existing files tightened only when this user owns
 * them; and the SQLite behaviour they rely on — a WAL database's -wal and -shm files take the
 * database file's mode.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensurePrivateDir,
  ensurePrivateFile,
  type ModeWarnLogger,
  preparePrivateDatabase,
  restrictFile,
} from '@shelfsense/protocol';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const modeOf = (p: string) => statSync(p).mode & 0o777;

function recorder(): ModeWarnLogger & { lines: { obj: Record<string, unknown>; msg: string }[] } {
  const lines: { obj: Record<string, unknown>; msg: string }[] = [];
  return { lines, warn: (obj, msg) => lines.push({ obj, msg }) };
}

describe('[private files] helpers', () => {
  let dir: string;
  let umask: number;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'private-files-'));
    umask = process.umask(0o022);
  });
  afterEach(() => {
    process.umask(umask);
  });

  it('[private dir] creates the directory and every missing parent 0700, even under a umask that takes owner bits', () => {
    process.umask(0o277);
    const leaf = join(dir, 'a', 'b', 'c');
    expect(ensurePrivateDir(leaf)).toBe(leaf);
    for (const p of ['a', 'a/b', 'a/b/c']) expect(modeOf(join(dir, p)), p).toBe(0o700);
    // The parent that already existed is not touched.
    expect(modeOf(dir)).toBe(0o700);
  });

  it('[private dir] leaves an existing directory as it is and reports a shared one once', () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o750);
    const log = recorder();
    ensurePrivateDir(shared, log);
    ensurePrivateDir(shared, log);
    expect(modeOf(shared)).toBe(0o750);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]?.obj).toMatchObject({ dir: shared, mode: '0750' });
    expect(log.lines[0]?.msg).toContain(`chmod 700 ${shared}`);

    const own = join(dir, 'own');
    mkdirSync(own, { mode: 0o700 });
    ensurePrivateDir(own, log);
    expect(log.lines).toHaveLength(1);
  });

  it('[private file] creates a file 0600 and tightens an existing one this user owns', () => {
    process.umask(0);
    const fresh = join(dir, 'fresh');
    ensurePrivateFile(fresh);
    expect(modeOf(fresh)).toBe(0o600);

    const old = join(dir, 'old');
    writeFileSync(old, 'kept', { mode: 0o644 });
    ensurePrivateFile(old);
    expect(modeOf(old)).toBe(0o600);
    expect(statSync(old).size).toBe(4);

    // Stricter than 0600 already: nothing to take away.
    const readOnly = join(dir, 'read-only');
    writeFileSync(readOnly, '', { mode: 0o400 });
    expect(restrictFile(readOnly)).toBe(true);
    expect(modeOf(readOnly)).toBe(0o400);
    expect(restrictFile(join(dir, 'missing'))).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)('[private file] leaves a file another user owns to that user', () => {
    const theirs = join(dir, 'theirs');
    writeFileSync(theirs, '', { mode: 0o644 });
    chownSync(theirs, 65534, 65534);
    restrictFile(theirs);
    expect(modeOf(theirs)).toBe(0o644);
  });

  it('[private db] the database is 0600 before SQLite opens it, so SQLite creates -wal and -shm 0600', () => {
    const file = join(dir, 'x.db');
    preparePrivateDatabase(file);
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
      for (const suffix of ['', '-wal', '-shm']) expect(modeOf(`${file}${suffix}`), suffix).toBe(0o600);
    } finally {
      db.close();
    }
    // Without it, under the same umask, SQLite's own default gives every one of them 0644.
    const plain = join(dir, 'plain.db');
    const db2 = new Database(plain);
    try {
      db2.pragma('journal_mode = WAL');
      db2.exec('CREATE TABLE t (x)');
      for (const suffix of ['', '-wal', '-shm']) expect(modeOf(`${plain}${suffix}`), suffix).toBe(0o644);
    } finally {
      db2.close();
    }
  });

  it('[private db] tightens a database and the journals left beside it; leaves :memory: alone', () => {
    const file = join(dir, 'old.db');
    for (const suffix of ['', '-wal', '-shm', '-journal'])
      writeFileSync(`${file}${suffix}`, '', { mode: 0o644 });
    preparePrivateDatabase(file);
    for (const suffix of ['', '-wal', '-shm', '-journal'])
      expect(modeOf(`${file}${suffix}`), suffix).toBe(0o600);
    expect(() => preparePrivateDatabase(':memory:')).not.toThrow();
  });
});
