/**
 * Error codes of the history stores, in the contract's `SHELF_ERR_*` style. A writer retries on
 * HISTORY_UNAVAILABLE and gives a batch up on HISTORY_REJECTED (sending it again cannot help).
 */
import { isShelfError, ShelfError } from '@shelfsense/protocol';

export const HistoryErrorCodes = {
  /** The history database cannot be reached, timed out, or answered 5xx: try again later. */
  UNAVAILABLE: 'SHELF_ERR_HISTORY_UNAVAILABLE',
  /** The history database refused the request (bad point, type conflict, bad credentials, bad query). */
  REJECTED: 'SHELF_ERR_HISTORY_REJECTED',
  /** A row read back from the history database does not have the expected shape. */
  CORRUPT: 'SHELF_ERR_HISTORY_CORRUPT',
} as const;

export type HistoryErrorCode = (typeof HistoryErrorCodes)[keyof typeof HistoryErrorCodes];

export class HistoryError extends ShelfError<HistoryErrorCode> {
  /** HTTP status from the database, when it answered. */
  readonly status: number | null;

  constructor(code: HistoryErrorCode, message: string, status: number | null = null) {
    super(code, message);
    this.name = 'HistoryError';
    this.status = status;
  }
}

export function isHistoryError(err: unknown, code?: HistoryErrorCode): err is HistoryError {
  return err instanceof HistoryError && isShelfError(err, code);
}
