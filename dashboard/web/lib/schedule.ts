/**
 * A supplier's delivery schedule as dashboard form text: weekday names, the form's fields, the
 * request body the catalogue's schema accepts, its errors in words, and the cycles described.
 * No DOM.
 */
import {
  type ContactBody,
  type DeliverySchedule,
  SupplierBody,
  type SupplierView,
  WEEKDAYS,
  type Weekday,
} from '@shelfsense/protocol';
import { type Checked, checkBody, type FieldErrors, fieldLabel } from './catalogue.js';

const DAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
export const WEEKDAY_NAMES = Object.fromEntries(WEEKDAYS.map((d, i) => [d, DAY_NAMES[i]])) as Readonly<
  Record<Weekday, string>
>;
export const WEEKDAY_OPTIONS = WEEKDAYS.map((d): [string, string] => [d, WEEKDAY_NAMES[d]]);

export interface CycleForm {
  cutoffDay: string;
  cutoffAt: string;
  deliveryDay: string;
  deliveryAt: string;
}
export interface ScheduleForm {
  timezone: string;
  cycles: CycleForm[];
}

export const newCycle = (): CycleForm => ({
  cutoffDay: 'mon',
  cutoffAt: '14:00',
  deliveryDay: 'wed',
  deliveryAt: '08:00',
});

/** The schedule as form text; none yet: one cycle in `zone` (the browser's) to start from. */
export function scheduleForm(s: DeliverySchedule | null, zone = 'UTC'): ScheduleForm {
  if (!s) return { timezone: zone, cycles: [newCycle()] };
  return {
    timezone: s.timezone,
    cycles: s.cycles.map((c) => ({
      cutoffDay: c.cutoff.day,
      cutoffAt: c.cutoff.at,
      deliveryDay: c.delivery.day,
      deliveryAt: c.delivery.at,
    })),
  };
}

/**
 * The supplier's PUT body with the schedule (`null` removes it). The PUT replaces the supplier,
 * so its name and contacts go along as they were read.
 */
export function scheduleBody(
  supplier: Pick<SupplierView, 'name' | 'contacts'>,
  f: ScheduleForm | null,
  revision: number | undefined,
): Checked<SupplierBody> {
  const schedule = f && {
    timezone: f.timezone.trim(),
    cycles: f.cycles.map((c) => ({
      cutoff: { day: c.cutoffDay, at: c.cutoffAt.trim() },
      delivery: { day: c.deliveryDay, at: c.deliveryAt.trim() },
    })),
  };
  const contacts: ContactBody[] = supplier.contacts.map((c) => ({ ...c }));
  const body = {
    ...(supplier.name ? { name: supplier.name } : {}),
    contacts,
    schedule,
    ...(revision === undefined ? {} : { revision }),
  };
  return checkBody(SupplierBody, body);
}

/** A server's catalogue-wide path (`suppliers.0.schedule.timezone`) as the form's own. */
export function scheduleErrors(fields: FieldErrors): FieldErrors {
  const out: Record<string, string> = {};
  for (const [path, msg] of Object.entries(fields)) out[path.replace(/^suppliers\.\d+\./, '')] ??= msg;
  return out;
}

/** `schedule.cycles.1.delivery.at` → "Cycle 2 delivery time". */
export function scheduleFieldLabel(path: string): string {
  const p = path.replace(/^suppliers\.\d+\./, '').split('.');
  if (p[0] !== 'schedule') return fieldLabel(path);
  if (p[1] === 'timezone') return 'Time zone';
  if (p[1] !== 'cycles') return 'Schedule';
  if (p[2] === undefined) return 'Cycles';
  const what = p[3] === 'cutoff' ? 'cut-off' : p[3] === 'delivery' ? 'delivery' : '';
  const part = p[4] === 'day' ? ' day' : p[4] === 'at' ? ' time' : '';
  return `Cycle ${Number(p[2]) + 1}${what ? ` ${what}` : ''}${part}`;
}

/** "Cut-off Monday 14:00, delivery Wednesday 08:00" per cycle. */
export function describeCycles(s: DeliverySchedule): string[] {
  return s.cycles.map(
    (c) =>
      `Cut-off ${WEEKDAY_NAMES[c.cutoff.day]} ${c.cutoff.at}, delivery ${WEEKDAY_NAMES[c.delivery.day]} ${c.delivery.at}`,
  );
}
