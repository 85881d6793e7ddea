/**
 * One token has one spelling: only the canonical base64url of both parts is accepted.
 */
import type { Grant } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';
import { TokenSigner } from '../../../../broker/src/auth/tokens.js';

const GRANT: Grant = { role: 'operator', sites: ['A'] };

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
