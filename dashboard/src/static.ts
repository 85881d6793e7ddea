/**
 * A small static file handler for the built dashboard. The central HTTP server mounts it at `/`
 * after its own routes; it answers GET and HEAD for everything outside the central side's
 * prefixes, falls back to index.html for client-side routes, and never leaves its root.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, posix, resolve, sep } from 'node:path';

/** Paths the central side owns; the dashboard never answers them, not even with index.html. */
export const RESERVED_PREFIXES = ['/api', '/mqtt', '/metrics', '/flows'] as const;

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
};

/** The page itself may load only what the central server serves: no CDN, no inline script. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  // mqtt.js runs its keepalive timer in a Worker built from a blob (timers in background tabs
  // are throttled); the blob holds code from app.js itself.
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** Written by scripts/build.mjs: each asset's content hash, used as `?v=` in index.html. */
export const MANIFEST_FILE = 'assets.json';

export interface WarnLogger {
  warn(obj: object, msg: string): void;
}

export interface StaticHandlerOptions {
  /** Absolute path of the directory to serve. */
  root: string;
  /** pino-compatible logger; read errors are logged at warn. */
  logger?: WarnLogger;
}

export type StaticHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

function isReserved(pathname: string): boolean {
  return RESERVED_PREFIXES.some((p) => pathname === p || pathname.startsWith(`${p}/`));
}

function fileOf(path: string): { size: number; mtimeMs: number } | null {
  try {
    const st = statSync(path);
    return st.isFile() ? { size: st.size, mtimeMs: st.mtimeMs } : null;
  } catch {
    return null;
  }
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

export function createStaticHandler(opts: StaticHandlerOptions): StaticHandler {
  const root = resolve(opts.root);
  let manifest: { mtimeMs: number; hashes: Record<string, string> } | null = null;

  // Re-read when the build rewrites it, so a rebuild needs no restart.
  const hashOf = (name: string): string | undefined => {
    const path = join(root, MANIFEST_FILE);
    const f = fileOf(path);
    if (!f) return undefined;
    if (!manifest || manifest.mtimeMs !== f.mtimeMs) {
      try {
        manifest = { mtimeMs: f.mtimeMs, hashes: JSON.parse(readFileSync(path, 'utf8')) };
      } catch {
        manifest = { mtimeMs: f.mtimeMs, hashes: {} };
      }
    }
    return manifest.hashes[name];
  };

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return false;
    }
    if (isReserved(url.pathname)) return false;

    let decoded: string;
    try {
      decoded = decodeURIComponent(url.pathname);
    } catch {
      plain(res, 400, 'bad path encoding');
      return true;
    }
    if (decoded.includes('\0') || decoded.includes('\\')) {
      plain(res, 400, 'bad path');
      return true;
    }
    // Decoded `..` could reach a reserved prefix or leave the root: normalise, then check both.
    const normal = posix.normalize(decoded);
    if (isReserved(normal)) return false;
    const segments = normal.split('/').filter(Boolean);
    // Dotfiles (and any `..` left over) are never served.
    if (segments.some((s) => s.startsWith('.'))) {
      plain(res, 404, 'not found');
      return true;
    }
    const wanted = resolve(root, ...segments);
    if (wanted !== root && !wanted.startsWith(root + sep)) {
      plain(res, 404, 'not found');
      return true;
    }

    let file = wanted;
    let stat = segments.length > 0 ? fileOf(file) : null;
    if (!stat) {
      // A missing asset is a 404; anything that looks like a page is a client route.
      if (segments.length > 0 && extname(normal) !== '') {
        plain(res, 404, 'not found');
        return true;
      }
      file = join(root, 'index.html');
      stat = fileOf(file);
      if (!stat) {
        plain(res, 503, 'dashboard not built: run `npm run build -w dashboard`');
        return true;
      }
    }

    const name = file
      .slice(root.length + 1)
      .split(sep)
      .join('/');
    const ext = extname(file).toLowerCase();
    const isHtml = ext === '.html';
    const headers: Record<string, string | number> = {
      'Content-Type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
      'X-Content-Type-Options': 'nosniff',
    };
    const version = url.searchParams.get('v');
    const hash = isHtml ? undefined : hashOf(name);
    // Fingerprinted URLs never change, so the browser may keep them; everything else revalidates.
    headers['Cache-Control'] =
      version !== null && hash !== undefined && version === hash
        ? 'public, max-age=31536000, immutable'
        : 'no-cache';
    if (isHtml) {
      headers['Content-Security-Policy'] = CONTENT_SECURITY_POLICY;
      headers['X-Frame-Options'] = 'DENY';
      headers['Referrer-Policy'] = 'no-referrer';
    }

    // scripts/build.mjs writes a gzip twin of each script and style sheet.
    const gz = file + '.gz';
    const gzAvailable = isHtml ? null : fileOf(gz);
    const gzStat =
      gzAvailable && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) ? gzAvailable : null;
    const body = gzStat ? gz : file;
    const bodyStat = gzStat ?? stat;
    if (gzAvailable) headers['Vary'] = 'Accept-Encoding';
    if (gzStat) headers['Content-Encoding'] = 'gzip';
    const etag = `W/"${bodyStat.size.toString(16)}-${Math.floor(bodyStat.mtimeMs).toString(16)}${gzStat ? '-gz' : ''}"`;
    headers['ETag'] = etag;

    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    headers['Content-Length'] = bodyStat.size;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    const stream = createReadStream(body);
    stream.on('error', (err) => {
      opts.logger?.warn({ err: err.message, file: name }, 'dashboard asset read failed');
      res.destroy(err);
    });
    res.on('close', () => stream.destroy());
    stream.pipe(res);
    return true;
  };
}
