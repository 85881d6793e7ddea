/**
 * Failed logins per user name and per client address: a few per window, then refused until the
 * oldest failure ages out; a bounded table that never forgets a lock.
 */
import { addressKey, type LimitVerdict, LoginLimiter } from '@shelfsense/broker';
import { describe, expect, it } from 'vitest';

/** One login attempt that fails: admitted (or refused) and, when admitted, settled as a failure. */
function fail(l: LoginLimiter, name: string, address: string | undefined, now: number): LimitVerdict {
  const v = l.attempt(name, address, now);
  if (v.ok) l.failed(name, address);
  return v;
}

describe('login limiter: per name', () => {
  it('allows maxFailures failures per window, then blocks until the oldest leaves the window', () => {
    const l = new LoginLimiter({ maxFailures: 3, windowMs: 60_000 });
    expect(fail(l, 'u', undefined, 0)).toEqual({ ok: true });
    expect(fail(l, 'u', undefined, 10_000)).toEqual({ ok: true });
    expect(l.blockedFor('u', 10_000)).toBe(0);
    expect(fail(l, 'u', undefined, 20_000)).toEqual({ ok: true });
    expect(l.blockedFor('u', 20_000)).toBe(40_000);
    expect(fail(l, 'u', undefined, 59_999)).toEqual({ ok: false, reason: 'name', retryAfterMs: 1 });
    // The first failure has aged out: one more try.
    expect(l.blockedFor('u', 60_000)).toBe(0);
    expect(fail(l, 'u', undefined, 60_000)).toEqual({ ok: true });
    expect(l.blockedFor('u', 60_000)).toBe(10_000);
    expect(l.blockedFor('other', 60_000)).toBe(0);
    expect(l.refused).toEqual({ name: 1, address: 0, full: 0 });
  });

  it('a refused attempt is not counted: the lock does not grow while someone keeps trying', () => {
    const l = new LoginLimiter({ maxFailures: 2, windowMs: 1_000 });
    fail(l, 'u', undefined, 0);
    fail(l, 'u', undefined, 0);
    for (let t = 1; t < 1_000; t += 50) expect(fail(l, 'u', undefined, t).ok).toBe(false);
    expect(fail(l, 'u', undefined, 1_000).ok).toBe(true);
  });

  it('a success clears the name’s failures', () => {
    const l = new LoginLimiter({ maxFailures: 2, windowMs: 1_000 });
    fail(l, 'u', undefined, 0);
    fail(l, 'u', undefined, 1);
    l.succeed('u', undefined, 1);
    expect(fail(l, 'u', undefined, 2).ok).toBe(true);
    expect(l.blockedFor('u', 2)).toBe(0);
  });

  it('a very long name costs one bounded entry', () => {
    const l = new LoginLimiter({ maxFailures: 1, windowMs: 1_000 });
    const long = 'x'.repeat(60_000);
    fail(l, long, undefined, 0);
    expect(l.blockedFor(long, 1)).toBe(999);
    expect(l.blockedFor(`${long}y`, 1)).toBe(0);
    expect(l.size).toBe(1);
  });
});

describe('login limiter: per address', () => {
  it('locks an address that fails maxFailuresPerAddress times, across any names; other addresses go on', () => {
    const l = new LoginLimiter({ maxFailures: 5, maxFailuresPerAddress: 4, windowMs: 60_000 });
    for (let i = 0; i < 4; i++) expect(fail(l, `name-${i}`, '10.0.0.1', i).ok).toBe(true);
    const r = fail(l, 'fresh-name', '10.0.0.1', 10);
    expect(r).toEqual({ ok: false, reason: 'address', retryAfterMs: 60_000 - 10 });
    expect(fail(l, 'fresh-name', '10.0.0.2', 10).ok).toBe(true);
    expect(l.addressBlockedFor('10.0.0.1', 10)).toBe(59_990);
    expect(l.addressBlockedFor('10.0.0.1', 60_000)).toBe(0);
  });

  it('a success takes back only its own provisional failure from the address', () => {
    const l = new LoginLimiter({ maxFailures: 5, maxFailuresPerAddress: 3, windowMs: 60_000 });
    fail(l, 'a', '10.0.0.1', 0);
    fail(l, 'b', '10.0.0.1', 1);
    fail(l, 'mine', '10.0.0.1', 2);
    expect(l.addressBlockedFor('10.0.0.1', 2)).toBeGreaterThan(0);
    l.succeed('mine', '10.0.0.1', 2);
    // Two real failures stay: one more is allowed, then the address is locked again.
    expect(l.addressBlockedFor('10.0.0.1', 3)).toBe(0);
    expect(fail(l, 'c', '10.0.0.1', 3).ok).toBe(true);
    expect(fail(l, 'd', '10.0.0.1', 4)).toMatchObject({ ok: false, reason: 'address' });
  });

  it('an address is counted as IPv4 when IPv4-mapped, and an IPv6 address by its /64', () => {
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:DB8:1:2:ffff:0:0:9')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    const l = new LoginLimiter({ maxFailures: 100, maxFailuresPerAddress: 2, windowMs: 1_000 });
    fail(l, 'a', '2001:db8:1:2::1', 0);
    fail(l, 'b', '2001:db8:1:2::99', 0);
    expect(fail(l, 'c', '2001:db8:1:2:3:4:5:6', 0)).toMatchObject({ ok: false, reason: 'address' });
    expect(fail(l, 'c', '2001:db8:1:3::1', 0).ok).toBe(true);
  });
});

describe('login limiter: bounded memory never forgets a lock', () => {
  it('[reset attack] fresh names cannot push a locked name out: unlocked entries go, least recently failed first', () => {
    const l = new LoginLimiter({
      maxFailures: 5,
      maxFailuresPerAddress: 1_000,
      windowMs: 60_000,
      maxEntries: 100,
    });
    for (let i = 0; i < 5; i++) fail(l, 'victim', undefined, i);
    expect(l.blockedFor('victim', 10)).toBeGreaterThan(0);
    // A flood of one-shot names (the way 10 000 token-shaped passwords once reset the table).
    for (let i = 0; i < 10_000; i++) expect(fail(l, `junk-${i}`, undefined, 10 + i / 1_000).ok).toBe(true);
    expect(l.size).toBeLessThanOrEqual(100);
    expect(l.blockedFor('victim', 30)).toBeGreaterThan(0);
    expect(fail(l, 'victim', undefined, 30)).toMatchObject({ ok: false, reason: 'name' });
    // The most recent junk is still counted, the oldest is forgotten.
    fail(l, 'junk-9999', undefined, 31);
    expect(l.size).toBeLessThanOrEqual(100);
  });

  it('[fail closed] a table full of locks refuses newcomers (counted) until the oldest lock ends', () => {
    const l = new LoginLimiter({ maxFailures: 2, maxFailuresPerAddress: 2, windowMs: 1_000, maxEntries: 10 });
    // Ten locked names fill the table.
    for (let i = 0; i < 10; i++) {
      fail(l, `n${i}`, undefined, i);
      fail(l, `n${i}`, undefined, i);
    }
    expect(l.size).toBe(10);
    expect(l.lockedCount).toBe(10);
    const r = fail(l, 'newcomer', undefined, 20);
    expect(r).toEqual({ ok: false, reason: 'full', retryAfterMs: 1_000 - 20 });
    expect(fail(l, 'newcomer', '10.0.0.1', 500)).toMatchObject({ ok: false, reason: 'full' });
    expect(l.refused.full).toBe(2);
    // Every lock still holds.
    for (let i = 0; i < 10; i++) expect(l.blockedFor(`n${i}`, 500)).toBeGreaterThan(0);
    // The first lock ends at 1 000: its place is free again.
    expect(fail(l, 'newcomer', undefined, 1_000).ok).toBe(true);
    expect(l.blockedFor('n9', 1_000)).toBeGreaterThan(0);
  });

  it('a name and its address both need room: a full table refuses before counting either', () => {
    const l = new LoginLimiter({ maxFailures: 1, maxFailuresPerAddress: 1, windowMs: 1_000, maxEntries: 3 });
    fail(l, 'a', undefined, 0);
    fail(l, 'b', undefined, 0);
    // One free place, two needed (name and address), and the other two are locked.
    expect(fail(l, 'c', '10.0.0.1', 1)).toMatchObject({ ok: false, reason: 'full' });
    expect(l.size).toBe(2);
    expect(fail(l, 'c', undefined, 1).ok).toBe(true);
  });
});

describe('login limiter: known addresses', () => {
  it('a name locked from elsewhere still logs in from an address it logged in from lately', () => {
    const l = new LoginLimiter({ maxFailures: 2, windowMs: 60_000, knownAddressMs: 3_600_000 });
    expect(fail(l, 'pi-1', '10.0.0.5', 0).ok).toBe(true);
    l.succeed('pi-1', '10.0.0.5', 0);
    // An attacker elsewhere locks the name.
    fail(l, 'pi-1', '203.0.113.9', 10);
    fail(l, 'pi-1', '203.0.113.9', 11);
    expect(fail(l, 'pi-1', '198.51.100.1', 12)).toMatchObject({ ok: false, reason: 'name' });
    // The agent's own address is not held by that lock...
    expect(fail(l, 'pi-1', '10.0.0.5', 13).ok).toBe(true);
    // ...until it has not logged in from there for knownAddressMs.
    expect(fail(l, 'pi-1', '10.0.0.5', 3_600_001)).toMatchObject({ ok: true });
    fail(l, 'pi-1', '203.0.113.9', 3_600_002);
    fail(l, 'pi-1', '203.0.113.9', 3_600_003);
    expect(fail(l, 'pi-1', '10.0.0.5', 3_600_004)).toMatchObject({ ok: false, reason: 'name' });
  });

  it('a known address is still held by its own address limit', () => {
    const l = new LoginLimiter({ maxFailures: 1, maxFailuresPerAddress: 3, windowMs: 60_000 });
    fail(l, 'u', '10.0.0.5', 0);
    l.succeed('u', '10.0.0.5', 0);
    for (let i = 0; i < 3; i++) expect(fail(l, `guess-${i}`, '10.0.0.5', 1 + i).ok).toBe(true);
    expect(fail(l, 'u', '10.0.0.5', 5)).toMatchObject({ ok: false, reason: 'address' });
  });

  it('a permanent entry is never shortened, and at most a few addresses are kept per name', () => {
    const l = new LoginLimiter({ maxFailures: 1, windowMs: 60_000, knownAddressMs: 1_000_000 });
    l.trust('svc', '127.0.0.1', 0, Number.POSITIVE_INFINITY);
    l.succeed('svc', '127.0.0.1', 5);
    for (let i = 0; i < 20; i++) l.succeed('u', `10.0.0.${i}`, i);
    // Long after knownAddressMs, the name locked from elsewhere: the permanent entry still holds.
    fail(l, 'svc', '203.0.113.9', 5_000_000);
    expect(fail(l, 'svc', '198.51.100.1', 5_000_001)).toMatchObject({ ok: false, reason: 'name' });
    expect(fail(l, 'svc', '127.0.0.1', 5_000_002).ok).toBe(true);
    // Of twenty addresses, the newest eight are known.
    fail(l, 'u', '203.0.113.9', 100);
    expect(fail(l, 'u', '10.0.0.11', 101)).toMatchObject({ ok: false, reason: 'name' });
    expect(fail(l, 'u', '10.0.0.12', 102).ok).toBe(true);
  });
});

describe('login limiter: attempts still being checked', () => {
  it('locked only by attempts in flight: busy, not refused; refused once they fail; open once one succeeds', () => {
    const l = new LoginLimiter({
      maxFailures: 3,
      maxFailuresPerAddress: 100,
      windowMs: 60_000,
      maxEntries: 100,
    });
    for (let i = 0; i < 3; i++) expect(l.attempt('u', '10.0.0.1', 0)).toEqual({ ok: true });
    expect(l.attempt('u', '10.0.0.1', 1)).toEqual({ ok: false, busy: true, reason: 'name' });
    expect(l.refused.name).toBe(0);
    l.failed('u', '10.0.0.1');
    l.failed('u', '10.0.0.1');
    expect(l.attempt('u', '10.0.0.1', 2)).toMatchObject({ ok: false, busy: true });
    l.succeed('u', '10.0.0.1', 3);
    expect(l.attempt('u', '10.0.0.1', 4)).toEqual({ ok: true });
    l.failed('u', '10.0.0.1');
    // From an address the name has not logged in from, the failures lock it again.
    for (let i = 0; i < 2; i++) fail(l, 'u', '10.0.0.9', 5);
    expect(l.attempt('u', '10.0.0.9', 6)).toEqual({ ok: false, reason: 'name', retryAfterMs: 59_998 });
    expect(l.refused.name).toBe(1);
  });
});
