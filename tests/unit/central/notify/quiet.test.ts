/**
 * Quiet hours: notices falling in them wait for their end, in the user's own time zone, across
 * midnight and across daylight-saving changes.
 */

import { inQuietHours, quietUntil } from '@shelfsense/central/notify';
import { describe, expect, it } from 'vitest';

const at = (iso: string) => Date.parse(iso);
const night = { from: '22:00', to: '07:00', timeZone: 'Europe/Berlin' };
const lunch = { from: '12:00', to: '13:30', timeZone: 'America/New_York' };

describe('quiet hours', () => {
  it('[QUIET-1] outside the window a notice is due at once; no window, never held', () => {
    const t = at('2026-01-15T15:00:00Z'); // 16:00 in Berlin
    expect(inQuietHours(t, night)).toBe(false);
    expect(quietUntil(t, night)).toBe(t);
    expect(quietUntil(t, null)).toBe(t);
  });

  it('[QUIET-2] a window over midnight holds until its end, the same night or the next morning', () => {
    // 22:30 in Berlin (UTC+1 in January): held to 07:00 the next day.
    expect(quietUntil(at('2026-01-15T21:30:00Z'), night)).toBe(at('2026-01-16T06:00:00Z'));
    // 03:00 in Berlin: held to 07:00 the same day.
    expect(quietUntil(at('2026-01-16T02:00:00Z'), night)).toBe(at('2026-01-16T06:00:00Z'));
    // The edges: 22:00 is quiet, 07:00 is not.
    expect(inQuietHours(at('2026-01-15T21:00:00Z'), night)).toBe(true);
    expect(inQuietHours(at('2026-01-16T06:00:00Z'), night)).toBe(false);
    expect(inQuietHours(at('2026-01-16T05:59:59Z'), night)).toBe(true);
  });

  it('[QUIET-3] a window within one day, in the user’s time zone', () => {
    // 12:15 in New York (UTC−5 in January) → 13:30 there.
    expect(quietUntil(at('2026-01-15T17:15:00Z'), lunch)).toBe(at('2026-01-15T18:30:00Z'));
    expect(inQuietHours(at('2026-01-15T16:59:00Z'), lunch)).toBe(false);
  });

  it('[QUIET-4] local hours hold across a daylight-saving change', () => {
    // Berlin goes to summer time on 29 March 2026 at 02:00: the night starts at 22:00 CET (21:00Z)
    // and ends at 07:00 CEST (05:00Z).
    expect(quietUntil(at('2026-03-28T23:00:00Z'), night)).toBe(at('2026-03-29T05:00:00Z'));
    // And back on 25 October 2026: 22:00 CEST (20:00Z) to 07:00 CET (06:00Z).
    expect(quietUntil(at('2026-10-24T20:30:00Z'), night)).toBe(at('2026-10-25T06:00:00Z'));
  });
});
