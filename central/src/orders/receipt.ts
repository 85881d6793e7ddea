/**
 * Weight-confirmed goods receipt, as pure functions over the lane's restock steps.
 *
 * While a lane's order is acknowledged or shipped, each restock gain on that lane is a candidate
 * delivery step — unless it matches a pick of the same size on a neighbouring lane (another lane of
 * the same shelf) within `moveWindowMs`: that is an item moved, not a delivery. A step becomes
 * confirmed once a reading at least `moveWindowMs` newer has been seen without such a pick turning
 * up. Confirmed steps within `windowMs` of each other add up (a delivery shelved in several
 * handfuls); when their sum is within tolerance of the shipped quantity, the order is received with
 * the counted sum.
 */
export interface ReceiptSettings {
  toleranceItems: number;
  toleranceFraction: number;
  windowMs: number;
  moveWindowMs: number;
}

export interface Step {
  ts: number;
  /** Items gained (positive). */
  delta: number;
}

/** Largest allowed difference between counted and expected items. */
export function receiptTolerance(
  expected: number,
  s: Pick<ReceiptSettings, 'toleranceItems' | 'toleranceFraction'>,
) {
  return Math.max(s.toleranceItems, Math.ceil(s.toleranceFraction * expected));
}

export function matchesDelivery(
  counted: number,
  expected: number,
  s: Pick<ReceiptSettings, 'toleranceItems' | 'toleranceFraction'>,
): boolean {
  return counted > 0 && Math.abs(counted - expected) <= receiptTolerance(expected, s);
}

/** True when `gain` on one lane and `pick` on another are the same items moving. */
export function isMovePair(gain: Step, pick: Step, moveWindowMs: number): boolean {
  return pick.delta === -gain.delta && Math.abs(pick.ts - gain.ts) <= moveWindowMs;
}

/** Removes the first pending step that a neighbour's pick explains; returns whether one was removed. */
export function cancelMovedStep(steps: Step[], pick: Step, moveWindowMs: number): boolean {
  const i = steps.findIndex((s) => isMovePair(s, pick, moveWindowMs));
  if (i < 0) return false;
  steps.splice(i, 1);
  return true;
}

/**
 * A delivery that ended different from what was expected (short or over): once every step is
 * confirmed and none has come for `windowMs`, the sum of the last window's steps, else null. The
 * rules take this only for a shipped order, whose quantity the supplier declared; the purchase
 * order then opens a discrepancy instead of waiting for goods that will not come.
 */
export function settledDelivery(steps: readonly Step[], nowTs: number, s: ReceiptSettings): number | null {
  const last = steps[steps.length - 1];
  if (!last || last.ts + s.moveWindowMs > nowTs || last.ts + s.windowMs > nowTs) return null;
  const sum = steps.filter((x) => x.ts >= last.ts - s.windowMs).reduce((a, x) => a + x.delta, 0);
  return sum > 0 ? sum : null;
}

/**
 * The confirmed delivery, if the steps now add up to one: returns the counted quantity, or null.
 * `nowTs` is the newest reading timestamp seen on the lane. Steps too old to belong to a delivery
 * ending now are dropped from `steps` in place.
 */
export function confirmedDelivery(
  steps: Step[],
  expected: number,
  nowTs: number,
  s: ReceiptSettings,
): number | null {
  const confirmed = steps.filter((x) => x.ts + s.moveWindowMs <= nowTs);
  if (confirmed.length === 0) return null;
  const last = confirmed[confirmed.length - 1] as Step;
  const sum = confirmed.filter((x) => x.ts >= last.ts - s.windowMs).reduce((a, x) => a + x.delta, 0);
  // Forget steps that can no longer be part of any delivery.
  for (let i = steps.length - 1; i >= 0; i--) {
    if ((steps[i] as Step).ts < nowTs - s.windowMs - s.moveWindowMs) steps.splice(i, 1);
  }
  return matchesDelivery(sum, expected, s) ? sum : null;
}
