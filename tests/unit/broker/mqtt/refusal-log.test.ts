/**
 * Refusal warnings: at most `lines` per window, then one summary of the rest by reason.
 */
import { RefusalLog } from '@shelfsense/broker/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureLog } from '../../../helpers/log-capture.js';

interface Summary {
  msg: string;
  suppressed: Record<string, number>;
  total: number;
  users: string[];
  clientIds: string[];
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('refusal log', () => {
  it('a burst writes `lines` warnings and one summary per window, by reason, naming a few of who', () => {
    const { log, entries } = captureLog();
    const refusals = new RefusalLog(log, { lines: 3, windowMs: 1_000 });
    for (let i = 0; i < 60; i++) {
      const reason = i % 3 === 0 ? 'publish' : 'subscribe';
      refusals.warn(reason, { user: `u${i % 7}`, clientId: `c${i}` }, `denied ${reason}`);
    }
    expect(entries.map((e) => e.msg)).toEqual(['denied publish', 'denied subscribe', 'denied subscribe']);
    vi.advanceTimersByTime(1_000);
    expect(entries).toHaveLength(4);
    const summary = entries[3] as unknown as Summary;
    expect(summary.total).toBe(57);
    expect(summary.suppressed).toEqual({ publish: 19, subscribe: 38 });
    expect(summary.users.length).toBeLessThanOrEqual(5);
    expect(summary.clientIds).toEqual(['c3', 'c4', 'c5', 'c6', 'c7']);
    expect(summary.msg).toBe('57 more refusals not logged');

    // The next window starts afresh; a quiet window writes no summary.
    refusals.warn('publish', { user: 'u' }, 'denied publish');
    vi.advanceTimersByTime(1_000);
    expect(entries).toHaveLength(5);
    vi.advanceTimersByTime(10_000);
    expect(entries).toHaveLength(5);
  });

  it('lines: 0 summarises everything; close() writes the pending summary', () => {
    const { log, entries } = captureLog();
    const refusals = new RefusalLog(log, { lines: 0, windowMs: 60_000 });
    for (let i = 0; i < 10; i++) refusals.warn('oversize', { clientId: 'c' }, 'denied oversize');
    expect(entries).toHaveLength(0);
    refusals.close();
    expect(entries).toHaveLength(1);
    expect((entries[0] as unknown as Summary).suppressed).toEqual({ oversize: 10 });
    expect(vi.getTimerCount()).toBe(0);
  });
});
