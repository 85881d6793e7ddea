/**
 * Error codes of the outbox, in the SHELF_ERR_* style of `@shelfsense/protocol`. They are thrown as
 * ShelfError so `isShelfError(err)` holds and callers match on `err.code`.
 */
import { type ErrorCode, ShelfError } from '@shelfsense/protocol';

export const OutboxErrorCodes = {
  /** The outbox was used after close(). */
  CLOSED: 'SHELF_ERR_OUTBOX_CLOSED',
  /** Another live process (or another Outbox in this one) holds the directory. */
  LOCKED: 'SHELF_ERR_OUTBOX_LOCKED',
  /** A record could not be written or read back (disk full, I/O error). */
  IO: 'SHELF_ERR_OUTBOX_IO',
} as const;

export type OutboxErrorCode = (typeof OutboxErrorCodes)[keyof typeof OutboxErrorCodes];

/** A ShelfError carrying an outbox code (or a contract code). */
export function outboxError(
  code: OutboxErrorCode | ErrorCode,
  message: string,
  cause?: unknown,
): ShelfError<OutboxErrorCode | ErrorCode> {
  const err = new ShelfError(code, message);
  if (cause !== undefined) (err as Error & { cause?: unknown }).cause = cause;
  return err;
}
