/**
 * Number, time and name formatting for the dashboard. Pure and locale-fixed (English, `,` for
 * thousands) so the same value always reads the same, in the browser and in unit tests.
 */

const DASH = '—';

export interface LaneRef {
  site: string;
  shelf: string;
  lane: string;
}

/** The key a lane is stored under: `site/shelf/lane` (the same order as its MQTT topic). */
export function laneKey(ref: LaneRef): string {
  return `${ref.site}/${ref.shelf}/${ref.lane}`;
}

/** The lane's place in words, for headings and accessible names. */
export function laneName(ref: LaneRef): string {
  return `${ref.site} · ${ref.shelf} · ${ref.lane}`;
}

function group(n: number, digits: number): string {
  const [int = '0', frac] = Math.abs(n).toFixed(digits).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${n < 0 ? '-' : ''}${grouped}${frac ? `.${frac}` : ''}`;
}

/** "7 of 24 items", "7 items" when the capacity is unknown, "—" when the count is. */
export function formatUnits(units: number | null, capacity: number | null = null): string {
  if (units === null || !Number.isFinite(units)) return DASH;
  const noun = units === 1 && capacity === null ? 'item' : 'items';
  return capacity === null
    ? `${group(units, 0)} ${noun}`
    : `${group(units, 0)} of ${group(capacity, 0)} items`;
}

/** Fill as a whole percentage for the bar width, clamped to 0..100 (an overfilled lane is full). */
export function fillPercent(fill: number | null): number {
  if (fill === null || !Number.isFinite(fill)) return 0;
  return Math.max(0, Math.min(100, Math.round(fill * 100)));
}

/** "29 %", or "112 %" when overfilled: the text shows what the bar cannot. */
export function formatFill(fill: number | null): string {
  if (fill === null || !Number.isFinite(fill)) return DASH;
  return `${Math.round(fill * 100)} %`;
}

/** Grams with one decimal below 10 kg, kilograms with two above. */
export function formatGrams(grams: number | null): string {
  if (grams === null || !Number.isFinite(grams)) return DASH;
  if (Math.abs(grams) >= 10_000) return `${group(grams / 1000, 2)} kg`;
  return `${group(grams, 1)} g`;
}

/** Residual error of a calibration: "±0.42 g". */
export function formatResidual(grams: number | null): string {
  if (grams === null || !Number.isFinite(grams)) return DASH;
  return `±${group(Math.abs(grams), 2)} g`;
}

/** Days of cover: hours under a day, one decimal under ten days, whole days above. */
export function formatDaysOfCover(days: number | null): string {
  if (days === null || !Number.isFinite(days) || days < 0) return DASH;
  if (days < 1) {
    const hours = Math.round(days * 24);
    return hours < 1 ? 'under 1 hour' : `${hours} hour${hours === 1 ? '' : 's'}`;
  }
  if (days < 10) {
    const d = Math.round(days * 10) / 10;
    return `${d} day${d === 1 ? '' : 's'}`;
  }
  return `${Math.round(days)} days`;
}

/** "just now", "12 s ago", "5 min ago", "3 h ago", "2 days ago"; "never" without a time. */
export function formatAgo(ts: number | null, now: number): string {
  if (ts === null || !Number.isFinite(ts)) return 'never';
  const s = Math.round((now - ts) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} days ago`;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** "2025-11-26 18:45:03" in local time, or UTC when asked (tests, CSV names). */
export function formatDateTime(ts: number | null, utc = false): string {
  if (ts === null || !Number.isFinite(ts)) return DASH;
  const d = new Date(ts);
  const [y, mo, day, h, mi, s] = utc
    ? [
        d.getUTCFullYear(),
        d.getUTCMonth() + 1,
        d.getUTCDate(),
        d.getUTCHours(),
        d.getUTCMinutes(),
        d.getUTCSeconds(),
      ]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  return `${y}-${pad(mo)}-${pad(day)} ${pad(h)}:${pad(mi)}:${pad(s)}`;
}

/** Raw ADC counts as a signed integer with thousands separators. */
export function formatCounts(counts: number | null): string {
  if (counts === null || !Number.isFinite(counts)) return DASH;
  return group(Math.round(counts), 0);
}
