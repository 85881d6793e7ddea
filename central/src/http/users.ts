/**
 * Users, managed by an admin (docs/users.md): list, add (with a password, or a one-time link to
 * set one), change role and scope, disable and enable, remove, issue a reset link, and revoke
 * every token at once. Every other role gets 403 on every route. `POST /api/password-reset` needs
 * no login: the reset token is the credential, and works once.
 *
 * A change that takes rights away (disable, new role or scope, remove, revoke) also closes the
 * user's live MQTT connections, which keep the identity they logged in with otherwise. Each change
 * reaches the audit trail through the user store's audit listener (central/src/parts/http.ts).
 */
import { isAuthError, type UserRecord } from '@shelfsense/broker';
import {
  type ApiUserEntry,
  CreateUserBody,
  type CreateUserResponse,
  EmptyBody,
  type Grant,
  PasswordResetBody,
  type PasswordResetResponse,
  type RemoveUserResponse,
  type ResetLink,
  type RevokeResponse,
  UpdateUserBody,
  UserName,
  type UsersResponse,
} from '@shelfsense/protocol';
import { SERVICE_USER } from '../service/service-identity.js';
import { type ApiRouter, actorOf, authed, type RequestContext } from './context.js';
import { forbidden, HttpError, HttpErrorCodes, invalid, notFound } from './errors.js';
import { readJson } from './io.js';
import type { Principal } from './scope.js';

export function userView(u: UserRecord): ApiUserEntry {
  return {
    name: u.name,
    grant: u.grant,
    disabled: u.disabled,
    hasPassword: u.hasPassword,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
    tokensAfter: u.tokensAfter,
    managedByCentral: u.name === SERVICE_USER,
  };
}

function requireAdmin(p: Principal): void {
  if (p.grant.role !== 'admin') throw forbidden(`the ${p.grant.role} role may not manage users`);
}

const conflict = (message: string) => new HttpError(409, HttpErrorCodes.CONFLICT, message);

function existing(ctx: RequestContext): UserRecord {
  const name = ctx.params['name'] ?? '';
  const u = UserName.safeParse(name).success ? ctx.deps.users.get(name) : undefined;
  if (!u) throw notFound(`no user ${name}`);
  return u;
}

/** Central's own MQTT identity is set by central at every start; changing it here would cut central off. */
function notCentral(u: UserRecord): void {
  if (u.name === SERVICE_USER)
    throw conflict(`${SERVICE_USER} is central's own user and is managed by central`);
}

/** Sites and suppliers a grant names must be in the catalogue in force. */
function checkScope(ctx: RequestContext, grant: Grant): void {
  const map = ctx.deps.map;
  const issues: { path: string; message: string }[] = [];
  if (grant.role === 'agent' && !map.hasSite(grant.site))
    issues.push({ path: 'grant.site', message: `unknown site "${grant.site}"` });
  if ('sites' in grant)
    grant.sites.forEach((s, i) => {
      if (!map.hasSite(s)) issues.push({ path: `grant.sites.${i}`, message: `unknown site "${s}"` });
    });
  if (grant.role === 'supplier' && !map.hasSupplier(grant.supplier))
    issues.push({ path: 'grant.supplier', message: `unknown supplier "${grant.supplier}"` });
  if (issues.length) throw invalid('body', issues);
}

/** Closes the user's MQTT connections; null when the broker runs elsewhere. */
function disconnect(ctx: RequestContext, name: string): number | null {
  return ctx.deps.disconnectUser ? ctx.deps.disconnectUser(name) : null;
}

/**
 * The dashboard's reset page on the origin the admin's request came to (the browser's `Origin`,
 * else `Host`). The token travels in the fragment, which browsers never send to a server, so it
 * stays out of access logs and Referer headers.
 */
function resetLink(ctx: RequestContext, token: string, expiresAt: number): ResetLink {
  const path = `/reset#token=${token}`;
  const origin = ctx.req.headers.origin;
  const host = ctx.req.headers.host;
  let base = '';
  if (origin && /^https?:\/\/[A-Za-z0-9.[\]:-]+$/.test(origin)) base = origin;
  else if (host && /^[A-Za-z0-9.[\]:-]+$/.test(host)) {
    const tls = (ctx.req.socket as { encrypted?: boolean }).encrypted === true;
    base = `${tls ? 'https' : 'http'}://${host}`;
  }
  return { url: `${base}${path}`, expiresAt };
}

export function usersRoutes(router: ApiRouter): void {
  authed(router, 'GET', '/api/users', async (ctx, p): Promise<UsersResponse> => {
    requireAdmin(p);
    return ctx.deps.users.list().map(userView);
  });

  authed(router, 'POST', '/api/users', async (ctx, p): Promise<CreateUserResponse> => {
    requireAdmin(p);
    const body = await readJson(ctx.req, CreateUserBody);
    checkScope(ctx, body.grant);
    if (ctx.deps.users.get(body.name)) throw conflict(`user ${body.name} already exists`);
    let user: UserRecord;
    try {
      user = await ctx.deps.users.add(body.name, body.grant, body.password ?? null, actorOf(p));
    } catch (err) {
      if (isAuthError(err, 'SHELF_ERR_USER_EXISTS')) throw conflict(`user ${body.name} already exists`);
      throw err;
    }
    if (body.password !== undefined) return { user: userView(user), reset: null };
    const r = ctx.deps.users.issueResetToken(user.name, undefined, actorOf(p));
    return { user: userView(user), reset: resetLink(ctx, r.token, r.expiresAt) };
  });

  authed(router, 'PATCH', '/api/users/:name', async (ctx, p): Promise<ApiUserEntry> => {
    requireAdmin(p);
    const body = await readJson(ctx.req, UpdateUserBody);
    const u = existing(ctx);
    notCentral(u);
    if (body.grant) checkScope(ctx, body.grant);
    const regrant = body.grant !== undefined && JSON.stringify(body.grant) !== JSON.stringify(u.grant);
    if (u.name === p.user && (body.disabled === true || regrant)) {
      throw conflict('an admin may not disable itself or change its own role; ask another admin');
    }
    const by = actorOf(p);
    let after = u;
    if (body.grant) after = ctx.deps.users.setGrant(u.name, body.grant, by);
    if (body.disabled !== undefined) after = ctx.deps.users.setDisabled(u.name, body.disabled, by);
    if (regrant || (body.disabled === true && !u.disabled)) disconnect(ctx, u.name);
    return userView(after);
  });

  authed(router, 'DELETE', '/api/users/:name', async (ctx, p): Promise<RemoveUserResponse> => {
    requireAdmin(p);
    await readJson(ctx.req, EmptyBody);
    const u = existing(ctx);
    notCentral(u);
    if (u.name === p.user) throw conflict('an admin may not remove itself; ask another admin');
    ctx.deps.users.remove(u.name, actorOf(p));
    return { user: u.name, disconnected: disconnect(ctx, u.name) };
  });

  authed(router, 'POST', '/api/users/:name/reset', async (ctx, p): Promise<ResetLink> => {
    requireAdmin(p);
    await readJson(ctx.req, EmptyBody);
    const u = existing(ctx);
    notCentral(u);
    const r = ctx.deps.users.issueResetToken(u.name, undefined, actorOf(p));
    return resetLink(ctx, r.token, r.expiresAt);
  });

  authed(router, 'POST', '/api/users/:name/revoke', async (ctx, p): Promise<RevokeResponse> => {
    requireAdmin(p);
    await readJson(ctx.req, EmptyBody);
    const u = existing(ctx);
    notCentral(u);
    const after = ctx.deps.users.revokeTokens(u.name, actorOf(p));
    return { user: userView(after), disconnected: disconnect(ctx, u.name) };
  });

  router.add('POST', '/api/password-reset', {
    auth: false,
    run: async (ctx): Promise<PasswordResetResponse> => {
      const body = await readJson(ctx.req, PasswordResetBody);
      try {
        const user = await ctx.deps.users.resetPassword(body.token, body.password);
        ctx.log.info({ user }, 'password reset');
        return { user };
      } catch (err) {
        if (isAuthError(err, 'SHELF_ERR_RESET_TOKEN')) {
          throw new HttpError(400, 'SHELF_ERR_RESET_TOKEN', err.message, [
            { path: 'token', message: err.message },
          ]);
        }
        throw err;
      }
    },
  });
}
