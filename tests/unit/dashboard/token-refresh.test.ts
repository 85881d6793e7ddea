/** Token refresh timing: well before expiry, never in a tight loop, never past the timer limit. */
import { describe, expect, it } from 'vitest';
import { refreshDelay } from '../../../dashboard/web/lib/api.js';

describe('refreshDelay', () => {
  it('refreshes at 80 % of the remaining lifetime', () => {
    expect(refreshDelay(1_000_000 + 3_600_000, 1_000_000)).toBe(2_880_000);
  });

  it('waits at least 5 s, even for a token about to expire or expired', () => {
    expect(refreshDelay(1_001_000, 1_000_000)).toBe(5_000);
    expect(refreshDelay(0, 1_000_000)).toBe(5_000);
  });

  it('stays within what setTimeout accepts', () => {
    expect(refreshDelay(Number.MAX_SAFE_INTEGER, 0)).toBe(2 ** 31 - 1);
  });
});
