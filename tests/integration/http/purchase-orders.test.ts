/**
 * Purchase orders over HTTP on real parts (SQLite, the rules engine, node:http, fetch): scope (a
 * supplier sees its own sent POs only, an operator its sites'), the lifecycle by role, manual lines
 * and proposals, a short delivery counted by weight opening a discrepancy both sides resolve, the
 * CSV and printable page, and bad input answered 400/403/404/409 with nothing changed.
 */

import { parseCsv } from '@shelfsense/central/http';
import { nextCycle, PurchaseOrderService } from '@shelfsense/central/orders';
import {
  type ApiDiscrepancy,
  type ApiForecast,
  type ApiLeadTime,
  type ApiPurchaseOrder,
  CentralConfig,
} from '@shelfsense/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONFIG, type Harness, startHarness } from './harness.js';

type ErrorBody = { error: { code: string; message: string; issues?: { path: string; message: string }[] } };

const SCHEDULE = {
  timezone: 'Europe/Berlin',
  cycles: [{ cutoff: { day: 'thu' as const, at: '14:00' }, delivery: { day: 'sat' as const, at: '07:00' } }],
};
/** The harness's catalogue with a delivery schedule for supplier X (Y keeps one order per lane). */
const WITH_SCHEDULE = CentralConfig.parse({
  ...CONFIG,
  suppliers: [{ id: 'X', schedule: SCHEDULE }, { id: 'Y' }],
  replenishment: {
    ...CONFIG.replenishment,
    receipt: { moveWindowMs: '10s', windowMs: '10m', closeAfterMs: 0 },
  },
});

describe('HTTP API: purchase orders', () => {
  let h: Harness;
  let pos: PurchaseOrderService;
  const tokens: Record<string, string> = {};
  const as = (user: string) => tokens[user] as string;

  beforeEach(async () => {
    h = await startHarness();
    pos = new PurchaseOrderService(h.store, h.orders, { config: () => WITH_SCHEDULE });
    h.orders.gatherer = pos;
    h.deps.purchaseOrders = pos;
    for (const u of ['sup-x', 'sup-y', 'op-a', 'op-b', 'tech-a', 'admin']) tokens[u] = await h.login(u);
  });
  afterEach(() => h?.close());

  const get = <T>(user: string, path: string) => h.call<T>('GET', path, { token: as(user) });
  const post = <T>(user: string, path: string, body: unknown = {}) =>
    h.call<T>('POST', path, { token: as(user), body });

  /** Needs on both of X's lanes at site A... only AX is X's: one need at A and one at B. */
  function gather() {
    h.openOrder('AX', 18);
    h.openOrder('BX', 12);
    const [a, b] = ['A', 'B'].map((site) => pos.list({ site, state: 'draft' })[0]);
    if (!a || !b) throw new Error('no drafts');
    return { a: a.id, b: b.id };
  }

  it('[scope] drafts stay the store’s; a sent PO reaches its supplier only, and operators of its site', async () => {
    const { a, b } = gather();
    expect(pos.get(a)?.cutoffAt).toBe(nextCycle(SCHEDULE, h.now.t).cutoffAt);
    expect((await get<ApiPurchaseOrder[]>('sup-x', '/api/purchase-orders')).body).toEqual([]);
    expect((await get('sup-x', `/api/purchase-orders/${a}`)).status).toBe(404);
    const opView = await get<ApiPurchaseOrder[]>('op-a', '/api/purchase-orders');
    expect(opView.body.map((p) => [p.id, p.state])).toEqual([[a, 'draft']]);

    // The operator sends A's draft early; the supplier then sees it, nobody else's.
    const sent = await post<ApiPurchaseOrder>('op-a', `/api/purchase-orders/${a}/send`);
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ state: 'sent', lines: [{ sku: 'x-cola', quantity: 18 }] });
    expect((await get<ApiPurchaseOrder[]>('sup-x', '/api/purchase-orders')).body.map((p) => p.id)).toEqual([
      a,
    ]);
    for (const [user, id] of [
      ['sup-y', a],
      ['op-b', a],
      ['op-a', b],
    ] as const) {
      const r = await get<ErrorBody>(user, `/api/purchase-orders/${id}`);
      expect(r.status, `${user} ${id}`).toBe(404);
      expect(r.body.error.code).toBe('SHELF_ERR_NOT_FOUND');
    }
    // Filters cannot widen a supplier's view.
    expect((await get<ApiPurchaseOrder[]>('sup-y', '/api/purchase-orders?supplier=X')).body).toEqual([]);
    expect(
      (await get<ApiPurchaseOrder[]>('admin', '/api/purchase-orders?site=B')).body.map((p) => p.id),
    ).toEqual([b]);
  });

  it('[lifecycle] the supplier acknowledges and ships; a short delivery by weight opens a discrepancy', async () => {
    const { a } = gather();
    await post('op-a', `/api/purchase-orders/${a}/send`);
    expect((await post('op-a', `/api/purchase-orders/${a}/acknowledge`)).status).toBe(403);
    const ack = await post<ApiPurchaseOrder>('sup-x', `/api/purchase-orders/${a}/acknowledge`);
    expect(ack.body.state).toBe('acknowledged');
    // The lane's own order moves with the PO, never by itself.
    const orderId = ack.body.lines[0]?.lanes[0]?.orderId as string;
    const own = await post<ErrorBody>('sup-x', `/api/orders/${orderId}/ship`);
    expect(own.status).toBe(409);
    expect(own.body.error.message).toContain(a);
    const shipped = await post<ApiPurchaseOrder>('sup-x', `/api/purchase-orders/${a}/ship`, {
      lines: [{ sku: 'x-cola', quantity: 18 }],
    });
    expect(shipped.body).toMatchObject({ state: 'shipped', lines: [{ shippedQuantity: 18 }] });

    // Two days on (the tokens are renewed), 15 of 18 cans go on the shelf; half an hour (the receipt window) later nothing more has come.
    h.now.t += 2 * 86_400_000;
    for (const u of ['sup-x', 'sup-y', 'op-a', 'op-b', 'tech-a']) tokens[u] = await h.login(u);
    h.feed(h.level('AX', 3, 0));
    h.feed(h.event('AX', 'restock', 15, 18, 60_000), h.level('AX', 18, 60_000), h.level('AX', 18, 75_000));
    expect(pos.get(a)?.state).toBe('shipped');
    h.feed(h.level('AX', 18, 60_000 + 30 * 60_000));
    const received = await get<ApiPurchaseOrder>('op-a', `/api/purchase-orders/${a}`);
    expect(received.body).toMatchObject({ state: 'received', lines: [{ receivedQuantity: 15 }] });
    const list = await get<ApiDiscrepancy[]>('sup-x', '/api/discrepancies?state=open');
    expect(list.body).toEqual([
      expect.objectContaining({
        purchaseOrderId: a,
        sku: 'x-cola',
        kind: 'short',
        expected: 18,
        counted: 15,
      }),
    ]);
    expect((await get<ApiDiscrepancy[]>('sup-y', '/api/discrepancies')).body).toEqual([]);
    expect((await get<ApiDiscrepancy[]>('op-b', '/api/discrepancies')).body).toEqual([]);
    const id = list.body[0]?.id as string;
    expect((await post('tech-a', `/api/discrepancies/${id}/resolve`, { resolution: 'accept' })).status).toBe(
      403,
    );
    expect((await post('sup-y', `/api/discrepancies/${id}/resolve`, { resolution: 'credit' })).status).toBe(
      404,
    );
    const bad = await post<ErrorBody>('sup-x', `/api/discrepancies/${id}/resolve`, { resolution: 'refund' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues?.[0]?.path).toBe('resolution');
    // Not closed while it is open; the supplier credits the three cans, and the PO closes.
    expect((await post<ErrorBody>('op-a', `/api/purchase-orders/${a}/close`)).status).toBe(409);
    const done = await post<ApiDiscrepancy>('sup-x', `/api/discrepancies/${id}/resolve`, {
      resolution: 'credit',
      note: 'credit note 4711',
    });
    expect(done.body).toMatchObject({ state: 'resolved', resolution: 'credit', resolvedBy: 'sup-x' });
    // The lane's order closed at its receipt (closeAfterMs 0), so the settled PO closes now.
    expect((await get<ApiPurchaseOrder>('sup-x', `/api/purchase-orders/${a}`)).body.state).toBe('closed');
    const again = await post<ErrorBody>('op-a', `/api/discrepancies/${id}/resolve`, { resolution: 'accept' });
    expect(again.status).toBe(409);

    // One delivery learned: sent → counted, blended with the schedule's nominal Thursday 14:00 →
    // Saturday 07:00 while there are few.
    const po = pos.get(a);
    const [lt] = (await get<ApiLeadTime[]>('sup-x', '/api/purchase-orders/lead-times')).body;
    const nominal = 41 * 3_600_000;
    const observed = (po?.receivedAt as number) - (po?.sentAt as number);
    expect(lt).toMatchObject({ site: 'A', supplier: 'X', n: 1, nominalMs: nominal });
    expect(lt?.meanMs).toBeGreaterThan(Math.min(nominal, observed));
    expect(lt?.meanMs).toBeLessThan(Math.max(nominal, observed));
    expect((await get<ApiLeadTime[]>('sup-y', '/api/purchase-orders/lead-times')).body).toEqual([]);
  });

  it('[forecast] the supplier sees stock and sales of its own SKUs per store', async () => {
    const HALF_DAY = 12 * 3_600_000;
    // Two a day off lane AX for ten days, one a day off BX; Y's chips at A untouched.
    for (let i = 0; i <= 20; i++) {
      h.feed(h.level('AX', 60 - i, i * HALF_DAY), h.level('BX', 60 - Math.floor(i / 2), i * HALF_DAY));
      h.feed(h.level('AY', 30, i * HALF_DAY));
    }
    h.now.t += 20 * HALF_DAY + 3_600_000;
    for (const u of ['sup-x', 'sup-y', 'op-b']) tokens[u] = await h.login(u);
    const x = await get<ApiForecast[]>('sup-x', '/api/forecast');
    expect(x.status).toBe(200);
    expect(x.body.map((f) => [f.site, f.sku, f.units])).toEqual([
      ['A', 'x-cola', 40],
      ['B', 'x-cola', 50],
    ]);
    const [a, b] = x.body;
    expect(a?.demandPerDay).toBeCloseTo(2, 0);
    expect(b?.demandPerDay).toBeCloseTo(1, 0);
    // 40 items at two a day: twenty days of cover.
    expect(((a?.stockOutAt as number) - h.now.t) / 86_400_000).toBeCloseTo(20, -1);
    expect(a?.nextDeliveryAt).toBe(nextCycle(SCHEDULE, h.now.t).deliveryAt);
    expect(a?.reorderPoint).toBe(4);
    expect((await get<ApiForecast[]>('sup-y', '/api/forecast')).body.map((f) => [f.site, f.sku])).toEqual([
      ['A', 'y-chips'],
      ['B', 'y-chips'],
    ]);
    expect((await get<ApiForecast[]>('op-b', '/api/forecast')).body.map((f) => f.site)).toEqual(['B', 'B']);
    const bad = await get<ErrorBody>('sup-x', '/api/forecast?site=not%20an%20id');
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues?.[0]?.path).toBe('site');
  });

  it('[wrong item] a delivery whose weight is no whole count of the SKU opens a wrong-item discrepancy', async () => {
    const { a } = gather();
    await post('op-a', `/api/purchase-orders/${a}/send`);
    await post('sup-x', `/api/purchase-orders/${a}/acknowledge`);
    await post('sup-x', `/api/purchase-orders/${a}/ship`);
    // The count rose by the 18 shipped, but the lane weighs 0.46 of a can more than 21 cans.
    h.feed(h.level('AX', 3, 0));
    h.feed(
      h.event('AX', 'restock', 18, 21, 60_000),
      h.level('AX', 21, 60_000, { grams: 21 * 350 + 160, confidence: 0.2 }),
      h.level('AX', 21, 75_000, { grams: 21 * 350 + 160, confidence: 0.2 }),
    );
    expect(pos.get(a)?.state).toBe('received');
    const [d] = (await get<ApiDiscrepancy[]>('op-a', '/api/discrepancies')).body;
    expect(d).toMatchObject({ purchaseOrderId: a, kind: 'wrong-item', expected: 18, counted: 18 });
  });

  it('[manual lines and proposals] an operator orders by hand; the supplier proposes, the operator decides', async () => {
    const line = { site: 'A', supplier: 'X', sku: 'x-cola', quantity: 6, reason: 'promotion weekend' };
    expect((await post('sup-x', '/api/purchase-orders/manual-lines', line)).status).toBe(403);
    expect((await post('op-b', '/api/purchase-orders/manual-lines', line)).status).toBe(404);
    const made = await post<ApiPurchaseOrder>('op-a', '/api/purchase-orders/manual-lines', line);
    expect(made.status).toBe(200);
    expect(made.body).toMatchObject({
      state: 'draft',
      lines: [{ sku: 'x-cola', quantity: 6, manualQuantity: 6 }],
    });
    const id = made.body.id;
    await post('op-a', `/api/purchase-orders/${id}/send`);
    expect(
      (await post('op-a', `/api/purchase-orders/${id}/lines/x-cola/propose`, { quantity: 12 })).status,
    ).toBe(403);
    const proposed = await post<ApiPurchaseOrder>(
      'sup-x',
      `/api/purchase-orders/${id}/lines/x-cola/propose`,
      {
        quantity: 12,
        note: 'sold in trays of 12',
      },
    );
    expect(proposed.body.lines[0]?.proposal).toMatchObject({ quantity: 12, by: 'sup-x' });
    expect((await post('sup-x', `/api/purchase-orders/${id}/lines/x-cola/accept`)).status).toBe(403);
    const accepted = await post<ApiPurchaseOrder>('op-a', `/api/purchase-orders/${id}/lines/x-cola/accept`);
    expect(accepted.body.lines[0]).toMatchObject({ quantity: 12, proposal: null });
    const audit = h.store.audit.list({ limit: 50 }).map((e) => [e.action, e.actor]);
    expect(audit).toEqual(
      expect.arrayContaining([
        ['purchase_order.line_added', 'op-a'],
        ['purchase_order.proposed', 'sup-x'],
        ['purchase_order.accepted', 'op-a'],
      ]),
    );
  });

  it('[400] bad input names the field and changes nothing', async () => {
    const { a } = gather();
    const before = JSON.stringify(pos.list());
    const cases: [string, unknown, string][] = [
      [
        '/api/purchase-orders/manual-lines',
        { site: 'A', supplier: 'X', sku: 'y-chips', quantity: 1, reason: 'x' },
        'sku',
      ],
      [
        '/api/purchase-orders/manual-lines',
        { site: 'A', supplier: 'X', sku: 'x-cola', quantity: -3, reason: 'x' },
        'quantity',
      ],
      [
        '/api/purchase-orders/manual-lines',
        { site: 'A', supplier: 'X', sku: 'x-cola', quantity: 2 },
        'reason',
      ],
      [
        '/api/purchase-orders/manual-lines',
        { site: 'A', supplier: 'X', sku: 'x-cola', quantity: 2, reason: 'x', extra: 1 },
        'extra',
      ],
    ];
    for (const [path, body, field] of cases) {
      const r = await post<ErrorBody>('op-a', path, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('SHELF_ERR_INVALID');
      const named = r.body.error.issues?.map((i) => `${i.path} ${i.message}`).join('; ');
      expect(named, JSON.stringify(body)).toContain(field);
    }
    expect(JSON.stringify(pos.list())).toBe(before);
    // Out of order: a draft cannot be acknowledged or shipped.
    await post('op-a', `/api/purchase-orders/${a}/send`);
    const early = await post<ErrorBody>('sup-x', `/api/purchase-orders/${a}/ship`);
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('SHELF_ERR_TRANSITION');
    await post('sup-x', `/api/purchase-orders/${a}/acknowledge`);
    const neg = await post<ErrorBody>('sup-x', `/api/purchase-orders/${a}/ship`, {
      lines: [{ sku: 'x-cola', quantity: -1 }],
    });
    expect(neg.status).toBe(400);
    expect(neg.body.error.issues?.[0]?.path).toBe('lines.0.quantity');
    const other = await post<ErrorBody>('sup-x', `/api/purchase-orders/${a}/ship`, {
      lines: [{ sku: 'y-chips', quantity: 1 }],
    });
    expect(other.status).toBe(400);
    expect(other.body.error.issues?.[0]?.path).toBe('lines.0.sku');
    expect(pos.get(a)?.state).toBe('acknowledged');
    expect(pos.events(a).map((e) => e.state)).toEqual(['sent', 'acknowledged']);
  });

  it('[exports] CSV for the ERP and a printable page, in scope only', async () => {
    const { a } = gather();
    await post('op-a', `/api/purchase-orders/${a}/send`);
    const csv = await get<string>('sup-x', `/api/purchase-orders/${a}/csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const rows = parseCsv(csv.text);
    expect(rows[0]?.slice(0, 7)).toEqual([
      'purchase_order',
      'state',
      'site',
      'supplier',
      'sku',
      'sku_name',
      'quantity',
    ]);
    expect(rows[1]?.slice(0, 7)).toEqual([a, 'sent', 'A', 'X', 'x-cola', 'Cola 0.33 l', '18']);
    expect(rows[1]?.slice(10, 13)).toEqual(['a1', 'l1', '18']);
    const page = await get<string>('sup-x', `/api/purchase-orders/${a}/print`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.text).toContain(`Purchase order ${a}`);
    expect(page.text).toContain('Cola 0.33 l');
    expect(page.text).not.toContain('<script');
    expect((await get('sup-y', `/api/purchase-orders/${a}/csv`)).status).toBe(404);
    expect((await get('op-b', `/api/purchase-orders/${a}/print`)).status).toBe(404);
  });
});
