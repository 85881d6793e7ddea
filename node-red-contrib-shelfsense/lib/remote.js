/**
 * A Shelfsense central side reached over the network, as a config node describes it: its HTTP API
 * (order updates, the lanes' suppliers) and live data over MQTT. It offers the nodes the same
 * calls as the central that embeds Node-RED (lib/embedded.js), so a node does not care which one
 * it has; only updateOrder answers with a promise here.
 */
'use strict';

const { EventEmitter } = require('node:events');
const { Codes } = require('./errors.js');
const { Live, centralMqttUrl } = require('./live.js');
const { checkRequest } = require('./order-request.js');
const { Session, request } = require('./session.js');

class RemoteCentral extends EventEmitter {
  /**
   * @param {{ url: string, username?: string, password?: string, token?: string,
   *   mqttUrl?: string, mqttUsername?: string, mqttPassword?: string,
   *   timeoutMs?: number, reconnectMs?: number }} o
   */
  constructor(o) {
    super();
    this.setMaxListeners(0);
    this.session = new Session(o);
    this.mqttUrl = (o.mqttUrl || '').trim();
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.suppliers = new Map();
    this.lanesLoading = null;
    /** The connection state every node using this central shows: connecting, connected, error. */
    this.state = { state: 'idle' };
    this.used = false;
    const fromCentral = !this.mqttUrl;
    this.live = new Live({
      url: fromCentral ? this.safeMqttUrl() : this.mqttUrl,
      fromCentral,
      reconnectMs: o.reconnectMs,
      credentials: async () => {
        // Lanes first, so the first (retained) levels already carry their supplier.
        await this.loadLanes().catch(() => undefined);
        if (!fromCentral) return { username: o.mqttUsername || '', password: o.mqttPassword || '' };
        const password = await this.session.token();
        return { username: this.session.username, password };
      },
      supplierOf: (site, shelf, lane) => this.suppliers.get(`${site}/${shelf}/${lane}`) ?? null,
      reloadLanes: () => {
        this.loadLanes().catch(() => undefined);
      },
    });
    this.live.on('refused', () => this.session.invalidate());
    this.live.on('state', (s) => this.setState(s));
    this.live.on('level', (l) => this.emit('level', l));
    this.live.on('order', (e) => this.emit('order', e));
  }

  safeMqttUrl() {
    try {
      return centralMqttUrl(this.session.url);
    } catch {
      return '';
    }
  }

  /** Why the config cannot work (a missing URL or credential), or null. */
  problem() {
    const p = this.session.problem();
    if (p) return p;
    if (this.mqttUrl && !/^(mqtts?|wss?):\/\/[^/]/.test(this.mqttUrl))
      return `MQTT broker URL must start with mqtt://, mqtts://, ws:// or wss:// (${this.mqttUrl})`;
    return null;
  }

  /**
   * Called by each node that uses this central: logs in at once (so bad credentials show before
   * the first order arrives) and keeps the token fresh even for a flow that only updates orders.
   */
  use() {
    if (this.used) return;
    this.used = true;
    this.session.startKeepAlive();
    this.session.token().catch((err) => this.setState({ state: 'error', error: err }));
  }

  setState(s) {
    this.state = s;
    this.emit('state', s);
  }

  onLevel(listener) {
    return this.listen('level', listener);
  }

  onOrderEvent(listener) {
    return this.listen('order', listener);
  }

  listen(event, listener) {
    const guarded = (v) => {
      try {
        listener(v);
      } catch {
        // A faulty node must not stop the others from receiving.
      }
    };
    this.on(event, guarded);
    this.live.start();
    return () => {
      this.off(event, guarded);
      if (this.listenerCount('level') + this.listenerCount('order') === 0) this.live.stop();
    };
  }

  /** Acknowledges or ships an order through the HTTP API, as the config node's user. */
  async updateOrder(input) {
    const r = checkRequest(input);
    const id = encodeURIComponent(r.orderId);
    const before = await this.call('GET', `/api/orders/${id}`);
    const body =
      r.action === 'ship' && r.shippedQuantity !== undefined ? { quantity: r.shippedQuantity } : {};
    const order = await this.call('POST', `/api/orders/${id}/${r.action}`, body);
    return { order, changed: before.state !== order.state };
  }

  /** The lanes the user may see (GET /api/lanes). */
  lanes() {
    return this.call('GET', '/api/lanes');
  }

  loadLanes() {
    this.lanesLoading ??= this.lanes()
      .then((lanes) => {
        this.suppliers = new Map(lanes.map((l) => [`${l.site}/${l.shelf}/${l.lane}`, l.supplier ?? null]));
      })
      .finally(() => {
        this.lanesLoading = null;
      });
    return this.lanesLoading;
  }

  /** An API call with the session's token; one more try with a new login after a 401. */
  async call(method, path, body) {
    for (let attempt = 0; ; attempt++) {
      const token = await this.session.token();
      try {
        return await request(this.session.url, method, path, body, token, this.timeoutMs);
      } catch (err) {
        if (err.code !== Codes.AUTH || attempt > 0) throw err;
        this.session.invalidate();
      }
    }
  }

  async close() {
    this.session.close();
    this.removeAllListeners();
    await this.live.stop();
  }
}

module.exports = { RemoteCentral };
