/**
 * What every route of the HTTP API shares: the empty body, the one error body, and the pieces of
 * query strings (epoch milliseconds, comma lists, limits). Query values arrive as strings, so each
 * piece checks the text and turns it into the value; every issue names its field.
 */
import * as z from '../zod.js';

/**
 * A field that may be null. Left out, it reads as null: a central older than the field leaves it
 * out, and a reader then treats it as not known yet.
 */
export const orNull = <T extends z.ZodMiniType>(schema: T) => z._default(z.nullable(schema), null);

/** The body of an action that takes no arguments: `{}` (or nothing); any key is refused. */
export const EmptyBody = z.strictObject({});
export type EmptyBody = z.infer<typeof EmptyBody>;

/** Every error answer: `issues` names each offending field (a 400 from a schema). */
export const ApiErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    issues: z.optional(z.array(z.object({ path: z.string(), message: z.string() }))),
  }),
  /** On a 409 for a stale revision: the object as it is now. */
  current: z.optional(z.unknown()),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

/** Epoch milliseconds written as digits. */
export const EpochMsParam = z.pipe(
  z.string().check(z.regex(/^\d{1,15}$/, 'epoch milliseconds (digits only)')),
  z.transform(Number),
);

/** `a,b,c` → each one of `values`; an issue names the item (`state.1`). */
export function listParam<const T extends readonly [string, ...string[]]>(values: T) {
  return z.pipe(
    z.pipe(
      z.string(),
      z.transform((s: string) => s.split(',').map((v) => v.trim())),
    ),
    z.array(z.enum(values)).check(z.minLength(1)),
  );
}

/** A whole number of rows from 1 to `max`. */
export function limitParam(max: number) {
  return z.pipe(
    z.pipe(z.string().check(z.regex(/^\d{1,7}$/, 'a whole number')), z.transform(Number)),
    z.number().check(z.int(), z.minimum(1), z.maximum(max)),
  );
}

/** `from` and `to` in epoch ms; the route fills in the default range (the last 24 hours). */
export const RangeQuery = z.object({ from: z.optional(EpochMsParam), to: z.optional(EpochMsParam) });
export type RangeQuery = z.infer<typeof RangeQuery>;
