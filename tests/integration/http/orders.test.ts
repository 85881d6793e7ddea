/**
 * Order transitions over HTTP (docs/http-api.md "Orders"), bad bodies and query strings (400
 * naming the field), the 64 KiB body limit (413), and the webhook delivery state of each order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.js';

type Order = {
  id: string;
  state: string;
  quantity: number;
  shippedQuantity: number | null;
  receivedQuantity: number | null;
  createdAt: number;
  updatedAt: number;
  delivery: { state: string; attempts: number } | null;
};
type ErrorBody = { error: { code: string; message: string; issues?: { path: string; message: string }[] } };

describe('HTTP API: orders', () => {
  let h: Harness;
  let supX: string;
  let opA: string;
  let admin: string;
  beforeAll(async () => {
    h = await startHarness();
    supX = await h.login('sup-x');
    opA = await h.login('op-a');
    admin = await h.login('admin');
  });
  afterAll(() => h?.close());

  const post = <T>(token: string, path: string, body: unknown = {}) =>
    h.call<T>('POST', path, { token, body });

  it('[lifecycle] the supplier acknowledges then ships; each answer is the updated order; the actor is recorded', async () => {
    const id = h.openOrder('AX', 18);
    h.now.t += 1_000;
    const ack = await post<Order>(supX, `/api/orders/${id}/acknowledge`);
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ id, state: 'acknowledged', quantity: 18, updatedAt: h.now.t });
    // A retried acknowledge is harmless.
    expect((await post<Order>(supX, `/api/orders/${id}/acknowledge`)).body.state).toBe('acknowledged');
    const ship = await post<Order>(supX, `/api/orders/${id}/ship`, { quantity: 12 });
    expect(ship.status).toBe(200);
    expect(ship.body).toMatchObject({ state: 'shipped', shippedQuantity: 12, receivedQuantity: null });
    const actors = h.store.db
      .prepare('SELECT state, actor FROM order_events WHERE order_id = ? ORDER BY rowid')
      .all(id) as { state: string; actor: string | null }[];
    expect(actors.map((a) => [a.state, a.actor && JSON.parse(a.actor)])).toEqual([
      ['open', null],
      ['acknowledged', { user: 'sup-x', role: 'supplier' }],
      ['shipped', { user: 'sup-x', role: 'supplier' }],
    ]);
    // Shipped orders cannot be cancelled: 409 with the transition code, and the order is unchanged.
    const cancel = await post<ErrorBody>(opA, `/api/orders/${id}/cancel`, { reason: 'too late' });
    expect(cancel.status).toBe(409);
    expect(cancel.body.error.code).toBe('SHELF_ERR_TRANSITION');
    expect(h.orders.get(id)?.state).toBe('shipped');
    // Nor acknowledged again from shipped.
    expect((await post<ErrorBody>(supX, `/api/orders/${id}/acknowledge`)).status).toBe(409);
    // Received is for the shelf: the supplier finishes nothing more by hand; the rules close it.
    h.orders.transition(id, 'received', { receivedQuantity: 12, now: h.now.t });
    h.orders.transition(id, 'closed', { now: h.now.t });
  });

  it('[lifecycle] an operator of the site cancels an open order; shipping it afterwards is a 409', async () => {
    const id = h.openOrder('AY', 6);
    const r = await post<Order>(opA, `/api/orders/${id}/cancel`, { reason: 'shelf removed' });
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('cancelled');
    const ship = await post<ErrorBody>(admin, `/api/orders/${id}/ship`);
    expect(ship.status).toBe(409);
    expect(ship.body.error.message).toMatch(/cancelled/);
  });

  it('lists newest first, filtered by state and site, with the webhook delivery of the newest event', async () => {
    h.now.t += 1_000;
    const a = h.openOrder('BX', 6);
    h.now.t += 1_000;
    const b = h.openOrder('AX', 7);
    const all = await h.call<Order[]>('GET', '/api/orders', { token: admin });
    expect(all.body[0]?.id).toBe(b);
    expect(all.body[1]?.id).toBe(a);
    const sorted = [...all.body].sort((x, y) => y.createdAt - x.createdAt);
    expect(all.body.map((o) => o.id)).toEqual(sorted.map((o) => o.id));
    const open = await h.call<Order[]>('GET', '/api/orders?state=open,acknowledged&site=B', { token: admin });
    expect(open.body.map((o) => o.id)).toEqual([a]);
    expect(open.body[0]?.delivery).toEqual({ state: 'pending', attempts: 0 });
    // The delivery follows the outbox.
    const [entry] = h.orders.outbox.list({ orderId: a });
    h.orders.outbox.claimDue(h.now.t, 100, 1_000);
    h.orders.outbox.markDelivered(entry?.id as number, 200, h.now.t);
    const one = await h.call<Order>('GET', `/api/orders/${a}`, { token: admin });
    expect(one.body.delivery?.state).toBe('delivered');
    expect(one.body.delivery?.attempts).toBeGreaterThanOrEqual(1);
    const limited = await h.call<Order[]>('GET', '/api/orders?limit=1', { token: admin });
    expect(limited.body.map((o) => o.id)).toEqual([b]);
  });

  it('[400] bad bodies name the field: a negative quantity, a misspelt key, a wrong type, not JSON', async () => {
    const id = h.openOrder('BY', 6);
    const supY = await h.login('sup-y');
    await post(supY, `/api/orders/${id}/acknowledge`);
    const neg = await post<ErrorBody>(supY, `/api/orders/${id}/ship`, { quantity: -3 });
    expect(neg.status).toBe(400);
    expect(neg.body.error.code).toBe('SHELF_ERR_INVALID');
    expect(neg.body.error.issues?.[0]?.path).toBe('quantity');
    expect(neg.body.error.message).toMatch(/^invalid body: quantity: /);
    const typo = await post<ErrorBody>(supY, `/api/orders/${id}/ship`, { qty: 3 });
    expect(typo.status).toBe(400);
    expect(typo.body.error.message).toMatch(/qty/);
    const type = await post<ErrorBody>(opA, `/api/orders/${id}/cancel`, { reason: 42 });
    expect(type.status).toBe(400);
    expect(type.body.error.issues?.[0]?.path).toBe('reason');
    const json = await h.call<ErrorBody>('POST', `/api/orders/${id}/ship`, {
      token: supY,
      raw: '{quantity: 3}',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(json.status).toBe(400);
    const arr = await post<ErrorBody>(supY, `/api/orders/${id}/ship`, [1, 2]);
    expect(arr.status).toBe(400);
    // None of it moved the order.
    expect(h.orders.get(id)?.state).toBe('acknowledged');
  });

  it('[400] bad query strings name the field', async () => {
    const state = await h.call<ErrorBody>('GET', '/api/orders?state=open,lost', { token: admin });
    expect(state.status).toBe(400);
    expect(state.body.error.issues?.map((i) => i.path)).toEqual(['state.1']);
    expect(state.body.error.message).toMatch(/^invalid query: state/);
    const limit = await h.call<ErrorBody>('GET', '/api/orders?limit=lots', { token: admin });
    expect(limit.body.error.issues?.[0]?.path).toBe('limit');
    const site = await h.call<ErrorBody>('GET', '/api/orders?site=no%20spaces', { token: admin });
    expect(site.body.error.issues?.[0]?.path).toBe('site');
    const twice = await h.call<ErrorBody>('GET', '/api/orders?site=A&site=B', { token: admin });
    expect(twice.status).toBe(400);
    expect(twice.body.error.issues?.[0]?.path).toBe('site');
  });

  it('[413] a body over 64 KiB is refused, declared or not, and the order is unchanged', async () => {
    const id = h.openOrder('BY', 6);
    const before = h.orders.get(id)?.updatedAt;
    const big = JSON.stringify({ reason: 'x'.repeat(70 * 1024) });
    const r = await h.call<ErrorBody>('POST', `/api/orders/${id}/cancel`, {
      token: opA,
      raw: big,
      headers: { 'Content-Type': 'application/json' },
    });
    // op-a cannot see site B; 413 comes before any lookup.
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('SHELF_ERR_TOO_LARGE');
    const admin413 = await h.call<ErrorBody>('POST', `/api/orders/${id}/cancel`, {
      token: admin,
      raw: big,
      headers: { 'Content-Type': 'application/json' },
    });
    expect(admin413.status).toBe(413);
    // Far beyond the limit (not drained): still a clean 413.
    const huge = await h.call<ErrorBody>('POST', `/api/orders/${id}/cancel`, {
      token: admin,
      raw: 'y'.repeat(3 * 1024 * 1024),
    });
    expect(huge.status).toBe(413);
    expect(h.orders.get(id)?.updatedAt).toBe(before);
    // Just under the limit is read (and then fails its schema, since reason is at most 500 characters).
    const under = await h.call<ErrorBody>('POST', `/api/orders/${id}/cancel`, {
      token: admin,
      raw: JSON.stringify({ reason: 'x'.repeat(60 * 1024) }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(under.status).toBe(400);
    expect(under.body.error.issues?.[0]?.path).toBe('reason');
  });
});
