import { nextAttemptAt, parseRetryAfter, retryDelay } from '@shelfsense/central/webhooks';
import { describe, expect, it } from 'vitest';

const policy = { baseMs: 1_000, maxMs: 60_000, jitter: 0.2, maxAttempts: 5 };

describe('webhooks: exponential backoff with jitter and an attempt limit', () => {
  it('doubles from the base up to the ceiling; jitter only shortens by at most its fraction', () => {
    const none = () => 0;
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelay(n, policy, none))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000,
    ]);
    expect(retryDelay(1, policy, () => 1)).toBe(800);
    expect(retryDelay(3, policy, () => 0.5)).toBe(3_600);
    expect(retryDelay(1_000, policy, none)).toBe(60_000);
    // Full jitter spreads over [0, delay].
    expect(retryDelay(2, { ...policy, jitter: 1 }, () => 0.75)).toBe(500);
  });

  it('dead-letters once the attempt budget is spent', () => {
    expect(nextAttemptAt(4, 10_000, policy, () => 0)).toBe(18_000);
    expect(nextAttemptAt(5, 10_000, policy, () => 0)).toBeNull();
  });

  it('heeds Retry-After within the ceiling', () => {
    expect(nextAttemptAt(1, 0, policy, () => 0, 30_000)).toBe(30_000);
    expect(nextAttemptAt(1, 0, policy, () => 0, 3_600_000)).toBe(60_000);
    expect(parseRetryAfter('7', 0)).toBe(7_000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 0)).toBe(10_000);
    expect(parseRetryAfter('soon', 0)).toBeNull();
    expect(parseRetryAfter(undefined, 0)).toBeNull();
  });
});
