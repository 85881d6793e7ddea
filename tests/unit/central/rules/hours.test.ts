/**
 * Opening hours: read in the site's own time zone (summer time included), days no span names are
 * closed, and bad hours in the catalogue are refused naming the field.
 */
import { closedAt, closedAtFor } from '@shelfsense/central/rules';
import { CentralSite, OpeningHours } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';

const BERLIN = OpeningHours.parse({
  timezone: 'Europe/Berlin',
  open: [
    { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:00', to: '21:00' },
    { days: ['sat'], from: '08:00', to: '24:00' },
  ],
});

describe('opening hours', () => {
  it('is open inside a span and closed outside, in the site’s time zone', () => {
    // Wednesday 2 December 2026 (CET, UTC+1).
    expect(closedAt(BERLIN, Date.UTC(2026, 11, 2, 6, 0))).toBeNull(); // 07:00: opens
    expect(closedAt(BERLIN, Date.UTC(2026, 11, 2, 5, 59))).toBe('wed 06:59 Europe/Berlin');
    expect(closedAt(BERLIN, Date.UTC(2026, 11, 2, 19, 59))).toBeNull();
    expect(closedAt(BERLIN, Date.UTC(2026, 11, 2, 20, 0))).toBe('wed 21:00 Europe/Berlin'); // closes
    // Saturday until midnight; Sunday is named by no span: closed all day.
    expect(closedAt(BERLIN, Date.UTC(2026, 11, 5, 22, 59))).toBeNull();
    expect(closedAt(BERLIN, Date.UTC(2026, 11, 5, 23, 0))).toBe('sun 00:00 Europe/Berlin');
    expect(closedAt(BERLIN, Date.UTC(2026, 11, 6, 12, 0))).toBe('sun 13:00 Europe/Berlin');
  });

  it('follows summer time: 06:30 UTC is 08:30 in July and 07:30 in December, both open', () => {
    expect(closedAt(BERLIN, Date.UTC(2026, 6, 1, 4, 30))).toBe('wed 06:30 Europe/Berlin');
    expect(closedAt(BERLIN, Date.UTC(2026, 6, 1, 5, 0))).toBeNull();
    expect(closedAt(BERLIN, Date.UTC(2026, 11, 2, 5, 30))).toBe('wed 06:30 Europe/Berlin');
  });

  it('a site without hours is always open', () => {
    const closed = closedAtFor({
      sites: [CentralSite.parse({ id: 's1', openingHours: BERLIN }), CentralSite.parse({ id: 's2' })],
    });
    const sunday = Date.UTC(2026, 11, 6, 2, 12);
    expect(closed('s1', sunday)).toBe('sun 03:12 Europe/Berlin');
    expect(closed('s2', sunday)).toBeNull();
    expect(closed('elsewhere', sunday)).toBeNull();
  });

  it('refuses bad hours naming the field', () => {
    const issues = (v: unknown) =>
      (CentralSite.safeParse({ id: 's1', openingHours: v }).error?.issues ?? []).map((i) => i.path.join('.'));
    expect(
      issues({ timezone: 'Mars/Olympus', open: [{ days: ['mon'], from: '07:00', to: '21:00' }] }),
    ).toEqual(['openingHours.timezone']);
    expect(issues({ timezone: 'UTC', open: [{ days: ['mon'], from: '21:00', to: '07:00' }] })).toEqual([
      'openingHours.open.0.to',
    ]);
    expect(issues({ timezone: 'UTC', open: [{ days: ['someday'], from: '07:00', to: '21:00' }] })).toEqual([
      'openingHours.open.0.days.0',
    ]);
    expect(issues({ timezone: 'UTC', open: [{ days: ['mon'], from: '7am', to: '21:00' }] })).toContain(
      'openingHours.open.0.from',
    );
    expect(issues({ timezone: 'UTC', open: [] })).toEqual(['openingHours.open']);
    expect(issues({ timezone: 'UTC', open: [{ days: ['mon', 'mon'], from: '07:00', to: '21:00' }] })).toEqual(
      ['openingHours.open.0.days'],
    );
  });
});
