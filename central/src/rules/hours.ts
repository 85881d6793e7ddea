/**
 * Is a site's store closed at a given time? Its opening hours (the catalogue's `openingHours`) are
 * read in the site's own time zone, so a change of clocks (summer time) moves nothing by hand.
 */
import type { CentralConfig, OpeningHours } from '@shelfsense/protocol';

const formats = new Map<string, Intl.DateTimeFormat>();

function format(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(timeZone, f);
  }
  return f;
}

/** The local weekday (`mon`) and time (`HH:MM`) at `ts` in `timeZone`. */
export function localTime(ts: number, timeZone: string): { day: string; time: string } {
  const parts = format(timeZone).formatToParts(new Date(ts));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return { day: get('weekday').slice(0, 3).toLowerCase(), time: `${get('hour')}:${get('minute')}` };
}

/**
 * Null when the store is open at `ts` (or has no hours); otherwise when it is, in words:
 * `sun 03:12 Europe/Berlin`.
 */
export function closedAt(hours: OpeningHours | undefined, ts: number): string | null {
  if (!hours) return null;
  const { day, time } = localTime(ts, hours.timezone);
  const open = hours.open.some(
    (s) => (s.days as readonly string[]).includes(day) && time >= s.from && time < s.to,
  );
  return open ? null : `${day} ${time} ${hours.timezone}`;
}

/** The config's sites' hours as the rules ask for them: closed at reading time, in words, or null. */
export function closedAtFor(cfg: Pick<CentralConfig, 'sites'>): (site: string, ts: number) => string | null {
  const bySite = new Map(cfg.sites.map((s) => [s.id, s.openingHours]));
  return (site, ts) => closedAt(bySite.get(site), ts);
}
