/**
 * A host for simulator tests: reads a shelf over a real serial device (`serialport` +
 * `@serialport/parser-readline`, as the agent does) or over TCP, decodes every line and keeps it.
 */
import { connect, type Socket } from 'node:net';
import { ReadlineParser } from '@serialport/parser-readline';
import {
  type DeviceFrame,
  decodeDeviceLine,
  encodeCommand,
  type HostCommand,
  isShelfError,
  type SampleFrame,
  type ShelfError,
} from '@shelfsense/protocol';
import { SerialPort } from 'serialport';
import { waitFor } from '../../helpers/wait.js';

export interface Received {
  line: string;
  frame?: DeviceFrame;
  error?: ShelfError;
}

export class LineReader {
  readonly received: Received[] = [];
  closed = false;

  constructor(
    private readonly send: (text: string) => void,
    private readonly end: () => Promise<void>,
  ) {}

  /** Called by the transport for every line. */
  push(line: string): void {
    try {
      this.received.push({ line, frame: decodeDeviceLine(line) });
    } catch (err) {
      if (!isShelfError(err)) throw err;
      this.received.push({ line, error: err });
    }
  }

  samples(): SampleFrame[] {
    const out: SampleFrame[] = [];
    for (const r of this.received) if (r.frame?.type === 'sample') out.push(r.frame);
    return out;
  }

  /** Highest sample seq received so far (-1 before the first). */
  lastSeq(): number {
    for (let i = this.received.length - 1; i >= 0; i--) {
      const f = this.received[i]?.frame;
      if (f?.type === 'sample') return f.seq;
    }
    return -1;
  }

  /** Resolves with the first received item (from index `from` on) that matches. */
  waitFor(
    pred: (r: Received) => boolean,
    timeoutMs = 5000,
    from = 0,
    what = 'a matching line',
  ): Promise<Received> {
    return waitFor(
      () => {
        for (let i = from; i < this.received.length; i++) {
          const r = this.received[i] as Received;
          if (pred(r)) return r;
        }
        return undefined;
      },
      timeoutMs,
      { what },
    );
  }

  /** Waits until at least `n` lines have been received. */
  waitForCount(n: number, timeoutMs = 10_000): Promise<boolean> {
    return waitFor(() => this.received.length >= n, timeoutMs, { what: `${n} lines` });
  }

  command(cmd: HostCommand): void {
    this.send(encodeCommand(cmd));
  }

  raw(text: string): void {
    this.send(text);
  }

  close(): Promise<void> {
    return this.end();
  }
}

export async function openSerial(path: string): Promise<LineReader & { port: SerialPort }> {
  const port = new SerialPort({ path, baudRate: 115_200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const reader = new LineReader(
    (text) => port.write(text),
    () =>
      new Promise<void>((resolve) => {
        if (!port.isOpen) resolve();
        else port.close(() => resolve());
      }),
  );
  const parser = port.pipe(new ReadlineParser({ delimiter: '\n', encoding: 'latin1' }));
  parser.on('data', (line: string) => reader.push(line.endsWith('\r') ? line.slice(0, -1) : line));
  port.on('close', () => {
    reader.closed = true;
  });
  port.on('error', () => undefined);
  return Object.assign(reader, { port });
}

export async function openTcp(port: number, host = '127.0.0.1'): Promise<LineReader & { socket: Socket }> {
  const socket = connect({ port, host });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  const reader = new LineReader(
    (text) => socket.write(text),
    () =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) resolve();
        else {
          socket.once('close', () => resolve());
          socket.destroy();
        }
      }),
  );
  const parser = socket.pipe(new ReadlineParser({ delimiter: '\n', encoding: 'latin1' }));
  parser.on('data', (line: string) => reader.push(line));
  socket.on('close', () => {
    reader.closed = true;
  });
  return Object.assign(reader, { socket });
}
