/**
 * Logging in and the bearer check. `POST /api/login` trades a user name and password for a
 * short-lived signed token (the same token is the MQTT password over WebSocket); every other route
 * checks `Authorization: Bearer <token>` through the user store, the one check every way in
 * shares: spelling, signature, expiry, and that the user still exists with the role, scope and
 * password the token names (removing a user, changing its role or its password revokes its tokens).
 * Logins go through the user store's limiter, shared with MQTT and the Node-RED editor; the store
 * also reports each login, failed login and token issued to the audit trail (central wires its
 * listener in parts/http.ts), so this file writes no audit row of its own.
 */

import type { LimitReason, TokenClaims } from '@shelfsense/broker';
import { isAuthError } from '@shelfsense/broker';
import { EmptyBody, LoginBody, type LoginResponse } from '@shelfsense/protocol';
import { type ApiRouter, authed, type RequestContext } from './context.js';
import { HttpError, HttpErrorCodes, unauthenticated } from './errors.js';
import { readJson } from './io.js';
import { describeUser, type Principal } from './scope.js';

/** One message for an unknown user and a wrong password, so answers do not tell which names exist. */
export const LOGIN_FAILED = 'wrong user name or password';

const LIMITED: Record<LimitReason, string> = {
  name: 'too many failed logins for this user name; try again later',
  address: 'too many failed logins from this address; try again later',
  full: 'too many failed logins; try again later',
};

/** Verifies the request's bearer token; throws 401 saying why not. */
export function authenticate(ctx: RequestContext): Principal {
  const header = ctx.req.headers.authorization;
  if (!header) throw unauthenticated('no token: send Authorization: Bearer <token>');
  const m = /^Bearer +(\S+)\s*$/i.exec(header);
  if (!m) throw unauthenticated('the Authorization header is not "Bearer <token>"');
  let claims: TokenClaims;
  try {
    claims = ctx.deps.users.verifyToken(m[1] as string);
  } catch (err) {
    if (isAuthError(err)) throw unauthenticated(err.message);
    throw err;
  }
  return { user: claims.user, grant: claims.grant };
}

function session(ctx: RequestContext, p: Principal): LoginResponse {
  const token = ctx.deps.users.issueToken(p.user, ctx.deps.tokenTtlMs);
  const claims = ctx.deps.users.verifyToken(token);
  return {
    token,
    expiresAt: claims.expiresAt,
    user: describeUser({ user: claims.user, grant: claims.grant }),
  };
}

export function authRoutes(router: ApiRouter): void {
  router.add('POST', '/api/login', {
    auth: false,
    run: async (ctx) => {
      const body = await readJson(ctx.req, LoginBody);
      // The socket's address: a forwarded-for header is the client's to write.
      const address = ctx.req.socket.remoteAddress;
      const r = await ctx.deps.users.login(body.username, body.password, { address, channel: 'http' });
      if (r.identity === null && r.retryAfterMs !== undefined) {
        ctx.log.warn({ user: body.username, address, why: r.limited }, 'login refused: too many failures');
        throw new HttpError(429, HttpErrorCodes.RATE_LIMITED, LIMITED[r.limited ?? 'full'], [], {
          'Retry-After': String(Math.max(1, Math.ceil(r.retryAfterMs / 1000))),
        });
      }
      if (r.identity?.via !== 'password') {
        ctx.log.warn({ user: body.username, address }, 'login failed');
        throw unauthenticated(LOGIN_FAILED);
      }
      const { user, grant } = r.identity;
      ctx.log.info({ user, role: grant.role }, 'login');
      return session(ctx, { user, grant });
    },
  });

  authed(router, 'POST', '/api/login/refresh', async (ctx, p) => {
    await readJson(ctx.req, EmptyBody);
    return session(ctx, p);
  });
}
