/**
 * The audit repository: rows are appended (alone or all at once, joining the caller's
 * transaction), numbered upwards, and read back newest first with their JSON as written, through
 * every filter the API offers — time, actor, action or area, object, sites — and paged backwards
 * by sequence number. The interface has nothing that changes or removes a row.
 */
import type {
  AsyncCentralStore,
  AsyncRepository,
  AuditInput,
  AuditRepository,
} from '@shelfsense/central/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Opened, type RepoFactory, T0 } from './types.js';

const row = (over: Partial<AuditInput> = {}): AuditInput => ({
  at: T0,
  actor: 'alice',
  role: 'admin',
  action: 'catalogue.changed',
  target: 'lane',
  targetId: 's1/a/l1',
  site: 's1',
  ...over,
});

export function auditContract(make: RepoFactory<AuditRepository, { store: AsyncCentralStore }>): void {
  describe('audit repository', () => {
    let opened: Opened<AuditRepository> & { store: AsyncCentralStore };
    let repo: AsyncRepository<AuditRepository>;

    beforeEach(async () => {
      opened = await make();
      repo = opened.repo;
    });
    afterEach(async () => {
      await opened.close();
    });

    /** The rows' actions, newest first, for `q`. */
    const actions = async (q: Parameters<AuditRepository['list']>[0] = {}) =>
      (await repo.list(q)).map((e) => e.action);

    it('is empty before the first row', async () => {
      expect(await repo.list()).toEqual([]);
    });

    it('numbers rows upwards and returns them newest first, JSON fields as written', async () => {
      const a = await repo.append(
        row({
          before: { state: 'open' },
          after: { state: 'cancelled', note: 'ünïcode ✓, "quoted"' },
          detail: { quantity: 12, nested: { list: [1, 2] } },
        }),
      );
      const b = await repo.append({ at: T0 + 1, actor: 'central', action: 'catalogue.seeded' });
      expect(b).toBeGreaterThan(a);
      const [newest, oldest] = await repo.list();
      // Everything left out reads as null, never undefined.
      expect(newest).toEqual({
        seq: b,
        at: T0 + 1,
        actor: 'central',
        role: null,
        action: 'catalogue.seeded',
        target: null,
        targetId: null,
        site: null,
        before: null,
        after: null,
        detail: null,
      });
      expect(oldest).toEqual({
        seq: a,
        at: T0,
        actor: 'alice',
        role: 'admin',
        action: 'catalogue.changed',
        target: 'lane',
        targetId: 's1/a/l1',
        site: 's1',
        before: { state: 'open' },
        after: { state: 'cancelled', note: 'ünïcode ✓, "quoted"' },
        detail: { quantity: 12, nested: { list: [1, 2] } },
      });
    });

    it('appendAll writes every row in order, or none when one fails', async () => {
      await repo.appendAll([row({ action: 'a.one' }), row({ action: 'a.two' })]);
      expect(await actions()).toEqual(['a.two', 'a.one']);
      // A row without an actor breaks the table's NOT NULL: the rows before it go too.
      await expect(async () =>
        repo.appendAll([row({ action: 'b.one' }), { ...row({ action: 'b.two' }), actor: null as never }]),
      ).rejects.toThrow();
      expect(await actions()).toEqual(['a.two', 'a.one']);
    });

    it('[all or nothing] a row appended inside a transaction that throws is gone with it', async () => {
      const boom = new Error('rolled back on purpose');
      await expect(async () =>
        opened.store.transaction(async () => {
          await repo.append(row({ action: 'order.cancelled' }));
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await repo.list()).toEqual([]);
      await opened.store.transaction(() => repo.append(row({ action: 'order.acknowledged' })));
      expect(await actions()).toEqual(['order.acknowledged']);
    });

    it('filters by time (both bounds inclusive), actor, object kind and object id', async () => {
      await repo.appendAll([
        row({ at: T0, actor: 'alice', target: 'lane', targetId: 's1/a/l1', action: 'x.t0' }),
        row({ at: T0 + 10, actor: 'bob', target: 'order', targetId: 'ord_1', action: 'x.t10' }),
        row({ at: T0 + 20, actor: 'alice', target: 'order', targetId: 'ord_2', action: 'x.t20' }),
      ]);
      expect(await actions({ from: T0 + 10 })).toEqual(['x.t20', 'x.t10']);
      expect(await actions({ to: T0 + 10 })).toEqual(['x.t10', 'x.t0']);
      expect(await actions({ from: T0 + 10, to: T0 + 10 })).toEqual(['x.t10']);
      expect(await actions({ actor: 'alice' })).toEqual(['x.t20', 'x.t0']);
      expect(await actions({ actor: 'ALICE' })).toEqual([]);
      expect(await actions({ target: 'order' })).toEqual(['x.t20', 'x.t10']);
      expect(await actions({ targetId: 'ord_1' })).toEqual(['x.t10']);
      expect(await actions({ actor: 'alice', target: 'order' })).toEqual(['x.t20']);
    });

    it('an action is matched exactly; an area (no dot, or a trailing dot) matches every action in it', async () => {
      for (const action of [
        'login',
        'login.failed',
        'login.ok',
        'loginx.failed',
        'order.cancelled',
        'order.cancelledx',
      ])
        await repo.append(row({ action }));
      expect(await actions({ action: 'login.failed' })).toEqual(['login.failed']);
      expect(await actions({ action: 'order.cancelled' })).toEqual(['order.cancelled']);
      expect(await actions({ action: 'login' })).toEqual(['login.ok', 'login.failed', 'login']);
      expect(await actions({ action: 'login.' })).toEqual(['login.ok', 'login.failed', 'login']);
      expect(await actions({ action: 'order' })).toEqual(['order.cancelledx', 'order.cancelled']);
      // No pattern characters: `_` and `%` are plain.
      expect(await actions({ action: 'login_failed' })).toEqual([]);
      expect(await actions({ action: 'logi%' })).toEqual([]);
    });

    it('[operators see their sites only] a site list keeps those sites; rows without a site are left out', async () => {
      await repo.appendAll([
        row({ site: 's1', action: 'x.s1' }),
        row({ site: 's2', action: 'x.s2' }),
        row({ site: null, action: 'x.none' }),
        row({ site: 's3', action: 'x.s3' }),
      ]);
      expect(await actions()).toEqual(['x.s3', 'x.none', 'x.s2', 'x.s1']);
      expect(await actions({ sites: ['s1'] })).toEqual(['x.s1']);
      expect(await actions({ sites: ['s1', 's3'] })).toEqual(['x.s3', 'x.s1']);
      expect(await actions({ sites: [] })).toEqual([]);
    });

    it('pages backwards by sequence number with a limit (default 100, at most 10,000)', async () => {
      await repo.appendAll(Array.from({ length: 250 }, (_, i) => row({ at: T0 + i, action: `p.${i}` })));
      const first = await repo.list();
      expect(first).toHaveLength(100);
      expect(first[0]?.action).toBe('p.249');
      const seen: string[] = [];
      let before: number | undefined;
      for (;;) {
        const page = await repo.list({ limit: 60, ...(before !== undefined ? { beforeSeq: before } : {}) });
        if (page.length === 0) break;
        seen.push(...page.map((e) => e.action));
        before = page[page.length - 1]?.seq;
      }
      expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => `p.${249 - i}`));
      expect(await repo.list({ limit: 1_000 })).toHaveLength(250);
      // Paging and the other filters together: Bob's rows older than the 100th.
      expect(await repo.list({ beforeSeq: first[99]?.seq as number, actor: 'bob' })).toEqual([]);
      expect(await actions({ beforeSeq: first[99]?.seq as number, from: T0 + 148 })).toEqual([
        'p.149',
        'p.148',
      ]);
    });

    it('returns at most 10,000 rows at once, whatever the limit asked', async () => {
      await repo.appendAll(Array.from({ length: 10_001 }, (_, i) => row({ action: `m.${i}` })));
      const all = await repo.list({ limit: 1_000_000 });
      expect(all).toHaveLength(10_000);
      expect(all[9_999]?.action).toBe('m.1');
    });

    it('another connection reads what was appended', async () => {
      await repo.append(row({ action: 'order.open' }));
      const other = await opened.connect();
      expect((await other.list()).map((e) => e.action)).toEqual(['order.open']);
    });

    it('[append-only] offers no way to change or remove a row', () => {
      const methods = new Set<string>();
      for (let o: object | null = repo; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
        for (const k of Object.getOwnPropertyNames(o)) {
          if (typeof (repo as unknown as Record<string, unknown>)[k] === 'function' && k !== 'constructor')
            methods.add(k);
        }
      }
      expect(
        [...methods].filter((m) => /update|delete|remove|clear|set|edit|prune|truncate/i.test(m)),
      ).toEqual([]);
    });
  });
}
