/**
 * Typed errors with stable codes, so callers and tests match on a code rather than a sentence.
 */
export const ErrorCodes = {
  /** A serial line failed its CRC-16 check. */
  CHECKSUM: 'SHELF_ERR_CHECKSUM',
  /** A serial line is not of the form `BODY*XXXX`, or holds bytes outside printable ASCII. */
  FRAMING: 'SHELF_ERR_FRAMING',
  /** A serial line is longer than the protocol allows. */
  TOO_LONG: 'SHELF_ERR_TOO_LONG',
  /** A serial line has a message type this side does not know. */
  UNKNOWN_TYPE: 'SHELF_ERR_UNKNOWN_TYPE',
  /** A serial line has the right type but a field is missing or out of range. */
  FIELD: 'SHELF_ERR_FIELD',
  /** Input at a boundary (config, payload, HTTP body, CLI flag) failed its schema. */
  INVALID: 'SHELF_ERR_INVALID',
  /** A topic is not part of the Shelfsense topic tree. */
  TOPIC: 'SHELF_ERR_TOPIC',
  /** A file could not be read or parsed. */
  FILE: 'SHELF_ERR_FILE',
  /** A command-line usage error. */
  USAGE: 'SHELF_ERR_USAGE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface Issue {
  /** Dotted path of the offending field, e.g. `lanes.2.unitWeightG`; empty for the whole input. */
  path: string;
  message: string;
}

/**
 * Any error code: one of the contract's ErrorCodes, or a module's own code in the same style
 * (`SHELF_ERR_USER_EXISTS`, `SHELF_ERR_HISTORY_UNAVAILABLE`, ...).
 */
export type ShelfErrorCode = `SHELF_ERR_${string}`;

/**
 * The one error base of every package. A module with codes of its own extends it with its code
 * union (`class AuthError extends ShelfError<AuthErrorCode>`), so `isShelfError(err)` holds for
 * every Shelfsense error and `code` and `issues` always come from here.
 */
export class ShelfError<C extends ShelfErrorCode = ShelfErrorCode> extends Error {
  readonly code: C;
  readonly issues: readonly Issue[];

  constructor(code: C, message: string, issues: readonly Issue[] = []) {
    super(message);
    this.name = 'ShelfError';
    this.code = code;
    this.issues = issues;
  }
}

/** True for any Shelfsense error (a ShelfError or one of its subclasses), with `code` if given. */
export function isShelfError<C extends ShelfErrorCode = ShelfErrorCode>(
  err: unknown,
  code?: C,
): err is ShelfError<C> {
  return err instanceof ShelfError && (code === undefined || err.code === code);
}
