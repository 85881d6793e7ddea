/**
 * Fuzzing boundary 4 — the central HTTP API on a real server (the in-process Central on port 0):
 * JSON bodies of the POST routes and query strings of the GET routes, sent as users of every role
 * and as nobody. Never a 5xx; a 400 is SHELF_ERR_INVALID with the offending fields named; no token
 * is always 401; a supplier never sees another supplier's lane; a role that may not send commands
 * never gets one through.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutated, nastyValue } from '../helpers/fuzz-arbitraries.js';
import { FuzzTally, fcParams, fuzzRuns, loadCorpus, ProcessGuard } from '../helpers/fuzz-support.js';
import { FUZZ_USERS, type FuzzWorld, SHELF, SITE, startFuzzWorld } from '../helpers/fuzz-world.js';

type User = 'nobody' | (typeof FUZZ_USERS)[number]['name'];
interface Req {
  user: User;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

const idSeg = fc.oneof(
  fc.constantFrom(
    SITE,
    SHELF,
    'L1',
    'L2',
    'pi-1',
    '1',
    'ghost',
    '%',
    '%ZZ',
    '..',
    'a%2Fb',
    ' ',
    'x'.repeat(300),
  ),
  fc.string({ maxLength: 10 }).map(encodeURIComponent),
);
const queryValue = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '-1',
    '1e3',
    '999999999999999',
    '9999999999999999',
    'open',
    'open,bogus',
    ',',
    'NaN',
  ),
  fc.integer().map(String),
  fc.string({ maxLength: 12 }),
);
const queryKey = fc.constantFrom('from', 'to', 'state', 'kind', 'site', 'sku', 'limit', 'x', 'from', 'to');
const query = fc
  .array(fc.tuple(queryKey, queryValue), { maxLength: 5 })
  .map((kv) => (kv.length ? `?${kv.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}` : ''));

const getPath = fc.oneof(
  query.map((q) => `/api/orders${q}`),
  query.map((q) => `/api/alerts${q}`),
  query.map((q) => `/api/lanes${q}`),
  query.map((q) => `/api/export.csv${q}`),
  query.map((q) => `/api/webhooks/dead${q}`),
  fc
    .tuple(idSeg, idSeg, idSeg, fc.constantFrom('', '/history', '/calibrations'), query)
    .map(([s, h, l, tail, q]) => `/api/lanes/${s}/${h}/${l}${tail}${q}`),
  idSeg.map((id) => `/api/orders/${id}`),
);

const body = (valid: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 5, arbitrary: mutated(valid).map((v) => JSON.stringify(v) ?? '') },
    { weight: 2, arbitrary: nastyValue.map((v) => JSON.stringify(v) ?? '') },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', 'null', '[]', '{"__proto__":{"admin":true}}', '1e999') },
  );

const post = fc.oneof(
  body(fc.record({ username: fc.constantFrom('acme', 'nobody'), password: fc.string() })).map((b) => ({
    path: '/api/login',
    body: b,
  })),
  body(fc.constant({})).map((b) => ({ path: '/api/login/refresh', body: b })),
  fc
    .tuple(idSeg, fc.constantFrom('acknowledge', 'ship', 'cancel'), body(fc.record({ quantity: fc.nat() })))
    .map(([id, action, b]) => ({ path: `/api/orders/${id}/${action}`, body: b })),
  fc
    .tuple(idSeg, body(fc.constant({})))
    .map(([id, b]) => ({ path: `/api/alerts/${id}/acknowledge`, body: b })),
  fc
    .tuple(idSeg, body(fc.constant({})))
    .map(([id, b]) => ({ path: `/api/webhooks/dead/${id}/requeue`, body: b })),
  // Commands name lanes that do not exist, so no fuzzed body can tare a real one.
  fc
    .tuple(
      fc.constantFrom(SITE, 'ghost'),
      fc.constantFrom('pi-1', 'ghost'),
      fc.constantFrom('identify', 'tare', 'calibrate', 'learn-unit', 'stream', 'reboot'),
      body(
        fc.record({
          args: fc.record({ shelf: fc.constant(SHELF), lane: fc.constant('L9'), massG: fc.nat() }),
        }),
      ),
    )
    .map(([s, a, c, b]) => ({ path: `/api/agents/${s}/${a}/commands/${c}`, body: b })),
);

const request: fc.Arbitrary<Req> = fc
  .tuple(
    fc.constantFrom<User>('nobody', ...FUZZ_USERS.map((u) => u.name)),
    fc.oneof(
      getPath.map((path) => ({ method: 'GET' as const, path })),
      post.map((p) => ({ method: 'POST' as const, ...p })),
    ),
  )
  .map(([user, r]) => ({ user, ...r }));

const guard = new ProcessGuard();
let world: FuzzWorld;
const tokens = new Map<string, string>();

beforeAll(async () => {
  guard.install();
  world = await startFuzzWorld();
  for (const u of FUZZ_USERS) {
    const r = await fetch(`${world.httpBase}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: u.name, password: u.password }),
    });
    tokens.set(u.name, ((await r.json()) as { token: string }).token);
  }
}, 60_000);

afterAll(async () => {
  await world?.stop();
  guard.dispose();
});

async function send(r: Req): Promise<{ status: number; text: string }> {
  const token = r.user === 'nobody' ? undefined : tokens.get(r.user);
  const res = await fetch(`${world.httpBase}${r.path}`, {
    method: r.method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(r.method === 'POST' ? { body: r.body ?? '' } : {}),
  });
  return { status: res.status, text: await res.text() };
}

/** Checks one answer; returns whether the request was refused. */
function check(r: Req, a: { status: number; text: string }): boolean {
  const where = `${r.user} ${r.method} ${r.path} ${r.body ?? ''}`.slice(0, 400);
  if (a.status >= 500 && a.status !== 503 && a.status !== 504)
    throw new Error(`${a.status} for ${where}: ${a.text}`);
  // 503/504 only from a command the agent could not answer: never from anything else.
  if (a.status >= 500 && !r.path.includes('/commands/')) throw new Error(`${a.status} for ${where}`);
  // A path that `..` segments resolve to outside /api is the dashboard's (its page), not the API's.
  if (!new URL(r.path, 'http://h').pathname.startsWith('/api/')) return a.status !== 200;
  const isLogin = r.path === '/api/login';
  // Routing answers first (404 / 405 for a path no route has, e.g. after `..` is resolved); past it,
  // no token is always 401.
  if (r.user === 'nobody' && !isLogin) expect([401, 404, 405], where).toContain(a.status);
  if (r.user === 'nobody' && !isLogin && a.status === 404) {
    expect((JSON.parse(a.text) as { error: { message: string } }).error.message, where).toMatch(/^no route/);
  }
  if (a.status === 400) {
    const e = (
      JSON.parse(a.text) as { error: { code: string; message: string; issues?: { path: string }[] } }
    ).error;
    expect(e.code, where).toBe('SHELF_ERR_INVALID');
    expect(e.issues?.length ?? 0, where).toBeGreaterThan(0);
    for (const i of e.issues ?? []) expect(e.message, where).toContain(i.path || '(root)');
  }
  if (r.path.includes('/commands/') && ['acme', 'other', 'store'].includes(r.user)) {
    expect(a.status, where).not.toBe(200);
  }
  if (a.status === 200 && r.path.startsWith('/api/lanes') && (r.user === 'acme' || r.user === 'other')) {
    const sku = r.user === 'acme' ? 'cola' : 'chips';
    const lanes = JSON.parse(a.text) as { sku?: string } | { sku?: string }[];
    for (const l of Array.isArray(lanes) ? lanes : [lanes])
      if (l.sku !== undefined) expect(l.sku, where).toBe(sku);
  }
  return a.status !== 200;
}

describe('HTTP API under fuzzing', () => {
  it('never answers 5xx; 400 names the fields; authorization holds', async () => {
    const runs = fuzzRuns(1_000);
    const tally = new FuzzTally('http', 'central HTTP API (bodies, query strings)', 'over HTTP');
    for (let done = 0; done < runs; done += 5_000) {
      const n = Math.min(5_000, runs - done);
      const batch = fc.sample(request, { seed: fcParams(n).seed! + 17 + done, numRuns: n });
      // Eight at a time, as several dashboards would.
      for (let i = 0; i < batch.length; i += 8) {
        const slice = batch.slice(i, i + 8);
        const answers = await Promise.all(slice.map(send));
        slice.forEach((r, j) => {
          if (check(r, answers[j]!)) tally.reject();
          else tally.accept();
        });
      }
    }
    expect(world.central.orders!.list({})).toEqual([]);
    // Still serving.
    expect((await send({ user: 'admin', method: 'GET', path: '/api/lanes' })).status).toBe(200);
    guard.check();
    tally.report();
  }, 1_800_000);

  it('replays the HTTP regression corpus', async () => {
    for (const { note, input } of loadCorpus<Req>('http')) {
      const a = await send(input);
      expect(a.status, note).toBeLessThan(500);
      check(input, a);
    }
    guard.check();
  });
});
