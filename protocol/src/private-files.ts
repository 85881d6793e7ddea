/**
 * What Shelfsense keeps on disk (databases, secrets, the agent's outbox and calibration) is for its
 * own user alone, whatever the umask: directories it creates are 0700, files it creates are 0600.
 *
 * - A directory that already exists keeps its mode: an operator may have shared it on purpose (a
 *   backup group, a mount point). When a logger is given, a directory group or others can enter is
 *   reported once per process.
 * - A database file is made 0600 before SQLite opens it, and before WAL mode is switched on:
 *   SQLite gives the `-wal` and `-shm` files it creates the mode of the database file. An
 *   existing database (and any journal left beside it) that this process's user owns is set to
 *   0600; one owned by someone else is left to whoever set it up.
 */
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/** Beside a SQLite database: its WAL, shared-memory index and rollback journal. */
export const SQLITE_COMPANIONS = ['-wal', '-shm', '-journal'] as const;

/** The part of a logger this module uses (pino's `warn(obj, msg)`). */
export interface ModeWarnLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

const reported = new Set<string>();

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

function ownedByUs(uid: number): boolean {
  const me = process.getuid?.();
  return me === undefined || me === uid;
}

/**
 * Makes sure `dir` exists. Every directory created here (it and any missing parent) is 0700; an
 * existing one keeps its mode, and is reported (once) to `log` when group or others can enter it.
 * Returns the absolute path.
 */
export function ensurePrivateDir(dir: string, log?: ModeWarnLogger): string {
  const abs = resolve(dir);
  const first = mkdirSync(abs, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first !== undefined) {
    // mkdir's mode passes through the umask; say it exactly, for each level created.
    for (let d = abs; ; d = dirname(d)) {
      chmodSync(d, PRIVATE_DIR_MODE);
      if (d === first || dirname(d) === d) break;
    }
  } else if (log && !reported.has(abs)) {
    const mode = statSync(abs).mode & 0o777;
    if (mode & 0o077) {
      reported.add(abs);
      log.warn(
        { dir: abs, mode: `0${mode.toString(8)}` },
        `directory is open to other users; chmod 700 ${abs} unless it is shared on purpose`,
      );
    }
  }
  return abs;
}

/**
 * Sets an existing file this process's user owns to 0600 if group or others have any access.
 * Returns false when the file does not exist.
 */
export function restrictFile(file: string): boolean {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(file);
  } catch (err) {
    if (errno(err) === 'ENOENT') return false;
    throw err;
  }
  if (st.isFile() && st.mode & 0o077 && ownedByUs(st.uid)) {
    try {
      chmodSync(file, PRIVATE_FILE_MODE);
    } catch (err) {
      // Raced with its removal, or not ours after all (another user's file on a shared mount).
      if (errno(err) !== 'ENOENT' && errno(err) !== 'EPERM') throw err;
    }
  }
  return true;
}

/** Creates `file` empty with mode 0600 if it does not exist; an existing one is restricted. */
export function ensurePrivateFile(file: string): void {
  if (restrictFile(file)) return;
  try {
    closeSync(openSync(file, 'wx', PRIVATE_FILE_MODE));
    // The umask can only take bits away; this puts back an owner bit a strange umask removed.
    chmodSync(file, PRIVATE_FILE_MODE);
  } catch (err) {
    // Another process created it first: take it as it is, restricted if ours.
    if (errno(err) !== 'EEXIST') throw err;
    restrictFile(file);
  }
}

/**
 * Call before opening a SQLite file: creates the database file 0600 (so the `-wal` and `-shm` files
 * SQLite creates beside it are 0600 too), or restricts it and any journal left beside it.
 * `:memory:` and the empty name (a temporary database) are left alone.
 */
export function preparePrivateDatabase(file: string): void {
  if (file === ':memory:' || file === '' || file.startsWith('file:')) return;
  ensurePrivateFile(file);
  for (const suffix of SQLITE_COMPANIONS) restrictFile(`${file}${suffix}`);
}
