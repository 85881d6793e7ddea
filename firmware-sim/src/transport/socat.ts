/**
 * A pseudo-terminal pair made by socat: bytes written to one end come out of the other, and each
 * end is a real tty that `serialport` opens like a USB serial adapter. socat's own PID is kept
 * (killing a wrapper can leave socat running), and the pair can be stopped and restarted on the
 * same link paths to simulate a device that disappears and comes back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { lstatSync, unlinkSync } from 'node:fs';
import { SimError, SimErrorCodes } from '../errors.js';

export class SocatPair {
  private child: ChildProcess | null = null;

  /** `a` and `b` are the symlinks socat creates to the two pty devices. */
  constructor(
    readonly a: string,
    readonly b: string,
  ) {}

  /** socat's PID while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** Starts socat and resolves once both links exist. */
  async start(timeoutMs = 5000): Promise<void> {
    if (this.child) return;
    removeStaleLink(this.a);
    removeStaleLink(this.b);
    const child = spawn(
      'socat',
      ['-d', '-d', `pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.child = child;
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const fail = (message: string) => {
        clearTimeout(timer);
        if (this.child === child) this.child = null;
        child.kill('SIGKILL');
        reject(new SimError(SimErrorCodes.PTY, message));
      };
      const timer = setTimeout(
        () => fail(`socat did not create ${this.a} within ${timeoutMs} ms: ${stderr.trim()}`),
        timeoutMs,
      );
      child.once('error', (err) => {
        const hint = (err as NodeJS.ErrnoException).code === 'ENOENT' ? ' (is socat installed?)' : '';
        fail(`cannot start socat${hint}: ${err.message}`);
      });
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = null;
        fail(`socat exited (${signal ?? code}) before the pty pair was ready: ${stderr.trim()}`);
      });
      child.stderr?.setEncoding('utf8');
      let ready = false;
      child.stderr?.on('data', (chunk: string) => {
        if (ready) return;
        if (stderr.length < 4096) stderr += chunk;
        // socat logs this once both ptys exist and their links are made.
        if (!stderr.includes('starting data transfer loop')) return;
        ready = true;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        child.once('exit', () => {
          if (this.child === child) this.child = null;
        });
        child.on('error', () => undefined);
        resolve();
      });
    });
  }

  /** Stops socat (SIGTERM, then SIGKILL after `timeoutMs`) and waits until it has exited. */
  async stop(timeoutMs = 2000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    }
    child.stderr?.destroy();
    // socat removes its links on SIGTERM, not on SIGKILL.
    removeStaleLink(this.a);
    removeStaleLink(this.b);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

function removeStaleLink(path: string): void {
  try {
    if (lstatSync(path).isSymbolicLink()) unlinkSync(path);
  } catch {
    // not there: nothing to remove
  }
}
