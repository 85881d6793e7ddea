/**
 * What the user store reports for the audit trail: logins, failed logins, tokens issued and every
 * change to a user. Events carry role and scope before and after, never a password, a hash or a
 * token. The store only reports; central appends the rows to its append-only audit log.
 */
import type { Grant } from '@shelfsense/protocol';

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

/** Where a process without central's store keeps its audit events: `audit_pending` in users.db. */
export interface PendingAudit {
  addPending(event: string): void;
  /** Hands up to `limit` kept events to `sink`, oldest first, and forgets them once it returned. */
  drainPending(sink: (events: string[]) => void, limit: number): number;
}

/**
 * Where a user store's events go: its listeners, and in a process without central's store (the
 * CLI) the `audit_pending` table of users.db, which central drains.
 */
export class AuditOutlet {
  private readonly listeners = new Set<UserAuditListener>();

  /** `pending`: where to keep every event for central; null to only tell the listeners. */
  constructor(private readonly pending: PendingAudit | null) {}

  /** False when nobody would hear an event: the caller need not build it. */
  get wanted(): boolean {
    return this.pending !== null || this.listeners.size > 0;
  }

  on(listener: UserAuditListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: UserAuditEvent): void {
    this.pending?.addPending(JSON.stringify(event));
    // A failing listener must never fail a login or a change: it is that listener's to report.
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {}
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
