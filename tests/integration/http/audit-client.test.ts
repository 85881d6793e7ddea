/**
 * The dashboard's audit client (dashboard/web/lib/audit.ts) against the real API: the query it
 * builds is one the server accepts, its pages walk the whole trail through "Load older", its CSV
 * download holds every matching row with the token sent as a header, and a role the server
 * refuses gets a coded error. Also the one-line change summaries the table shows.
 */
import { AUDIT_CSV_COLUMNS } from '@shelfsense/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, ApiError } from '../../../dashboard/web/lib/api.js';
import {
  auditFilename,
  auditQuery,
  changeSummary,
  dayBound,
  fetchAuditCsv,
  listAudit,
} from '../../../dashboard/web/lib/audit.js';
import { type Harness, startHarness, T0 } from './harness.js';

describe('dashboard audit client on the real API', () => {
  let h: Harness;
  const apiAs = async (user: string) => {
    const token = await h.login(user);
    return new Api({ baseUrl: h.base, token: () => token });
  };
  beforeAll(async () => {
    h = await startHarness();
    h.store.audit.appendAll(
      Array.from({ length: 25 }, (_, i) => ({
        at: T0 + i * 1_000,
        actor: i % 2 ? 'alice' : 'bob',
        role: 'admin',
        action: i % 3 ? 'catalogue.changed' : 'order.cancelled',
        target: i % 3 ? 'lane' : 'order',
        targetId: `t${i}`,
        site: i % 5 ? 'A' : 'B',
        before: { capacity: 24 },
        after: { capacity: 24 + i },
      })),
    );
  });
  afterAll(() => h?.close());

  it('pages through the filtered trail, newest first, until a short page', async () => {
    const api = await apiAs('admin');
    const f = { actor: ' alice ', action: 'catalogue', from: T0 + 2_000, to: T0 + 20_000 };
    const want = Array.from({ length: 25 }, (_, i) => i)
      .filter((i) => i % 2 && i % 3 && i >= 2 && i <= 20)
      .map((i) => `t${i}`)
      .reverse();
    const got: string[] = [];
    let page = await listAudit(api, f, undefined, 2);
    for (;;) {
      got.push(...page.rows.map((r) => r.targetId as string));
      const last = page.rows[page.rows.length - 1];
      if (!page.more || !last) break;
      page = await listAudit(api, f, last.seq, 2);
    }
    expect(got).toEqual(want);
  });

  it('downloads every matching row as CSV; the token is not in the URL', async () => {
    const token = await h.login('op-a');
    const urls: string[] = [];
    const api = new Api({
      baseUrl: h.base,
      token: () => token,
      fetch: (input, init) => {
        urls.push(String(input));
        return fetch(input, init);
      },
    });
    const { blob, filename } = await fetchAuditCsv(api, { target: 'lane' });
    expect(filename).toMatch(/^shelfsense-audit-\d+\.csv$/);
    const lines = (await blob.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe(AUDIT_CSV_COLUMNS.join(','));
    // The operator of site A: its lane rows only.
    const want = Array.from({ length: 25 }, (_, i) => i).filter((i) => i % 3 && i % 5);
    expect(lines).toHaveLength(want.length + 1);
    expect(urls.every((u) => !u.includes(token))).toBe(true);
    expect(urls).toEqual([`${h.base}/api/audit.csv?target=lane`]);
  });

  it('a role that may not read the trail gets the server’s code', async () => {
    const api = await apiAs('sup-x');
    await expect(listAudit(api, {})).rejects.toMatchObject({ status: 403, code: 'SHELF_ERR_FORBIDDEN' });
    await expect(fetchAuditCsv(api, {})).rejects.toBeInstanceOf(ApiError);
  });

  it('builds only what the server accepts, and refuses a backwards range before asking', () => {
    expect(auditQuery({})).toBe('');
    expect(auditQuery({ actor: '  ', action: 'order', to: 5.7 }, { before: 9, limit: 100 })).toBe(
      '?action=order&to=5&before=9&limit=100',
    );
    expect(() => auditQuery({ from: 2, to: 1 })).toThrow(RangeError);
    expect(() => auditQuery({ from: Number.NaN })).toThrow(/from/);
    expect(auditFilename(Date.UTC(2025, 10, 26, 18, 45))).toBe('shelfsense-audit-20251126-1845.csv');
  });

  it('turns a date input into the first and last millisecond of that local day', () => {
    const start = dayBound('2025-11-26') as number;
    const end = dayBound('2025-11-26', true) as number;
    expect(new Date(start).getDate()).toBe(26);
    expect(new Date(start).getHours()).toBe(0);
    expect(new Date(end + 1).getDate()).toBe(27);
    expect(new Date(end).getDate()).toBe(26);
    expect(dayBound('26/11/2025')).toBeUndefined();
  });

  it('summarises a change in one line', () => {
    expect(changeSummary({ before: { state: 'open' }, after: { state: 'acknowledged' } })).toBe(
      'open → acknowledged',
    );
    expect(changeSummary({ before: null, after: { state: 'open' } })).toBe('→ open');
    expect(changeSummary({ before: null, after: { id: 'x', capacity: 3 } })).toBe('created');
    expect(changeSummary({ before: { id: 'x' }, after: null })).toBe('removed');
    expect(changeSummary({ before: null, after: null })).toBe('');
    expect(
      changeSummary({
        before: { id: 'l1', capacity: 24, sku: 'a', channels: [0], name: 'n' },
        after: { id: 'l1', capacity: 30, sku: 'b', channels: [0, 1], name: 'm' },
      }),
    ).toBe('capacity: 24 → 30; sku: a → b; channels: [0] → [0,1]; +1 more');
    expect(changeSummary({ before: { a: 1 }, after: { a: 1 } })).toBe('no change');
  });
});
