/**
 * What the user store reports for the audit trail: logins, failed logins, tokens issued and every
 * change to a user. Events carry role and scope before and after, never a password, a hash or a
 * token. The store only reports; central appends the rows to its append-only audit log.
 */
import type { Grant } from '@shelfsense/protocol';
import type Database from 'better-sqlite3';

export type UserAuditAction =
  | 'login'
  | 'login.failed'
  | 'token.issued'
  | 'user.added'
  | 'user.changed'
  | 'user.disabled'
  | 'user.enabled'
  | 'user.removed'
  | 'user.password_set'
  | 'user.reset_issued'
  | 'user.password_reset'
  | 'user.sessions_revoked';

/** Who acted: a user (role known), or a process such as `shelfsense users` (role null). */
export interface AuditActor {
  user: string;
  role: string | null;
}

/** A user's role, scope and state as an audit row keeps it. */
export interface UserAuditState {
  grant: Grant;
  disabled: boolean;
}

export interface UserAuditEvent {
  at: number;
  action: UserAuditAction;
  actor: AuditActor;
  /** The user acted on; for a login, the name given (which may not exist). */
  user: string;
  before: UserAuditState | null;
  after: UserAuditState | null;
  /** Channel, address, reason of a login; a token's expiry; nothing secret. */
  detail: Record<string, unknown> | null;
}

export type UserAuditListener = (event: UserAuditEvent) => void;

/** Why a login failed, as the audit trail says it (the client is never told which). */
export type LoginFailure =
  | 'unknown_user'
  | 'bad_password'
  | 'no_password'
  | 'bad_token'
  | 'token_not_password'
  | 'disabled';

/**
 * Where a user store's events go: its listeners, and in a process without central's store (the
 * CLI) the `audit_pending` table of users.db, which central drains.
 */
export class AuditOutlet {
  private readonly listeners = new Set<UserAuditListener>();
  private readonly stmts;

  constructor(
    private readonly db: Database.Database,
    private readonly pending: boolean,
  ) {
    this.stmts = {
      add: db.prepare('INSERT INTO audit_pending (event) VALUES (?)'),
      any: db.prepare<[], { seq: number }>('SELECT seq FROM audit_pending LIMIT 1'),
      list: db.prepare<[number], { seq: number; event: string }>(
        'SELECT seq, event FROM audit_pending ORDER BY seq LIMIT ?',
      ),
      drop: db.prepare('DELETE FROM audit_pending WHERE seq <= ?'),
    };
  }

  /** False when nobody would hear an event: the caller need not build it. */
  get wanted(): boolean {
    return this.pending || this.listeners.size > 0;
  }

  on(listener: UserAuditListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: UserAuditEvent): void {
    if (this.pending) this.stmts.add.run(JSON.stringify(event));
    // A failing listener must never fail a login or a change: it is that listener's to report.
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {}
    }
  }

  /** See UserStore.drainPendingAudit. */
  drain(sink: (events: UserAuditEvent[]) => void, limit: number): number {
    // Most calls find nothing: a read, without the write lock.
    if (!this.stmts.any.get()) return 0;
    return this.db
      .transaction(() => {
        const rows = this.stmts.list.all(limit);
        const last = rows[rows.length - 1];
        if (!last) return 0;
        sink(rows.map((r) => JSON.parse(r.event) as UserAuditEvent));
        this.stmts.drop.run(last.seq);
        return rows.length;
      })
      .immediate();
  }

  clear(): void {
    this.listeners.clear();
  }
}
