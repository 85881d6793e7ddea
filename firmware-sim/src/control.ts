/**
 * The control API: a small HTTP JSON server on 127.0.0.1 through which tests, the demo and
 * technician calibration flows act on the simulated shelves while they run (take items, place a
 * reference mass, lean on a lane, unplug a cell, inject line faults) and read the ground truth.
 *
 *   GET  /shelves                      every shelf: serial, lanes, cells, transport, next seq
 *   GET  /shelves/:serial              one shelf, with its current truth and counters
 *   GET  /shelves/:serial/truth[?seq=N] the truth now, or the truth frame N was generated in
 *   GET  /truth                        the current truth of every shelf, keyed by serial
 *   POST /shelves/:serial/actions      apply one action (same schema as a scenario event)
 *
 * Errors are JSON `{code, message, issues?}`: 400 for a bad body (the message names the field),
 * 404 for an unknown shelf or route, 405 for a wrong method, 413 for a body over 64 KiB.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  ErrorCodes,
  isShelfError,
  parseJsonWith,
  ShelfError,
  type ShelfErrorCode,
} from '@shelfsense/protocol';
import { Action } from './actions.js';
import { isSimError, SimError, SimErrorCodes } from './errors.js';
import type { Logger } from './log.js';

const MAX_BODY = 64 * 1024;

/** What the control server needs from the simulator. */
export interface ControlTarget {
  listShelves(): unknown[];
  describeShelf(serial: string): unknown;
  truthOf(serial: string, seq?: number): unknown;
  allTruth(): Record<string, unknown>;
  apply(serial: string, action: Action): unknown;
}

export class ControlServer {
  private server: Server | null = null;
  private _url = '';

  constructor(
    private readonly target: ControlTarget,
    private readonly log: Logger,
  ) {}

  /** `http://127.0.0.1:PORT` once started. */
  get url(): string {
    return this._url;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req).then(
        (reply) => send(res, reply),
        (err: unknown) => send(res, this.fail(err)),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: Error) => {
      throw new SimError(
        SimErrorCodes.TRANSPORT,
        `cannot listen for control on ${host}:${port}: ${err.message}`,
      );
    });
    this.server = server;
    const addr = server.address() as { port: number };
    this._url = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const t = this.target;
    const only = (m: string) => {
      if (method !== m) throw new HttpError(405, SimErrorCodes.METHOD, `use ${m} on ${url.pathname}`);
    };
    if (parts.length === 0 || (parts.length === 1 && parts[0] === 'shelves')) {
      only('GET');
      return { status: 200, body: t.listShelves() };
    }
    if (parts.length === 1 && parts[0] === 'truth') {
      only('GET');
      return { status: 200, body: t.allTruth() };
    }
    if (parts[0] === 'shelves' && parts.length >= 2) {
      const serial = parts[1] as string;
      if (parts.length === 2) {
        only('GET');
        return { status: 200, body: t.describeShelf(serial) };
      }
      if (parts.length === 3 && parts[2] === 'truth') {
        only('GET');
        const seqText = url.searchParams.get('seq');
        if (seqText !== null && !/^\d{1,10}$/.test(seqText)) {
          throw new HttpError(400, ErrorCodes.INVALID, 'seq: a frame sequence number (0–4294967295)');
        }
        return { status: 200, body: t.truthOf(serial, seqText === null ? undefined : Number(seqText)) };
      }
      if (parts.length === 3 && parts[2] === 'actions') {
        only('POST');
        const action = parseJsonWith(Action, await readBody(req), 'action');
        const result = t.apply(serial, action);
        this.log.debug({ serial, action }, 'control action');
        return { status: 200, body: result };
      }
    }
    throw new HttpError(404, SimErrorCodes.NOT_FOUND, `no route ${method} ${url.pathname}`);
  }

  private fail(err: unknown): Reply {
    if (err instanceof HttpError)
      return { status: err.status, body: { code: err.code, message: err.message } };
    // A SimError is a ShelfError too: its own status mapping comes first.
    if (isSimError(err)) {
      const status = err.code === SimErrorCodes.NOT_FOUND ? 404 : 400;
      return { status, body: { code: err.code, message: err.message, issues: err.issues } };
    }
    if (isShelfError(err)) {
      return { status: 400, body: { code: err.code, message: err.message, issues: err.issues } };
    }
    this.log.error({ err: (err as Error)?.stack ?? String(err) }, 'control request failed');
    return {
      status: 500,
      body: { code: SimErrorCodes.INTERNAL, message: (err as Error)?.message ?? 'internal error' },
    };
  }
}

class HttpError extends ShelfError<ShelfErrorCode> {
  constructor(
    readonly status: number,
    code: ShelfErrorCode,
    message: string,
  ) {
    super(code, message);
    this.name = 'HttpError';
  }
}

interface Reply {
  status: number;
  body: unknown;
}

function send(res: ServerResponse, { status, body }: Reply): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Past the limit the rest is read and thrown away, so the 413 reply still gets through.
      if (size > MAX_BODY) reject(new HttpError(413, SimErrorCodes.TOO_LARGE, `body over ${MAX_BODY} bytes`));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
