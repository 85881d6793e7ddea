/**
 * The dashboard's static file handler behind a real HTTP server: content types, index.html for
 * client routes, the central side's paths left alone, no way out of the root, cache headers that
 * match the build's fingerprints, gzip, conditional requests.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createStaticHandler, MANIFEST_FILE, publicDir, serveDashboard } from '@shelfsense/dashboard';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Raw requests, so paths like `/../x` reach the server unnormalised. */
function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('createStaticHandler', () => {
  let dir: string;
  let root: string;
  let server: Server;
  let port: number;
  const APP_JS = 'console.log("app");'.repeat(50);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dash-static-'));
    root = join(dir, 'public');
    mkdirSync(root);
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>index</title>');
    writeFileSync(join(root, 'app.js'), APP_JS);
    writeFileSync(join(root, 'app.js.gz'), gzipSync(APP_JS));
    writeFileSync(join(root, 'app.css'), 'body{}');
    writeFileSync(join(root, '.env'), 'SECRET=1');
    writeFileSync(join(dir, 'outside.txt'), 'outside the root');
    writeFileSync(join(root, MANIFEST_FILE), JSON.stringify({ 'app.js': 'abc123', 'app.css': 'def456' }));
    const handler = createStaticHandler({ root });
    server = createServer((req, res) => {
      if (!handler(req, res)) {
        res.writeHead(418, { 'Content-Type': 'text/plain' });
        res.end('not the dashboard');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at / with the page security headers and no caching', async () => {
    const r = await get(port, '/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(r.headers['content-security-policy']).toMatch(/script-src 'self';/);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.body.toString()).toContain('<title>index</title>');
  });

  it('[client routes] unknown page paths get index.html; missing assets are 404', async () => {
    for (const p of ['/supplier', '/technician/x/y', '/operator?tab=1']) {
      const r = await get(port, p);
      expect(r.status, p).toBe(200);
      expect(r.body.toString()).toContain('<title>index</title>');
    }
    expect((await get(port, '/missing.js')).status).toBe(404);
  });

  it('[mounted at /] leaves /api, /mqtt, /metrics and /flows to the central side', async () => {
    for (const p of [
      '/api',
      '/api/lanes',
      '/mqtt',
      '/metrics',
      '/flows/x',
      '/x/../api/lanes',
      '/%61pi/lanes',
    ]) {
      expect((await get(port, p)).status, p).toBe(418);
    }
    expect((await get(port, '/apis')).status).toBe(200);
    const post = await get(port, '/', {}, 'POST');
    expect(post.status).toBe(418);
  });

  it('[no directory traversal] never serves outside the root or dotfiles', async () => {
    for (const p of [
      '/../outside.txt',
      '/%2e%2e/outside.txt',
      '/%2e%2e%2foutside.txt',
      '/..%2foutside.txt',
      '/public/../../outside.txt',
      '/.env',
      '/%2eenv',
      '/..%5coutside.txt',
      '/app.js%00.html',
    ]) {
      const r = await get(port, p);
      expect(r.body.toString(), p).not.toContain('outside the root');
      expect(r.body.toString(), p).not.toContain('SECRET');
      expect([400, 404, 200], p).toContain(r.status);
      if (r.status === 200) expect(r.body.toString(), p).toContain('<title>index</title>');
    }
    expect((await get(port, '/%E0%A4%A')).status).toBe(400);
  });

  it('content types and fingerprint caching', async () => {
    const css = await get(port, '/app.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers['cache-control']).toBe('no-cache');
    const pinned = await get(port, '/app.css?v=def456');
    expect(pinned.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const wrong = await get(port, '/app.css?v=old');
    expect(wrong.headers['cache-control']).toBe('no-cache');
  });

  it('serves the gzip twin when accepted, and 304 for a matching ETag', async () => {
    const plain = await get(port, '/app.js');
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(APP_JS);
    expect(plain.headers.vary).toBe('Accept-Encoding');
    const gz = await get(port, '/app.js', { 'Accept-Encoding': 'gzip, deflate' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.body.length).toBeLessThan(APP_JS.length);
    expect(gz.headers.etag).not.toBe(plain.headers.etag);
    const again = await get(port, '/app.js', { 'If-None-Match': String(plain.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('HEAD answers headers only', async () => {
    const r = await get(port, '/app.css', {}, 'HEAD');
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('6');
    expect(r.body.length).toBe(0);
  });

  it('says the dashboard is not built when index.html is missing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'dash-empty-'));
    const h = createStaticHandler({ root: empty });
    const s = createServer((req, res) => h(req, res));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const r = await get((s.address() as { port: number }).port, '/');
    await new Promise<void>((r2) => s.close(() => r2()));
    rmSync(empty, { recursive: true, force: true });
    expect(r.status).toBe(503);
    expect(r.body.toString()).toMatch(/not built/);
  });
});

describe('serveDashboard', () => {
  it('serves from publicDir(), the package dist/public', () => {
    expect(publicDir()).toMatch(/dashboard[\\/]dist[\\/]public$/);
    expect(typeof serveDashboard).toBe('function');
  });
});
