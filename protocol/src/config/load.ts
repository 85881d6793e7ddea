import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { output } from 'zod/v4/core';
import { ErrorCodes, ShelfError } from '../errors.js';
import { deepFreeze, parseWith } from '../validate.js';
import type { AnySchema } from '../zod.js';

/**
 * Reads a YAML (or JSON) file, validates it with `schema`, and returns the frozen result.
 * Every problem is reported with its field path; nothing half-valid is returned.
 */
export function loadConfigFile<S extends AnySchema>(
  schema: S,
  file: string,
  what: string,
): Readonly<output<S>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ShelfError(ErrorCodes.FILE, `cannot read ${what} ${file}: ${(err as Error).message}`);
  }
  return parseConfigText(schema, text, `${what} ${file}`);
}

export function parseConfigText<S extends AnySchema>(
  schema: S,
  text: string,
  what: string,
): Readonly<output<S>> {
  let doc: unknown;
  try {
    // Errors throw; warnings (an unknown tag, a stray directive) are not printed to stderr behind
    // the structured logs: what such a document means is judged by the schema.
    doc = parseYaml(text, { logLevel: 'error' });
  } catch (err) {
    throw new ShelfError(ErrorCodes.FILE, `${what} is not valid YAML: ${(err as Error).message}`);
  }
  return deepFreeze(parseWith(schema, doc ?? {}, what));
}
