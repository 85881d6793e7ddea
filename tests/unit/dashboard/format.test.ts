/** Formatting: counts, fill, weights, days of cover and relative times read the same everywhere. */
import { describe, expect, it } from 'vitest';
import {
  fillPercent,
  formatAgo,
  formatCounts,
  formatDateTime,
  formatDaysOfCover,
  formatFill,
  formatGrams,
  formatResidual,
  formatUnits,
  laneKey,
  laneName,
} from '../../../dashboard/web/lib/format.js';
import { T0 } from './fixtures.js';

describe('format', () => {
  it('names and keys lanes in topic order', () => {
    const ref = { site: 'store-1', shelf: 'shelf-a', lane: 'L0' };
    expect(laneKey(ref)).toBe('store-1/shelf-a/L0');
    expect(laneName(ref)).toBe('store-1 · shelf-a · L0');
  });

  it('item counts with and without capacity', () => {
    expect(formatUnits(7, 24)).toBe('7 of 24 items');
    expect(formatUnits(1)).toBe('1 item');
    expect(formatUnits(1200)).toBe('1,200 items');
    expect(formatUnits(null)).toBe('—');
  });

  it('fill bar clamps to 0..100 while the text shows overfill', () => {
    expect(fillPercent(0.291)).toBe(29);
    expect(fillPercent(1.12)).toBe(100);
    expect(fillPercent(-0.1)).toBe(0);
    expect(fillPercent(null)).toBe(0);
    expect(formatFill(1.12)).toBe('112 %');
    expect(formatFill(null)).toBe('—');
  });

  it('grams below 10 kg, kilograms above', () => {
    expect(formatGrams(2450.34)).toBe('2,450.3 g');
    expect(formatGrams(-3.25)).toBe('-3.3 g');
    expect(formatGrams(12345)).toBe('12.35 kg');
    expect(formatGrams(Number.NaN)).toBe('—');
    expect(formatResidual(-0.4234)).toBe('±0.42 g');
  });

  it('days of cover in hours under a day', () => {
    expect(formatDaysOfCover(0.56)).toBe('13 hours');
    expect(formatDaysOfCover(1 / 24)).toBe('1 hour');
    expect(formatDaysOfCover(0.01)).toBe('under 1 hour');
    expect(formatDaysOfCover(1)).toBe('1 day');
    expect(formatDaysOfCover(2.44)).toBe('2.4 days');
    expect(formatDaysOfCover(23.6)).toBe('24 days');
    expect(formatDaysOfCover(null)).toBe('—');
    expect(formatDaysOfCover(Number.POSITIVE_INFINITY)).toBe('—');
  });

  it('relative times', () => {
    expect(formatAgo(T0, T0 + 2_000)).toBe('just now');
    expect(formatAgo(T0, T0 + 12_000)).toBe('12 s ago');
    expect(formatAgo(T0, T0 + 5 * 60_000)).toBe('5 min ago');
    expect(formatAgo(T0, T0 + 3 * 3_600_000)).toBe('3 h ago');
    expect(formatAgo(T0, T0 + 3 * 86_400_000)).toBe('3 days ago');
    expect(formatAgo(null, T0)).toBe('never');
  });

  it('absolute times and raw counts', () => {
    expect(formatDateTime(T0, true)).toBe('2025-11-26 18:45:00');
    expect(formatDateTime(null)).toBe('—');
    expect(formatCounts(-1234567.4)).toBe('-1,234,567');
    expect(formatCounts(null)).toBe('—');
  });
});
