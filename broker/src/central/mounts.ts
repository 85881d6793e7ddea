/**
 * What the central HTTP server serves besides /metrics and /healthz: the HTTP API under /api and
 * the dashboard at /. (MQTT over WebSocket at /mqtt is attached by the broker itself.)
 */
import type { CentralParts, HttpMount } from './central.js';

export async function defaultMounts(_parts: CentralParts): Promise<HttpMount[]> {
  return [];
}
