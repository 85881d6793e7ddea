/**
 * The CSV export: the URL of `/api/export.csv` for a time range and filters, a file name, and a
 * fetch that sends the token in the Authorization header (never in the URL, where it would land
 * in logs and history) and hands back a Blob for the browser to save.
 */
import type { Api } from './api.js';
import { ApiError, ClientErrorCodes } from './api.js';

export interface ExportParams {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms. */
  to: number;
  site?: string | undefined;
  sku?: string | undefined;
}

export const CSV_HEADER = 'ts,iso,site,shelf,lane,sku,units,grams,state';
const DAY_MS = 24 * 60 * 60 * 1000;

/** The last `days` days up to `now`. */
export function lastDays(days: number, now: number): ExportParams {
  return { from: now - days * DAY_MS, to: now };
}

export function exportPath(p: ExportParams): string {
  if (!Number.isFinite(p.from) || !Number.isFinite(p.to) || p.from > p.to) {
    throw new RangeError(`export range: from (${p.from}) must be a time before to (${p.to})`);
  }
  const q = new URLSearchParams({ from: String(Math.floor(p.from)), to: String(Math.floor(p.to)) });
  if (p.site) q.set('site', p.site);
  if (p.sku) q.set('sku', p.sku);
  return `/api/export.csv?${q}`;
}

function stamp(ts: number): string {
  const d = new Date(ts);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}-${two(d.getUTCHours())}${two(d.getUTCMinutes())}`;
}

/** `shelfsense-[site-][sku-]20251126-1845-20251127-1845.csv` (UTC, safe on every file system). */
export function exportFilename(p: ExportParams): string {
  const parts = ['shelfsense'];
  for (const v of [p.site, p.sku]) if (v) parts.push(v.replace(/[^A-Za-z0-9_-]/g, '_'));
  return `${parts.join('-')}-${stamp(p.from)}-${stamp(p.to)}.csv`;
}

/** The file name a Content-Disposition header asks for, if it names a plain one. */
export function filenameFromDisposition(header: string | null): string | null {
  if (!header) return null;
  const m = /filename\s*=\s*"?([^";]+)"?/i.exec(header);
  const name = m?.[1]?.trim();
  if (!name || /[/\\]/.test(name) || name.startsWith('.')) return null;
  return name;
}

export interface CsvDownload {
  blob: Blob;
  filename: string;
}

/** Fetches the export with the token and returns it as a CSV Blob with a file name. */
export async function fetchCsv(api: Api, p: ExportParams): Promise<CsvDownload> {
  const path = exportPath(p);
  const res = await api.raw(path, { headers: { Accept: 'text/csv' } });
  const text = await res.text();
  if (!text.replace(/^\uFEFF/, '').startsWith('ts,')) {
    throw new ApiError(res.status, ClientErrorCodes.BAD_RESPONSE, `${path} did not answer CSV`);
  }
  return {
    blob: new Blob([text], { type: 'text/csv;charset=utf-8' }),
    filename: filenameFromDisposition(res.headers.get('Content-Disposition')) ?? exportFilename(p),
  };
}
