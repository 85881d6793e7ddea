/**
 * One token has one spelling: only the canonical base64url of both parts is accepted. And a token
 * carries a tag of its user's password hash, so a new password revokes it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTokenSecret, TokenSigner, UserStore } from '@shelfsense/broker';
import type { Grant } from '@shelfsense/protocol';
import { afterEach, describe, expect, it } from 'vitest';

const CHEAP = { cost: 1024, blockSize: 8, parallelization: 1 };
const GRANT: Grant = { role: 'operator', sites: ['A'] };
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'shelfsense-tokens-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const signer = new TokenSigner(Buffer.alloc(32, 3), () => 1_000_000);

/** A valid token whose signature holds a `-` or `_` (so it has a standard-alphabet twin). */
function tokenWithUrlChars(): string {
  for (let i = 0; i < 1_000; i++) {
    const t = signer.issue(`user-${i}`, GRANT, 60_000);
    if (/[-_]/.test(t.slice(t.lastIndexOf('.') + 1))) return t;
  }
  throw new Error('no token with - or _ in its signature');
}

/** Flips the unused low bits of the last character of a base64url part (43 chars = 32 bytes). */
function flipTrailingBits(part: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(part.at(-1) as string);
  return part.slice(0, -1) + (alphabet[last ^ 1] as string);
}

describe('token spelling', () => {
  it('the token as issued verifies', () => {
    const t = signer.issue('op', GRANT, 60_000);
    expect(signer.verify(t).user).toBe('op');
  });

  it('[canonical] junk after the signature (TOKEN!!) is refused', () => {
    const t = signer.issue('op', GRANT, 60_000);
    expect(() => signer.verify(`${t}!!`)).toThrow(/malformed/);
    expect(() => signer.verify(`${t}.`)).toThrow(/malformed/);
    expect(() => signer.verify(`${t} `)).toThrow(/malformed/);
  });

  it('[canonical] padding (TOKEN=) is refused, on the signature and on the claims', () => {
    const t = signer.issue('op', GRANT, 60_000);
    expect(() => signer.verify(`${t}=`)).toThrow(/malformed/);
    const [head, body, sig] = t.split('.') as [string, string, string];
    expect(() => signer.verify(`${head}.${body}=.${sig}`)).toThrow(/malformed/);
  });

  it('[canonical] the standard base64 alphabet (+ and /) is refused', () => {
    const t = tokenWithUrlChars();
    const dot = t.lastIndexOf('.');
    const std =
      t.slice(0, dot + 1) +
      t
        .slice(dot + 1)
        .replace(/-/g, '+')
        .replace(/_/g, '/');
    expect(std).not.toBe(t);
    expect(() => signer.verify(std)).toThrow(/malformed/);
  });

  it('[canonical] changed unused trailing bits are refused', () => {
    const t = signer.issue('op', GRANT, 60_000);
    const dot = t.lastIndexOf('.');
    const sig = t.slice(dot + 1);
    expect(sig).toHaveLength(43);
    const twin = t.slice(0, dot + 1) + flipTrailingBits(sig);
    // The same bytes…
    expect(Buffer.from(twin.slice(dot + 1), 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
    // …but not the same spelling.
    expect(() => signer.verify(twin)).toThrow(/malformed/);
  });

  it('a part of impossible length, an empty part or a third part is refused', () => {
    const t = signer.issue('op', GRANT, 60_000);
    const [head, body, sig] = t.split('.') as [string, string, string];
    expect(() => signer.verify(`${head}.${body}A.${sig}`)).toThrow(/malformed|signature/);
    expect(() => signer.verify(`${head}..${sig}`)).toThrow(/malformed/);
    expect(() => signer.verify(`${head}.${body}.${sig}.${sig}`)).toThrow(/malformed/);
  });
});

describe('password tag', () => {
  it('[revocation] a new password revokes the user’s tokens; a token without a tag is refused', async () => {
    const dir = tempDir();
    const store = new UserStore(dir, { scrypt: CHEAP });
    try {
      await store.add('op', GRANT, 'password-1');
      const token = store.issueToken('op', 60_000);
      const claims = store.verifyToken(token);
      expect(claims.passwordTag).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(await store.authenticate('op', token)).not.toBeNull();
      // A 16-byte keyed tag, not the hash (nor its salt or key).
      const json = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString());
      expect(Object.keys(json).sort()).toEqual(['exp', 'g', 'pw', 'u']);
      expect(JSON.stringify(json)).not.toContain('scrypt');

      await store.setPassword('op', 'password-2');
      expect(() => store.verifyToken(token)).toThrow(/password has changed/);
      expect(await store.authenticate('op', token)).toBeNull();
      // A token issued now works.
      expect(store.verifyToken(store.issueToken('op', 60_000)).user).toBe('op');
      // Signed with the right secret but carrying no tag: refused.
      const bare = new TokenSigner(loadTokenSecret(dir)).issue(
        'op',
        { role: 'operator', sites: ['A'] },
        60_000,
      );
      expect(() => store.verifyToken(bare)).toThrow(/password has changed/);
    } finally {
      store.close();
    }
  });

  it('the same password set again still revokes (a fresh salt makes a fresh hash)', async () => {
    const store = new UserStore(tempDir(), { scrypt: CHEAP });
    try {
      await store.add('op', { role: 'operator', sites: ['A'] }, 'password-1');
      const token = store.issueToken('op', 60_000);
      await store.setPassword('op', 'password-1');
      expect(() => store.verifyToken(token)).toThrow(/password has changed/);
    } finally {
      store.close();
    }
  });
});
