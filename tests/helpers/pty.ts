/**
 * Pseudo-terminal pairs for tests: socat links two ptys, so bytes written to `a` come out of `b` and
 * each end opens like a USB serial adapter (through serialport). socat's own PID is
 * recorded; stop() kills exactly it and waits; restart() brings the pair back on the same link
 * paths, as a device that was unplugged and plugged in again.
 *
 *   const pty = await startPtyPair();   // pty.a, pty.b, pty.pid
 *   ...
 *   await pty.close();                  // kills socat and removes the temp dir
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SocatPair } from '@shelfsense/firmware-sim';

export interface PtyPair {
  /** One end: the device side in most tests. */
  readonly a: string;
  /** The other end: what the reader (agent) opens. */
  readonly b: string;
  /** socat's PID while it runs. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Kills socat (both links disappear, readers see their port close). */
  stop(): Promise<void>;
  /** Starts socat again on the same link paths. */
  restart(): Promise<void>;
  /** stop() and remove the directory holding the links. */
  close(): Promise<void>;
}

const open = new Set<PtyPair>();

/** Starts socat with links `a` and `b` in a fresh temp dir (or in `dir`). */
export async function startPtyPair(dir?: string): Promise<PtyPair> {
  const own = dir === undefined;
  const base = dir ?? mkdtempSync(join(tmpdir(), 'shelfsense-pty-'));
  const socat = new SocatPair(join(base, 'a'), join(base, 'b'));
  await socat.start();
  const pair: PtyPair = {
    a: socat.a,
    b: socat.b,
    get pid() {
      return socat.pid;
    },
    get running() {
      return socat.running;
    },
    stop: () => socat.stop(),
    restart: async () => {
      await socat.stop();
      await socat.start();
    },
    close: async () => {
      open.delete(pair);
      await socat.stop();
      if (own) rmSync(base, { recursive: true, force: true });
    },
  };
  open.add(pair);
  return pair;
}

/** Closes every pair started here and not closed yet (for afterEach/afterAll). */
export async function closeAllPtys(): Promise<void> {
  await Promise.all([...open].map((p) => p.close()));
}
