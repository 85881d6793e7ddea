/**
 * Retry schedule: exponential backoff with jitter. The delay after the n-th failed attempt is
 * min(maxMs, baseMs · 2^(n−1)), of which the fraction `jitter` is randomised downwards, so a fleet
 * of senders that failed together does not retry together.
 */
import type { RetryPolicy } from '../rules/config.js';

export function retryDelay(
  failedAttempts: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const n = Math.max(1, Math.floor(failedAttempts));
  // 2 ** 60 is already past any sane maxMs; cap the exponent so the number stays finite.
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(n - 1, 60));
  const r = Math.min(1, Math.max(0, random()));
  return Math.max(0, Math.round(exp * (1 - policy.jitter * r)));
}

/** When the next attempt is due, or null when the attempt budget is spent (dead-letter). */
export function nextAttemptAt(
  attemptsMade: number,
  now: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
  retryAfterMs: number | null = null,
): number | null {
  if (attemptsMade >= policy.maxAttempts) return null;
  let delay = retryDelay(attemptsMade, policy, random);
  // A receiver that says when to come back (429/503 Retry-After) is heeded, within maxMs.
  if (retryAfterMs !== null) delay = Math.max(delay, Math.min(retryAfterMs, policy.maxMs));
  return now + delay;
}

/** Parses a Retry-After header (seconds or an HTTP date) into ms from `now`. */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}
