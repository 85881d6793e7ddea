/** Failed logins per user name: a few per window, then refused until the oldest failure ages out. */
import { describe, expect, it } from 'vitest';
import { LoginLimiter } from '../../../../broker/src/http/rate-limit.js';

describe('login limiter', () => {
  it('allows maxFailures failures per window, then blocks until the oldest leaves the window', () => {
    const l = new LoginLimiter({ maxFailures: 3, windowMs: 60_000 });
    l.fail('u', 0);
    l.fail('u', 10_000);
    expect(l.blockedFor('u', 10_000)).toBe(0);
    l.fail('u', 20_000);
    expect(l.blockedFor('u', 20_000)).toBe(40_000);
    expect(l.blockedFor('u', 59_999)).toBe(1);
    // The first failure has aged out: one more try.
    expect(l.blockedFor('u', 60_000)).toBe(0);
    l.fail('u', 60_000);
    expect(l.blockedFor('u', 60_000)).toBe(10_000);
    expect(l.blockedFor('other', 60_000)).toBe(0);
  });

  it('a success clears the name’s failures', () => {
    const l = new LoginLimiter({ maxFailures: 2, windowMs: 1_000 });
    l.fail('u', 0);
    l.succeed('u');
    l.fail('u', 1);
    expect(l.blockedFor('u', 1)).toBe(0);
  });

  it('remembers a bounded number of names, forgetting the least recently failed', () => {
    const l = new LoginLimiter({ maxFailures: 1, windowMs: 60_000, maxNames: 100 });
    for (let i = 0; i < 1_000; i++) l.fail(`name-${i}`, i);
    expect(l.size).toBeLessThanOrEqual(100);
    expect(l.blockedFor('name-999', 1_000)).toBeGreaterThan(0);
    expect(l.blockedFor('name-0', 1_000)).toBe(0);
  });
});
