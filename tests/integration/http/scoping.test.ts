/**
 * Scoping over HTTP is the MQTT ACL's (docs/http-api.md "Scoping"): what a user may not see
 * answers 404 exactly as if absent — in lists, by path and by id — and an action its role may not
 * take on something it can see answers 403.
 */
import { parseCsv } from '@shelfsense/central/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, LANES, startHarness } from './harness.js';

type Lane = { site: string; shelf: string; lane: string; supplier: string };
type Order = { id: string; site: string; supplier: string };
type Alert = { id: string; site: string };
type ErrorBody = { error: { code: string; message: string } };

const key = (l: { site: string; shelf: string; lane: string }) => `${l.site}/${l.shelf}/${l.lane}`;

describe('HTTP API: scoping', () => {
  let h: Harness;
  const orders: Record<string, string> = {};
  const alerts: Record<string, string> = {};
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    h = await startHarness();
    h.feed(
      h.level('AX', 10, -5_000),
      h.level('AY', 12, -5_000),
      h.level('BX', 9, -5_000),
      h.level('BY', 8, -5_000),
    );
    for (const l of ['AX', 'AY', 'BX', 'BY'] as const) orders[l] = h.openOrder(l);
    alerts['AX'] = h.store.alerts.open(LANES.AX, 'anomaly', 'shaky', h.now.t).alert.id;
    alerts['BY'] = h.store.alerts.open(LANES.BY, 'sensor-fault', 'cell unplugged', h.now.t).alert.id;
    for (const u of ['sup-x', 'sup-y', 'op-a', 'op-b', 'tech-a', 'svc', 'admin', 'agent-a']) {
      tokens[u] = await h.login(u);
    }
  });
  afterAll(() => h?.close());

  const get = <T>(user: string, path: string) => h.call<T>('GET', path, { token: tokens[user] as string });
  const post = <T>(user: string, path: string, body: unknown = {}) =>
    h.call<T>('POST', path, { token: tokens[user] as string, body });

  it('[supplier isolation] a supplier lists only lanes holding its SKUs, at every site', async () => {
    const x = await get<Lane[]>('sup-x', '/api/lanes');
    expect(x.body.map(key)).toEqual(['A/a1/l1', 'B/b1/l1']);
    expect(x.body.every((l) => l.supplier === 'X')).toBe(true);
    const y = await get<Lane[]>('sup-y', '/api/lanes');
    expect(y.body.map(key)).toEqual(['A/a1/l2', 'B/b1/l2']);
  });

  it('[supplier isolation] another supplier’s lane answers 404 by path, history and calibrations, like a lane that does not exist', async () => {
    const other = await get<ErrorBody>('sup-x', '/api/lanes/A/a1/l2');
    const absent = await get<ErrorBody>('sup-x', '/api/lanes/A/a1/l9');
    expect(other.status).toBe(404);
    expect(absent.status).toBe(404);
    expect(other.body.error.code).toBe(absent.body.error.code);
    expect((await get('sup-x', '/api/lanes/A/a1/l2/history')).status).toBe(404);
    expect((await get('sup-x', '/api/lanes/A/a1/l2/calibrations')).status).toBe(404);
    expect((await get('sup-x', '/api/lanes/A/a1/l1')).status).toBe(200);
  });

  it('[supplier isolation] a supplier cannot read or change another supplier’s orders, by id too (404)', async () => {
    const list = await get<Order[]>('sup-x', '/api/orders');
    expect(list.body.map((o) => o.id).sort()).toEqual([orders['AX'], orders['BX']].sort());
    const theirs = orders['AY'] as string;
    expect((await get<ErrorBody>('sup-x', `/api/orders/${theirs}`)).status).toBe(404);
    expect((await get<ErrorBody>('sup-x', '/api/orders/ord_does-not-exist')).status).toBe(404);
    for (const action of ['acknowledge', 'ship', 'cancel']) {
      const r = await post<ErrorBody>('sup-x', `/api/orders/${theirs}/${action}`);
      expect(r.status, action).toBe(404);
    }
    // Nothing changed.
    expect(h.orders.get(theirs)?.state).toBe('open');
    expect(h.orders.events(theirs).map((e) => e.state)).toEqual(['open']);
    // The owner can.
    expect((await post('sup-y', `/api/orders/${theirs}/acknowledge`)).status).toBe(200);
  });

  it('[supplier isolation] the CSV export holds only the supplier’s own lanes', async () => {
    const r = await get<string>('sup-x', `/api/export.csv?from=${h.now.t - 60_000}&to=${h.now.t}`);
    expect(r.status).toBe(200);
    const rows = parseCsv(r.text).slice(1);
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((c) => `${c[2]}/${c[3]}/${c[4]}`))).toEqual(new Set(['A/a1/l1', 'B/b1/l1']));
    expect(rows.every((c) => c[5] === 'x-cola')).toBe(true);
    // Asking for the other supplier's SKU gives the header alone.
    const y = await get<string>(
      'sup-x',
      `/api/export.csv?from=${h.now.t - 60_000}&to=${h.now.t}&sku=y-chips`,
    );
    expect(parseCsv(y.text)).toHaveLength(1);
  });

  it('[supplier isolation] suppliers see no alerts, and an alert id answers 404', async () => {
    expect((await get<Alert[]>('sup-x', '/api/alerts')).body).toEqual([]);
    expect((await post('sup-y', `/api/alerts/${alerts['BY']}/acknowledge`)).status).toBe(404);
  });

  it('[site scoping] an operator sees its sites’ lanes, orders and alerts only; other sites answer 404 by id', async () => {
    expect((await get<Lane[]>('op-a', '/api/lanes')).body.map(key)).toEqual(['A/a1/l1', 'A/a1/l2']);
    const list = await get<Order[]>('op-a', '/api/orders');
    expect(list.body.map((o) => o.site)).toEqual(['A', 'A']);
    expect((await get<Alert[]>('op-a', '/api/alerts')).body.map((a) => a.id)).toEqual([alerts['AX']]);
    expect((await get('op-a', `/api/orders/${orders['BX']}`)).status).toBe(404);
    expect((await get('op-a', '/api/lanes/B/b1/l1')).status).toBe(404);
    expect((await post('op-a', `/api/orders/${orders['BX']}/cancel`)).status).toBe(404);
    expect((await post('op-a', `/api/alerts/${alerts['BY']}/acknowledge`)).status).toBe(404);
    // A site filter for a site it cannot see is simply empty.
    expect((await get<Order[]>('op-a', '/api/orders?site=B')).body).toEqual([]);
  });

  it('[403] an operator may not acknowledge or ship an order it can see; a supplier may not cancel its own', async () => {
    const ax = orders['AX'] as string;
    expect((await post<ErrorBody>('op-a', `/api/orders/${ax}/acknowledge`)).body.error.code).toBe(
      'SHELF_ERR_FORBIDDEN',
    );
    expect((await post('op-a', `/api/orders/${ax}/ship`)).status).toBe(403);
    expect((await post('tech-a', `/api/orders/${ax}/acknowledge`)).status).toBe(403);
    expect((await post('sup-x', `/api/orders/${ax}/cancel`)).status).toBe(403);
    expect(h.orders.get(ax)?.state).toBe('open');
  });

  it('[site scoping] a technician sees its site only; calibrations are for technicians, operators and admins', async () => {
    expect((await get<Lane[]>('tech-a', '/api/lanes')).body.map(key)).toEqual(['A/a1/l1', 'A/a1/l2']);
    expect((await get('tech-a', '/api/lanes/B/b1/l2')).status).toBe(404);
    expect((await get('tech-a', '/api/lanes/A/a1/l2/calibrations')).status).toBe(200);
    expect((await get('op-a', '/api/lanes/A/a1/l2/calibrations')).status).toBe(200);
    expect((await get<ErrorBody>('sup-y', '/api/lanes/A/a1/l2/calibrations')).status).toBe(403);
  });

  it('service and admin see everything; an agent account sees nothing', async () => {
    for (const u of ['svc', 'admin']) {
      expect((await get<Lane[]>(u, '/api/lanes')).body).toHaveLength(4);
      expect((await get<Order[]>(u, '/api/orders')).body).toHaveLength(4);
    }
    expect((await get<Lane[]>('agent-a', '/api/lanes')).body).toEqual([]);
    expect((await get('agent-a', `/api/orders/${orders['AX']}`)).status).toBe(404);
  });

  it('[403] dead letters are for admins only', async () => {
    for (const u of ['sup-x', 'op-a', 'tech-a', 'svc']) {
      expect((await get(u, '/api/webhooks/dead')).status, u).toBe(403);
      expect((await post(u, '/api/webhooks/dead/1/requeue')).status, u).toBe(403);
    }
    expect((await get('admin', '/api/webhooks/dead')).status).toBe(200);
  });
});
