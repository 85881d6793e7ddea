/**
 * The Node side of the dashboard: where the built assets live and a handler that serves them.
 * The UI itself (dashboard/web/) talks to the central side only through the HTTP API and MQTT
 * over WebSocket; this module only serves files.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createStaticHandler, type StaticHandler } from './static.js';

export {
  CONTENT_SECURITY_POLICY,
  CONTENT_TYPES,
  createStaticHandler,
  MANIFEST_FILE,
  RESERVED_PREFIXES,
  type StaticHandler,
  type StaticHandlerOptions,
  type WarnLogger,
} from './static.js';

/**
 * Absolute path of the built assets (index.html, app.js, app.css, uPlot.min.css). The same
 * relative URL works from src/ (tests) and dist/ (compiled), both one level below the package.
 */
export function publicDir(): string {
  return fileURLToPath(new URL('../dist/public', import.meta.url));
}

let handler: StaticHandler | null = null;

/**
 * Serves the dashboard for a GET or HEAD outside `/api`, `/mqtt`, `/metrics` and `/flows`;
 * returns false (touching nothing) for any request it leaves to the caller.
 */
export function serveDashboard(req: IncomingMessage, res: ServerResponse): boolean {
  handler ??= createStaticHandler({ root: publicDir() });
  return handler(req, res);
}
