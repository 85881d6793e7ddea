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
