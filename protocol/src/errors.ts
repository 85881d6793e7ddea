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

export class ShelfError extends Error {
  readonly code: ErrorCode;
  readonly issues: readonly Issue[];

  constructor(code: ErrorCode, message: string, issues: readonly Issue[] = []) {
    super(message);
    this.name = 'ShelfError';
    this.code = code;
    this.issues = issues;
  }
}

export function isShelfError(err: unknown, code?: ErrorCode): err is ShelfError {
  return err instanceof ShelfError && (code === undefined || err.code === code);
}
