/**
 * The login form. The password is sent once to POST /api/login and dropped from memory with the
 * form; only the token the server returns is kept.
 */
import { useState } from 'preact/hooks';
import { Api } from '../lib/api.js';
import type { Session } from './session.js';

export function Login({ onLogin, notice }: { onLogin(session: Session): void; notice: string | null }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await new Api({ token: () => null }).login(username.trim(), password);
      setPassword('');
      onLogin(session);
    } catch (err) {
      const e2 = err as Error & { status?: number };
      setError(e2.status === 401 ? 'Wrong user name or password.' : e2.message);
      setBusy(false);
    }
  };

  return (
    <main class="login" id="main">
      <form class="panel login-form" onSubmit={submit} aria-labelledby="login-heading">
        <h1 id="login-heading">Shelfsense</h1>
        <p class="muted">Live shelf stock for suppliers, stores and technicians.</p>
        {notice && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        <div class="field">
          <label for="login-user">User name</label>
          <input
            id="login-user"
            name="username"
            autocomplete="username"
            required
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="login-password">Password</label>
          <input
            id="login-password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </div>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
          Log in
        </button>
      </form>
    </main>
  );
}
