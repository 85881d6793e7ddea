/**
 * The login session: the token, its expiry and the user, kept in sessionStorage so a reload of
 * the tab stays logged in while closing it logs out. The password is never stored anywhere.
 */
import { LoginResponse } from '@shelfsense/protocol';

export type Session = LoginResponse;

const KEY = 'shelfsense.session';

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    // Storage can be disabled; the session then lives only in memory.
    return null;
  }
}

/** The stored session if it is well-formed and not expired. */
export function loadSession(now = Date.now()): Session | null {
  const text = storage()?.getItem(KEY);
  if (!text) return null;
  try {
    const parsed = LoginResponse.safeParse(JSON.parse(text));
    if (parsed.success && parsed.data.expiresAt > now) return parsed.data;
  } catch {
    // fall through: a damaged entry is dropped
  }
  storage()?.removeItem(KEY);
  return null;
}

export function saveSession(session: Session): void {
  storage()?.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  storage()?.removeItem(KEY);
}
