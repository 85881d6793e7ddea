/**
 * Query-string schemas shared by the routes: epoch-millisecond bounds with the API's default range
 * (the last 24 hours), comma-separated state lists, identifiers and limits.
 */
import { Id } from '@shelfsense/protocol';
import { z } from 'zod';
import { invalid } from './errors.js';

export const DAY_MS = 86_400_000;

/** Epoch milliseconds written as digits. */
export const EpochMsParam = z
  .string()
  .regex(/^\d{1,15}$/, 'epoch milliseconds (digits only)')
  .transform(Number);

export const IdParam = Id;

/** `a,b,c` → each one of `values`; the issue names the field. */
export function listParam<const T extends readonly [string, ...string[]]>(values: T) {
  return z
    .string()
    .transform((s) => s.split(',').map((v) => v.trim()))
    .pipe(z.array(z.enum(values)).min(1));
}

export function limitParam(max: number) {
  return z
    .string()
    .regex(/^\d{1,7}$/, 'a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(max));
}

export const RangeQuery = z.object({ from: EpochMsParam.optional(), to: EpochMsParam.optional() });

/** Fills in the default range (`to` = now, `from` = 24 hours before `to`) and checks from < to. */
export function resolveRange(q: { from?: number | undefined; to?: number | undefined }, now: number) {
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
