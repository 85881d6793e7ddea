/**
 * CSV export helper: the URL carries the range and filters but never the token; the token goes in
 * the Authorization header; the answer becomes a CSV Blob with a safe file name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, ApiError } from '../../../dashboard/web/lib/api.js';
import {
  CSV_HEADER,
  exportFilename,
  exportPath,
  fetchCsv,
  filenameFromDisposition,
  lastDays,
} from '../../../dashboard/web/lib/csv.js';
import { T0 } from './fixtures.js';
import { json, startServer, type TestServer } from './http.js';

const TOKEN = 'tok-abc.123';
const BODY = `${CSV_HEADER}\n${T0},2025-11-26T18:45:00.000Z,store-1,shelf-a,L0,cola-330,7,2450.3,ok\n`;

describe('export URL and file name', () => {
  it('puts range and filters in the query', () => {
    const p = { from: T0 - 86_400_000, to: T0, site: 'store-1', sku: 'cola-330' };
    const url = new URL(exportPath(p), 'http://x');
    expect(url.pathname).toBe('/api/export.csv');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      from: String(T0 - 86_400_000),
      to: String(T0),
      site: 'store-1',
      sku: 'cola-330',
    });
    expect(exportPath({ from: 1, to: 2 })).toBe('/api/export.csv?from=1&to=2');
  });

  it('refuses a backwards or non-numeric range', () => {
    expect(() => exportPath({ from: 2, to: 1 })).toThrow(RangeError);
    expect(() => exportPath({ from: Number.NaN, to: 1 })).toThrow(/from/);
  });

  it('names the file by filters and UTC range, file-system safe', () => {
    expect(exportFilename(lastDays(1, T0))).toBe('shelfsense-20251125-1845-20251126-1845.csv');
    expect(exportFilename({ ...lastDays(7, T0), site: 'store 1/x', sku: 'cola' })).toBe(
      'shelfsense-store_1_x-cola-20251119-1845-20251126-1845.csv',
    );
  });

  it('takes a plain file name from Content-Disposition, never a path', () => {
    expect(filenameFromDisposition('attachment; filename="levels.csv"')).toBe('levels.csv');
    expect(filenameFromDisposition('attachment; filename=levels.csv')).toBe('levels.csv');
    expect(filenameFromDisposition('attachment; filename="../../etc/passwd"')).toBeNull();
    expect(filenameFromDisposition('attachment; filename=".bashrc"')).toBeNull();
    expect(filenameFromDisposition(null)).toBeNull();
  });
});

describe('fetchCsv against a real HTTP server', () => {
  let server: TestServer;
  let unauthorized = 0;
  let api: Api;
  let token: string | null = TOKEN;

  beforeAll(async () => {
    server = await startServer((req, res) => {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        json(res, 401, { error: { code: 'SHELF_ERR_UNAUTHENTICATED', message: 'no token' } });
        return;
      }
      if (req.url.includes('site=html')) {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<html>login</html>');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/csv; charset=utf-8' });
      res.end(BODY);
    });
    api = new Api({
      baseUrl: server.url,
      token: () => token,
      onUnauthorized: () => {
        unauthorized++;
      },
    });
  });
  afterAll(() => server.close());

  it('[token not in URL] sends the token as a bearer header and returns a CSV Blob', async () => {
    const p = { ...lastDays(1, T0), site: 'store-1' };
    const { blob, filename } = await fetchCsv(api, p);
    const req = server.requests.at(-1);
    expect(req?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req?.url).not.toContain(TOKEN);
    expect(req?.url).toBe(exportPath(p));
    expect(blob.type).toBe('text/csv;charset=utf-8');
    expect(await blob.text()).toBe(BODY);
    expect(filename).toBe('shelfsense-store-1-20251125-1845-20251126-1845.csv');
  });

  it('an expired token raises a 401 ApiError and tells the app', async () => {
    token = 'stale';
    const before = unauthorized;
    const err = await fetchCsv(api, lastDays(1, T0)).catch((e: unknown) => e);
    token = TOKEN;
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(401);
    expect((err as ApiError).code).toBe('SHELF_ERR_UNAUTHENTICATED');
    expect(unauthorized).toBe(before + 1);
  });

  it('an answer that is not CSV is an error, not a saved file', async () => {
    const err = await fetchCsv(api, { ...lastDays(1, T0), site: 'html' }).catch((e: unknown) => e);
    expect((err as ApiError).code).toBe('SHELF_ERR_BAD_RESPONSE');
  });
});
