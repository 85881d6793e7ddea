/**
 * Short-lived signed tokens, so a browser using MQTT over WebSocket never keeps a password.
 *
 *   sst1.<claims, base64url JSON>.<HMAC-SHA256(secret, "sst1." + claims), base64url>
 *
 * The claims name the user, role, scope, expiry and a tag of the user's password hash (so a new
 * password revokes the token). Both parts must be canonical base64url: no padding, no `+` or
 * `/`, no stray characters, unused trailing bits zero — one token has exactly one spelling. The
 * secret lives in the central data dir (created on first use, mode 0600); replacing that file
 * revokes every token at once.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Grant } from '@shelfsense/protocol';
import { z } from 'zod';
import { AuthError, AuthErrorCodes } from './errors.js';

export const TOKEN_PREFIX = 'sst1.';
export const TOKEN_SECRET_FILE = 'token-secret';
const SECRET_BYTES = 32;
/** Tokens are meant to be short-lived; a day is the ceiling. */
export const MAX_TOKEN_TTL_MS = 86_400_000;

export interface TokenClaims {
  user: string;
  grant: Grant;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /** `TokenSigner.tag` of the user's password hash when the token was issued. */
  passwordTag?: string;
}

/** A password tag: 16 bytes of HMAC, base64url. */
const TAG_BYTES = 16;
const PasswordTag = z.string().regex(/^[A-Za-z0-9_-]{22}$/);

const Claims = z.strictObject({
  u: z.string().min(1).max(64),
  g: Grant,
  exp: z.number().int().positive(),
  pw: PasswordTag.optional(),
});

/**
 * The bytes `text` encodes when it is their canonical base64url spelling; null otherwise. Node's
 * decoder is lenient (it skips unknown characters, takes `+` `/` and `=`, ignores unused bits),
 * so re-encoding and comparing is what pins a single spelling.
 */
function canonicalBase64url(text: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

/** Reads the token secret from the data dir, creating it on first use. */
export function loadTokenSecret(dataDir: string): Buffer {
  const file = join(dataDir, TOKEN_SECRET_FILE);
  mkdirSync(dataDir, { recursive: true });
  try {
    // `wx` fails if another process created it first; then we read theirs.
    writeFileSync(file, `${randomBytes(SECRET_BYTES).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new AuthError(AuthErrorCodes.STORE, `cannot create ${file}: ${(err as Error).message}`);
    }
  }
  const hex = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64,}$/i.test(hex)) {
    throw new AuthError(AuthErrorCodes.STORE, `${file} does not hold a hex secret of at least 32 bytes`);
  }
  return Buffer.from(hex, 'hex');
}

export class TokenSigner {
  constructor(
    private readonly secret: Buffer,
    private readonly now: () => number = Date.now,
  ) {
    if (secret.length < SECRET_BYTES) throw new Error('token secret must be at least 32 bytes');
  }

  private sign(body: string): Buffer {
    return createHmac('sha256', this.secret).update(`${TOKEN_PREFIX}${body}`).digest();
  }

  /**
   * A short keyed tag of `data` (16 bytes of HMAC-SHA256 under the token secret, base64url),
   * e.g. of a password hash: it changes when the hash does and reveals nothing about it. Its
   * input is prefixed differently from a signed body, so a tag is never a valid signature.
   */
  tag(data: string): string {
    return createHmac('sha256', this.secret)
      .update(`sst1-tag:${data}`)
      .digest()
      .subarray(0, TAG_BYTES)
      .toString('base64url');
  }

  issue(user: string, grant: Grant, ttlMs: number, passwordTag?: string): string {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > MAX_TOKEN_TTL_MS) {
      throw new AuthError(AuthErrorCodes.INVALID, `token lifetime must be 1..${MAX_TOKEN_TTL_MS} ms`);
    }
    const claims = {
      u: user,
      g: grant,
      exp: Math.floor(this.now() + ttlMs),
      ...(passwordTag === undefined ? {} : { pw: PasswordTag.parse(passwordTag) }),
    };
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${TOKEN_PREFIX}${body}.${this.sign(body).toString('base64url')}`;
  }

  /** Checks spelling, signature and expiry; throws AuthError(SHELF_ERR_TOKEN) saying why not. */
  verify(token: string): TokenClaims {
    const fail = (why: string) => new AuthError(AuthErrorCodes.TOKEN, `token rejected: ${why}`);
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 4096) throw fail('not a Shelfsense token');
    const parts = token.slice(TOKEN_PREFIX.length).split('.');
    if (parts.length !== 2) throw fail('malformed');
    const [body, sigText] = parts as [string, string];
    const json = canonicalBase64url(body);
    const sig = canonicalBase64url(sigText);
    if (!json || !sig) throw fail('malformed: not canonical base64url');
    const expected = this.sign(body);
    if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) throw fail('bad signature');
    let claims: z.infer<typeof Claims>;
    try {
      claims = Claims.parse(JSON.parse(json.toString('utf8')));
    } catch {
      throw fail('malformed claims');
    }
    if (claims.exp <= this.now()) throw fail('expired');
    return {
      user: claims.u,
      grant: claims.g,
      expiresAt: claims.exp,
      ...(claims.pw === undefined ? {} : { passwordTag: claims.pw }),
    };
  }
}

export function looksLikeToken(secret: string): boolean {
  return secret.startsWith(TOKEN_PREFIX);
}
