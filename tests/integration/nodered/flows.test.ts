/**
 * Node-RED embedded in central, with the Shelfsense nodes, running headless flows from
 * userDir/flows.json against real parts: an order opened in the OrderService (SQLite) reaches a
 * flow, goes on to an "ERP" over HTTP, and the flow's order update moves the order; a committed
 * lane level reaches the shelf level node; flows' HTTP endpoints ship orders and report refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/wait.js';
import { type Harness, startHarness } from './harness.js';

const TAB = 'tab-orders';
const node = (n: Record<string, unknown>) => ({ z: TAB, x: 100, y: 100, wires: [], ...n });

/** Order in → function → order update, with a branch to the ERP; levels → ERP; a ship hook. */
function flows(erpUrl: string): unknown[] {
  return [
    { id: TAB, type: 'tab', label: 'Orders' },
    node({ id: 'new-orders', type: 'shelfsense-order-event', state: 'open', wires: [['to-ack', 'to-erp']] }),
    node({
      id: 'to-ack',
      type: 'function',
      func: 'msg.payload = { orderId: msg.payload.orderId };\nreturn msg;',
      outputs: 1,
      wires: [['ack']],
    }),
    node({ id: 'ack', type: 'shelfsense-order-update', action: 'acknowledge', wires: [[]] }),
    node({
      id: 'to-erp',
      type: 'http request',
      method: 'POST',
      ret: 'txt',
      paytoqs: 'ignore',
      url: `${erpUrl}/erp/orders`,
      wires: [[]],
    }),
    node({ id: 'levels', type: 'shelfsense-level', site: 's1', lane: 'lane-a', wires: [['levels-to-erp']] }),
    node({
      id: 'levels-to-erp',
      type: 'http request',
      method: 'POST',
      ret: 'txt',
      paytoqs: 'ignore',
      url: `${erpUrl}/erp/levels`,
      wires: [[]],
    }),
    node({ id: 'hook', type: 'http in', url: '/ship', method: 'post', wires: [['ship']] }),
    node({ id: 'ship', type: 'shelfsense-order-update', action: 'ship', wires: [['shipped']] }),
    node({ id: 'shipped', type: 'http response', statusCode: '200', wires: [] }),
    node({ id: 'refused', type: 'catch', scope: ['ship'], uncaught: false, wires: [['explain']] }),
    node({
      id: 'explain',
      type: 'function',
      func: 'msg.statusCode = 409;\nmsg.payload = { error: msg.error.message };\nreturn msg;',
      outputs: 1,
      wires: [['refused-out']],
    }),
    node({ id: 'refused-out', type: 'http response', wires: [] }),
  ];
}

let h: Harness;

beforeAll(async () => {
  h = await startHarness(flows, { httpNodePath: '/hooks' });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

function openOrder(lane: string) {
  return h.orders.openForLane({
    site: 's1',
    shelf: 'shelf-1',
    lane,
    sku: 'cola',
    supplier: 'acme',
    quantity: 12,
    reason: { trigger: 'manual', note: 'test' },
  });
}

describe('Node-RED flows with the Shelfsense nodes', () => {
  it('[NR-ORDER] an order event reaches the flow, and the flow’s order update acknowledges the order', async () => {
    const { order } = openOrder('lane-a');
    expect(order.state).toBe('open');
    const acked = await waitFor(() => h.orders.get(order.id)?.state === 'acknowledged', 10_000, {
      what: 'the flow to acknowledge the order',
    });
    expect(acked).toBe(true);
    // The same event went on to the ERP over HTTP, with the webhook body.
    const sent = await waitFor(() => h.erp.find((r) => r.path === '/erp/orders'), 5_000, {
      what: 'the ERP to receive the order',
    });
    expect(sent.body).toMatchObject({ orderId: order.id, state: 'open', sku: 'cola', quantity: 12 });
    // The change is recorded with the flow node as its actor.
    const actor = h.store.db
      .prepare("SELECT actor FROM order_events WHERE order_id = ? AND state = 'acknowledged'")
      .pluck()
      .get(order.id) as string;
    expect(JSON.parse(actor)).toEqual({ user: 'node-red:ack', role: 'admin' });
  });

  it('[NR-LEVEL] a lane level committed by ingest reaches the shelf level node (filtered by lane)', async () => {
    await h.publishLevel('lane-b', 3, 1);
    await h.publishLevel('lane-a', 7, 2);
    const got = await waitFor(() => h.erp.find((r) => r.path === '/erp/levels'), 10_000, {
      what: 'a level to reach the ERP through the flow',
    });
    expect(got.body).toMatchObject({
      site: 's1',
      shelf: 'shelf-1',
      lane: 'lane-a',
      sku: 'cola',
      supplier: 'acme',
      units: 7,
      fill: 0.35,
    });
    // lane-b is filtered out by the node's settings.
    expect(
      h.erp
        .filter((r) => r.path === '/erp/levels')
        .every((r) => (r.body as { lane: string }).lane === 'lane-a'),
    ).toBe(true);
  });

  it('[NR-HOOK] an HTTP endpoint of a flow ships an acknowledged order; a refused update reaches catch', async () => {
    const { order } = openOrder('lane-b');
    await waitFor(() => h.orders.get(order.id)?.state === 'acknowledged', 10_000, { what: 'acknowledged' });
    const ok = await fetch(`${h.base}/hooks/ship`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orderId: order.id, shippedQuantity: 10 }),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({
      id: order.id,
      state: 'shipped',
      shippedQuantity: 10,
      changed: true,
    });
    expect(h.orders.get(order.id)?.state).toBe('shipped');

    const unknown = await fetch(`${h.base}/hooks/ship`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orderId: 'ord_nope' }),
    });
    expect(unknown.status).toBe(409);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/no order ord_nope/);

    const bad = await fetch(`${h.base}/hooks/ship`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orderId: order.id, shippedQuantity: -1 }),
    });
    expect(bad.status).toBe(409);
    expect(((await bad.json()) as { error: string }).error).toMatch(/shippedQuantity/);
    expect(h.orders.get(order.id)?.shippedQuantity).toBe(10);
  });

  it('[NR-CORS] a flow’s endpoint answers another origin with no CORS header (preflight or request)', async () => {
    const evil = { origin: 'https://evil.example' };
    const preflight = await fetch(`${h.base}/hooks/ship`, {
      method: 'OPTIONS',
      headers: {
        ...evil,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    const post = await fetch(`${h.base}/hooks/ship`, {
      method: 'POST',
      headers: { ...evil, 'content-type': 'application/json' },
      body: JSON.stringify({ orderId: 'ord_nope' }),
    });
    expect(post.status).toBe(409);
    for (const r of [preflight, post]) {
      expect([...r.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
    }
  });
});
