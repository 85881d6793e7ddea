import { lanesFromCentral, resolvePolicy } from '@shelfsense/central/rules';
import { ReplenishmentConfig } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';
import { L1 } from './harness.js';

describe('replenishment config: per SKU or lane with defaults', () => {
  it('resolves lane over SKU over defaults, with order-up-to falling back to capacity', () => {
    const cfg = ReplenishmentConfig.parse({
      defaults: { reorderPoint: 4, packSize: 6, debounceMs: '5m', leadTimeMs: '2d' },
      skus: [{ sku: 'cola-330', orderUpTo: 24, minOrderQty: 12 }],
      lanes: [{ site: 's1', shelf: 'a', lane: 'l1', reorderPoint: 2, debounceMs: 250 }],
    });
    expect(resolvePolicy(cfg, L1).policy).toEqual({
      reorderPoint: 2,
      orderUpTo: 24,
      packSize: 6,
      minOrderQty: 12,
      leadTimeMs: 2 * 86_400_000,
      debounceMs: 250,
      hysteresis: 1,
      safetyStock: 0,
      dynamicReorderPoint: false,
      serviceLevel: null,
      enabled: true,
    });
    expect(resolvePolicy(cfg, { ...L1, lane: 'l2' }).policy).toMatchObject({
      reorderPoint: 4,
      debounceMs: 300_000,
    });
    expect(resolvePolicy(cfg, { ...L1, sku: 'other', capacity: 30 }).policy).toMatchObject({ orderUpTo: 30 });
    expect(resolvePolicy(cfg, { ...L1, sku: 'other' })).toMatchObject({ policy: null, reason: /orderUpTo/ });
    expect(resolvePolicy(ReplenishmentConfig.parse({}), L1)).toMatchObject({
      policy: null,
      reason: /reorderPoint/,
    });
  });

  it('puts a site policy between the defaults and the SKU: site over defaults, SKU and lane over site', () => {
    const cfg = ReplenishmentConfig.parse({
      defaults: { reorderPoint: 4, orderUpTo: 24, packSize: 6, leadTimeMs: '2d' },
      sites: [{ site: 's1', reorderPoint: 8, packSize: 12, leadTimeMs: '3d' }],
      skus: [{ sku: 'cola-330', packSize: 4 }],
      lanes: [{ site: 's1', shelf: 'a', lane: 'l1', reorderPoint: 2 }],
    });
    expect(resolvePolicy(cfg, { ...L1, lane: 'l2' }).policy).toMatchObject({
      reorderPoint: 8,
      packSize: 4,
      leadTimeMs: 3 * 86_400_000,
    });
    expect(resolvePolicy(cfg, L1).policy).toMatchObject({ reorderPoint: 2, packSize: 4 });
    expect(resolvePolicy(cfg, { ...L1, site: 's2', lane: 'l2' }).policy).toMatchObject({
      reorderPoint: 4,
      leadTimeMs: 2 * 86_400_000,
    });
    expect(() => ReplenishmentConfig.parse({ sites: [{ site: 's1' }, { site: 's1' }] })).toThrow(/duplicate/);
  });

  it('takes every duration down to milliseconds and fills defaults', () => {
    const cfg = ReplenishmentConfig.parse({
      defaults: { debounceMs: '1.5s' },
      webhooks: { retry: { baseMs: 5, maxMs: '40ms', jitter: 0, maxAttempts: 3 }, timeoutMs: 200 },
      receipt: { moveWindowMs: '0ms' },
    });
    expect(cfg.defaults.debounceMs).toBe(1_500);
    expect(cfg.webhooks.retry).toEqual({ baseMs: 5, maxMs: 40, jitter: 0, maxAttempts: 3 });
    expect(cfg.webhooks.suppliers).toEqual([]);
    expect(cfg.receipt).toMatchObject({ moveWindowMs: 0, toleranceItems: 1, closeAfterMs: 0 });
  });

  it('rejects bad input naming the field', () => {
    const bad = (input: unknown) => {
      const r = ReplenishmentConfig.safeParse(input);
      expect(r.success).toBe(false);
      return r.error?.issues.map((i) => i.path.join('.')) ?? [];
    };
    expect(bad({ defaults: { reorderPoint: 10, orderUpTo: 10 } })).toEqual(['defaults.orderUpTo']);
    expect(bad({ defaults: { orderUpTo: 10 }, skus: [{ sku: 'x', reorderPoint: 12 }] })).toEqual([
      'skus.0.reorderPoint',
    ]);
    expect(bad({ defaults: { debounceMs: '5 minutes' } })).toEqual(['defaults.debounceMs']);
    expect(bad({ webhooks: { suppliers: [{ supplier: 'acme', url: 'ftp://x', secret: 'short' }] } })).toEqual(
      ['webhooks.suppliers.0.url', 'webhooks.suppliers.0.secret'],
    );
    const secret = 'a-long-enough-secret';
    expect(
      bad({
        webhooks: {
          suppliers: [
            { supplier: 'acme', url: 'https://a.example/h', secret },
            { supplier: 'acme', url: 'https://b.example/h', secret },
          ],
        },
      }),
    ).toEqual(['webhooks.suppliers.1']);
    expect(bad({ webhooks: { retry: { jitter: 2 } } })).toEqual(['webhooks.retry.jitter']);
    expect(bad({ lanes: [{ site: 's1', shelf: 'a', lane: 'l1', packsize: 6 }] })).toEqual(['lanes.0']);
  });

  it('builds the lane directory from the central shelf map', () => {
    const lanes = lanesFromCentral({
      sites: [
        {
          id: 's1',
          shelves: [
            { id: 'a', serial: 'SN1', agent: 'pi-1', lanes: [{ id: 'l1', channels: [0, 1], sku: 'cola' }] },
          ],
        },
      ],
      skus: [{ id: 'cola', unitWeightG: 350, supplier: 'acme' }],
    });
    expect(lanes).toEqual([
      {
        site: 's1',
        shelf: 'a',
        lane: 'l1',
        sku: 'cola',
        supplier: 'acme',
        agent: 'pi-1',
        channels: [0, 1],
        capacity: null,
      },
    ]);
  });
});
