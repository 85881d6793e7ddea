import { canTransition, LIVE_STATES, orderQuantity, TRANSITIONS } from '@shelfsense/central/orders';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('orders: quantity = order-up-to − current, rounded up to pack size and MOQ', () => {
  it('rounds up to whole packs and at least the MOQ', () => {
    const p = { orderUpTo: 24, packSize: 6, minOrderQty: 1 };
    expect(orderQuantity(p, 3)).toBe(24); // need 21 → 4 packs
    expect(orderQuantity(p, 18)).toBe(6); // need 6 → 1 pack
    expect(orderQuantity(p, 19)).toBe(6); // need 5 → 1 pack
    expect(orderQuantity(p, 24)).toBe(0);
    expect(orderQuantity(p, 30)).toBe(0);
    expect(orderQuantity({ orderUpTo: 24, packSize: 6, minOrderQty: 12 }, 20)).toBe(12); // MOQ wins
    expect(orderQuantity({ orderUpTo: 24, packSize: 5, minOrderQty: 12 }, 20)).toBe(15); // MOQ, then packs
    expect(orderQuantity({ orderUpTo: 10, packSize: 1, minOrderQty: 1 }, 7)).toBe(3);
    expect(() => orderQuantity({ orderUpTo: 10, packSize: 0, minOrderQty: 1 }, 7)).toThrow(/packSize/);
  });

  it('always covers the need, in whole packs, at least the MOQ, and never a whole pack too many', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 48 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 0, max: 600 }),
        (orderUpTo, packSize, minOrderQty, current) => {
          const q = orderQuantity({ orderUpTo, packSize, minOrderQty }, current);
          const need = orderUpTo - current;
          if (need <= 0) return q === 0;
          return (
            q % packSize === 0 && q >= need && q >= minOrderQty && q - packSize < Math.max(need, minOrderQty)
          );
        },
      ),
      { seed: 42, numRuns: 2_000 },
    );
  });
});

describe('orders: state machine', () => {
  it('open → acknowledged → shipped → received → closed, or cancelled before shipping', () => {
    expect(TRANSITIONS).toEqual({
      open: ['acknowledged', 'cancelled'],
      acknowledged: ['shipped', 'received', 'cancelled'],
      shipped: ['received'],
      received: ['closed'],
      closed: [],
      cancelled: [],
    });
    expect(canTransition('shipped', 'cancelled')).toBe(false);
    expect(LIVE_STATES).toEqual(['open', 'acknowledged', 'shipped', 'received']);
  });
});
