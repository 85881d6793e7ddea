/**
 * A session with the central side's HTTP API: a bearer token obtained by logging in with a user
 * name and password, or the API token the config node holds, refreshed at half its lifetime
 * (central's tokens live 15 minutes by default, a day at most) so a flow keeps working.
 */
'use strict';

const { Codes, ShelfsenseNodeError } = require('./errors.js');

/** The claims of a Shelfsense token (`sst1.<base64url JSON>.<signature>`), or null. */
function tokenClaims(token) {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3 || parts[0] !== 'sst1') return null;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof claims.u === 'string' && typeof claims.exp === 'number' ? claims : null;
  } catch {
    return null;
  }
}

class Session {
  /**
   * @param {{ url: string, username?: string, password?: string, token?: string,
   *   timeoutMs?: number, now?: () => number }} o
   */
  constructor(o) {
    this.url = o.url.replace(/\/+$/, '');
    this.password = o.password || '';
    this.configuredToken = o.token || '';
    const claims = tokenClaims(this.configuredToken);
    this.username = o.username || (claims ? claims.u : '');
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.now = o.now ?? Date.now;
    /** @type {{ token: string, expiresAt: number, obtainedAt: number } | null} */
    this.current = null;
    this.pending = null;
    this.timer = null;
    this.keepAlive = false;
    this.closed = false;
  }

  /** Why this session cannot work, or null. */
  problem() {
    if (!this.url) return 'no central URL';
    if (!/^https?:\/\/[^/]/.test(this.url))
      return `central URL must start with http:// or https:// (${this.url})`;
    if (this.password && !this.username) return 'a password needs a user name';
    if (!this.password && !this.configuredToken) return 'no API token or password';
    if (!this.password && !tokenClaims(this.configuredToken))
      return 'the API token is not a Shelfsense token (sst1.…)';
    return null;
  }

  /** A valid token: the current one, a refreshed one, or a new login. */
  token() {
    const c = this.current;
    if (c && this.now() < c.obtainedAt + (c.expiresAt - c.obtainedAt) / 2) return Promise.resolve(c.token);
    this.pending ??= this.obtain().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  /** Forgets the current token (after a 401), so the next call logs in again. */
  invalidate() {
    this.current = null;
  }

  /** Keeps the token fresh while nodes use it, even when no request is made for hours. */
  startKeepAlive() {
    this.keepAlive = true;
    this.schedule();
  }

  close() {
    this.closed = true;
    this.keepAlive = false;
    clearTimeout(this.timer);
  }

  async obtain() {
    const p = this.problem();
    if (p) throw new ShelfsenseNodeError(Codes.CONFIG, p);
    let answer;
    const c = this.current;
    if (c && this.now() < c.expiresAt) {
      answer = await this.post('/api/login/refresh', {}, c.token).catch((err) => {
        if (err.code === Codes.AUTH && this.password) return null;
        throw err;
      });
    }
    if (!answer && this.password) {
      answer = await this.post('/api/login', { username: this.username, password: this.password });
    }
    if (!answer) {
      // First use of the configured token: refresh it at once, which also proves it is accepted.
      const claims = tokenClaims(this.configuredToken);
      if (claims.exp <= this.now()) {
        throw new ShelfsenseNodeError(
          Codes.AUTH,
          `the API token expired at ${new Date(claims.exp).toISOString()}; issue a new one`,
        );
      }
      answer = await this.post('/api/login/refresh', {}, this.configuredToken);
    }
    if (typeof answer.token !== 'string' || typeof answer.expiresAt !== 'number') {
      throw new ShelfsenseNodeError(Codes.UNAVAILABLE, 'the central side answered the login without a token');
    }
    if (answer.user && typeof answer.user.name === 'string') this.username = answer.user.name;
    this.current = { token: answer.token, expiresAt: answer.expiresAt, obtainedAt: this.now() };
    this.schedule();
    return answer.token;
  }

  schedule(retryMs) {
    clearTimeout(this.timer);
    const c = this.current;
    if (!this.keepAlive || this.closed || !c) return;
    const due = retryMs ?? Math.max(1_000, c.obtainedAt + (c.expiresAt - c.obtainedAt) / 2 - this.now());
    this.timer = setTimeout(() => {
      this.token().catch((err) => {
        // The next request reports the failure to its node. While the central is unreachable,
        // try again: a token that runs out meanwhile cannot be renewed without a password.
        if (err.code === Codes.UNAVAILABLE) this.schedule(Math.min(5_000, Math.max(1_000, due / 4)));
      });
    }, due);
    this.timer.unref?.();
  }

  /** POST with a JSON body; a 401 is SHELF_ERR_NODERED_AUTH. */
  async post(path, body, token) {
    return request(this.url, 'POST', path, body, token, this.timeoutMs);
  }
}

/** One HTTP call to the central side; its error answers become errors with central's code. */
async function request(base, method, path, body, token, timeoutMs) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    // fetch hides the socket's error in `cause` (an AggregateError when every address failed).
    const c = err.cause;
    const why =
      c?.code ??
      c?.errors?.[0]?.code ??
      (err.name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : (c?.message ?? err.message));
    throw new ShelfsenseNodeError(Codes.UNAVAILABLE, `cannot reach ${base} (${why})`);
  }
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (res.ok) return json;
  const e = json && typeof json.error === 'object' && json.error ? json.error : {};
  const message = typeof e.message === 'string' ? e.message : `HTTP ${res.status}`;
  if (res.status === 401)
    throw new ShelfsenseNodeError(Codes.AUTH, `central refused the credentials: ${message}`);
  const code = typeof e.code === 'string' ? e.code : Codes.UNAVAILABLE;
  throw new ShelfsenseNodeError(code, message, { status: res.status });
}

module.exports = { Session, request, tokenClaims };
