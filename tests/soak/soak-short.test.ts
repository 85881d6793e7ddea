/**
 * The soak run, short: 3 shelves for one simulated day on the real chain (simulator → compiled agent
 * → compiled central with aedes, rules, orders and SQLite → webhook supplier who ships and restocks).
 * It proves the soak's own logic on the properties the full run (`npm run soak`) asserts for a week:
 * counts exact against the ground truth, nothing lost, orders one to one with needs.
 */
import { describe, expect, it } from 'vitest';
import { summaryTable, verdicts } from './report.js';
import { runSoak, type SoakResult } from './run.js';

describe('soak, one simulated day with 3 shelves', () => {
  let result: SoakResult;

  it('[nothing lost] [counts exact] [one need = one order] over a simulated day', async () => {
    result = await runSoak({
      days: 1,
      shelves: 3,
      seed: 4,
      // Busy enough that lanes cross their reorder points; goods arrive after closing the same day.
      picksPerLaneHour: 1.5,
      deliveryHour: 21,
      // A delivery is confirmed by a reading at least moveWindowMs (2 s of device time) after the
      // restock; after 21:00 the lanes are still, so only heartbeats bring one, every 500 ms of
      // wall time (up to 5 s of device time at 10 ×). Night hours of 4 s leave 12 s between the
      // delivery and the end of the day, two heartbeats at least: with 2 s hours (6 s) whether one
      // fell in the window was down to the heartbeat's phase.
      closedHourMs: 4_000,
      heartbeatMs: 500,
      leadHours: 1,
    });
    const failed = verdicts(result, { memory: false }).filter((v) => !v.ok);
    expect(failed, summaryTable(result)).toEqual([]);
    expect(result.analysis.orders.needs).toBeGreaterThanOrEqual(2);
    expect(result.analysis.orders.received).toBeGreaterThanOrEqual(1);
    expect(result.analysis.stable.changes).toBeGreaterThan(50);
    // Memory was sampled every simulated hour, after a forced GC in each child.
    expect(result.mem.map((m) => m.hour)).toEqual(Array.from({ length: 25 }, (_, h) => h));
    for (const m of result.mem) {
      expect(m.agent.rss).toBeGreaterThan(20 * 2 ** 20);
      expect(m.central.rss).toBeGreaterThan(20 * 2 ** 20);
    }
  }, 120_000);
});
