/**
 * The pure parts of node-red-contrib-shelfsense (CommonJS, loaded as Node-RED loads them): what a
 * server config must have, the order-update request check (the same codes and field names as the
 * embedded central's), the MQTT URL next to a central, and how live MQTT messages become node
 * output — a level repeated after a cut passes once, bad payloads are counted, retained order
 * events are not replayed.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const lib = (f: string) => require(`node-red-contrib-shelfsense/lib/${f}`);
const { Session, tokenClaims } = lib('session.js');
const { checkRequest, requestOf } = lib('order-request.js');
const { Live, centralMqttUrl } = lib('live.js');

/** A token of the central's shape (the signature is not checked here). */
function token(u: string, exp: number): string {
  return `sst1.${Buffer.from(JSON.stringify({ u, g: { role: 'supplier' }, exp, pw: 'x' })).toString('base64url')}.sig`;
}

describe('server config', () => {
  it('names what is missing or malformed', () => {
    const p = (o: Record<string, string>) => new Session({ url: '', ...o }).problem();
    expect(p({ token: token('acme', Date.now() + 60_000) })).toBe('no central URL');
    expect(p({ url: 'central:8080', token: 'x' })).toMatch(/must start with http/);
    expect(p({ url: 'http://c' })).toBe('no API token or password');
    expect(p({ url: 'http://c', token: 'not-a-token' })).toMatch(/not a Shelfsense token/);
    expect(p({ url: 'http://c', password: 'pw' })).toBe('a password needs a user name');
    expect(p({ url: 'http://c', username: 'acme', password: 'pw' })).toBeNull();
    expect(p({ url: 'http://c', token: token('acme', 1) })).toBeNull();
  });

  it('takes the user name from the token', () => {
    const t = token('acme-ops', 123);
    expect(tokenClaims(t)).toMatchObject({ u: 'acme-ops', exp: 123 });
    expect(new Session({ url: 'http://c', token: t }).username).toBe('acme-ops');
    expect(tokenClaims('sst1.!!.x')).toBeNull();
  });

  it('finds MQTT over WebSocket beside the central', () => {
    expect(centralMqttUrl('http://c:8080')).toBe('ws://c:8080/mqtt');
    expect(centralMqttUrl('https://c.example.com/shelfsense/')).toBe('wss://c.example.com/shelfsense/mqtt');
  });
});

describe('order update request', () => {
  it('takes the id from payload, msg.orderId or topic; the action from the node or the message', () => {
    expect(requestOf({ action: 'ship' }, { topic: 'o-1', payload: { shippedQuantity: 3 } })).toEqual({
      orderId: 'o-1',
      action: 'ship',
      shippedQuantity: 3,
    });
    expect(requestOf({ action: 'msg' }, { orderId: 'o-2', payload: { action: 'acknowledge' } })).toEqual({
      orderId: 'o-2',
      action: 'acknowledge',
    });
  });

  it('refuses bad input with SHELF_ERR_NODERED_REQUEST, naming every field', () => {
    let err: { code: string; message: string; details: { path: string }[] } | undefined;
    try {
      checkRequest({ orderId: '', action: 'cancel', shippedQuantity: 1.5 });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err?.code).toBe('SHELF_ERR_NODERED_REQUEST');
    expect(err?.details.map((d) => d.path)).toEqual(['orderId', 'action', 'shippedQuantity']);
    expect(checkRequest({ orderId: 'o', action: 'ship', shippedQuantity: 2 })).toBeTruthy();
  });
});

describe('live messages', () => {
  function live() {
    const l = new Live({
      url: 'ws://unused/mqtt',
      fromCentral: true,
      credentials: async () => ({ username: '', password: '' }),
      supplierOf: (site: string, shelf: string, lane: string) =>
        lane === 'l1' ? `acme@${site}/${shelf}` : null,
      reloadLanes: () => {
        reloads++;
      },
    });
    const levels: Record<string, unknown>[] = [];
    const orders: Record<string, unknown>[] = [];
    l.on('level', (x: Record<string, unknown>) => levels.push(x));
    l.on('order', (x: Record<string, unknown>) => orders.push(x));
    let reloads = 0;
    const msg = (topic: string, body: unknown, retain = false) =>
      l.onMessage(topic, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), { retain });
    return { l, levels, orders, msg, reloads: () => reloads };
  }
  const level = (seq: number, units: number) => ({
    agent: 'pi-1',
    sku: 'cola',
    units,
    grams: units * 350,
    fill: units / 20,
    stable: true,
    confidence: 0.9,
    state: 'ok',
    ts: 1000 + seq,
    seq,
  });

  it('a level becomes the node payload, with the supplier; a repeat after a cut passes once', () => {
    const { levels, msg } = live();
    msg('shelfsense/v1/s1/sh1/l1/level', level(5, 7), true);
    msg('shelfsense/v1/s1/sh1/l1/level', level(5, 7));
    msg('shelfsense/v1/s1/sh1/l1/level', level(4, 8));
    msg('shelfsense/v1/s1/sh1/l1/level', level(6, 6));
    // An agent counting from 0 again (its store wiped) sends newer levels: they pass.
    msg('shelfsense/v1/s1/sh1/l1/level', { ...level(1, 5), ts: 5000 });
    expect(levels.map((l) => l.units)).toEqual([7, 6, 5]);
    expect(levels[0]).toEqual({
      site: 's1',
      shelf: 'sh1',
      lane: 'l1',
      sku: 'cola',
      supplier: 'acme@s1/sh1',
      units: 7,
      grams: 2450,
      fill: 0.35,
      stable: true,
      confidence: 0.9,
      state: 'ok',
      agent: 'pi-1',
      ts: 1005,
    });
  });

  it('bad payloads are counted and dropped; retained order events are not replayed', () => {
    const { l, levels, orders, msg, reloads } = live();
    msg('shelfsense/v1/s1/sh1/l1/level', '{not json');
    msg('shelfsense/v1/s1/sh1/l1/level', { units: 'many' });
    msg('shelfsense/v1/s1/sh1/l1/order', { state: 'open' });
    expect(l.invalid).toBe(3);
    msg('shelfsense/v1/s1/sh1/l1/order', { orderId: 'o-1', state: 'open' }, true);
    msg('shelfsense/v1/s1/sh1/l1/order', { orderId: 'o-2', state: 'open' });
    expect(orders.map((o) => o.orderId)).toEqual(['o-2']);
    msg('shelfsense/v1/catalogue', { version: 2, ts: 1 });
    expect(reloads()).toBe(1);
    expect(levels).toEqual([]);
  });
});
