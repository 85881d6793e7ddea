/**
 * The byte pipe between a simulated shelf and its host. A real serial device, a pseudo-terminal
 * pair and a TCP bridge all satisfy this one interface, so the firmware engine never knows which it
 * talks through.
 *
 * Events: `ready` when a host may be listening again (port opened or returned, TCP client
 * connected) — the shelf then announces itself with its ID line; `drain` when a blocked pipe takes
 * bytes again; `line` for every command line received from the host; `gone` when the pipe went away.
 */
import { EventEmitter } from 'node:events';

export type TransportInfo =
  | { kind: 'pty'; path: string; simPath: string }
  | { kind: 'serial'; path: string }
  | { kind: 'tcp'; host: string; port: number };

export interface TransportEvents {
  ready: [];
  drain: [];
  line: [line: string];
  gone: [];
}

export abstract class Transport extends EventEmitter<TransportEvents> {
  /** Where the host connects; set once start() resolved. */
  abstract readonly info: TransportInfo;
  /** A host may read what is written now. */
  abstract readonly ready: boolean;
  /** The host is not keeping up: wait for `drain` (virtual time) or drop (real time). */
  abstract readonly blocked: boolean;
  abstract start(): Promise<void>;
  /** Releases every handle, child process and timer. */
  abstract stop(): Promise<void>;
  /** Writes latin1 text; ignored while not ready. */
  abstract write(text: string): void;
  /** The pipe disappears for `ms` (wall clock), then comes back and emits `ready`. */
  abstract vanish(ms: number): void;
  /**
   * At the end of a run: resolves once everything written so far has been handed to the OS (or the
   * pipe is gone); a TCP connection is then closed gracefully, after the reader has read it all.
   */
  abstract flush(): Promise<void>;

  private readonly splitter = new LineSplitter((line) => this.emit('line', line));
  protected stopped = false;

  /** Feeds bytes received from the host. */
  protected received(chunk: Buffer): void {
    this.splitter.push(chunk);
  }

  /** Resolves when ready and not blocked, or when stopped. */
  whenWritable(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.stopped || (this.ready && !this.blocked)) {
          this.off('ready', check);
          this.off('drain', check);
          this.off('gone', check);
          resolve();
        }
      };
      this.on('ready', check);
      this.on('drain', check);
      this.on('gone', check);
      check();
    });
  }
}

/** Splits a byte stream into lines (LF, optional CR); overlong lines are cut off and passed on. */
export class LineSplitter {
  private buf = '';

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLength = 1024,
  ) {}

  push(chunk: Buffer): void {
    let text = this.buf + chunk.toString('latin1');
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      nl = text.indexOf('\n');
    }
    // A host that never sends LF must not grow our memory: pass the overlong line on as it is.
    if (text.length > this.maxLength) {
      this.onLine(text);
      text = '';
    }
    this.buf = text;
  }
}
