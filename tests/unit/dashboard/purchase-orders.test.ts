/**
 * The dashboard's purchase-order logic, with a fake fetch: each call's method, path and body; the
 * moves each role may make in each state (central's rules); the timeline; quantities typed in the
 * ship, count, propose and manual-line forms turned into bodies the contract accepts, or errors
 * keyed by field; an error answer in words; the forecast's 404 read as "not offered"; and a
 * supplier's schedule as form text and back.
 */
import { ApiPurchaseOrder, type PurchaseOrderLine, type SupplierView } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';
import { Api, ApiError } from '../../../dashboard/web/lib/api.js';
import {
  addManualLine,
  cancelPurchaseOrder,
  decideProposal,
  describeCycles,
  fetchPoDocument,
  hasPurchaseOrders,
  isPurchaseOrdersPath,
  listDiscrepancies,
  listPurchaseOrders,
  loadForecast,
  loadLeadTimes,
  manualLineBody,
  movePurchaseOrder,
  poActions,
  poErrorText,
  poTimeline,
  poTotals,
  proposeBody,
  proposeQuantity,
  receiveBody,
  resolveDiscrepancy,
  scheduleBody,
  scheduleErrors,
  scheduleFieldLabel,
  scheduleForm,
  shipBody,
  shipPurchaseOrder,
  skuOptions,
  sortForecast,
  splitStyles,
  stateFilters,
  statesOf,
} from '../../../dashboard/web/lib/purchase-orders.js';

interface Call {
  method: string;
  url: string;
  body: unknown;
  accept: string | null;
}

/** An Api whose fetch answers `reply(call)` (JSON unless a string) and records each call. */
function fakeApi(reply: (c: Call) => [number, unknown, Record<string, string>?]) {
  const calls: Call[] = [];
  const fetch = (async (input: string, init: RequestInit = {}) => {
    const c = {
      method: init.method ?? 'GET',
      url: String(input),
      body: init.body ? JSON.parse(String(init.body)) : undefined,
      accept: new Headers(init.headers).get('Accept'),
    };
    calls.push(c);
    const [status, body, headers] = reply(c);
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return new Response(text, { status, headers: { 'Content-Type': 'application/json', ...headers } });
  }) as typeof globalThis.fetch;
  return { api: new Api({ token: () => 'T', fetch }), calls };
}

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);

function line(over: Partial<PurchaseOrderLine> = {}): PurchaseOrderLine {
  return {
    id: 1,
    sku: 'cola-330',
    quantity: 12,
    manualQuantity: 0,
    shippedQuantity: null,
    receivedQuantity: null,
    lanes: [
      {
        shelf: 'shelf-a',
        lane: 'L1',
        orderId: 'o-1',
        quantity: 12,
        shippedQuantity: null,
        receivedQuantity: null,
      },
    ],
    proposal: null,
    ...over,
  };
}

function po(over: Partial<ApiPurchaseOrder> = {}): ApiPurchaseOrder {
  return ApiPurchaseOrder.parse({
    id: 'po-1',
    site: 'store-1',
    supplier: 'acme',
    state: 'sent',
    urgent: false,
    cutoffAt: null,
    deliveryDueAt: T0 + 2 * 86_400_000,
    version: 2,
    lines: [line(), line({ id: 2, sku: 'water-500', quantity: 4, manualQuantity: 4, lanes: [] })],
    createdAt: T0,
    updatedAt: T0 + 3_600_000,
    sentAt: T0 + 3_600_000,
    acknowledgedAt: null,
    shippedAt: null,
    receivedAt: null,
    closedAt: null,
    ...over,
  });
}

describe('calls', () => {
  it('each move goes to its path with its body; ids and SKUs are encoded; blank notes are left out', async () => {
    const answer = po();
    const { api, calls } = fakeApi((c) => [200, c.method === 'GET' ? [answer] : answer]);
    expect(await listPurchaseOrders(api, { states: ['sent', 'acknowledged'], site: 'store-1' })).toHaveLength(
      1,
    );
    await movePurchaseOrder(api, 'po/1', 'acknowledge');
    await shipPurchaseOrder(api, 'po-1', { lines: [{ sku: 'water-500', quantity: 3 }] });
    await proposeQuantity(api, 'po-1', 'cola 330', { quantity: 8, note: 'packs of 8' });
    await decideProposal(api, 'po-1', 'cola-330', true, '  ');
    await decideProposal(api, 'po-1', 'cola-330', false, 'not now');
    await cancelPurchaseOrder(api, 'po-1', '');
    await addManualLine(api, {
      site: 'store-1',
      supplier: 'acme',
      sku: 'cola-330',
      quantity: 6,
      reason: 'promo',
    });
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET /api/purchase-orders?state=sent%2Cacknowledged&site=store-1',
      'POST /api/purchase-orders/po%2F1/acknowledge',
      'POST /api/purchase-orders/po-1/ship',
      'POST /api/purchase-orders/po-1/lines/cola%20330/propose',
      'POST /api/purchase-orders/po-1/lines/cola-330/accept',
      'POST /api/purchase-orders/po-1/lines/cola-330/decline',
      'POST /api/purchase-orders/po-1/cancel',
      'POST /api/purchase-orders/manual-lines',
    ]);
    expect(calls.map((c) => c.body)).toEqual([
      undefined,
      {},
      { lines: [{ sku: 'water-500', quantity: 3 }] },
      { quantity: 8, note: 'packs of 8' },
      {},
      { note: 'not now' },
      {},
      { site: 'store-1', supplier: 'acme', sku: 'cola-330', quantity: 6, reason: 'promo' },
    ]);
  });

  it('discrepancies are listed by state and resolved with a resolution and a note', async () => {
    const d = {
      id: 'd-1',
      purchaseOrderId: 'po-1',
      site: 'store-1',
      supplier: 'acme',
      sku: 'cola-330',
      kind: 'short',
      expected: 12,
      counted: 10,
      state: 'resolved',
      resolution: 'credit',
      note: 'credit note 17',
      openedAt: T0,
      resolvedAt: T0 + 1,
      resolvedBy: 'store',
    };
    const { api, calls } = fakeApi((c) => [200, c.method === 'GET' ? [d] : d]);
    expect(await listDiscrepancies(api, 'open')).toHaveLength(1);
    expect(await resolveDiscrepancy(api, 'd-1', 'credit', ' credit note 17 ')).toMatchObject({
      resolution: 'credit',
    });
    expect(calls.map((c) => [`${c.method} ${c.url}`, c.body])).toEqual([
      ['GET /api/discrepancies?state=open', undefined],
      ['POST /api/discrepancies/d-1/resolve', { resolution: 'credit', note: 'credit note 17' }],
    ]);
  });

  it('[not offered yet] the forecast and lead times read null on 404, and fail on anything else', async () => {
    const missing = { error: { code: 'SHELF_ERR_NOT_FOUND', message: 'no route' } };
    let status = 404;
    const { api, calls } = fakeApi(() => [status, status === 200 ? [] : missing]);
    expect(await loadForecast(api, { site: 'store-1' })).toBeNull();
    expect(await loadLeadTimes(api)).toBeNull();
    expect(calls.map((c) => c.url)).toEqual([
      '/api/forecast?site=store-1',
      '/api/purchase-orders/lead-times',
    ]);
    status = 200;
    expect(await loadForecast(api)).toEqual([]);
    status = 503;
    await expect(loadForecast(api)).rejects.toBeInstanceOf(ApiError);
  });

  it('the CSV and the printable page are fetched with the token, named as the server says', async () => {
    const { api, calls } = fakeApi((c) =>
      c.url.endsWith('/csv')
        ? [
            200,
            'purchase_order,state\r\npo-1,sent\r\n',
            { 'Content-Disposition': 'attachment; filename="po-1.csv"' },
          ]
        : [200, '<!doctype html><title>po-1</title>', {}],
    );
    const csv = await fetchPoDocument(api, 'po-1', 'csv');
    expect(csv.filename).toBe('po-1.csv');
    expect(await csv.blob.text()).toMatch(/^purchase_order,state/);
    const page = await fetchPoDocument(api, 'po/1', 'print');
    expect(page.filename).toBe('po_1.html');
    expect(page.blob.type).toMatch(/^text\/html/);
    expect(calls.map((c) => [c.url, c.accept])).toEqual([
      ['/api/purchase-orders/po-1/csv', 'text/csv'],
      ['/api/purchase-orders/po%2F1/print', 'text/html'],
    ]);
  });
});

describe('roles and states', () => {
  it("[central's rules] a supplier acknowledges, proposes and ships; an operator sends, adds, decides, counts, closes, cancels", () => {
    expect(poActions('supplier', 'draft')).toEqual([]);
    expect(poActions('supplier', 'sent')).toEqual(['acknowledge', 'propose']);
    expect(poActions('supplier', 'acknowledged')).toEqual(['ship']);
    expect(poActions('operator', 'draft')).toEqual(['send', 'addLine', 'cancel']);
    expect(poActions('operator', 'sent')).toEqual(['decide', 'cancel']);
    expect(poActions('operator', 'acknowledged')).toEqual(['receive', 'cancel']);
    expect(poActions('operator', 'shipped')).toEqual(['receive']);
    expect(poActions('operator', 'received')).toEqual(['close']);
    expect(poActions('admin', 'sent')).toEqual(['acknowledge', 'propose', 'decide', 'cancel']);
    expect(poActions('technician', 'sent')).toEqual([]);
    for (const role of ['supplier', 'operator', 'admin']) {
      expect(poActions(role, 'closed')).toEqual([]);
      expect(poActions(role, 'cancelled')).toEqual([]);
    }
  });

  it('the view is offered to suppliers, operators and admins, at /purchase-orders', () => {
    expect(['supplier', 'operator', 'admin', 'technician', 'service'].map(hasPurchaseOrders)).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(isPurchaseOrdersPath('/purchase-orders')).toBe(true);
    expect(isPurchaseOrdersPath('/purchase-orders/po-1')).toBe(true);
    expect(isPurchaseOrdersPath('/purchase-ordersx')).toBe(false);
  });

  it('[drafts are the store’s] a supplier is never offered the draft filter; "in progress" leaves them out', () => {
    expect(stateFilters('supplier').map(([v]) => v)).not.toContain('draft');
    expect(stateFilters('operator').map(([v]) => v)).toContain('draft');
    expect(statesOf('active', 'supplier')).toEqual(['sent', 'acknowledged', 'shipped', 'received']);
    expect(statesOf('active', 'operator')).toEqual(['draft', 'sent', 'acknowledged', 'shipped', 'received']);
    expect(statesOf('shipped', 'operator')).toEqual(['shipped']);
    expect(statesOf('all', 'operator')).toEqual([]);
  });

  it('the timeline marks the states reached and the current one; a cancelled PO ends cancelled', () => {
    const t = poTimeline(po());
    expect(t.map((s) => [s.state, s.done, s.current])).toEqual([
      ['draft', true, false],
      ['sent', true, true],
      ['acknowledged', false, false],
      ['shipped', false, false],
      ['received', false, false],
      ['closed', false, false],
    ]);
    expect(t[1]?.at).toBe(T0 + 3_600_000);
    const c = poTimeline(po({ state: 'cancelled', updatedAt: T0 + 7 }));
    expect(c.map((s) => s.state)).toEqual(['draft', 'sent', 'cancelled']);
    expect(c.at(-1)).toMatchObject({ at: T0 + 7, current: true, label: 'Cancelled' });
  });

  it('totals count every line and the part added by hand', () => {
    expect(poTotals(po())).toEqual({ quantity: 16, manual: 4 });
  });
});

describe('form text → request body', () => {
  const lines = po().lines;

  it('[as ordered by default] shipping sends only the lines that differ; all as ordered sends {}', () => {
    expect(shipBody(lines, { 'cola-330': '12', 'water-500': '4' })).toEqual({ ok: true, body: {} });
    expect(shipBody(lines, { 'cola-330': ' 12 ', 'water-500': '3' })).toEqual({
      ok: true,
      body: { lines: [{ sku: 'water-500', quantity: 3 }] },
    });
    expect(shipBody(lines, { 'cola-330': '0' })).toEqual({
      ok: true,
      body: { lines: [{ sku: 'cola-330', quantity: 0 }] },
    });
    expect(shipBody(lines, { 'cola-330': '2.5', 'water-500': '-1' })).toEqual({
      ok: false,
      errors: {
        'cola-330': 'a whole number from 0 to 1,000,000',
        'water-500': 'a whole number from 0 to 1,000,000',
      },
    });
  });

  it('a count by hand sends every line, starting from what shipped', () => {
    const shipped = po({ state: 'shipped', lines: [line({ shippedQuantity: 10 })] }).lines;
    expect(receiveBody(shipped, {})).toEqual({
      ok: true,
      body: { lines: [{ sku: 'cola-330', quantity: 10 }] },
    });
    expect(receiveBody(shipped, { 'cola-330': '' })).toMatchObject({
      ok: false,
      errors: { 'cola-330': expect.any(String) },
    });
  });

  it('a proposal needs a quantity above 0; a blank note is left out', () => {
    expect(proposeBody('8', ' ')).toEqual({ ok: true, body: { quantity: 8 } });
    expect(proposeBody('8', 'packs of 8')).toEqual({ ok: true, body: { quantity: 8, note: 'packs of 8' } });
    expect(proposeBody('0', '')).toEqual({
      ok: false,
      errors: { quantity: 'a whole number from 1 to 1,000,000' },
    });
  });

  it('a manual line names every missing field; a good one is the contract body', () => {
    expect(
      manualLineBody({
        site: 'store-1',
        supplier: 'acme',
        sku: 'cola-330',
        quantity: '6',
        reason: ' promo ',
      }),
    ).toEqual({
      ok: true,
      body: { site: 'store-1', supplier: 'acme', sku: 'cola-330', quantity: 6, reason: 'promo' },
    });
    const bad = manualLineBody({ site: 'store-1', supplier: 'acme', sku: '', quantity: 'six', reason: '' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(Object.keys(bad.errors).sort()).toEqual(['quantity', 'reason', 'sku']);
  });

  it("[the supplier's SKUs only] the SKU choices of a manual line are the supplier's, by name", () => {
    const cat = {
      skus: [
        { id: 'water-500', name: 'Still water', unitWeightG: 1, supplier: 'acme', revision: 1 },
        { id: 'chips', name: 'Chips', unitWeightG: 1, supplier: 'crunchy', revision: 1 },
        { id: 'cola-330', name: 'Cola', unitWeightG: 1, supplier: 'acme', revision: 1 },
        { id: 'nameless', name: null, unitWeightG: 1, supplier: 'acme', revision: 1 },
      ],
    };
    expect(skuOptions(cat, 'acme')).toEqual([
      ['cola-330', 'Cola (cola-330)'],
      ['nameless', 'nameless'],
      ['water-500', 'Still water (water-500)'],
    ]);
    expect(skuOptions(cat, 'crunchy')).toEqual([['chips', 'Chips (chips)']]);
  });
});

describe('errors in words', () => {
  it('[the API error body] says what failed, the server message and the fields it names', () => {
    const transition = new ApiError(
      409,
      'SHELF_ERR_TRANSITION',
      'purchase order po-1 is shipped: cannot go to sent',
      [{ path: 'state', message: 'cannot go from shipped to sent' }],
    );
    expect(poErrorText(transition, 'send it')).toBe(
      'Could not send it: purchase order po-1 is shipped: cannot go to sent (state: cannot go from shipped to sent). ' +
        'It has changed meanwhile: Reload shows it as it is now.',
    );
    const invalid = new ApiError(
      400,
      'SHELF_ERR_INVALID',
      'invalid purchase order input: sku: unknown SKU "x"',
      [{ path: 'sku', message: 'unknown SKU "x"' }],
    );
    expect(poErrorText(invalid, 'add the line')).toBe(
      'Could not add the line: invalid purchase order input: sku: unknown SKU "x".',
    );
    const forbidden = new ApiError(
      403,
      'SHELF_ERR_FORBIDDEN',
      'the supplier role may not send purchase orders',
    );
    expect(poErrorText(forbidden, 'send it')).toBe(
      'Could not send it: the supplier role may not send purchase orders.',
    );
    expect(poErrorText(new Error('boom'), 'ship')).toBe('Could not ship: boom.');
  });
});

describe('printable page', () => {
  it('[strict CSP] the inline style is taken out of the page and handed over as CSS', () => {
    const page =
      '<html><head><title>x</title><style>\nh1 { color: red; }\n</style><STYLE media="print">td{}</STYLE></head><body><h1>PO</h1></body></html>';
    expect(splitStyles(page)).toEqual({
      html: '<html><head><title>x</title></head><body><h1>PO</h1></body></html>',
      css: 'h1 { color: red; }\ntd{}',
    });
  });
});

describe('forecast', () => {
  it('soonest stock-out first, unknown last', () => {
    const row = (site: string, sku: string, stockOutAt: number | null) => ({
      site,
      sku,
      supplier: 'acme',
      lanes: 1,
      units: 3,
      demandPerDay: 1,
      demandStdPerDay: null,
      stockOutAt,
      leadTimeDays: null,
      serviceLevel: null,
      safetyStock: null,
      reorderPoint: null,
      nextDeliveryAt: null,
    });
    const sorted = sortForecast([
      row('b', 'x', null),
      row('a', 'y', T0 + 5),
      row('a', 'x', T0 + 1),
      row('a', 'a', null),
    ]);
    expect(sorted.map((r) => `${r.site}/${r.sku}`)).toEqual(['a/x', 'a/y', 'a/a', 'b/x']);
  });
});

describe('delivery schedule', () => {
  const acme: Pick<SupplierView, 'name' | 'contacts'> = {
    name: 'ACME',
    contacts: [{ name: 'Ann', email: 'ann@acme.example' }],
  };
  const schedule = {
    timezone: 'Europe/Berlin',
    cycles: [
      { cutoff: { day: 'mon' as const, at: '14:00' }, delivery: { day: 'wed' as const, at: '07:00' } },
      { cutoff: { day: 'thu' as const, at: '14:00' }, delivery: { day: 'sat' as const, at: '08:00' } },
    ],
  };

  it('[round trip] a schedule as form text and back is the same schedule; name and contacts go along', () => {
    expect(scheduleBody(acme, scheduleForm(schedule), 7)).toEqual({
      ok: true,
      body: { name: 'ACME', contacts: acme.contacts, schedule, revision: 7 },
    });
    expect(describeCycles(schedule)).toEqual([
      'Cut-off Monday 14:00, delivery Wednesday 07:00',
      'Cut-off Thursday 14:00, delivery Saturday 08:00',
    ]);
  });

  it('no schedule yet starts from one cycle in the given zone; removing sends schedule: null', () => {
    expect(scheduleForm(null, 'America/New_York')).toEqual({
      timezone: 'America/New_York',
      cycles: [{ cutoffDay: 'mon', cutoffAt: '14:00', deliveryDay: 'wed', deliveryAt: '08:00' }],
    });
    expect(scheduleBody({ name: null, contacts: [] }, null, 3)).toEqual({
      ok: true,
      body: { contacts: [], schedule: null, revision: 3 },
    });
  });

  it('[fields named] a bad zone, time or repeated cut-off is keyed by its field and labelled in words', () => {
    const f = scheduleForm(schedule);
    const bad = scheduleBody(
      acme,
      { timezone: 'Mars/Olympus', cycles: [{ ...f.cycles[0]!, deliveryAt: '25:00' }, { ...f.cycles[0]! }] },
      7,
    );
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(Object.keys(bad.errors).sort()).toEqual([
      'schedule.cycles.0.delivery.at',
      'schedule.cycles.1.cutoff',
      'schedule.timezone',
    ]);
    expect(bad.errors['schedule.timezone']).toMatch(/IANA time zone/);
    expect(scheduleFieldLabel('schedule.cycles.0.delivery.at')).toBe('Cycle 1 delivery time');
    expect(scheduleFieldLabel('schedule.cycles.1.cutoff')).toBe('Cycle 2 cut-off');
    expect(scheduleFieldLabel('schedule.cycles.2.cutoff.day')).toBe('Cycle 3 cut-off day');
    expect(scheduleFieldLabel('suppliers.0.schedule.timezone')).toBe('Time zone');
    expect(scheduleFieldLabel('revision')).toBe('Revision');
    expect(scheduleErrors({ 'suppliers.3.schedule.timezone': 'bad' })).toEqual({
      'schedule.timezone': 'bad',
    });
  });
});
