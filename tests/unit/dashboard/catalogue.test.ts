/**
 * The admin tabs' catalogue logic, with a fake fetch: each object's path and method, form text
 * turned into request bodies checked by the contract's schemas (blank = left out, fields named),
 * a refusal turned into what the form shows (a stale revision keeps the object as it is now), and
 * which level a lane's policy field comes from.
 */
import { type PolicyViews, SkuView } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';
import { Api } from '../../../dashboard/web/lib/api.js';
import {
  CONFLICT_TEXT,
  currentAs,
  deleteObject,
  describeFailure,
  fieldLabel,
  formatMs,
  laneBody,
  loadCatalogue,
  paths,
  policyBody,
  policyForm,
  resolvePolicy,
  saveObject,
  saveWebhook,
  secretOf,
  shelfBody,
  siteBody,
  skuBody,
  skuForm,
  supplierBody,
  testWebhook,
} from '../../../dashboard/web/lib/catalogue.js';

interface Call {
  method: string;
  url: string;
  body: unknown;
}

/** An Api whose fetch answers `reply(call)` as JSON and records each call. */
function fakeApi(reply: (c: Call) => [number, unknown]) {
  const calls: Call[] = [];
  const fetch = (async (input: string, init: RequestInit = {}) => {
    const c = {
      method: init.method ?? 'GET',
      url: String(input),
      body: init.body ? JSON.parse(String(init.body)) : undefined,
    };
    calls.push(c);
    const [status, body] = reply(c);
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  }) as typeof globalThis.fetch;
  return { api: new Api({ token: () => 'T', fetch }), calls };
}

const SKU = { id: 'cola-330', name: 'Cola 330 ml', unitWeightG: 350, supplier: 'acme', revision: 3 };
const CHANGE = { version: 8, object: SKU, effects: [] };

describe('calls', () => {
  it('reads the catalogue; PUT and DELETE go to the object path, ids encoded, DELETE names the revision', async () => {
    const view = {
      version: 7,
      suppliers: [],
      skus: [SKU],
      sites: [],
      policies: { defaults: { revision: 1 }, skus: [], sites: [], lanes: [] },
    };
    const { api, calls } = fakeApi((c) => [200, c.method === 'GET' ? view : CHANGE]);
    expect((await loadCatalogue(api)).skus[0]?.id).toBe('cola-330');
    await saveObject(api, paths.sku('cola 330'), { unitWeightG: 1, supplier: 'acme' });
    await deleteObject(api, paths.lane('s/1', 'a', 'L0'), 12);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET /api/catalogue',
      'PUT /api/catalogue/skus/cola%20330',
      'DELETE /api/catalogue/sites/s%2F1/shelves/a/lanes/L0?revision=12',
    ]);
    expect(calls[1]?.body).toEqual({ unitWeightG: 1, supplier: 'acme' });
    expect(paths.policy({ level: 'lane', site: 's1', shelf: 'a', lane: 'L0' })).toBe(
      '/api/catalogue/policies/lanes/s1/a/L0',
    );
    expect(paths.policy({ level: 'defaults' })).toBe('/api/catalogue/policies/defaults');
  });

  it('[secret once] a webhook created answers its secret; an update does not; the test answer is read', async () => {
    const webhook = { url: 'https://erp.example/hook', secretSet: true, revision: 4 };
    let created = true;
    const { api } = fakeApi((c) =>
      c.url.endsWith('/test')
        ? [200, { ok: false, status: 500, durationMs: 41, body: 'boom', error: null }]
        : [
            200,
            created
              ? { version: 4, webhook, secret: 's3cret-s3cret-s3cret' }
              : { version: 5, object: webhook },
          ],
    );
    expect(secretOf(await saveWebhook(api, 'acme', { url: webhook.url }))).toBe('s3cret-s3cret-s3cret');
    created = false;
    expect(secretOf(await saveWebhook(api, 'acme', { url: webhook.url, revision: 4 }))).toBeNull();
    expect(await testWebhook(api, 'acme')).toMatchObject({ ok: false, status: 500, body: 'boom' });
  });
});

describe('form text → request body', () => {
  it('a new SKU: blank name left out, the unit weight a number, no revision (creates)', () => {
    const r = skuBody({ id: 'water-500', name: ' ', unitWeightG: '512.5', supplier: 'acme' });
    expect(r).toEqual({ ok: true, body: { unitWeightG: 512.5, supplier: 'acme' } });
  });

  it('[fields named] an edit keeps the revision; each bad field is keyed by its name', () => {
    expect(skuBody(skuForm(SKU), 3)).toEqual({
      ok: true,
      body: { name: 'Cola 330 ml', unitWeightG: 350, supplier: 'acme', revision: 3 },
    });
    const bad = skuBody({ id: 'bad id!', name: '', unitWeightG: 'heavy', supplier: '' });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(Object.keys(bad.errors).sort()).toEqual(['id', 'supplier', 'unitWeightG']);
    expect(bad.errors.unitWeightG).toBe('enter a number');
    expect(skuBody({ ...skuForm(SKU), unitWeightG: '' })).toMatchObject({
      ok: false,
      errors: { unitWeightG: 'required' },
    });
    expect(skuBody({ ...skuForm(SKU), unitWeightG: '-1' })).toMatchObject({
      ok: false,
      errors: { unitWeightG: expect.stringMatching(/>0/) },
    });
  });

  it('a lane: channels from "0, 1", blank capacity left out; a channel above 7 is refused', () => {
    expect(laneBody({ id: 'L2', channels: '0, 1', sku: 'cola-330', capacity: '' })).toEqual({
      ok: true,
      body: { channels: [0, 1], sku: 'cola-330' },
    });
    const r = laneBody({ id: 'L2', channels: '9', sku: 'cola-330', capacity: '2.5' }, 4);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(Object.keys(r.errors).sort()).toEqual(['capacity', 'channels.0']);
    expect(laneBody({ id: 'L2', channels: 'one', sku: 'x', capacity: '' })).toMatchObject({
      ok: false,
      errors: { channels: expect.any(String) },
    });
  });

  it('a supplier: blank contact fields left out; a bad email is named by contact and field', () => {
    const ok = supplierBody({
      id: 'acme',
      name: 'ACME',
      contacts: [{ name: 'Ann', email: '', phone: '+44 20 7946 0000' }],
    });
    expect(ok).toEqual({
      ok: true,
      body: { name: 'ACME', contacts: [{ name: 'Ann', phone: '+44 20 7946 0000' }] },
    });
    const bad = supplierBody({ id: 'acme', name: '', contacts: [{ name: '', email: 'nope', phone: '' }] }, 2);
    expect(bad.ok).toBe(false);
    if (!bad.ok)
      expect(bad.errors).toEqual({ 'contacts.0.email': expect.any(String), 'contacts.0.name': 'required' });
    expect(fieldLabel('contacts.0.email')).toBe('Contact 1 email');
    expect(fieldLabel('unitWeightG')).toBe('Unit weight (g)');
  });

  it('a site and a shelf: a shelf edit sends serial and agent only, so its lanes stay', () => {
    expect(siteBody({ id: 's2', name: 'Store two' })).toEqual({ ok: true, body: { name: 'Store two' } });
    expect(shelfBody({ serial: 'SN-9', agent: 'pi-2' }, 6)).toEqual({
      ok: true,
      body: { serial: 'SN-9', agent: 'pi-2', revision: 6 },
    });
  });

  it('[blank = inherit] a policy sends only the fields filled in; durations as typed or ms', () => {
    const f = {
      ...policyForm(null),
      reorderPoint: '6',
      debounceMs: '5m',
      leadTimeMs: '90000',
      enabled: 'false',
    };
    expect(policyBody(f, 2)).toEqual({
      ok: true,
      body: { reorderPoint: 6, debounceMs: '5m', leadTimeMs: 90_000, enabled: false, revision: 2 },
    });
    expect(policyBody({ ...f, debounceMs: 'soon', packSize: '0' })).toMatchObject({
      ok: false,
      errors: { debounceMs: expect.stringMatching(/duration/), packSize: expect.any(String) },
    });
    expect(policyForm({ debounceMs: 300_000, leadTimeMs: 1_500, dynamicReorderPoint: true })).toMatchObject({
      debounceMs: '5m',
      leadTimeMs: '1500ms',
      dynamicReorderPoint: 'true',
      reorderPoint: '',
    });
    expect([formatMs(2 * 86_400_000), formatMs(0)]).toEqual(['2d', '0ms']);
  });
});

describe('which level a lane policy field comes from', () => {
  const policies: PolicyViews = {
    defaults: { reorderPoint: 4, packSize: 2, debounceMs: 1_000, enabled: true, revision: 1 },
    sites: [{ site: 's1', packSize: 6, leadTimeMs: 86_400_000, revision: 2 }],
    skus: [{ sku: 'cola-330', packSize: 12, revision: 3 }],
    lanes: [{ site: 's1', shelf: 'a', lane: 'L0', reorderPoint: 9, revision: 4 }],
  };
  const where = { site: 's1', shelf: 'a', lane: 'L0', sku: 'cola-330', capacity: 24 };

  it('lane, else SKU, else site, else defaults; order-up-to falls back to the capacity', () => {
    const r = resolvePolicy(policies, where);
    expect(r.reorderPoint).toEqual({ value: 9, from: 'lane' });
    expect(r.packSize).toEqual({ value: 12, from: 'sku' });
    expect(r.leadTimeMs).toEqual({ value: 86_400_000, from: 'site' });
    expect(r.debounceMs).toEqual({ value: 1_000, from: 'defaults' });
    expect(r.orderUpTo).toEqual({ value: 24, from: 'capacity' });
    expect(r.hysteresis).toEqual({ value: null, from: null });
  });

  it('leaving the lane out shows what a blank lane field inherits', () => {
    expect(resolvePolicy(policies, where, 'lane').reorderPoint).toEqual({ value: 4, from: 'defaults' });
    expect(resolvePolicy(policies, { ...where, site: 's2', sku: 'water' }).packSize).toEqual({
      value: 2,
      from: 'defaults',
    });
  });
});

describe('refusals', () => {
  const fail = (status: number, body: unknown) => fakeApi(() => [status, body]).api;
  const save = (api: Api) =>
    saveObject(api, paths.sku('cola-330'), { unitWeightG: 1, supplier: 'acme', revision: 2 });

  it('[stale revision] a 409 keeps the object as it is now, with its revision, for Reload', async () => {
    const now = { ...SKU, unitWeightG: 355, revision: 5 };
    const err = await save(
      fail(409, { error: { code: 'SHELF_ERR_CONFLICT', message: 'stale' }, current: now }),
    ).catch((e: unknown) => e);
    const f = describeFailure(err, 'change this SKU');
    expect(f).toEqual({ kind: 'conflict', message: CONFLICT_TEXT, current: now });
    const current = f.kind === 'conflict' ? currentAs(SkuView, f.current) : null;
    expect(current && { form: skuForm(current), revision: current.revision }).toEqual({
      form: { id: 'cola-330', name: 'Cola 330 ml', unitWeightG: '355', supplier: 'acme' },
      revision: 5,
    });
    expect(describeFailure(err, 'add SKUs', true).message).toMatch(/^Already exists/);
  });

  it("[fields named] a 400's issues are keyed by body field; 403 names the role; 404 is gone", async () => {
    const issues = [{ path: 'supplier', message: 'unknown supplier "acne"' }];
    const e400 = await save(
      fail(400, { error: { code: 'SHELF_ERR_INVALID', message: 'bad', issues } }),
    ).catch((e: unknown) => e);
    expect(describeFailure(e400, 'x')).toMatchObject({
      kind: 'invalid',
      fields: { supplier: 'unknown supplier "acne"' },
    });
    const e403 = await save(fail(403, { error: { code: 'SHELF_ERR_FORBIDDEN', message: 'no' } })).catch(
      (e: unknown) => e,
    );
    expect(describeFailure(e403, 'change this SKU')).toEqual({
      kind: 'forbidden',
      message: 'Your role may not change this SKU.',
    });
    const e404 = await save(fail(404, { error: { code: 'SHELF_ERR_NOT_FOUND', message: 'no' } })).catch(
      (e: unknown) => e,
    );
    expect(describeFailure(e404, 'x').kind).toBe('gone');
    expect(describeFailure(new Error('offline'), 'x')).toEqual({ kind: 'error', message: 'offline' });
  });
});
