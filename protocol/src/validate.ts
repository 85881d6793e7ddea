import type { $ZodError, output } from 'zod/v4/core';
import { ErrorCodes, type Issue, ShelfError } from './errors.js';
import type { AnySchema } from './zod.js';
import * as z from './zod.js';

/** Turns zod issues into `{path, message}` pairs with dotted paths. */
export function toIssues(error: $ZodError): Issue[] {
  return error.issues.map((i) => ({
    path: i.path.map((p) => String(p)).join('.'),
    message: i.message,
  }));
}

/** One line per issue: `field.path: message`. */
export function formatIssues(issues: readonly Issue[]): string {
  return issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
}

/**
 * Validates `input` against `schema`; on failure throws a ShelfError (code SHELF_ERR_INVALID) whose
 * message names `what` and every offending field.
 */
export function parseWith<S extends AnySchema>(schema: S, input: unknown, what: string): output<S> {
  const result = z.safeParse(schema, input);
  if (result.success) return result.data;
  const issues = toIssues(result.error);
  throw new ShelfError(ErrorCodes.INVALID, `invalid ${what}: ${formatIssues(issues)}`, issues);
}

/** Parses a JSON text then validates it; a syntax error is reported as an invalid payload too. */
export function parseJsonWith<S extends AnySchema>(
  schema: S,
  text: string | Uint8Array,
  what: string,
): output<S> {
  let value: unknown;
  try {
    value = JSON.parse(typeof text === 'string' ? text : Buffer.from(text).toString('utf8'));
  } catch (err) {
    const issues = [{ path: '', message: `not JSON (${(err as Error).message})` }];
    throw new ShelfError(ErrorCodes.INVALID, `invalid ${what}: ${formatIssues(issues)}`, issues);
  }
  return parseWith(schema, value, what);
}

/** Deep-freezes a validated config so no part can change it behind the others' backs. */
export function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
