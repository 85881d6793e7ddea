/**
 * What the central HTTP server serves besides /metrics and /healthz: the HTTP API under /api,
 * Node-RED at /flows (admins), and the dashboard at /; plus Home Assistant discovery when enabled.
 * (MQTT over WebSocket at /mqtt is attached by the broker itself.)
 */

import { UserStore } from '@shelfsense/broker';
import { serveDashboard } from '@shelfsense/dashboard';
import { childLogger } from '@shelfsense/protocol';
import { startHomeAssistant } from '../ha/start.js';
import { createApi } from '../http/api.js';
import { LiveState } from '../http/live-state.js';
import { mountNodeRed } from '../nodered/mount.js';
import type { CentralParts, HttpMount } from './central.js';

export async function defaultMounts(parts: CentralParts): Promise<HttpMount[]> {
  const c = parts.config;
  const live = new LiveState();
  // Status and health are retained, so a (re)started central learns them at once.
  parts.ingest?.mqtt.on('message', (topic, payload) => live.onMessage(topic, payload));
  await parts.ingest?.mqtt.subscribeAsync(['shelfsense/v1/+/agents/+/status', 'shelfsense/v1/+/+/health'], {
    qos: 1,
  });
  // The broker's store when it runs here, so HTTP, MQTT and the Node-RED editor share one login
  // limiter; otherwise one store for HTTP and Node-RED.
  let users = parts.broker?.users;
  if (!users) {
    const own = new UserStore(parts.dataDir, {
      scrypt: c.auth.scrypt,
      verifyCacheMs: c.auth.verifyCacheMs,
      login: c.auth.login,
    });
    parts.onStop(() => own.close());
    users = own;
  }
  const api = createApi({
    users,
    map: parts.map,
    store: parts.store,
    history: parts.history?.store,
    orders: parts.orders,
    rules: parts.rules,
    replenishment: c.replenishment,
    commands: parts.relay,
    log: childLogger(parts.log, 'http'),
    tokenTtlMs: c.auth.tokenTtlMs,
    skus: c.skus,
    live,
    offlineAfterMs: c.timing.offlineAfterMs,
    registry: parts.registry,
    onAlert: (a) => parts.publishAlert(a),
    ...(parts.worker ? { webhooks: parts.worker } : {}),
  });
  const red = await mountNodeRed(parts.server, { ...parts, users }, c.integrations.nodeRed);
  if (red) parts.onStop(() => red.stop());
  const ha = await startHomeAssistant(parts, c.integrations.homeAssistant);
  if (ha) parts.onStop(() => ha.stop());
  return [api, ...(red ? [red.mount] : []), (req, res) => serveDashboard(req, res)];
}
