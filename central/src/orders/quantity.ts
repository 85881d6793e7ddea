/**
 * How much to order: enough to bring the lane back to its order-up-to level, rounded up to whole
 * packs and to at least the minimum order quantity (an (s, S) policy with pack constraints).
 */
export interface QuantityPolicy {
  orderUpTo: number;
  packSize: number;
  minOrderQty: number;
}

/**
 * `orderUpTo − current`, raised to the MOQ, then rounded up to a multiple of the pack size (so the
 * result satisfies both). 0 when the lane is already at or above its order-up-to level.
 */
export function orderQuantity(policy: QuantityPolicy, current: number): number {
  const { orderUpTo, packSize, minOrderQty } = policy;
  for (const [k, v] of Object.entries({ orderUpTo, packSize, minOrderQty })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${k} must be a positive integer, got ${v}`);
  }
  if (!Number.isFinite(current)) throw new RangeError(`current must be a number, got ${current}`);
  const need = orderUpTo - Math.max(0, Math.floor(current));
  if (need <= 0) return 0;
  return Math.ceil(Math.max(need, minOrderQty) / packSize) * packSize;
}
