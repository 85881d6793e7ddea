/**
 * The audit trail over HTTP (docs/audit.md) on real parts: order actions taken through the API and
 * a catalogue change applied with `applyCatalogue` land in the trail in the same transaction; who
 * may read it (admin: everything; operator: its sites' rows only; anyone else: 403); the filters,
 * paging and the CSV export; and that no method but GET reaches it.
 */
import { applyCatalogue } from '@shelfsense/central/catalogue';
import { parseCsv } from '@shelfsense/central/http';
import { type ApiAuditEntry, AUDIT_CSV_COLUMNS, catalogueOf } from '@shelfsense/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG, type Harness, LANES, startHarness } from './harness.js';

type ErrorBody = { error: { code: string; message: string; issues?: { path: string; message: string }[] } };

describe('HTTP API: audit trail', () => {
  let h: Harness;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    h = await startHarness();
    for (const u of ['admin', 'op-a', 'op-b', 'sup-x', 'sup-y', 'tech-a', 'svc', 'agent-a'])
      tokens[u] = await h.login(u);
  });
  afterAll(() => h?.close());

  const get = <T = ApiAuditEntry[]>(user: string, query = '', path = '/api/audit') =>
    h.call<T>('GET', `${path}${query ? `?${query}` : ''}`, { token: tokens[user] as string });
  const rows = async (user: string, query = '') => {
    const r = await get(user, query);
    expect(r.status, r.text).toBe(200);
    return r.body;
  };
  const post = (user: string, path: string, body: unknown = {}) =>
    h.call('POST', path, { token: tokens[user] as string, body });
  const countAll = () => h.store.db.prepare('SELECT count(*) FROM audit_log').pluck().get() as number;

  it('[every order action] creation and each transition through the API, newest first, with actor, site and states', async () => {
    h.now.t += 60_000;
    const id = h.openOrder('AX', 18);
    h.now.t += 1_000;
    expect((await post('sup-x', `/api/orders/${id}/acknowledge`)).status).toBe(200);
    // A retried acknowledge changes nothing, so it records nothing.
    expect((await post('sup-x', `/api/orders/${id}/acknowledge`)).status).toBe(200);
    h.now.t += 1_000;
    expect((await post('admin', `/api/orders/${id}/ship`, { quantity: 12 })).status).toBe(200);
    // A refused transition (409) is rolled back with its audit row.
    expect((await post('op-a', `/api/orders/${id}/cancel`, { reason: 'too late' })).status).toBe(409);

    const trail = await rows('admin', `target=order&targetId=${id}`);
    const base = { target: 'order', targetId: id, site: 'A' };
    const detail = { shelf: 'a1', lane: 'l1', sku: 'x-cola', supplier: 'X', quantity: 18 };
    expect(trail).toEqual([
      {
        ...base,
        seq: expect.any(Number),
        at: h.now.t,
        actor: 'admin',
        role: 'admin',
        action: 'order.shipped',
        before: { state: 'acknowledged' },
        after: { state: 'shipped' },
        detail: { ...detail, shippedQuantity: 12 },
      },
      {
        ...base,
        seq: expect.any(Number),
        at: h.now.t - 1_000,
        actor: 'sup-x',
        role: 'supplier',
        action: 'order.acknowledged',
        before: { state: 'open' },
        after: { state: 'acknowledged' },
        detail,
      },
      {
        ...base,
        seq: expect.any(Number),
        at: h.now.t - 2_000,
        // Opened by no user (the rules, or here the test): the process is the actor.
        actor: 'central',
        role: null,
        action: 'order.open',
        before: null,
        after: { state: 'open' },
        detail: { ...detail, trigger: 'manual', note: 'test' },
      },
    ]);
    expect(trail.map((e) => e.seq)).toEqual([...trail.map((e) => e.seq)].sort((a, b) => b - a));
  });

  it('[every order action] a cancellation records the operator and the reason given', async () => {
    const id = h.openOrder('AY', 6);
    h.now.t += 1_000;
    expect((await post('op-a', `/api/orders/${id}/cancel`, { reason: 'shelf, "moved"' })).status).toBe(200);
    const [cancel] = await rows('admin', `action=order.cancelled&targetId=${id}`);
    expect(cancel).toMatchObject({
      actor: 'op-a',
      role: 'operator',
      site: 'A',
      before: { state: 'open' },
      after: { state: 'cancelled' },
      detail: { supplier: 'Y', sku: 'y-chips', quantity: 6, reason: 'shelf, "moved"' },
    });
  });

  it('[every order action] a delivery seen by weight and the closes that follow are recorded with central as the actor', async () => {
    const first = h.openOrder('BX', 12);
    h.orders.transition(first, 'acknowledged', { actor: { user: 'sup-x', role: 'supplier' }, now: h.now.t });
    h.now.t += 1_000;
    h.orders.transition(first, 'received', { receivedQuantity: 11, now: h.now.t });
    // The lane's next order closes the received one in the same transaction.
    h.now.t += 1_000;
    const next = h.orders.openForLane(
      { ...LANES.BX, sku: 'x-cola', supplier: 'X', quantity: 6, reason: { trigger: 'rules', units: 3 } },
      h.now.t,
      null,
      { replaceReceived: true },
    );
    const trail = await rows('admin', `targetId=${first}`);
    expect(trail.map((e) => [e.action, e.actor, e.role, e.before, e.after])).toEqual([
      ['order.closed', 'central', null, { state: 'received' }, { state: 'closed' }],
      ['order.received', 'central', null, { state: 'acknowledged' }, { state: 'received' }],
      ['order.acknowledged', 'sup-x', 'supplier', { state: 'open' }, { state: 'acknowledged' }],
      ['order.open', 'central', null, null, { state: 'open' }],
    ]);
    expect(trail[1]?.detail).toMatchObject({ receivedQuantity: 11, quantity: 12 });
    const [opened] = await rows('admin', `targetId=${next.order.id}`);
    expect(opened).toMatchObject({
      action: 'order.open',
      at: h.now.t,
      detail: { trigger: 'rules', units: 3 },
    });
    // Both in one transaction: the close and the new order have neighbouring numbers.
    expect((opened as ApiAuditEntry).seq).toBe((trail[0] as ApiAuditEntry).seq + 1);
  });

  it('[catalogue changes] applyCatalogue records each object changed, and the orders it cancels, by the admin who applied it', async () => {
    const orderBY = h.openOrder('BY', 10);
    h.now.t += 60_000;
    const at = h.now.t;
    const next = structuredClone(catalogueOf(CONFIG));
    const [siteA, siteB] = next.sites;
    siteA!.shelves[0]!.lanes[0]!.capacity = 30;
    // Lane B/b1/l2 now holds X's cola: the open order for Y's chips is cancelled.
    siteB!.shelves[0]!.lanes[1]!.sku = 'x-cola';
    const applied = applyCatalogue(h.store, CONFIG, next, { actor: 'admin', now: at });
    expect(applied.version).toBe(2);

    const cat = await rows('admin', `action=catalogue&from=${at}`);
    expect(cat.map((e) => [e.action, e.target, e.targetId, e.site])).toEqual([
      ['catalogue.changed', 'lane', 'B/b1/l2', 'B'],
      ['catalogue.changed', 'lane', 'A/a1/l1', 'A'],
      ['catalogue.seeded', null, null, null],
    ]);
    const laneA = cat[1] as ApiAuditEntry;
    expect(laneA).toMatchObject({ actor: 'admin', role: 'admin', at, detail: { version: 2 } });
    expect(laneA.before).toMatchObject({ capacity: 24 });
    expect(laneA.after).toMatchObject({ capacity: 30 });

    const [cancel] = await rows('admin', `targetId=${orderBY}&action=order`);
    expect(cancel).toMatchObject({
      action: 'order.cancelled',
      actor: 'admin',
      role: 'admin',
      site: 'B',
      at,
      before: { state: 'open' },
      after: { state: 'cancelled' },
    });
  });

  it('[operators see their sites only] an operator gets its sites’ rows, never another site’s nor site-less rows', async () => {
    const all = await rows('admin', 'limit=10000');
    expect(new Set(all.map((e) => e.site))).toEqual(new Set(['A', 'B', null]));

    const a = await rows('op-a', 'limit=10000');
    expect(a.map((e) => e.seq)).toEqual(all.filter((e) => e.site === 'A').map((e) => e.seq));
    const b = await rows('op-b', 'limit=10000');
    expect(b.length).toBeGreaterThan(0);
    expect(b.every((e) => e.site === 'B')).toBe(true);
    // Asking for another site's rows by name, or by object, gives nothing rather than them.
    expect(await rows('op-a', 'site=B')).toEqual([]);
    const bOrder = b.find((e) => e.target === 'order')?.targetId as string;
    expect(await rows('op-a', `targetId=${bOrder}`)).toEqual([]);
    // The CSV is scoped the same way.
    const csv = parseCsv((await get<string>('op-a', '', '/api/audit.csv')).body);
    expect(csv.slice(1).map((r) => r[8])).toEqual(a.map(() => 'A'));
    // An admin filters by site.
    expect((await rows('admin', 'site=B&limit=10000')).map((e) => e.seq)).toEqual(
      all.filter((e) => e.site === 'B').map((e) => e.seq),
    );
  });

  it.each(['sup-x', 'tech-a', 'svc', 'agent-a'])(
    '[who may read] %s gets 403, as JSON and as CSV',
    async (user) => {
      for (const path of ['/api/audit', '/api/audit.csv']) {
        const r = await get<ErrorBody>(user, '', path);
        expect(r.status).toBe(403);
        expect(r.body.error.code).toBe('SHELF_ERR_FORBIDDEN');
      }
    },
  );

  it('[who may read] no token is 401', async () => {
    for (const path of ['/api/audit', '/api/audit.csv']) {
      const r = await h.call('GET', path);
      expect(r.status).toBe(401);
    }
  });

  it('filters by time, actor, action or area, object kind and id; they combine', async () => {
    const all = await rows('admin', 'limit=10000');
    const pick = (f: (e: ApiAuditEntry) => boolean) => all.filter(f).map((e) => e.seq);
    const seqs = async (q: string) => (await rows('admin', `limit=10000&${q}`)).map((e) => e.seq);
    const times = [...new Set(all.map((e) => e.at))].sort((x, y) => x - y);
    const mid = times[Math.floor(times.length / 2)] as number;
    expect(await seqs(`from=${mid}`)).toEqual(pick((e) => e.at >= mid));
    expect(await seqs(`to=${mid}`)).toEqual(pick((e) => e.at <= mid));
    expect(await seqs(`from=${mid}&to=${mid}`)).toEqual(pick((e) => e.at === mid));
    expect(await seqs('actor=sup-x')).toEqual(pick((e) => e.actor === 'sup-x'));
    expect(await seqs('action=order.acknowledged')).toEqual(pick((e) => e.action === 'order.acknowledged'));
    expect(await seqs('action=order')).toEqual(pick((e) => e.action.startsWith('order.')));
    expect(await seqs('target=lane')).toEqual(pick((e) => e.target === 'lane'));
    expect(await seqs('targetId=A%2Fa1%2Fl1')).toEqual(pick((e) => e.targetId === 'A/a1/l1'));
    expect(await seqs('actor=admin&action=order&site=B')).toEqual(
      pick((e) => e.actor === 'admin' && e.action.startsWith('order.') && e.site === 'B'),
    );
    expect(pick((e) => e.actor === 'sup-x').length).toBeGreaterThan(0);
    expect(pick((e) => e.action.startsWith('order.')).length).toBeGreaterThan(3);
  });

  it.each([
    ['from=yesterday', 'from'],
    ['to=-5', 'to'],
    ['from=20&to=10', 'to'],
    ['limit=0', 'limit'],
    ['limit=10001', 'limit'],
    ['limit=ten', 'limit'],
    ['before=0', 'before'],
    ['before=abc', 'before'],
    ['site=no%20such%20site', 'site'],
    ['action=order%20cancelled', 'action'],
    ['action=order..cancelled', 'action'],
    ['target=a%2Fb', 'target'],
    ['actor=', 'actor'],
    ['actor=a&actor=b', 'actor'],
    [`targetId=${'x'.repeat(201)}`, 'targetId'],
  ])('[bad query] %s is a 400 naming %s (JSON and CSV)', async (query, field) => {
    for (const path of ['/api/audit', '/api/audit.csv']) {
      const r = await get<ErrorBody>('admin', query, path);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('SHELF_ERR_INVALID');
      expect(r.body.error.issues?.map((i) => i.path)).toEqual([field]);
    }
  });

  it('[paging] "before" walks back from the newest row to the oldest, each row once', async () => {
    const all = await rows('admin', 'limit=10000');
    expect(all.length).toBeGreaterThan(5);
    const seen: number[] = [];
    let before = '';
    for (let i = 0; i < 100; i++) {
      const page = await rows('admin', `limit=2${before}`);
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(2);
      seen.push(...page.map((e) => e.seq));
      before = `&before=${page[page.length - 1]?.seq}`;
    }
    expect(seen).toEqual(all.map((e) => e.seq));
    // The default page is 100 rows.
    h.store.audit.appendAll(
      Array.from({ length: 150 }, (_, i) => ({
        at: h.now.t,
        actor: 'bulk',
        action: `bulk.row${i}`,
        site: 'A',
      })),
    );
    expect(await rows('admin')).toHaveLength(100);
  });

  it('[CSV] a header, one row per entry in the JSON order, before/after/detail as JSON text', async () => {
    const r = await get<string>('admin', 'target=order', '/api/audit.csv');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('content-disposition')).toMatch(
      /^attachment; filename="shelfsense-audit-\d+\.csv"$/,
    );
    expect(r.text.endsWith('\r\n')).toBe(true);
    const [header, ...lines] = parseCsv(r.text);
    expect(header).toEqual([...AUDIT_CSV_COLUMNS]);
    // Without a limit the CSV has every matching row, not the JSON route's default page.
    const json = await rows('admin', 'target=order&limit=10000');
    expect(lines).toHaveLength(json.length);
    const col = (name: (typeof AUDIT_CSV_COLUMNS)[number]) => AUDIT_CSV_COLUMNS.indexOf(name);
    const fromJson = (s: string | undefined) => (s === '' || s === undefined ? null : JSON.parse(s));
    lines.forEach((line, i) => {
      const e = json[i] as ApiAuditEntry;
      expect(line).toHaveLength(AUDIT_CSV_COLUMNS.length);
      expect(Number(line[col('seq')])).toBe(e.seq);
      expect(Number(line[col('at')])).toBe(e.at);
      expect(line[col('iso')]).toBe(new Date(e.at).toISOString());
      expect([line[col('actor')], line[col('action')], line[col('targetId')]]).toEqual([
        e.actor,
        e.action,
        e.targetId,
      ]);
      expect(line[col('role')]).toBe(e.role ?? '');
      expect(line[col('site')]).toBe(e.site ?? '');
      expect(fromJson(line[col('before')])).toEqual(e.before);
      expect(fromJson(line[col('after')])).toEqual(e.after);
      expect(fromJson(line[col('detail')])).toEqual(e.detail);
    });
    // A reason with a comma and quotes survives the quoting.
    expect(lines.some((l) => l[col('detail')]?.includes('"reason":"shelf, \\"moved\\""'))).toBe(true);
  });

  it('[CSV] pages through more rows than one store query holds; limit and before apply', async () => {
    const n = 2_500;
    h.now.t += 60_000;
    h.store.audit.appendAll(
      Array.from({ length: n }, (_, i) => ({
        at: h.now.t,
        actor: 'csv-bulk',
        action: 'bulk.csv',
        target: 'row',
        targetId: String(i),
        site: 'B',
      })),
    );
    const ids = async (q: string) =>
      parseCsv((await get<string>('admin', `actor=csv-bulk${q}`, '/api/audit.csv')).text)
        .slice(1)
        .map((l) => l[AUDIT_CSV_COLUMNS.indexOf('targetId')]);
    const all = Array.from({ length: n }, (_, i) => String(n - 1 - i));
    expect(await ids('')).toEqual(all);
    expect(await ids('&limit=1500')).toEqual(all.slice(0, 1500));
    const [newest] = await rows('admin', 'actor=csv-bulk&limit=1');
    // Older than the row ten below the newest: the 12th newest onwards.
    expect(await ids(`&before=${(newest as ApiAuditEntry).seq - 10}&limit=3`)).toEqual(all.slice(11, 14));
    // An operator of another site gets none of them.
    expect(parseCsv((await get<string>('op-a', 'actor=csv-bulk', '/api/audit.csv')).text)).toHaveLength(1);
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])(
    '[append-only] %s on the audit routes is 405 (Allow: GET) and changes nothing',
    async (method) => {
      const before = countAll();
      const newest = (await rows('admin', 'limit=1'))[0] as ApiAuditEntry;
      for (const path of ['/api/audit', '/api/audit.csv', `/api/audit?before=${newest.seq + 1}`]) {
        const r = await h.call<ErrorBody>(method, path, {
          token: tokens['admin'] as string,
          body: { seq: newest.seq, actor: 'mallory' },
        });
        expect(r.status).toBe(405);
        expect(r.body.error.code).toBe('SHELF_ERR_METHOD');
        expect(r.headers.get('allow')).toBe('GET');
      }
      // No route addresses one row, so there is nothing to edit or delete it by.
      for (const path of [`/api/audit/${newest.seq}`, `/api/audit/${newest.seq}/delete`]) {
        expect((await h.call(method, path, { token: tokens['admin'] as string, body: {} })).status).toBe(404);
      }
      expect(countAll()).toBe(before);
      expect((await rows('admin', 'limit=1'))[0]).toEqual(newest);
    },
  );

  it('[append-only] the database itself refuses to change or remove a row', () => {
    const before = countAll();
    expect(() => h.store.db.prepare("UPDATE audit_log SET actor = 'mallory'").run()).toThrow(/append-only/);
    expect(() => h.store.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(countAll()).toBe(before);
  });
});
