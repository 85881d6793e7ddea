/**
 * Live lane levels and order events over MQTT: from the central side's MQTT over WebSocket
 * (`/mqtt`, the user name and a fresh API token as password) or from a broker the config node
 * names. The broker's ACLs decide what arrives: a supplier receives its own SKUs' lanes and orders.
 * One connection per config node, opened for the first listener and closed with the last.
 */
'use strict';

const { EventEmitter } = require('node:events');
const { Codes, ShelfsenseNodeError } = require('./errors.js');

const ROOT = 'shelfsense/v1';
const FILTERS = [`${ROOT}/+/+/+/level`, `${ROOT}/+/+/+/order`, `${ROOT}/catalogue`];
/** MQTT 3.1.1 CONNACK 4/5 and MQTT 5 reason codes 134/135: the credentials were refused. */
const AUTH_REFUSED = new Set([4, 5, 134, 135]);

/** The central side's MQTT over WebSocket, next to its HTTP API. */
function centralMqttUrl(httpUrl) {
  const u = new URL(httpUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/mqtt`;
  u.search = '';
  return u.toString();
}

function num(v) {
  return typeof v === 'number' && Number.isFinite(v);
}

class Live extends EventEmitter {
  /**
   * @param {{ url: string, credentials: () => Promise<{ username: string, password: string }>,
   *   fromCentral: boolean, supplierOf: (site: string, shelf: string, lane: string) => string | null,
   *   reloadLanes: () => void, reconnectMs?: number, connectTimeoutMs?: number }} o
   */
  constructor(o) {
    super();
    this.setMaxListeners(0);
    this.o = o;
    this.client = null;
    this.timer = null;
    this.running = false;
    this.authFailures = 0;
    /** Counts connect attempts, so one overtaken by a stop and a new start gives up. */
    this.generation = 0;
    /** The last (agent, seq) per lane: a level the agent sends again after a cut is passed on once. */
    this.lastSeq = new Map();
    this.invalid = 0;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  async stop() {
    this.running = false;
    this.generation++;
    clearTimeout(this.timer);
    const c = this.client;
    this.client = null;
    if (c) await c.endAsync(true).catch(() => undefined);
  }

  async connect() {
    if (!this.running) return;
    const generation = ++this.generation;
    this.emit('state', { state: 'connecting' });
    let creds;
    try {
      creds = await this.o.credentials();
    } catch (err) {
      if (generation === this.generation) this.fail(err);
      return;
    }
    if (!this.running || generation !== this.generation) return;
    // Required here, not at the top: the embedded central never opens a connection of its own.
    const mqtt = require('mqtt');
    const client = mqtt.connect(this.o.url, {
      username: creds.username,
      password: creds.password,
      clientId: `node-red-shelfsense-${Math.random().toString(16).slice(2, 10)}`,
      clean: true,
      // Reconnects are ours: each one asks for a fresh token first.
      reconnectPeriod: 0,
      connectTimeout: this.o.connectTimeoutMs ?? 10_000,
      resubscribe: false,
    });
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      try {
        this.onMessage(topic, payload, packet);
      } catch {
        // One bad message must not take Node-RED down; it is counted and dropped.
        this.invalid++;
      }
    });
    client.on('connect', () => {
      this.authFailures = 0;
      const subscriptions = Object.fromEntries(FILTERS.map((topic) => [topic, { qos: 1 }]));
      client.subscribe(subscriptions, (err) => {
        if (err) this.emit('state', { state: 'error', error: err });
        else this.emit('state', { state: 'connected' });
      });
    });
    client.on('error', (err) => {
      if (AUTH_REFUSED.has(err.code)) {
        this.authFailures++;
        this.emit('refused');
        if (this.authFailures >= 2 || !this.o.fromCentral) {
          // The same credentials will be refused again: stop until the flow is deployed anew.
          this.fail(
            new ShelfsenseNodeError(Codes.AUTH, `the MQTT broker refused the credentials (${err.message})`),
          );
          return;
        }
      }
      this.emit('state', { state: 'error', error: err });
    });
    client.on('close', () => {
      if (this.client !== client || !this.running) return;
      this.client = null;
      client.end(true);
      this.emit('state', { state: 'connecting' });
      this.retry();
    });
  }

  fail(err) {
    this.emit('state', { state: 'error', error: err });
    const c = this.client;
    this.client = null;
    c?.end(true);
    // A refused login or missing setting needs a new deploy; anything else may pass.
    if (err.code !== Codes.AUTH && err.code !== Codes.CONFIG) this.retry();
    else this.running = false;
  }

  retry() {
    clearTimeout(this.timer);
    if (!this.running) return;
    this.timer = setTimeout(() => this.connect(), this.o.reconnectMs ?? 5_000);
    this.timer.unref?.();
  }

  onMessage(topic, payload, packet) {
    if (topic === `${ROOT}/catalogue`) {
      this.o.reloadLanes();
      return;
    }
    const parts = topic.split('/');
    if (parts.length !== 6) return;
    const [, , site, shelf, lane, kind] = parts;
    let p;
    try {
      p = JSON.parse(payload.toString('utf8'));
    } catch {
      this.invalid++;
      return;
    }
    if (p === null || typeof p !== 'object') {
      this.invalid++;
      return;
    }
    if (kind === 'level') this.onLevel(site, shelf, lane, p);
    // Order events are live only, as in the embedded editor (they are not retained anyway).
    else if (kind === 'order' && !packet.retain) this.onOrder(p);
  }

  onLevel(site, shelf, lane, p) {
    if (!num(p.units) || !num(p.ts) || typeof p.agent !== 'string') {
      this.invalid++;
      return;
    }
    const key = `${site}/${shelf}/${lane}`;
    const last = this.lastSeq.get(key);
    if (num(p.seq)) {
      // A repeat has the same or an older sequence number and time; an agent whose store was
      // wiped counts from 0 again, but with new times, so its levels still pass.
      if (last && last.agent === p.agent && p.seq <= last.seq && p.ts <= last.ts) return;
      this.lastSeq.set(key, { agent: p.agent, seq: p.seq, ts: p.ts });
    }
    this.emit('level', {
      site,
      shelf,
      lane,
      sku: typeof p.sku === 'string' ? p.sku : null,
      supplier: this.o.supplierOf(site, shelf, lane),
      units: p.units,
      grams: num(p.grams) ? p.grams : null,
      fill: num(p.fill) ? p.fill : null,
      stable: p.stable === true,
      confidence: num(p.confidence) ? p.confidence : null,
      state: typeof p.state === 'string' ? p.state : null,
      agent: p.agent,
      ts: p.ts,
    });
  }

  onOrder(p) {
    if (typeof p.orderId !== 'string' || typeof p.state !== 'string') {
      this.invalid++;
      return;
    }
    this.emit('order', p);
  }
}

module.exports = { Live, centralMqttUrl };
