/**
 * One error base: every error class with a code, in every package, is a ShelfError, so
 * `isShelfError(err)` holds and `code` and `issues` come from the base. A new class that extends
 * Error directly, or re-declares `code`, fails here.
 */
import { isPipelineError, OutboxErrorCodes, PipelineError, PipelineErrorCodes } from '@shelfsense/agent';
import { outboxError } from '@shelfsense/agent/testing';
import { AuthError, AuthErrorCodes, isAuthError } from '@shelfsense/broker';
import { GuardError, PasswordInputError, SessionFullError } from '@shelfsense/broker/testing';
import { HistoryError, HistoryErrorCodes, isHistoryError } from '@shelfsense/central/history';
import {
  CommandRelayError,
  CommandRelayErrorCodes,
  HttpError,
  HttpErrorCodes,
  mapError,
} from '@shelfsense/central/http';
import { isReplenishmentError, ReplenishmentError, ReplenishmentErrorCodes } from '@shelfsense/central/store';
import {
  HomeAssistantError,
  HomeAssistantErrorCodes,
  isHomeAssistantError,
  isNodeRedError,
  NodeRedError,
  NodeRedErrorCodes,
  notFound,
  unauthenticated,
} from '@shelfsense/central/testing';
import {
  ControlServer,
  type ControlTarget,
  isSimError,
  SimError,
  SimErrorCodes,
} from '@shelfsense/firmware-sim';
import { ErrorCodes, type Issue, isShelfError, ShelfError } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';

const issues: Issue[] = [{ path: 'a.b', message: 'bad' }];

interface Case {
  err: Error;
  cls: abstract new (...args: never[]) => Error;
  name: string;
  code: string;
  issues?: readonly Issue[];
}

const cases: Case[] = [
  {
    err: new AuthError(AuthErrorCodes.EXISTS, 'user "x" already exists'),
    cls: AuthError,
    name: 'AuthError',
    code: 'SHELF_ERR_USER_EXISTS',
  },
  {
    err: new HttpError(409, HttpErrorCodes.CONFLICT, 'changed', issues, { 'X-A': '1' }),
    cls: HttpError,
    name: 'HttpError',
    code: 'SHELF_ERR_CONFLICT',
    issues,
  },
  {
    err: new ReplenishmentError(ReplenishmentErrorCodes.TRANSITION, 'no', issues),
    cls: ReplenishmentError,
    name: 'ReplenishmentError',
    code: 'SHELF_ERR_TRANSITION',
    issues,
  },
  {
    err: new HomeAssistantError(HomeAssistantErrorCodes.PUBLISH, 'late'),
    cls: HomeAssistantError,
    name: 'HomeAssistantError',
    code: 'SHELF_ERR_HA_PUBLISH',
  },
  {
    err: new GuardError('internals changed'),
    cls: GuardError,
    name: 'GuardError',
    code: 'SHELF_ERR_BROKER_GUARD',
  },
  {
    err: new SessionFullError('session bytes over the user limit'),
    cls: SessionFullError,
    name: 'SessionFullError',
    code: 'SHELF_ERR_SESSION_FULL',
  },
  {
    err: new HistoryError(HistoryErrorCodes.REJECTED, 'bad point', 400),
    cls: HistoryError,
    name: 'HistoryError',
    code: 'SHELF_ERR_HISTORY_REJECTED',
  },
  {
    err: new PasswordInputError('cancelled'),
    cls: PasswordInputError,
    name: 'PasswordInputError',
    code: 'SHELF_ERR_USAGE',
  },
  {
    err: new CommandRelayError(CommandRelayErrorCodes.TIMEOUT, 'no answer'),
    cls: CommandRelayError,
    name: 'CommandRelayError',
    code: 'SHELF_ERR_TIMEOUT',
  },
  {
    err: new NodeRedError(NodeRedErrorCodes.REQUEST, 'refused', issues),
    cls: NodeRedError,
    name: 'NodeRedError',
    code: 'SHELF_ERR_NODERED_REQUEST',
    issues,
  },
  {
    err: new SimError(SimErrorCodes.NOT_FOUND, 'no shelf', issues),
    cls: SimError,
    name: 'SimError',
    code: 'SHELF_ERR_SIM_NOT_FOUND',
    issues,
  },
  {
    err: new PipelineError(PipelineErrorCodes.NOT_STABLE, 'not settled', issues),
    cls: PipelineError,
    name: 'PipelineError',
    code: 'SHELF_ERR_NOT_STABLE',
    issues,
  },
  {
    err: outboxError(OutboxErrorCodes.LOCKED, 'held'),
    cls: ShelfError,
    name: 'ShelfError',
    code: 'SHELF_ERR_OUTBOX_LOCKED',
  },
];

describe('every error class is a ShelfError', () => {
  it.each(cases)('$name $code', ({ err, cls, name, code, issues: expected }) => {
    expect(err).toBeInstanceOf(ShelfError);
    expect(err).toBeInstanceOf(cls);
    expect(err).toBeInstanceOf(Error);
    expect(isShelfError(err)).toBe(true);
    expect(isShelfError(err, code as `SHELF_ERR_${string}`)).toBe(true);
    expect(isShelfError(err, 'SHELF_ERR_SOMETHING_ELSE')).toBe(false);
    expect(err.name).toBe(name);
    expect((err as ShelfError).code).toBe(code);
    expect((err as ShelfError).issues).toEqual(expected ?? []);
  });

  it('keeps the extra fields of HttpError and HistoryError', () => {
    const http = new HttpError(429, HttpErrorCodes.RATE_LIMITED, 'slow down', [], { 'Retry-After': '3' });
    expect(http.status).toBe(429);
    expect(http.headers).toEqual({ 'Retry-After': '3' });
    expect(http.message).toBe('slow down');
    expect(unauthenticated('no token').headers).toEqual({ 'WWW-Authenticate': 'Bearer' });
    expect(new HistoryError(HistoryErrorCodes.UNAVAILABLE, 'down').status).toBeNull();
    expect(new HistoryError(HistoryErrorCodes.REJECTED, 'bad', 422).status).toBe(422);
  });
});

describe('the per-module guards', () => {
  it('match their own class, with or without a code', () => {
    expect(isAuthError(new AuthError(AuthErrorCodes.TOKEN, 'x'), AuthErrorCodes.TOKEN)).toBe(true);
    expect(isAuthError(new AuthError(AuthErrorCodes.TOKEN, 'x'), AuthErrorCodes.STORE)).toBe(false);
    expect(isReplenishmentError(new ReplenishmentError(ReplenishmentErrorCodes.CONFLICT, 'x'))).toBe(true);
    expect(isHistoryError(new HistoryError(HistoryErrorCodes.CORRUPT, 'x'), HistoryErrorCodes.CORRUPT)).toBe(
      true,
    );
    expect(isHomeAssistantError(new HomeAssistantError(HomeAssistantErrorCodes.PUBLISH, 'x'))).toBe(true);
    expect(isNodeRedError(new NodeRedError(NodeRedErrorCodes.START, 'x'), NodeRedErrorCodes.START)).toBe(
      true,
    );
    expect(isSimError(new SimError(SimErrorCodes.PTY, 'x'), SimErrorCodes.PTY)).toBe(true);
    expect(isPipelineError(new PipelineError(PipelineErrorCodes.CALIBRATION, 'x'))).toBe(true);
  });

  it('do not match a plain ShelfError or another class that shares the code', () => {
    const invalid = new ShelfError(ErrorCodes.INVALID, 'bad input');
    expect(isAuthError(invalid)).toBe(false);
    expect(isAuthError(invalid, AuthErrorCodes.INVALID)).toBe(false);
    const notFoundReplenishment = new ReplenishmentError(ReplenishmentErrorCodes.NOT_FOUND, 'no order');
    expect(isSimError(notFoundReplenishment)).toBe(false);
    expect(isReplenishmentError(notFound('no lane'))).toBe(false);
    expect(isHistoryError(new Error('plain'))).toBe(false);
    expect(isShelfError(new Error('plain'))).toBe(false);
  });
});

describe('HTTP status mapping is unchanged', () => {
  const cases: [string, unknown, number, string][] = [
    ['HttpError', new HttpError(403, HttpErrorCodes.FORBIDDEN, 'no'), 403, 'SHELF_ERR_FORBIDDEN'],
    ['contract INVALID', new ShelfError(ErrorCodes.INVALID, 'bad', issues), 400, 'SHELF_ERR_INVALID'],
    [
      'replenishment NOT_FOUND',
      new ReplenishmentError(ReplenishmentErrorCodes.NOT_FOUND, 'no order'),
      404,
      'SHELF_ERR_NOT_FOUND',
    ],
    [
      'replenishment TRANSITION',
      new ReplenishmentError(ReplenishmentErrorCodes.TRANSITION, 'no'),
      409,
      'SHELF_ERR_TRANSITION',
    ],
    [
      'replenishment STORE',
      new ReplenishmentError(ReplenishmentErrorCodes.STORE, 'disk'),
      500,
      'SHELF_ERR_INTERNAL',
    ],
    [
      'history UNAVAILABLE',
      new HistoryError(HistoryErrorCodes.UNAVAILABLE, 'down'),
      503,
      'SHELF_ERR_HISTORY_UNAVAILABLE',
    ],
    ['history REJECTED', new HistoryError(HistoryErrorCodes.REJECTED, 'bad'), 500, 'SHELF_ERR_INTERNAL'],
    [
      'auth TOKEN',
      new AuthError(AuthErrorCodes.TOKEN, 'token rejected: expired'),
      401,
      'SHELF_ERR_UNAUTHENTICATED',
    ],
    // An AuthError INVALID is a fault of ours (a bad token lifetime), as before: not a 400.
    ['auth INVALID', new AuthError(AuthErrorCodes.INVALID, 'token lifetime'), 500, 'SHELF_ERR_INTERNAL'],
    ['pipeline', new PipelineError(PipelineErrorCodes.NOT_STABLE, 'x'), 500, 'SHELF_ERR_INTERNAL'],
    ['relay', new CommandRelayError(CommandRelayErrorCodes.TIMEOUT, 'x'), 500, 'SHELF_ERR_INTERNAL'],
    ['plain Error', new Error('boom'), 500, 'SHELF_ERR_INTERNAL'],
  ];

  it.each(cases)('%s → %i %s', (_what, err, status, code) => {
    const m = mapError(err);
    expect(m.status).toBe(status);
    expect(m.body.error.code).toBe(code);
  });

  it('keeps message, issues and headers', () => {
    const m = mapError(new ShelfError(ErrorCodes.INVALID, 'invalid body: a.b: bad', issues));
    expect(m.body).toEqual({
      error: { code: 'SHELF_ERR_INVALID', message: 'invalid body: a.b: bad', issues },
    });
    const u = mapError(new AuthError(AuthErrorCodes.TOKEN, 'token rejected: expired'));
    expect(u.body.error.message).toBe('token rejected: expired');
    expect(u.headers).toEqual({ 'WWW-Authenticate': 'Bearer' });
    expect(mapError(new HistoryError(HistoryErrorCodes.UNAVAILABLE, 'x')).headers).toEqual({
      'Retry-After': '5',
    });
  });
});

describe('the simulator control API still maps a SimError by its code', () => {
  let server: ControlServer | null = null;
  afterEach(async () => {
    await server?.stop();
    server = null;
  });

  it('answers 404 for SIM_NOT_FOUND and 400 for a contract error', async () => {
    const target: ControlTarget = {
      listShelves: () => [],
      describeShelf: (serial) => {
        throw new SimError(SimErrorCodes.NOT_FOUND, `no shelf ${serial}`);
      },
      truthOf: () => {
        throw new ShelfError(ErrorCodes.INVALID, 'bad seq', issues);
      },
      allTruth: () => ({}),
      apply: () => null,
    };
    const log = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;
    server = new ControlServer(target, log);
    await server.start();
    const missing = await fetch(`${server.url}/shelves/S-9`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      code: 'SHELF_ERR_SIM_NOT_FOUND',
      message: 'no shelf S-9',
      issues: [],
    });
    const invalid = await fetch(`${server.url}/shelves/S-9/truth`);
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({ code: 'SHELF_ERR_INVALID', message: 'bad seq', issues });
  });
});
