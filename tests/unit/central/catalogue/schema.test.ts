/**
 * The catalogue schema: the catalogue part of the central config, with the same checks and the
 * same error paths, and nothing of the process settings.
 */
import {
  Catalogue,
  CentralConfig,
  type CentralConfigInput,
  catalogueOf,
  isShelfError,
  withCatalogue,
} from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';
import { small, smallInput } from './fixtures.js';

const issuesOf = (r: { error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  (r.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);

const config = (over: Partial<CentralConfigInput> = {}): CentralConfig =>
  CentralConfig.parse({ ...smallInput(), dataDir: '/tmp/x', http: { port: 9000 }, ...over });

describe('Catalogue', () => {
  it('is the catalogue part of the central config: extracted, it parses to itself', () => {
    const cfg = config();
    const cat = catalogueOf(cfg);
    expect(Catalogue.parse(cat)).toEqual(cat);
    expect(cat.replenishment.webhooks.suppliers[0]?.supplier).toBe('acme');
    expect(Object.keys(cat).sort()).toEqual(['replenishment', 'sites', 'skus', 'suppliers']);
    expect(Object.keys(cat.replenishment).sort()).toEqual(['defaults', 'lanes', 'sites', 'skus', 'webhooks']);
  });

  it('refuses process settings: they stay in central.yaml', () => {
    const r = Catalogue.safeParse({ ...smallInput(), dataDir: '/x', http: { port: 1 } });
    expect(r.success).toBe(false);
    expect(issuesOf(r).join('\n')).toMatch(/dataDir/);
    const tuning = Catalogue.safeParse({ ...smallInput(), replenishment: { receipt: {} } });
    expect(issuesOf(tuning).join('\n')).toMatch(/receipt/);
  });

  it('[same checks, same paths] a cross-reference error reads the same in a catalogue and in central.yaml', () => {
    const bad = smallInput();
    bad.skus = [...(bad.skus ?? []), { id: 'cola-330', unitWeightG: 0, supplier: 'nobody' }];
    bad.sites?.[0]?.shelves?.[0]?.lanes?.push({ id: 'L0', channels: [1], sku: 'water' });
    const inCatalogue = issuesOf(Catalogue.safeParse(bad));
    const inConfig = issuesOf(CentralConfig.safeParse({ ...bad, dataDir: '/tmp/x' }));
    expect(inCatalogue).toEqual(inConfig);
    expect(inCatalogue).toEqual(
      expect.arrayContaining([
        'skus.3.unitWeightG: Too small: expected number to be >0',
        'skus.3.id: duplicate SKU "cola-330"',
        'skus.3.supplier: unknown supplier "nobody"',
        'sites.0.shelves.0.lanes.2.id: duplicate lane "L0"',
        'sites.0.shelves.0.lanes.2.sku: unknown SKU "water"',
        'sites.0.shelves.0.lanes.2.channels: channel 1 is already used on shelf store-1/shelf-a',
      ]),
    );
  });

  it('checks the policies: known lanes and suppliers, orderUpTo above reorderPoint, one entry each', () => {
    const bad = smallInput();
    bad.replenishment = {
      defaults: { reorderPoint: 5, orderUpTo: 3 },
      skus: [{ sku: 'chips' }, { sku: 'chips' }],
      lanes: [{ site: 'store-1', shelf: 'shelf-z', lane: 'L0' }],
      webhooks: { suppliers: [{ supplier: 'nobody', url: 'https://x.example/', secret: 'x'.repeat(16) }] },
    };
    expect(issuesOf(Catalogue.safeParse(bad))).toEqual(
      expect.arrayContaining([
        'replenishment.defaults.orderUpTo: orderUpTo (3) must be above reorderPoint (5)',
        'replenishment.skus.1: duplicate entry "chips"',
        'replenishment.lanes.0: unknown lane "store-1/shelf-z/L0"',
        'replenishment.webhooks.suppliers.0.supplier: unknown supplier "nobody"',
      ]),
    );
  });

  it('withCatalogue replaces the catalogue and keeps every process setting', () => {
    const cfg = config();
    const next = small();
    next.skus = next.skus.filter((s) => s.id !== 'chips');
    next.suppliers = next.suppliers.filter((s) => s.id !== 'crunchy');
    next.sites[0]!.shelves = next.sites[0]!.shelves.filter((s) => s.id !== 'shelf-b');
    next.replenishment.skus = [];
    const merged = withCatalogue(cfg, next);
    expect(catalogueOf(merged)).toEqual(next);
    expect(merged.http.port).toBe(9000);
    expect(merged.dataDir).toBe('/tmp/x');
    expect(merged.replenishment.receipt).toEqual(cfg.replenishment.receipt);
    expect(merged.replenishment.webhooks.retry).toEqual(cfg.replenishment.webhooks.retry);
    expect(Object.isFrozen(merged)).toBe(true);
  });

  it('withCatalogue refuses a catalogue a process setting no longer agrees with', () => {
    const cfg = config({ mqtt: { anonymous: { role: 'supplier', supplier: 'crunchy' } } });
    const next = small();
    next.suppliers = next.suppliers.filter((s) => s.id !== 'crunchy');
    next.skus = next.skus.filter((s) => s.supplier !== 'crunchy');
    next.sites[0]!.shelves = next.sites[0]!.shelves.filter((s) => s.id !== 'shelf-b');
    next.replenishment.skus = [];
    let err: unknown;
    try {
      withCatalogue(cfg, next);
    } catch (e) {
      err = e;
    }
    expect(isShelfError(err)).toBe(true);
    expect((err as Error).message).toContain('mqtt.anonymous.supplier: unknown supplier "crunchy"');
  });
});
