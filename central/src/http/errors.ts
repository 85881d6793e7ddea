/**
 * HTTP error codes and the one JSON error shape of the API (docs/http-api.md; `ApiErrorBody` in
 * the contract):
 *
 *   { "error": { "code": "SHELF_ERR_…", "message": "…", "issues": [{ "path", "message" }] } }
 *
 * Errors from the other parts (contract, store, orders, auth) are mapped to a status by their
 * code, so a handler simply throws and the API answers.
 */

import { isAuthError } from '@shelfsense/broker';
import {
  type ApiErrorBody,
  ErrorCodes,
  type Issue,
  isShelfError,
  ShelfError,
  type ShelfErrorCode,
} from '@shelfsense/protocol';
import { CatalogueConflictError } from '../catalogue/edit.js';
import { HistoryErrorCodes, isHistoryError } from '../history/errors.js';
import { isReplenishmentError, ReplenishmentErrorCodes } from '../store/errors.js';

export const HttpErrorCodes = {
  INVALID: ErrorCodes.INVALID,
  /** No token, a bad one, an expired one, or a wrong user name or password. */
  UNAUTHENTICATED: 'SHELF_ERR_UNAUTHENTICATED',
  /** The role may not take this action on something it can see. */
  FORBIDDEN: 'SHELF_ERR_FORBIDDEN',
  /** Absent, or outside the user's scope (the two are indistinguishable on purpose). */
  NOT_FOUND: ReplenishmentErrorCodes.NOT_FOUND,
  /** The path exists but not with this method. */
  METHOD: 'SHELF_ERR_METHOD',
  TRANSITION: ReplenishmentErrorCodes.TRANSITION,
  CONFLICT: ReplenishmentErrorCodes.CONFLICT,
  /** A request body over the limit (64 KiB). */
  TOO_LARGE: 'SHELF_ERR_TOO_LARGE',
  /** A request body not sent as `Content-Type: application/json`. */
  UNSUPPORTED_MEDIA_TYPE: 'SHELF_ERR_UNSUPPORTED_MEDIA_TYPE',
  /** Too many failed logins for one user name or from one address. */
  RATE_LIMITED: 'SHELF_ERR_RATE_LIMITED',
  /** An agent did not answer a command in time. */
  TIMEOUT: 'SHELF_ERR_TIMEOUT',
  /** The command could not be sent (central is not connected to the broker). */
  UNAVAILABLE: 'SHELF_ERR_UNAVAILABLE',
  /** The history store (InfluxDB) cannot be reached or timed out; try again later. */
  HISTORY_UNAVAILABLE: HistoryErrorCodes.UNAVAILABLE,
  /** Anything unexpected; the details go to the log, not to the client. */
  INTERNAL: 'SHELF_ERR_INTERNAL',
} as const;

export type HttpErrorCode = (typeof HttpErrorCodes)[keyof typeof HttpErrorCodes];

export class HttpError extends ShelfError<ShelfErrorCode> {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: ShelfErrorCode,
    message: string,
    issues: readonly Issue[] = [],
    headers: Record<string, string> = {},
  ) {
    super(code, message, issues);
    this.name = 'HttpError';
    this.status = status;
    this.headers = headers;
  }
}

export const unauthenticated = (message: string) =>
  new HttpError(401, HttpErrorCodes.UNAUTHENTICATED, message, [], { 'WWW-Authenticate': 'Bearer' });
export const forbidden = (message: string) => new HttpError(403, HttpErrorCodes.FORBIDDEN, message);
export const notFound = (message: string) => new HttpError(404, HttpErrorCodes.NOT_FOUND, message);
export const invalid = (what: string, issues: Issue[]) =>
  new HttpError(
    400,
    HttpErrorCodes.INVALID,
    `invalid ${what}: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
    issues,
  );

export interface MappedError {
  status: number;
  body: ApiErrorBody;
  headers: Readonly<Record<string, string>>;
  /** True for a failure of ours (5xx, logged at error), false for a refused request. */
  internal: boolean;
}

const REPLENISHMENT_STATUS: Record<string, number> = {
  [ReplenishmentErrorCodes.NOT_FOUND]: 404,
  [ReplenishmentErrorCodes.TRANSITION]: 409,
  [ReplenishmentErrorCodes.CONFLICT]: 409,
};

function body(code: string, message: string, issues: readonly Issue[] = []): ApiErrorBody {
  return { error: issues.length ? { code, message, issues: [...issues] } : { code, message } };
}

/** The status, body and headers for any error a handler threw. */
export function mapError(err: unknown): MappedError {
  if (err instanceof HttpError) {
    return {
      status: err.status,
      body: body(err.code, err.message, err.issues),
      headers: err.headers,
      internal: err.status === 500,
    };
  }
  // An AuthError with SHELF_ERR_INVALID is a fault of ours (a token lifetime from the config), not bad input.
  if (!isAuthError(err) && isShelfError(err, ErrorCodes.INVALID)) {
    return { status: 400, body: body(err.code, err.message, err.issues), headers: {}, internal: false };
  }
  if (isReplenishmentError(err)) {
    const status = REPLENISHMENT_STATUS[err.code];
    if (status !== undefined) {
      const b = body(err.code, err.message, err.issues);
      // A stale catalogue edit answers with the object as it is now, so the client can reload it.
      if (err instanceof CatalogueConflictError) b.current = err.current;
      return { status, body: b, headers: {}, internal: false };
    }
  }
  if (isHistoryError(err, HistoryErrorCodes.UNAVAILABLE)) {
    // A failure of ours (logged at error with the cause), but one the client may retry.
    return {
      status: 503,
      body: body(err.code, 'the history store cannot be reached; try again later'),
      headers: { 'Retry-After': '5' },
      internal: true,
    };
  }
  if (isAuthError(err, 'SHELF_ERR_TOKEN')) {
    const e = unauthenticated(err.message);
    return { status: 401, body: body(e.code, e.message), headers: e.headers, internal: false };
  }
  return {
    status: 500,
    body: body(HttpErrorCodes.INTERNAL, 'internal error'),
    headers: {},
    internal: true,
  };
}
