/**
 * A supplier's delivery schedule, in the catalogue: the cut-offs by which it takes orders and the
 * day each cut-off's goods arrive, in the store's local time. Needs gathered until a cut-off go
 * out together at it, as one purchase order per site.
 *
 *   schedule:
 *     timezone: Europe/Berlin
 *     cycles:
 *       - { cutoff: { day: mon, at: "14:00" }, delivery: { day: wed, at: "07:00" } }
 *       - { cutoff: { day: thu, at: "14:00" }, delivery: { day: sat } }
 */
import { z } from 'zod';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const Weekday = z.enum(WEEKDAYS);
export type Weekday = z.infer<typeof Weekday>;

/** A wall-clock time of day, 24-hour `HH:MM`. */
export const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day as HH:MM (24-hour)');

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const TimeZone = z
  .string()
  .refine(isTimeZone, 'an IANA time zone such as Europe/Berlin or America/New_York');

export const DeliveryCycle = z.strictObject({
  /** Needs known by then go into this cycle's order. */
  cutoff: z.strictObject({ day: Weekday, at: ClockTime }),
  /** The first such day and time after the cut-off is when the goods arrive. */
  delivery: z.strictObject({ day: Weekday, at: ClockTime.default('08:00') }),
});
export type DeliveryCycle = z.infer<typeof DeliveryCycle>;

export const DeliverySchedule = z
  .strictObject({
    timezone: TimeZone,
    cycles: z.array(DeliveryCycle).min(1).max(21),
  })
  .superRefine((s, ctx) => {
    const seen = new Map<string, number>();
    s.cycles.forEach((c, i) => {
      const key = `${c.cutoff.day} ${c.cutoff.at}`;
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['cycles', i, 'cutoff'],
          message: `the same cut-off as cycles[${first}] (${key})`,
        });
      } else seen.set(key, i);
    });
  });
export type DeliverySchedule = z.infer<typeof DeliverySchedule>;
