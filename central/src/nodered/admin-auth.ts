/**
 * Node-RED's `adminAuth` backed by the Shelfsense user store: only users with the `admin` role may
 * use the editor and its admin API. Two ways in:
 *
 * - the editor's login form (user name and password, checked by the user store's scrypt hashes
 *   through its login limiter, shared with the API and MQTT; Node-RED does not pass the client's
 *   address, so these count per name only), which gets a Node-RED session token kept in
 *   userDir/.sessions.json;
 * - a Shelfsense token (`Authorization: Bearer sst1.…`, from POST /api/login) for scripts.
 *
 * Every request with a Node-RED session looks the user up again (`users`), so removing an admin
 * or changing its role locks it out of the editor at once, as it does for the API.
 */

import type { UserStore } from '@shelfsense/broker';
import { looksLikeToken } from '@shelfsense/broker';
import type { Logger } from 'pino';

/** The user object Node-RED keeps: `*` grants every editor permission. */
export interface NodeRedUser {
  username: string;
  permissions: '*';
}

export interface AdminAuthSettings {
  type: 'credentials';
  sessionExpiryTime: number;
  users: (username: string) => Promise<NodeRedUser | null>;
  authenticate: (username: string, password: string) => Promise<NodeRedUser | null>;
  tokens: (token: string) => Promise<NodeRedUser | null>;
  tokenHeader: string;
}

const admin = (username: string): NodeRedUser => ({ username, permissions: '*' });

export function adminAuth(users: UserStore, sessionTtlMs: number, log: Logger): AdminAuthSettings {
  return {
    type: 'credentials',
    // Node-RED counts its sessions in seconds.
    sessionExpiryTime: Math.max(60, Math.round(sessionTtlMs / 1000)),
    async users(username) {
      if (typeof username !== 'string') return null;
      const u = users.get(username);
      return u?.grant.role === 'admin' ? admin(username) : null;
    },
    async authenticate(username, password) {
      if (typeof username !== 'string' || typeof password !== 'string') return null;
      // The login form takes the password itself, never a token (the 'http' channel refuses one).
      const r = await users.login(username, password, { channel: 'http' }).catch(() => null);
      if (r?.identity === null && r.retryAfterMs !== undefined) {
        log.warn({ user: username, why: r.limited }, 'node-red login refused: too many failures');
        return null;
      }
      const id = r?.identity;
      if (id?.via !== 'password') {
        log.warn({ user: username }, 'node-red login failed');
        return null;
      }
      if (id.grant.role !== 'admin') {
        log.warn({ user: username, role: id.grant.role }, 'node-red login refused: not an admin');
        return null;
      }
      log.info({ user: username }, 'node-red login');
      return admin(username);
    },
    async tokens(token) {
      if (typeof token !== 'string' || !looksLikeToken(token)) return null;
      try {
        const claims = users.verifyToken(token);
        return claims.grant.role === 'admin' ? admin(claims.user) : null;
      } catch {
        return null;
      }
    },
    tokenHeader: 'authorization',
  };
}
