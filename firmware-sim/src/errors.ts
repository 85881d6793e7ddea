/**
 * Error codes of the simulator, in the same `SHELF_ERR_*` style as the contract's ErrorCodes.
 * Validation failures use the contract's ShelfError (SHELF_ERR_INVALID, SHELF_ERR_FILE, ...); these
 * cover what only the simulator can get wrong.
 */
import { type Issue, isShelfError, ShelfError } from '@shelfsense/protocol';

export const SimErrorCodes = {
  /** A control request or action names a shelf, lane or channel that does not exist. */
  NOT_FOUND: 'SHELF_ERR_SIM_NOT_FOUND',
  /** socat could not create a pseudo-terminal pair. */
  PTY: 'SHELF_ERR_SIM_PTY',
  /** A serial device or TCP port could not be opened. */
  TRANSPORT: 'SHELF_ERR_SIM_TRANSPORT',
  /** The shelf's firmware binary (an MCU shelf) cannot be run: missing, not AVR, harness not built. */
  MCU: 'SHELF_ERR_SIM_MCU',
  /** The simulator was used after stop(). */
  STOPPED: 'SHELF_ERR_SIM_STOPPED',
  /** Control API: a route was called with the wrong HTTP method. */
  METHOD: 'SHELF_ERR_METHOD',
  /** Control API: a request body over the limit. */
  TOO_LARGE: 'SHELF_ERR_TOO_LARGE',
  /** Control API: an unexpected failure (a bug); logged with its stack. */
  INTERNAL: 'SHELF_ERR_INTERNAL',
} as const;

export type SimErrorCode = (typeof SimErrorCodes)[keyof typeof SimErrorCodes];

export class SimError extends ShelfError<SimErrorCode> {
  constructor(code: SimErrorCode, message: string, issues: readonly Issue[] = []) {
    super(code, message, issues);
    this.name = 'SimError';
  }
}

export function isSimError(err: unknown, code?: SimErrorCode): err is SimError {
  return err instanceof SimError && isShelfError(err, code);
}
