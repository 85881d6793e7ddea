/**
 * The users of the cluster's web nodes: one UserStore per node on the rows and token secret all
 * nodes share in Postgres, so a user added, changed or disabled on one node is seen by every
 * other at its next login or token check, and a token issued by one is accepted by all. What
 * stays per process is what the store keeps in memory: the login limiter and the verify cache.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  AuthError,
  AuthErrorCodes,
  SqliteUserRows,
  USERS_FILE,
  UserStore,
  type UserStoreOptions,
} from '@shelfsense/broker';
import type { SyncPgStore } from '../store/pg/sync-store.js';
import type { PgSecretsRepo, PgUsersRepo } from '../store/pg/users.js';

/** The name of the token secret in the `secrets` table. */
export const TOKEN_SECRET_NAME = 'token-secret';

export type PgUserStoreOptions = Omit<UserStoreOptions, 'rows' | 'tokenSecret' | 'pendingAudit'>;

/**
 * A UserStore on the users of `sync`'s Postgres schema, signing tokens with the schema's shared
 * secret (created by the first node to ask). Closing the store leaves `sync` open: it is the
 * caller's.
 */
export function pgUserStore(sync: SyncPgStore, options: PgUserStoreOptions = {}): UserStore {
  // The proxy answers every method of PgUsersRepo synchronously; UserStore calls only those.
  const rows = sync.repo<PgUsersRepo>('users');
  // A Buffer arrives from the thread as a plain Uint8Array, which is all UserStore needs.
  const tokenSecret = sync.repo<PgSecretsRepo>('secrets').secret(TOKEN_SECRET_NAME);
  return new UserStore(null, { ...options, rows, tokenSecret });
}

/**
 * Copies the users of `dataDir`'s users.db into the schema — hash, role, scope, state and
 * revocation time as they are — leaving alone a name the schema already has. How a cluster gets
 * its first admin (made with `shelfsense users add`) or a single central's users. Reset links are
 * not copied (issue new ones), nor tokens valid: the cluster signs with its own secret.
 */
export function importUsers(dataDir: string, sync: SyncPgStore): { copied: string[]; kept: string[] } {
  const file = join(dataDir, USERS_FILE);
  if (!existsSync(file)) throw new AuthError(AuthErrorCodes.STORE, `no ${file}`);
  const from = new SqliteUserRows(dataDir);
  const to = sync.repo<PgUsersRepo>('users');
  const copied: string[] = [];
  const kept: string[] = [];
  try {
    for (const u of from.list()) {
      if (!to.insert(u.name, u.grantJson, u.hash, u.createdAt)) {
        kept.push(u.name);
        continue;
      }
      to.setDisabled(u.name, u.disabled, u.tokensAfter, u.updatedAt);
      copied.push(u.name);
    }
  } finally {
    from.close();
  }
  return { copied, kept };
}
