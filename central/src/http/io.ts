/**
 * Reading and writing HTTP messages: a JSON body capped at 64 KiB and sent as
 * `application/json`, query strings and bodies validated with zod (every error names its field),
 * JSON answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AnySchema, toIssues } from '@shelfsense/protocol';
import { z } from 'zod';
import { HttpError, HttpErrorCodes, invalid } from './errors.js';

/** Largest request body accepted. */
export const MAX_BODY_BYTES = 64 * 1024;
/**
 * An oversize body is read and thrown away up to this many bytes before the 413 goes out, so the
 * client (which is still sending) reads the answer instead of a reset connection; beyond it the
 * connection is closed after the answer.
 */
const DRAIN_LIMIT_BYTES = 1024 * 1024;

function tooLarge(limit: number): HttpError {
  return new HttpError(413, HttpErrorCodes.TOO_LARGE, `request body is larger than ${limit} bytes`, [], {
    Connection: 'close',
  });
}

/** Reads the whole body as text (empty string when there is none); throws 413 above `limit`. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > DRAIN_LIMIT_BYTES) {
      // Not worth draining: answer at once; the server closes the connection after the answer.
      req.pause();
      reject(tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (size > DRAIN_LIMIT_BYTES) {
        cleanup();
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      if (!over) chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      if (over) reject(tooLarge(limit));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onAborted = () => onError(new Error('request aborted'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/** Validates `input` against `schema`, or throws 400 naming each offending field. */
export function validate<S extends AnySchema>(schema: S, input: unknown, what: string): z.output<S> {
  const r = z.safeParse(schema, input);
  if (r.success) return r.data;
  throw invalid(what, toIssues(r.error));
}

/** `application/json`, with no parameter but an optional `charset=utf-8`. */
export function isJsonContentType(header: string): boolean {
  const [type, ...params] = header.split(';').map((p) => p.trim().toLowerCase());
  return type === 'application/json' && params.every((p) => p === '' || /^charset="?utf-8"?$/.test(p));
}

/**
 * A body must say it is JSON. A browser sends `text/plain`, form and multipart bodies to another
 * origin without asking first (no CORS preflight), so a page elsewhere could otherwise post to
 * the API with a user's browser — e.g. spend a user name's login attempts. `application/json`
 * is never sent cross-origin without a preflight, which this server does not grant.
 */
function requireJsonType(req: IncomingMessage, text: string): void {
  const type = req.headers['content-type'];
  if (type === undefined ? text === '' : isJsonContentType(type)) return;
  throw new HttpError(
    415,
    HttpErrorCodes.UNSUPPORTED_MEDIA_TYPE,
    type === undefined
      ? 'a request body needs the header Content-Type: application/json'
      : `Content-Type must be application/json, not ${JSON.stringify(type.slice(0, 100))}`,
  );
}

/**
 * Reads and validates a JSON body, which must come with `Content-Type: application/json` (415
 * otherwise; 413 first when it is too large). An empty body counts as `{}`.
 */
export async function readJson<S extends AnySchema>(req: IncomingMessage, schema: S): Promise<z.output<S>> {
  const text = await readBody(req);
  requireJsonType(req, text);
  let value: unknown = {};
  if (text.trim() !== '') {
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw invalid('body', [{ path: '', message: `not JSON (${(err as Error).message})` }]);
    }
  }
  return validate(schema, value, 'body');
}

/** The query string as an object; a key given more than once becomes an array (and fails a string schema). */
export function queryObject(url: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

export function parseQuery<S extends AnySchema>(url: URL, schema: S): z.output<S> {
  return validate(schema, queryObject(url), 'query');
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}
