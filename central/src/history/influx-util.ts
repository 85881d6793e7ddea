/**
 * Small InfluxDB 1.x helpers: WHERE clauses with escaped tag values, retention durations in
 * InfluxQL and back, and sorting the client's errors into "try again" and "refused".
 */
import { escape as influxEscape } from 'influx';
import { z } from 'zod';
import { HistoryError, HistoryErrorCodes } from './errors.js';

const NS_PER_MS = 1_000_000n;

export interface RangeFilter {
  site?: string | undefined;
  shelf?: string | undefined;
  lane?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

/** ` WHERE "site" = 's1' AND time >= …` for the given lane filter and [from, to), or '' for none. */
export function timeRange(q: RangeFilter, extraTags: Record<string, string | undefined> = {}): string {
  const parts: string[] = [];
  const tags: Record<string, string | undefined> = {
    site: q.site,
    shelf: q.shelf,
    lane: q.lane,
    ...extraTags,
  };
  for (const [k, v] of Object.entries(tags)) {
    if (v !== undefined) parts.push(`${influxEscape.quoted(k)} = ${influxEscape.stringLit(v)}`);
  }
  // Point times carry a sub-millisecond seq offset, so [from ms, to ms) is [from·10⁶ ns, to·10⁶ ns).
  if (q.from !== undefined) parts.push(`time >= ${BigInt(q.from) * NS_PER_MS}`);
  if (q.to !== undefined) parts.push(`time < ${BigInt(q.to) * NS_PER_MS}`);
  return parts.length ? ` WHERE ${parts.join(' AND ')}` : '';
}

/** A retention in ms as an InfluxQL duration literal (`INF` for 0: keep forever). */
export function retentionDuration(ms: number): string {
  return ms === 0 ? 'INF' : `${Math.round(ms / 1000)}s`;
}

/** InfluxDB's own duration form (`2160h0m0s`, `0s` for forever) in ms. */
export function parseInfluxDuration(d: string): number {
  let ms = 0;
  for (const m of d.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|µs|us|ns)/g)) {
    const n = Number(m[1]);
    const unit = m[2];
    if (unit === 'h') ms += n * 3_600_000;
    else if (unit === 'm') ms += n * 60_000;
    else if (unit === 's') ms += n * 1_000;
    else if (unit === 'ms') ms += n;
  }
  return Math.round(ms);
}

/**
 * Sorts an error of the influx client: no answer (refused, reset, timed out, name not resolved)
 * or a 5xx is UNAVAILABLE (try again);
 * a 4xx is REJECTED, except 401/403 (credentials may be fixed while we hold the points) and 404
 * (database gone: recreate it) which are UNAVAILABLE too.
 */
export function classify(err: unknown, what: string): HistoryError {
  if (err instanceof HistoryError) return err;
  const e = err as { message?: string; code?: string; res?: { statusCode?: number } };
  const message = `InfluxDB: cannot ${what}: ${e.message || e.code || String(err)}`;
  const status = e.res?.statusCode ?? null;
  if (status !== null && status >= 400 && status < 500 && ![401, 403, 404].includes(status)) {
    return new HistoryError(HistoryErrorCodes.REJECTED, message, status);
  }
  return new HistoryError(HistoryErrorCodes.UNAVAILABLE, message, status);
}

const RawResponse = z.object({
  results: z.array(
    z.object({
      error: z.string().optional(),
      series: z
        .array(
          z.object({
            tags: z.record(z.string(), z.string()).optional(),
            columns: z.array(z.string()),
            values: z.array(z.array(z.unknown())),
          }),
        )
        .optional(),
    }),
  ),
});

/**
 * The rows of a raw /query answer (one statement) as objects: column → value, plus the series'
 * GROUP BY tags. An error inside the answer (a 200 with `error`) is thrown as REJECTED.
 */
export function rowsOf(raw: unknown, what: string): Record<string, unknown>[] {
  const parsed = RawResponse.safeParse(raw);
  if (!parsed.success) {
    throw new HistoryError(HistoryErrorCodes.CORRUPT, `InfluxDB: ${what}: unexpected answer shape`);
  }
  const rows: Record<string, unknown>[] = [];
  for (const result of parsed.data.results) {
    if (result.error)
      throw new HistoryError(HistoryErrorCodes.REJECTED, `InfluxDB: cannot ${what}: ${result.error}`);
    for (const series of result.series ?? []) {
      const { columns, tags } = series;
      for (const values of series.values) {
        const row: Record<string, unknown> = { ...tags };
        for (let i = 0; i < columns.length; i++) row[columns[i] as string] = values[i];
        rows.push(row);
      }
    }
  }
  return rows;
}
