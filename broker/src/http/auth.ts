/**
 * Logging in and the bearer check. `POST /api/login` trades a user name and password for a
 * short-lived signed token (the same token is the MQTT password over WebSocket); every other route
 * checks `Authorization: Bearer <token>`: signature, expiry, and that the user still exists with
 * the role and scope the token names (removing a user or changing its role revokes its tokens).
 */
import { z } from 'zod';
import { TOKEN_PREFIX, type TokenClaims } from '../auth/tokens.js';
import { type ApiRouter, authed, type RequestContext } from './context.js';
import { HttpError, HttpErrorCodes, unauthenticated } from './errors.js';
import { readJson } from './io.js';
import type { LoginLimiter } from './rate-limit.js';
import { describeUser, type Principal } from './scope.js';

/** One message for an unknown user and a wrong password, so answers do not tell which names exist. */
export const LOGIN_FAILED = 'wrong user name or password';

const LoginBody = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
});
const RefreshBody = z.strictObject({});

/** Verifies the request's bearer token; throws 401 saying why not. */
export function authenticate(ctx: RequestContext): Principal {
  const header = ctx.req.headers.authorization;
  if (!header) throw unauthenticated('no token: send Authorization: Bearer <token>');
  const m = /^Bearer +(\S+)\s*$/i.exec(header);
  if (!m) throw unauthenticated('the Authorization header is not "Bearer <token>"');
  let claims: TokenClaims;
  try {
    claims = ctx.deps.tokens.verify(m[1] as string);
  } catch (err) {
    throw unauthenticated((err as Error).message);
  }
  const user = ctx.deps.users.get(claims.user);
  if (!user) throw unauthenticated(`token rejected: no user "${claims.user}"`);
  if (JSON.stringify(user.grant) !== JSON.stringify(claims.grant)) {
    throw unauthenticated('token rejected: the user’s role or scope has changed');
  }
  return { user: claims.user, grant: claims.grant };
}

function session(ctx: RequestContext, p: Principal) {
  const token = ctx.deps.tokens.issue(p.user, p.grant, ctx.deps.tokenTtlMs);
  return { token, expiresAt: ctx.deps.tokens.verify(token).expiresAt, user: describeUser(p) };
}

export function authRoutes(router: ApiRouter, limiter: LoginLimiter): void {
  router.add('POST', '/api/login', {
    auth: false,
    run: async (ctx) => {
      const body = await readJson(ctx.req, LoginBody);
      const now = ctx.now();
      const wait = limiter.blockedFor(body.username, now);
      if (wait > 0) {
        ctx.log.warn({ user: body.username }, 'login refused: too many failures');
        throw new HttpError(
          429,
          HttpErrorCodes.RATE_LIMITED,
          'too many failed logins for this user name; try again later',
          [],
          { 'Retry-After': String(Math.ceil(wait / 1000)) },
        );
      }
      // Count the attempt as a failure before the (slow) password check, so that many attempts in
      // flight at once cannot all slip under the limit; a success clears the count.
      limiter.fail(body.username, now);
      // A token is not a password here: logging in needs the password itself.
      const identity = body.password.startsWith(TOKEN_PREFIX)
        ? null
        : await ctx.deps.users.authenticate(body.username, body.password);
      if (identity?.via !== 'password') {
        ctx.log.warn({ user: body.username }, 'login failed');
        throw unauthenticated(LOGIN_FAILED);
      }
      limiter.succeed(body.username);
      ctx.log.info({ user: identity.user, role: identity.grant.role }, 'login');
      return session(ctx, { user: identity.user, grant: identity.grant });
    },
  });

  authed(router, 'POST', '/api/login/refresh', async (ctx, p) => {
    await readJson(ctx.req, RefreshBody);
    return session(ctx, p);
  });
}
