/**
 * The purchase-orders repository: one draft per site and supplier, one line per SKU of a PO, a
 * lane order on one line of one PO ever, state moves as compare-and-set stamping their time,
 * events read back in order, one discrepancy per line, and the lead-time history.
 */
import type { AsyncCentralStore, AsyncRepository, PurchaseOrdersRepository } from '@shelfsense/central/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LANE } from '../../unit/central/store/fixtures.js';
import { newOrder } from './orders.contract.js';
import { type Opened, type RepoFactory, T0 } from './types.js';

export interface PurchaseOrdersFixture {
  /** The lane orders a need refers to are inserted through the store. */
  store: AsyncCentralStore;
}

const draft = (id: string, supplier = 'acme', site = LANE.site) => ({
  id,
  site,
  supplier,
  cutoffAt: T0 + 3_600_000,
  deliveryDueAt: T0 + 86_400_000,
  now: T0,
});

export function purchaseOrdersContract(
  make: RepoFactory<PurchaseOrdersRepository, PurchaseOrdersFixture>,
): void {
  describe('purchase orders repository', () => {
    let opened: Opened<PurchaseOrdersRepository> & PurchaseOrdersFixture;
    let repo: AsyncRepository<PurchaseOrdersRepository>;

    beforeEach(async () => {
      opened = await make();
      repo = opened.repo;
    });
    afterEach(async () => {
      await opened.close();
    });

    it('keeps one draft per site and supplier, whichever connection inserts it', async () => {
      expect(await repo.insert(draft('po_1'))).toBe(true);
      const other = await opened.connect();
      expect(await other.insert(draft('po_2'))).toBe(false);
      expect(await repo.insert(draft('po_3', 'crunchy'))).toBe(true);
      expect((await repo.draft(LANE.site, 'acme'))?.id).toBe('po_1');
      expect(await repo.nextCutoff()).toBe(T0 + 3_600_000);
      expect((await repo.dueDrafts(T0 + 3_600_000)).map((p) => p.id)).toEqual(['po_1', 'po_3']);
      expect(await repo.dueDrafts(T0)).toEqual([]);
      // Once sent, the site and supplier may gather the next draft.
      expect(await repo.move('po_1', 'draft', 'sent', T0 + 5)).toBe(true);
      expect(await repo.move('po_1', 'draft', 'sent', T0 + 6)).toBe(false);
      expect(await repo.get('po_1')).toMatchObject({ state: 'sent', sentAt: T0 + 5, version: 2, urgent: 0 });
      expect(await other.insert(draft('po_2'))).toBe(true);
    });

    it('adds to one line per SKU, and puts a lane order on one line ever', async () => {
      await repo.insert(draft('po_1'));
      await opened.store.orders.insert(newOrder('ord_1'));
      await opened.store.orders.insert(newOrder('ord_2', { lane: 'l2' }));
      const line = await repo.addToLine('po_1', 'cola-330', 6, 0);
      expect(await repo.addToLine('po_1', 'cola-330', 4, 4)).toBe(line);
      expect(await repo.addNeed('ord_1', 'po_1', line, T0)).toBe(true);
      expect(await repo.addNeed('ord_1', 'po_1', line, T0)).toBe(false);
      expect(await repo.addNeed('ord_2', 'po_1', line, T0)).toBe(true);
      expect(await repo.lines('po_1')).toEqual([
        expect.objectContaining({
          id: line,
          sku: 'cola-330',
          quantity: 10,
          manualQuantity: 4,
          shippedQuantity: null,
        }),
      ]);
      expect((await repo.needs('po_1')).map((n) => [n.orderId, n.lane, n.quantity, n.orderState])).toEqual([
        ['ord_1', LANE.lane, 6, 'open'],
        ['ord_2', 'l2', 6, 'open'],
      ]);
      expect(await repo.needOf('ord_2')).toEqual({ poId: 'po_1', lineId: line });
      // A second PO cannot take a need the first holds.
      await repo.move('po_1', 'draft', 'sent', T0 + 1);
      await repo.insert(draft('po_2'));
      const other = await repo.addToLine('po_2', 'cola-330', 6, 0);
      expect(await repo.addNeed('ord_1', 'po_2', other, T0 + 2)).toBe(false);
      expect(await repo.unattached(10)).toEqual([]);
      await opened.store.orders.insert(newOrder('ord_3', { lane: 'l3' }));
      expect(await repo.unattached(10)).toEqual(['ord_3']);
    });

    it('sets line figures and proposals, bumps versions, and keeps events in order', async () => {
      await repo.insert(draft('po_1'));
      const line = await repo.addToLine('po_1', 'cola-330', 6, 0);
      await repo.setLineShipped(line, 5);
      await repo.setLineReceived(line, 4);
      await repo.setProposal(line, { quantity: 12, note: 'trays', by: 'acme-bot', at: T0 + 1 });
      expect(await repo.lineById(line)).toMatchObject({
        shippedQuantity: 5,
        receivedQuantity: 4,
        proposedQuantity: 12,
        proposalNote: 'trays',
        proposedBy: 'acme-bot',
        proposedAt: T0 + 1,
      });
      await repo.setProposal(line, null);
      await repo.setLineQuantity(line, 12);
      expect(await repo.line('po_1', 'cola-330')).toMatchObject({ quantity: 12, proposedQuantity: null });
      await repo.touch('po_1', T0 + 2);
      await repo.markUrgent('po_1', T0 + 3);
      expect(await repo.get('po_1')).toMatchObject({ version: 2, urgent: 1, updatedAt: T0 + 3 });
      for (const [i, state] of (['sent', 'acknowledged', 'shipped'] as const).entries()) {
        await repo.insertEvent({
          eventId: `e${9 - i}`,
          poId: 'po_1',
          state,
          actor: null,
          body: state,
          ts: T0,
        });
      }
      expect(await repo.eventBodies('po_1')).toEqual(['sent', 'acknowledged', 'shipped']);
    });

    it('opens one discrepancy per line, resolves it once, and lists it with its PO', async () => {
      await repo.insert(draft('po_1'));
      const d = {
        id: 'dis_1',
        poId: 'po_1',
        sku: 'cola-330',
        kind: 'short' as const,
        expected: 6,
        counted: 4,
        now: T0,
      };
      expect(await repo.openDiscrepancy(d)).toBe(true);
      expect(await repo.openDiscrepancy({ ...d, id: 'dis_2' })).toBe(false);
      expect(await repo.discrepancy('dis_1')).toMatchObject({
        site: LANE.site,
        supplier: 'acme',
        state: 'open',
      });
      const r = { resolution: 'credit' as const, note: 'note 1', by: 'olga', now: T0 + 1 };
      expect(await repo.resolveDiscrepancy('dis_1', r)).toBe(true);
      expect(await repo.resolveDiscrepancy('dis_1', r)).toBe(false);
      expect(await repo.discrepanciesOf('po_1')).toEqual([
        expect.objectContaining({ id: 'dis_1', state: 'resolved', resolution: 'credit', resolvedBy: 'olga' }),
      ]);
      expect((await repo.discrepancies(10)).map((x) => x.id)).toEqual(['dis_1']);
    });

    it('lists by site, supplier and state, and gives the delivered POs’ lead times newest first', async () => {
      for (const [i, supplier] of ['acme', 'crunchy', 'acme'].entries()) {
        const id = `po_${i}`;
        await repo.insert({ ...draft(id, supplier), now: T0 + i });
        await repo.move(id, 'draft', 'sent', T0 + 10 * i);
        await repo.move(id, 'sent', 'acknowledged', T0 + 10 * i + 1);
        await repo.move(id, 'acknowledged', 'received', T0 + 10 * i + 5 + i);
      }
      expect((await repo.list({ supplier: 'acme' })).map((p) => p.id)).toEqual(['po_0', 'po_2']);
      expect((await repo.list({ state: 'received', limit: 1 })).map((p) => p.id)).toEqual(['po_0']);
      expect(await repo.leadTimes(LANE.site, 'acme', 10)).toEqual([
        { sentAt: T0 + 20, receivedAt: T0 + 27 },
        { sentAt: T0, receivedAt: T0 + 5 },
      ]);
    });
  });
}
