/**
 * A supplier's delivery schedule: the next cut-off and delivery in the store's time zone, across
 * weeks and daylight-saving changes, and which needs cannot wait for the next cycle.
 */
import { isUrgent, nextCycle } from '@shelfsense/central/orders';
import { CentralConfig, DeliverySchedule, parseWith } from '@shelfsense/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const berlin = DeliverySchedule.parse({
  timezone: 'Europe/Berlin',
  cycles: [
    { cutoff: { day: 'mon', at: '14:00' }, delivery: { day: 'wed', at: '07:00' } },
    { cutoff: { day: 'thu', at: '14:00' }, delivery: { day: 'sat' } },
  ],
});
const iso = (ms: number) => new Date(ms).toISOString();
const at = (s: string) => Date.parse(s);

describe('delivery schedule', () => {
  it('the next cut-off is the first after now, in the schedule zone; delivery the first day after it', () => {
    // Monday 2026-12-07 13:59 in Berlin (UTC+1) is 12:59Z.
    let c = nextCycle(berlin, at('2026-12-07T12:59:00Z'));
    expect(iso(c.cutoffAt)).toBe('2026-12-07T13:00:00.000Z');
    expect(iso(c.deliveryAt)).toBe('2026-12-09T06:00:00.000Z');
    // At the cut-off itself, the next one is Thursday's; its delivery defaults to 08:00.
    c = nextCycle(berlin, at('2026-12-07T13:00:00Z'));
    expect(iso(c.cutoffAt)).toBe('2026-12-10T13:00:00.000Z');
    expect(iso(c.deliveryAt)).toBe('2026-12-12T07:00:00.000Z');
    // After Thursday's, next Monday's.
    c = nextCycle(berlin, at('2026-12-10T13:00:01Z'));
    expect(iso(c.cutoffAt)).toBe('2026-12-14T13:00:00.000Z');
  });

  it('a delivery on the cut-off day itself is the next week’s when its time has passed', () => {
    const s = DeliverySchedule.parse({
      timezone: 'UTC',
      cycles: [{ cutoff: { day: 'fri', at: '10:00' }, delivery: { day: 'fri', at: '09:00' } }],
    });
    const c = nextCycle(s, at('2026-12-04T08:00:00Z'));
    expect(iso(c.cutoffAt)).toBe('2026-12-04T10:00:00.000Z');
    expect(iso(c.deliveryAt)).toBe('2026-12-11T09:00:00.000Z');
  });

  it('keeps local time across daylight-saving changes; a skipped hour moves past the gap', () => {
    // Berlin springs forward on 2027-03-28 (02:00 → 03:00) and falls back on 2026-10-25.
    const c = nextCycle(berlin, at('2027-03-27T12:00:00Z'));
    expect(iso(c.cutoffAt)).toBe('2027-03-29T12:00:00.000Z'); // 14:00 CEST
    const sunday0230 = DeliverySchedule.parse({
      timezone: 'Europe/Berlin',
      cycles: [{ cutoff: { day: 'sun', at: '02:30' }, delivery: { day: 'mon' } }],
    });
    expect(iso(nextCycle(sunday0230, at('2027-03-27T12:00:00Z')).cutoffAt)).toBe('2027-03-28T01:30:00.000Z'); // 03:30 CEST
    // 02:30 happens twice on 2026-10-25; the first (CEST, 00:30Z) is the cut-off.
    expect(iso(nextCycle(sunday0230, at('2026-10-24T12:00:00Z')).cutoffAt)).toBe('2026-10-25T00:30:00.000Z');
  });

  it('[property] the cut-off is after now and within a week; the delivery after the cut-off and within a week of it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: at('2020-01-01T00:00:00Z'), max: at('2035-01-01T00:00:00Z') }),
        fc.constantFrom('Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'UTC'),
        (now, timezone) => {
          const s = DeliverySchedule.parse({ ...berlin, timezone });
          const c = nextCycle(s, now);
          const week = 7 * 86_400_000 + 3_600_000; // a week, give or take a clock change
          return (
            c.cutoffAt > now &&
            c.cutoffAt - now <= week &&
            c.deliveryAt > c.cutoffAt &&
            c.deliveryAt - c.cutoffAt <= week
          );
        },
      ),
      { numRuns: 2_000, seed: 20 },
    );
  });

  it('a need is urgent when its lane runs out before the next cycle’s goods arrive', () => {
    const now = at('2026-12-07T12:00:00Z'); // Monday before the cut-off: goods Wednesday 06:00Z
    expect(isUrgent(berlin, now, at('2026-12-08T12:00:00Z'))).toBe(true);
    expect(isUrgent(berlin, now, at('2026-12-09T18:00:00Z'))).toBe(false);
    expect(isUrgent(berlin, now, null)).toBe(false);
  });

  it('bad schedules are refused naming the field', () => {
    const issues = (v: unknown) => {
      const r = DeliverySchedule.safeParse(v);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(
      issues({
        timezone: 'Mars/Olympus',
        cycles: [{ cutoff: { day: 'mon', at: '14:00' }, delivery: { day: 'tue' } }],
      }),
    ).toEqual(['timezone: an IANA time zone such as Europe/Berlin or America/New_York']);
    expect(
      issues({
        timezone: 'UTC',
        cycles: [{ cutoff: { day: 'mon', at: '24:00' }, delivery: { day: 'tue' } }],
      }),
    ).toEqual(['cycles.0.cutoff.at: a time of day as HH:MM (24-hour)']);
    expect(
      issues({
        timezone: 'UTC',
        cycles: [{ cutoff: { day: 'monday', at: '10:00' }, delivery: { day: 'tue' } }],
      })[0],
    ).toMatch(/^cycles\.0\.cutoff\.day: /);
    expect(issues({ timezone: 'UTC', cycles: [] })[0]).toMatch(/^cycles: /);
    const twice = { cutoff: { day: 'mon', at: '10:00' }, delivery: { day: 'tue' } };
    expect(issues({ timezone: 'UTC', cycles: [twice, twice] })).toEqual([
      'cycles.1.cutoff: the same cut-off as cycles[0] (mon 10:00)',
    ]);
  });

  it('is part of a supplier in the central config and the catalogue', () => {
    const cfg = parseWith(
      CentralConfig,
      { suppliers: [{ id: 'acme', schedule: { timezone: 'Europe/Berlin', cycles: berlin.cycles } }] },
      'central config',
    );
    expect(cfg.suppliers[0]?.schedule?.cycles[1]?.delivery.at).toBe('08:00');
    expect(() =>
      parseWith(
        CentralConfig,
        { suppliers: [{ id: 'acme', schedule: { timezone: 'Nowhere/City', cycles: berlin.cycles } }] },
        'central config',
      ),
    ).toThrow(/suppliers\.0\.schedule\.timezone/);
  });
});
