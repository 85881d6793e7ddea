import { describe, expect, it } from 'vitest';
import { matchOrders } from './analyse.js';

describe('orders matched to needs (device times)', () => {
  it('one order after each need: all matched', () => {
    expect(matchOrders([10, 100, 300], [12, 140, 301])).toEqual({
      matched: 3,
      missed: 0,
      duplicate: 0,
      false: 0,
    });
  });

  it('an order before any need is false', () => {
    expect(matchOrders([100], [50, 120])).toEqual({ matched: 1, missed: 0, duplicate: 0, false: 1 });
  });

  it('a second order for the same need is a duplicate', () => {
    expect(matchOrders([100, 500], [120, 130, 520])).toEqual({
      matched: 2,
      missed: 0,
      duplicate: 1,
      false: 0,
    });
  });

  it('needs no order answered are missed, skipped over or left at the end', () => {
    expect(matchOrders([10, 100, 300], [150])).toEqual({ matched: 1, missed: 2, duplicate: 0, false: 0 });
    expect(matchOrders([10], [])).toEqual({ matched: 0, missed: 1, duplicate: 0, false: 0 });
    expect(matchOrders([], [])).toEqual({ matched: 0, missed: 0, duplicate: 0, false: 0 });
  });

  it('an order never announced by webhook (time Infinity) answers the last need, if any', () => {
    expect(matchOrders([10], [Number.POSITIVE_INFINITY])).toEqual({
      matched: 1,
      missed: 0,
      duplicate: 0,
      false: 0,
    });
  });
});
