/**
 * The API's default time range (the last 24 hours) for a `RangeQuery` (the contract's query schema
 * of the history route and the CSV export).
 */
import type { RangeQuery } from '@shelfsense/protocol';
import { invalid } from './errors.js';

export const DAY_MS = 86_400_000;

/** Fills in the default range (`to` = now, `from` = 24 hours before `to`) and checks from < to. */
export function resolveRange(q: RangeQuery, now: number) {
  const to = q.to ?? now;
  const from = q.from ?? Math.max(0, to - DAY_MS);
  if (!(from < to)) {
    throw invalid(
      'query',
      q.to !== undefined
        ? [{ path: 'to', message: 'must be after from' }]
        : [{ path: 'from', message: 'must be before to (default: now)' }],
    );
  }
  return { from, to };
}
