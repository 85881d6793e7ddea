/**
 * `GET /api/export.csv`: the level history of every lane the user may see (optionally one site or
 * one SKU) in a time range, as CSV, streamed page by page with backpressure so a large export
 * neither holds the whole history in memory nor blocks other requests for long.
 * Rows are grouped by lane (site, shelf, lane order) and ordered by time within a lane.
 */
import type { ServerResponse } from 'node:http';
import { Id } from '@shelfsense/protocol';
import type { LaneInfo } from '../shelf-map.js';
import type { HistoryRepo, LevelRow } from '../store/history.js';
import { type ApiRouter, authed, STREAMED } from './context.js';
import { csvRow } from './csv.js';
import { parseQuery } from './io.js';
import { RangeQuery, resolveRange } from './params.js';
import { visibleLanes } from './scope.js';

export const CSV_HEADER = ['ts', 'iso', 'site', 'shelf', 'lane', 'sku', 'units', 'grams', 'state'] as const;

const ExportQuery = RangeQuery.extend({ site: Id.optional(), sku: Id.optional() });
const PAGE_ROWS = 5_000;
/** The history store answers at most this many rows per query. */
const STORE_MAX_ROWS = 100_000;
const CHUNK_CHARS = 64 * 1024;

/**
 * One lane's level rows in [from, to), page by page. Pages continue from the last timestamp seen,
 * skipping the rows of that timestamp already given (the store orders by ts, then insertion).
 */
export function* levelPages(
  history: HistoryRepo,
  lane: LaneInfo,
  from: number,
  to: number,
  pageRows = PAGE_ROWS,
): Generator<LevelRow[]> {
  let cursor = from;
  let skip = 0;
  for (;;) {
    const rows = history.levels({
      site: lane.site,
      shelf: lane.shelf,
      lane: lane.lane,
      from: cursor,
      to,
      limit: skip + pageRows,
    });
    const page = rows.slice(skip);
    if (page.length === 0) return;
    yield page;
    if (rows.length < skip + pageRows) return;
    const lastTs = (page[page.length - 1] as LevelRow).ts;
    const sameTs = rows.reduce((n, r) => n + (r.ts === lastTs ? 1 : 0), 0);
    if (sameTs + pageRows > STORE_MAX_ROWS) {
      // More rows in one millisecond than the store returns at once: move on to the next one.
      cursor = lastTs + 1;
      skip = 0;
    } else {
      cursor = lastTs;
      skip = sameTs;
    }
  }
}

/** Writes `text`; resolves once the socket can take more. False when the client went away. */
function write(res: ServerResponse, text: string): Promise<boolean> | boolean {
  if (res.destroyed) return false;
  if (res.write(text)) return true;
  if (res.destroyed) return false;
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

export function exportRoutes(router: ApiRouter): void {
  authed(router, 'GET', '/api/export.csv', async (ctx, p) => {
    const q = parseQuery(ctx.url, ExportQuery);
    const { from, to } = resolveRange(q, ctx.now());
    const lanes = visibleLanes(p, ctx.deps.map).filter(
      (l) => (q.site === undefined || l.site === q.site) && (q.sku === undefined || l.sku === q.sku),
    );
    const res = ctx.res;
    res.writeHead(200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="shelfsense-levels-${from}-${to}.csv"`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    let buf = csvRow(CSV_HEADER);
    for (const lane of lanes) {
      for (const page of levelPages(ctx.deps.store.history, lane, from, to)) {
        for (const r of page) {
          buf += csvRow([
            r.ts,
            new Date(r.ts).toISOString(),
            r.site,
            r.shelf,
            r.lane,
            r.sku ?? lane.sku,
            r.units,
            r.grams,
            r.state,
          ]);
          if (buf.length >= CHUNK_CHARS) {
            if (!(await write(res, buf))) return STREAMED;
            buf = '';
          }
        }
        // Let other requests in between pages (the store's queries are synchronous).
        await new Promise((r) => setImmediate(r));
      }
    }
    if (buf && !(await write(res, buf))) return STREAMED;
    res.end();
    return STREAMED;
  });
}
