/**
 * Error codes of users, passwords and tokens, in the SHELF_ERR_* style of the contract's
 * ErrorCodes so callers and tests match on a code.
 */
import { isShelfError, ShelfError } from '@shelfsense/protocol';

export const AuthErrorCodes = {
  /** A user name, role, scope or password failed its checks. */
  INVALID: 'SHELF_ERR_INVALID',
  /** The user already exists. */
  EXISTS: 'SHELF_ERR_USER_EXISTS',
  /** No such user. */
  NOT_FOUND: 'SHELF_ERR_USER_NOT_FOUND',
  /** A token failed its signature, shape or expiry check. */
  TOKEN: 'SHELF_ERR_TOKEN',
  /** The user store or token secret could not be read or written. */
  STORE: 'SHELF_ERR_USER_STORE',
  /** A password reset token that is unknown, used or expired. */
  RESET: 'SHELF_ERR_RESET_TOKEN',
} as const;

export type AuthErrorCode = (typeof AuthErrorCodes)[keyof typeof AuthErrorCodes];

export class AuthError extends ShelfError<AuthErrorCode> {
  constructor(code: AuthErrorCode, message: string) {
    super(code, message);
    this.name = 'AuthError';
  }
}

export function isAuthError(err: unknown, code?: AuthErrorCode): err is AuthError {
  return err instanceof AuthError && isShelfError(err, code);
}
