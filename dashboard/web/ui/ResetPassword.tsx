/**
 * The page a one-time password link opens (`/reset#token=…`, shown when logged out): a new
 * password, twice, sent once with the token to POST /api/password-reset. The token lives in the
 * fragment, which the browser never sends to a server; it is dropped from the address bar once
 * the page has read it.
 */
import type { Issue } from '@shelfsense/protocol';
import { useState } from 'preact/hooks';
import { Api, ApiError } from '../lib/api.js';
import { checkReset, describeIssues, resetPassword, tokenFromHash } from '../lib/users.js';

export function ResetPassword({ onDone }: { onDone(notice: string | null): void }) {
  // Read once, then out of the address bar and the history.
  const [token] = useState(() => {
    const t = tokenFromHash(window.location.hash);
    window.history.replaceState(null, '', window.location.pathname);
    return t;
  });
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [issues, setIssues] = useState<Issue[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const checked = checkReset(token, password);
    const found = checked.ok ? [] : checked.issues;
    if (password !== again) found.push({ path: 'again', message: 'the two passwords differ' });
    setIssues(found);
    if (!checked.ok || found.length > 0) return;
    setBusy(true);
    try {
      const r = await resetPassword(new Api({ token: () => null }), checked.value);
      onDone(`Password set for ${r.user}. Log in with it.`);
    } catch (err) {
      const code = err instanceof ApiError ? err.code : '';
      setError(
        code === 'SHELF_ERR_RESET_TOKEN'
          ? 'This link is not valid any more: it was used, it expired, or a newer one was made. Ask an admin for a new link.'
          : (err as Error).message,
      );
      setBusy(false);
    }
  };

  return (
    <main class="login" id="main">
      <form class="panel login-form" onSubmit={submit} aria-labelledby="reset-heading" noValidate>
        <h1 id="reset-heading">Set your password</h1>
        {!token && (
          <p class="error" role="alert">
            This page needs the link an admin gave you.
          </p>
        )}
        <div class="field">
          <label for="reset-password">New password (at least 8 characters)</label>
          <input
            id="reset-password"
            type="password"
            autocomplete="new-password"
            aria-invalid={issues.some((i) => i.path === 'password')}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="reset-again">The same password again</label>
          <input
            id="reset-again"
            type="password"
            autocomplete="new-password"
            aria-invalid={issues.some((i) => i.path === 'again')}
            value={again}
            onInput={(e) => setAgain(e.currentTarget.value)}
          />
        </div>
        {issues.length > 0 && (
          <p class="error" role="alert">
            {describeIssues(issues)}
          </p>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy || !token} aria-busy={busy}>
          Set password
        </button>
        <button type="button" class="secondary" onClick={() => onDone(null)}>
          Back to log in
        </button>
      </form>
    </main>
  );
}
