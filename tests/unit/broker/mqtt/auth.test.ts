/**
 * Password hashes, signed tokens and the SQLite user store.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  hashPassword,
  isAuthError,
  isPasswordHash,
  loadTokenSecret,
  TokenSigner,
  UserStore,
  verifyPassword,
} from '@shelfsense/broker';
import { afterEach, describe, expect, it } from 'vitest';

const CHEAP = { cost: 1024, blockSize: 8, parallelization: 1 };
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'shelfsense-auth-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('password hashes', () => {
  it('scrypt with a fresh salt, parameters stored with the hash', async () => {
    const a = await hashPassword('s3cret-pass', CHEAP);
    const b = await hashPassword('s3cret-pass', CHEAP);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cret-pass');
    expect(isPasswordHash(a)).toBe(true);
    expect(await verifyPassword('s3cret-pass', a)).toBe(true);
    expect(await verifyPassword('s3cret-pasS', a)).toBe(false);
    expect(await verifyPassword('s3cret-pass', 's3cret-pass')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$0$8$1$AAAA$AAAA')).toBe(false);
  });
});

describe('tokens', () => {
  it('HMAC-signed claims with an expiry; a secret file in the data dir, created once with mode 0600', () => {
    const dir = tempDir();
    const secret = loadTokenSecret(dir);
    expect(loadTokenSecret(dir).equals(secret)).toBe(true);
    expect(statSync(join(dir, 'token-secret')).mode & 0o777).toBe(0o600);
    let now = 1_000_000;
    const signer = new TokenSigner(secret, () => now);
    const token = signer.issue('op', { role: 'operator', sites: ['A'] }, 60_000);
    expect(signer.verify(token)).toEqual({
      user: 'op',
      grant: { role: 'operator', sites: ['A'] },
      expiresAt: 1_060_000,
    });
    now = 1_060_000;
    expect(() => signer.verify(token)).toThrow(/expired/);
    const [head, body, sig] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    claims.g = { role: 'admin' };
    const forged = `${head}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
    now = 0;
    expect(() => signer.verify(forged)).toThrow(/bad signature/);
    expect(() => signer.issue('op', { role: 'admin' }, 2 * 86_400_000)).toThrow(/lifetime/);
  });
});

describe('user store', () => {
  it('adds, authenticates, changes passwords, removes; refuses bad names, passwords and grants', async () => {
    const store = new UserStore(tempDir(), { scrypt: CHEAP });
    try {
      await store.add('sup-x', { role: 'supplier', supplier: 'X' }, 'password-1');
      expect(await store.authenticate('sup-x', 'password-1')).toEqual({
        user: 'sup-x',
        grant: { role: 'supplier', supplier: 'X' },
        via: 'password',
      });
      expect(await store.authenticate('sup-x', 'password-2')).toBeNull();
      expect(await store.authenticate('ghost', 'password-1')).toBeNull();
      await store.setPassword('sup-x', 'password-2');
      expect(await store.authenticate('sup-x', 'password-1')).toBeNull();
      expect(await store.authenticate('sup-x', 'password-2')).not.toBeNull();
      // Removing the user revokes its tokens.
      const token = store.issueToken('sup-x', 60_000);
      expect((await store.authenticate('sup-x', token))?.via).toBe('token');
      store.remove('sup-x');
      expect(await store.authenticate('sup-x', token)).toBeNull();
      expect(await store.authenticate('sup-x', 'password-2')).toBeNull();

      const codeOf = (p: Promise<unknown>) =>
        p.then(
          () => null,
          (e: unknown) => (isAuthError(e) ? e.code : e),
        );
      expect(await codeOf(store.add('a b', { role: 'admin' }, 'password-1'))).toBe('SHELF_ERR_INVALID');
      expect(await codeOf(store.add('ok', { role: 'admin' }, 'short'))).toBe('SHELF_ERR_INVALID');
      expect(await codeOf(store.add('ok', { role: 'operator', sites: [] } as never, 'password-1'))).toBe(
        'SHELF_ERR_INVALID',
      );
      await store.add('ok', { role: 'admin' }, 'password-1');
      expect(await codeOf(store.add('ok', { role: 'admin' }, 'password-1'))).toBe('SHELF_ERR_USER_EXISTS');
      expect(await codeOf(store.setPassword('ghost', 'password-1'))).toBe('SHELF_ERR_USER_NOT_FOUND');
      expect(() => store.remove('ghost')).toThrow(/no user "ghost"/);
      expect(store.list().map((u) => u.name)).toEqual(['ok']);
    } finally {
      store.close();
    }
  });

  it('a token stops working when the user’s role or scope changes', async () => {
    const dir = tempDir();
    const store = new UserStore(dir, { scrypt: CHEAP });
    try {
      await store.add('t', { role: 'technician', sites: ['A'] }, 'password-1');
      const token = store.issueToken('t', 60_000);
      store.remove('t');
      await store.add('t', { role: 'technician', sites: ['A', 'B'] }, 'password-1');
      expect(() => store.verifyToken(token)).toThrow(/role or scope has changed/);
    } finally {
      store.close();
    }
  });
});
