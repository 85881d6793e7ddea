/**
 * The few row operations the user store does, whatever keeps the rows: `users.db` (SQLite, one
 * central and the CLI on one host; sqlite-user-rows.ts) or a database several central processes
 * share (Postgres, central's cluster deployment). Every rule about users, passwords and tokens
 * stays in UserStore; an implementation only stores, and makes atomic what the store needs to be
 * atomic (issuing and using a reset token, removing a user with its token).
 *
 * Synchronous, because UserStore is: a shared database is reached through a synchronous facade.
 * Arguments and results are plain data, so they can cross a thread.
 */

/** A user as stored. */
export interface UserRow {
  name: string;
  /** The grant as the JSON text written, compared as text to tell whether it changed. */
  grantJson: string;
  /** An scrypt hash, or `!` for a user added without a password. */
  hash: string;
  createdAt: number;
  updatedAt: number;
  disabled: boolean;
  /** Tokens issued before this time (epoch ms) are refused; 0 when never revoked. */
  tokensAfter: number;
}

export interface UserRows {
  get(name: string): UserRow | undefined;
  /** Every user, by name in byte order. */
  list(): UserRow[];
  /** Adds an enabled, never revoked user; false when the name is taken. */
  insert(name: string, grantJson: string, hash: string, at: number): boolean;
  /** The setters answer false when there is no such user. */
  setHash(name: string, hash: string, at: number): boolean;
  setGrant(name: string, grantJson: string, at: number): boolean;
  setDisabled(name: string, disabled: boolean, tokensAfter: number, at: number): boolean;
  setTokensAfter(name: string, tokensAfter: number, at: number): boolean;
  /** Removes the user with its reset token (and every expired token); false when there was none. */
  remove(name: string, now: number): boolean;
  /**
   * Keeps a reset token's hash for `name` until `expiresAt`, in place of the user's earlier one;
   * expired tokens go too. A user has at most one token, even when two processes issue at once.
   */
  issueReset(tokenHash: string, name: string, now: number, expiresAt: number): void;
  /** The user of an unused, unexpired token; null otherwise. */
  findReset(tokenHash: string, now: number): string | null;
  /**
   * Uses the token up and sets the user's password hash, all or nothing: true for the one caller
   * that did, false (nothing changed) when the token was used, replaced or expired meanwhile.
   */
  useReset(tokenHash: string, name: string, passwordHash: string, now: number): boolean;
}

/** UserRows answering with promises: what an implementation on an async driver provides. */
export type AsyncUserRows = {
  [K in keyof UserRows]: UserRows[K] extends (...args: infer A) => infer T
    ? (...args: A) => Promise<T>
    : never;
};
