/**
 * A site's opening hours, in the catalogue: the spans of each weekday the store is open, in its
 * local time. A change of count while the store is closed is tamper. Without them the store is
 * always open.
 *
 *   openingHours:
 *     timezone: Europe/Berlin
 *     open:
 *       - { days: [mon, tue, wed, thu, fri], from: "07:00", to: "21:00" }
 *       - { days: [sat], from: "08:00", to: "18:00" }
 *
 * A day no span names is closed all day. A span ends before midnight (`to` up to `24:00`); one
 * past midnight is two spans.
 */
import { z } from 'zod';
import { ClockTime, TimeZone, Weekday } from './schedule.js';

export const OpeningSpan = z
  .strictObject({
    days: z
      .array(Weekday)
      .min(1)
      .max(7)
      .refine((d) => new Set(d).size === d.length, 'each day once'),
    from: ClockTime,
    to: z.union([ClockTime, z.literal('24:00')]),
  })
  .refine((s) => s.from < s.to, {
    path: ['to'],
    message: 'must be after from (a span past midnight is two spans)',
  });
export type OpeningSpan = z.infer<typeof OpeningSpan>;

export const OpeningHours = z.strictObject({
  timezone: TimeZone,
  open: z.array(OpeningSpan).min(1).max(28),
});
export type OpeningHours = z.infer<typeof OpeningHours>;
