/**
 * The catalogue repository: every applied catalogue is a new version, numbered upwards, and the old
 * ones are kept; the newest is the catalogue in force, read back as it was validated; the version
 * number is cheap to poll from another connection; an apply is all or nothing, with the orders it
 * cancels when the caller's transaction holds both.
 */
import type { AsyncCentralStore, AsyncRepository, CatalogueRepository } from '@shelfsense/central/store';
import { ErrorCodes, isShelfError } from '@shelfsense/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copy, small } from '../../unit/central/catalogue/fixtures.js';
import { newOrder } from './orders.contract.js';
import { type Opened, type RepoFactory, T0 } from './types.js';

const SUMMARY = { added: 9, changed: 0, removed: 0 };

export function catalogueContract(
  make: RepoFactory<CatalogueRepository, { store: AsyncCentralStore }>,
): void {
  describe('catalogue repository', () => {
    let opened: Opened<CatalogueRepository> & { store: AsyncCentralStore };
    let repo: AsyncRepository<CatalogueRepository>;

    beforeEach(async () => {
      opened = await make();
      repo = opened.repo;
    });
    afterEach(async () => {
      await opened.close();
    });

    it('has no catalogue before the first apply: version 0, no history', async () => {
      expect(await repo.current()).toBeNull();
      expect(await repo.version()).toBe(0);
      expect(await repo.history()).toEqual([]);
      expect(await repo.get(1)).toBeUndefined();
    });

    it('[versions only grow] each apply is the next version; the old ones are kept whole', async () => {
      const first = small();
      const second = copy(first);
      second.skus[0]!.unitWeightG = 353;
      expect(await repo.apply(first, 'central.yaml', SUMMARY, { now: T0 })).toBe(1);
      expect(await repo.apply(second, 'alice', { changed: 1 }, { now: T0 + 1 })).toBe(2);
      expect(await repo.version()).toBe(2);
      expect(await repo.current()).toEqual({
        version: 2,
        catalogue: second,
        appliedAt: T0 + 1,
        actor: 'alice',
      });
      expect(await repo.get(1)).toEqual({
        version: 1,
        catalogue: first,
        appliedAt: T0,
        actor: 'central.yaml',
      });
      // The same catalogue again is still a new version: the caller decides whether to write one.
      expect(await repo.apply(second, 'bob', {}, { now: T0 + 2 })).toBe(3);
    });

    it('history: newest first, with who, when and the summary, at most `limit`', async () => {
      await repo.apply(small(), 'central.yaml', SUMMARY, { now: T0 });
      await repo.apply(small(), 'alice', { changed: 1, cancelled: 0 }, { now: T0 + 5 });
      expect(await repo.history()).toEqual([
        { version: 2, appliedAt: T0 + 5, actor: 'alice', summary: { changed: 1, cancelled: 0 } },
        { version: 1, appliedAt: T0, actor: 'central.yaml', summary: SUMMARY },
      ]);
      expect((await repo.history(1)).map((h) => h.version)).toEqual([2]);
    });

    it('[nothing applied] an invalid catalogue throws SHELF_ERR_INVALID naming the field and writes nothing', async () => {
      await repo.apply(small(), 'central.yaml', SUMMARY, { now: T0 });
      const bad = copy(small());
      bad.skus[0]!.supplier = 'nobody';
      let err: unknown;
      try {
        await repo.apply(bad, 'alice', {}, { now: T0 + 1 });
      } catch (e) {
        err = e;
      }
      expect(isShelfError(err) && err.code).toBe(ErrorCodes.INVALID);
      expect((err as Error).message).toContain('skus.0.supplier: unknown supplier "nobody"');
      expect(await repo.version()).toBe(1);
    });

    it('another connection sees a new version at once: what a running central polls', async () => {
      const other = await opened.connect();
      expect(await other.version()).toBe(0);
      await repo.apply(small(), 'alice', SUMMARY, { now: T0 });
      expect(await other.version()).toBe(1);
      expect((await other.current())?.catalogue).toEqual(small());
      // Two writers never take the same number.
      expect(await other.apply(small(), 'bob', {}, { now: T0 + 1 })).toBe(2);
      expect(await repo.apply(small(), 'carol', {}, { now: T0 + 2 })).toBe(3);
    });

    it('keeps why a version cancelled an order', async () => {
      const { store } = opened;
      await store.orders.insert(newOrder('ord_1'));
      const v = await repo.apply(
        small(),
        'alice',
        { cancelled: 1 },
        {
          now: T0,
          cancelled: [{ orderId: 'ord_1', reason: 'lane given to another SKU' }],
        },
      );
      expect(await repo.cancellation('ord_1')).toEqual({ version: v, reason: 'lane given to another SKU' });
      expect(await repo.cancellation('ord_2')).toBeUndefined();
    });

    it('[all or nothing] inside a store transaction that throws, the version and the order change roll back', async () => {
      const { store } = opened;
      await repo.apply(small(), 'central.yaml', SUMMARY, { now: T0 });
      await store.orders.insert(newOrder('ord_1'));
      const boom = new Error('killed mid-apply');
      await expect(async () =>
        store.transaction(async () => {
          await store.catalogue.apply(
            small(),
            'alice',
            { cancelled: 1 },
            {
              now: T0 + 1,
              cancelled: [{ orderId: 'ord_1', reason: 'lane removed' }],
            },
          );
          await store.orders.update({
            id: 'ord_1',
            from: 'open',
            to: 'cancelled',
            shipped: null,
            received: null,
            now: T0 + 1,
          });
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await repo.version()).toBe(1);
      expect(await repo.cancellation('ord_1')).toBeUndefined();
      expect((await store.orders.get('ord_1'))?.state).toBe('open');
    });
  });
}
