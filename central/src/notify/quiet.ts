/**
 * Quiet hours: a daily window, in the user's own time zone, in which no e-mail goes out; what falls
 * in it waits for its end. `from` after `to` spans midnight (22:00–07:00). Times are wall-clock, so
 * a window keeps its local hours across daylight-saving changes (luxon does the zone arithmetic; a
 * local time skipped by the spring change is read as the first moment after it).
 */
import type { QuietHours } from '@shelfsense/protocol';
import { DateTime } from 'luxon';

const minutesOf = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/** Is `ts` (epoch ms) inside the quiet hours? */
export function inQuietHours(ts: number, q: QuietHours | null): boolean {
  if (!q) return false;
  const t = DateTime.fromMillis(ts, { zone: q.timeZone });
  if (!t.isValid) return false;
  const now = t.hour * 60 + t.minute;
  const from = minutesOf(q.from);
  const to = minutesOf(q.to);
  if (from === to) return false;
  return from < to ? now >= from && now < to : now >= from || now < to;
}

/** `ts` itself when outside the quiet hours, else the moment they end. */
export function quietUntil(ts: number, q: QuietHours | null): number {
  if (!q || !inQuietHours(ts, q)) return ts;
  const t = DateTime.fromMillis(ts, { zone: q.timeZone });
  const to = minutesOf(q.to);
  let end = t.set({ hour: Math.floor(to / 60), minute: to % 60, second: 0, millisecond: 0 });
  if (end.toMillis() <= ts) end = end.plus({ days: 1 });
  return end.toMillis();
}
