/**
 * Error codes of the replenishment core (store, rules, orders, webhooks), in the same
 * `SHELF_ERR_*` style as the contract's ErrorCodes, so the HTTP layer can map a code to a status.
 */
import { type Issue, isShelfError, ShelfError } from '@shelfsense/protocol';

export const ReplenishmentErrorCodes = {
  /** The database file could not be opened, or a statement failed. */
  STORE: 'SHELF_ERR_STORE',
  /** The database was written by a newer Shelfsense (its schema version is ahead of this code). */
  SCHEMA_TOO_NEW: 'SHELF_ERR_SCHEMA_TOO_NEW',
  /** No order, alert or outbox entry with that id. */
  NOT_FOUND: 'SHELF_ERR_NOT_FOUND',
  /** An order or alert transition that its state machine does not allow. */
  TRANSITION: 'SHELF_ERR_TRANSITION',
  /** The state changed under the caller (optimistic check failed). */
  CONFLICT: 'SHELF_ERR_CONFLICT',
  /** A lane has no usable replenishment policy (no reorder point or order-up-to level). */
  NO_POLICY: 'SHELF_ERR_NO_POLICY',
  /** A webhook request failed verification (missing header, bad signature, stale timestamp). */
  WEBHOOK_SIGNATURE: 'SHELF_ERR_WEBHOOK_SIGNATURE',
} as const;

export type ReplenishmentErrorCode = (typeof ReplenishmentErrorCodes)[keyof typeof ReplenishmentErrorCodes];

export class ReplenishmentError extends ShelfError<ReplenishmentErrorCode> {
  constructor(code: ReplenishmentErrorCode, message: string, issues: readonly Issue[] = []) {
    super(code, message, issues);
    this.name = 'ReplenishmentError';
  }
}

export function isReplenishmentError(err: unknown, code?: ReplenishmentErrorCode): err is ReplenishmentError {
  return err instanceof ReplenishmentError && isShelfError(err, code);
}
