/**
 * What a route handler gets, and how handlers answer: return a JSON-able value (sent with 200), or
 * STREAMED when the handler wrote the response itself.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ApiDeps } from './deps.js';
import type { Params, Router } from './router.js';
import type { Principal } from './scope.js';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Params;
  deps: ApiDeps;
  now: () => number;
  log: Logger;
  /** The authenticated user; set before an authenticated handler runs. */
  principal: Principal | null;
}

export const STREAMED = Symbol('streamed');

export type Handler = (ctx: RequestContext) => Promise<unknown>;
export type AuthedHandler = (ctx: RequestContext, principal: Principal) => Promise<unknown>;

export interface RouteEntry {
  /** False only for the login route. */
  auth: boolean;
  run: Handler;
}

export type ApiRouter = Router<RouteEntry>;

/** The authenticated actor as commands, orders and alerts record it. */
export function actorOf(p: Principal): { user: string; role: string } {
  return { user: p.user, role: p.grant.role };
}

/** Registers an authenticated route: the API checks the bearer token before `fn` runs. */
export function authed(router: ApiRouter, method: string, pattern: string, fn: AuthedHandler): void {
  router.add(method, pattern, {
    auth: true,
    run: (ctx) => fn(ctx, ctx.principal as Principal),
  });
}
