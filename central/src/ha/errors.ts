/**
 * Error codes of Home Assistant discovery, in the SHELF_ERR_* style of the contract's ErrorCodes.
 */
import { isShelfError, ShelfError } from '@shelfsense/protocol';

export const HomeAssistantErrorCodes = {
  /** The broker did not take the discovery messages in time (unreachable, or refusing them). */
  PUBLISH: 'SHELF_ERR_HA_PUBLISH',
  /** A bridge's settings cannot be used (a TLS file that cannot be read). */
  CONFIG: 'SHELF_ERR_HA_CONFIG',
} as const;

export type HomeAssistantErrorCode = (typeof HomeAssistantErrorCodes)[keyof typeof HomeAssistantErrorCodes];

export class HomeAssistantError extends ShelfError<HomeAssistantErrorCode> {
  constructor(code: HomeAssistantErrorCode, message: string) {
    super(code, message);
    this.name = 'HomeAssistantError';
  }
}

export function isHomeAssistantError(err: unknown, code?: HomeAssistantErrorCode): err is HomeAssistantError {
  return err instanceof HomeAssistantError && isShelfError(err, code);
}
