/**
 * `GET /api/export.csv`: the level history of every lane the user may see (optionally one site or
 * one SKU) in a time range, as CSV, streamed page by page with backpressure so a large export
 * neither holds the whole history in memory nor blocks other requests for long.
 * Rows are grouped by lane (site, shelf, lane order) and ordered by time within a lane.
 *
 * The rows come from the configured history store (SQLite or InfluxDB, `historyOf`). The status
 * line is sent with the first chunk, after the first query answered: a history store that cannot
 * be reached gets a JSON error (503) rather than an empty CSV; one that fails later cuts the
 * response off, so a client never takes a partial file for a whole one.
 */
import type { ServerResponse } from 'node:http';
import { ExportQuery, type LaneInfo } from '@shelfsense/protocol';
import { type HistoryStore, type LevelRow, MAX_ROWS } from '../history/contract.js';
import { type ApiRouter, authed, STREAMED } from './context.js';
import { csvRow } from './csv.js';
import { historyOf } from './deps.js';
import { parseQuery } from './io.js';
import { resolveRange } from './params.js';
import { visibleLanes } from './scope.js';

export const CSV_HEADER = ['ts', 'iso', 'site', 'shelf', 'lane', 'sku', 'units', 'grams', 'state'] as const;

const PAGE_ROWS = 5_000;
const CHUNK_CHARS = 64 * 1024;

/**
 * One lane's level rows in [from, to), page by page. Pages continue from the last timestamp seen,
 * skipping the rows of that timestamp already given (a store orders rows of one ms the same way
 * every time: SQLite by insertion, InfluxDB by the sub-millisecond seq offset of the point time).
 */
export async function* levelPages(
  history: Pick<HistoryStore, 'levels'>,
  lane: LaneInfo,
  from: number,
  to: number,
  pageRows = PAGE_ROWS,
): AsyncGenerator<LevelRow[]> {
  let cursor = from;
  let skip = 0;
  for (;;) {
    const rows = await history.levels({
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
    if (sameTs + pageRows > MAX_ROWS) {
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
export function write(res: ServerResponse, text: string): Promise<boolean> | boolean {
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
    const send = (text: string) => {
      if (!res.headersSent) {
        res.writeHead(200, {
          'Content-Type': 'text/csv; charset=utf-8',
          'Content-Disposition': `attachment; filename="shelfsense-levels-${from}-${to}.csv"`,
          'Cache-Control': 'no-store',
          'X-Content-Type-Options': 'nosniff',
        });
      }
      return write(res, text);
    };
    const history = historyOf(ctx.deps);
    let buf = csvRow(CSV_HEADER);
    for (const lane of lanes) {
      for await (const page of levelPages(history, lane, from, to)) {
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
            if (!(await send(buf))) return STREAMED;
            buf = '';
          }
        }
        // Let other requests in between pages (the SQLite store answers without yielding).
        await new Promise((r) => setImmediate(r));
      }
    }
    if (!(await send(buf))) return STREAMED;
    res.end();
    return STREAMED;
  });
}
