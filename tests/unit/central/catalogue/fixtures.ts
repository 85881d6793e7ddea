/**
 * Catalogues for the catalogue tests: a small store (two suppliers, three SKUs, one site with two
 * shelves), a large one of any number of lanes, and the central.yaml text that holds either.
 */
import { Catalogue, type CatalogueInput } from '@shelfsense/protocol';
import { stringify } from 'yaml';

export const SECRET = 'acme-secret-0123456789';

export function smallInput(): CatalogueInput {
  return {
    suppliers: [{ id: 'acme', name: 'ACME Beverages' }, { id: 'crunchy' }],
    skus: [
      { id: 'cola-330', unitWeightG: 352, supplier: 'acme' },
      { id: 'fanta-330', unitWeightG: 350, supplier: 'acme' },
      { id: 'chips', unitWeightG: 120, supplier: 'crunchy' },
    ],
    sites: [
      {
        id: 'store-1',
        shelves: [
          {
            id: 'shelf-a',
            serial: 'SN-0001',
            agent: 'pi-1',
            lanes: [
              { id: 'L0', channels: [0], sku: 'cola-330', capacity: 24 },
              { id: 'L1', channels: [1], sku: 'fanta-330', capacity: 24 },
            ],
          },
          {
            id: 'shelf-b',
            serial: 'SN-0002',
            agent: 'pi-1',
            lanes: [{ id: 'L0', channels: [0], sku: 'chips', capacity: 12 }],
          },
        ],
      },
    ],
    replenishment: {
      defaults: { reorderPoint: 4, packSize: 6 },
      skus: [{ sku: 'chips', minOrderQty: 12 }],
      lanes: [{ site: 'store-1', shelf: 'shelf-a', lane: 'L0', reorderPoint: 6 }],
      webhooks: { suppliers: [{ supplier: 'acme', url: 'https://erp.acme.example/hook', secret: SECRET }] },
    },
  };
}

export function small(): Catalogue {
  return Catalogue.parse(smallInput());
}

/** A catalogue of `lanes` lanes: shelves of 8 lanes (one per channel) on one site. */
export function large(lanes: number, sku = 'cola-330'): Catalogue {
  const base = smallInput();
  const shelves = Array.from({ length: Math.ceil(lanes / 8) }, (_, s) => ({
    id: `big-${s}`,
    serial: `SN-BIG-${s}`,
    agent: `pi-${s % 10}`,
    lanes: Array.from({ length: Math.min(8, lanes - s * 8) }, (_, l) => ({
      id: `L${l}`,
      channels: [l],
      sku,
      capacity: 24,
    })),
  }));
  return Catalogue.parse({ ...base, sites: [...(base.sites ?? []), { id: 'store-big', shelves }] });
}

/** A deep copy to edit. */
export function copy(c: Catalogue): Catalogue {
  return structuredClone(c) as Catalogue;
}

/** central.yaml holding a catalogue and the given process settings. */
export function centralYaml(cat: CatalogueInput, settings: Record<string, unknown>): string {
  return stringify({ ...settings, ...cat });
}
