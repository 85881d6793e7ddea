/**
 * Error codes of Home Assistant discovery, in the SHELF_ERR_* style of the contract's ErrorCodes.
 */
export const HomeAssistantErrorCodes = {
  /** The broker did not take the discovery messages in time (unreachable, or refusing them). */
  PUBLISH: 'SHELF_ERR_HA_PUBLISH',
} as const;

export type HomeAssistantErrorCode = (typeof HomeAssistantErrorCodes)[keyof typeof HomeAssistantErrorCodes];

export class HomeAssistantError extends Error {
  readonly code: HomeAssistantErrorCode;

  constructor(code: HomeAssistantErrorCode, message: string) {
    super(message);
    this.name = 'HomeAssistantError';
    this.code = code;
  }
}
