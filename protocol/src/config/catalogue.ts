/**
 * The catalogue: what a store holds and who supplies it — suppliers, SKUs, sites with their
 * shelves and lanes, the replenishment policies (defaults, per SKU, per lane) and the suppliers'
 * webhooks. It is the part of the central config that changes with the business, not with the
 * machine, so central keeps it in its store, versioned; `central.yaml` may still hold one, which
 * seeds an empty store. Process settings (ports, TLS, dataDir, auth, limits, parts, history,
 * integrations, commands, ingest, timing, log) stay in `central.yaml`.
 *
 * Every field comes from the central config's own schemas, so a catalogue file and the catalogue
 * part of central.yaml accept the same text and name the same paths in their errors.
 */
import { z } from 'zod';
import { deepFreeze, parseWith } from '../validate.js';
import { CentralConfig, checkCatalogueRefs } from './central.js';
import { ReplenishmentConfig, WebhooksConfig } from './replenishment.js';

const config = CentralConfig.shape;
const policies = ReplenishmentConfig.shape;

/** The replenishment part of the catalogue: policies and the suppliers' webhooks, not the tuning. */
export const CataloguePolicies = z.strictObject({
  defaults: policies.defaults,
  skus: policies.skus,
  sites: policies.sites,
  lanes: policies.lanes,
  webhooks: z.strictObject({ suppliers: WebhooksConfig.shape.suppliers }).prefault({}),
});
export type CataloguePolicies = z.infer<typeof CataloguePolicies>;

export const Catalogue = z
  .strictObject({
    suppliers: config.suppliers,
    skus: config.skus,
    sites: config.sites,
    replenishment: CataloguePolicies.prefault({}),
  })
  .superRefine((cat, ctx) => {
    checkCatalogueRefs(cat, (path, message) => ctx.addIssue({ code: 'custom', path, message }));
    // The policies' own rules (orderUpTo above reorderPoint, one entry per SKU or lane) live in
    // ReplenishmentConfig's refinement: run it on this part, the rest of that schema defaulted.
    const own = ReplenishmentConfig.safeParse(cat.replenishment);
    if (!own.success) {
      for (const i of own.error.issues)
        ctx.addIssue({ code: 'custom', path: ['replenishment', ...i.path], message: i.message });
    }
  });
export type Catalogue = z.infer<typeof Catalogue>;
export type CatalogueInput = z.input<typeof Catalogue>;

/** The catalogue part of a validated central config. */
export function catalogueOf(cfg: CentralConfig): Catalogue {
  const r = cfg.replenishment;
  return {
    suppliers: cfg.suppliers,
    skus: cfg.skus,
    sites: cfg.sites,
    replenishment: {
      defaults: r.defaults,
      skus: r.skus,
      sites: r.sites,
      lanes: r.lanes,
      webhooks: { suppliers: r.webhooks.suppliers },
    },
  };
}

/**
 * The config with its catalogue replaced, validated again as a whole: a process setting may name
 * the catalogue (an anonymous supplier grant names a supplier), so the pair must still agree.
 */
export function withCatalogue(cfg: CentralConfig, cat: Catalogue): CentralConfig {
  const r = cfg.replenishment;
  const merged = {
    ...cfg,
    suppliers: cat.suppliers,
    skus: cat.skus,
    sites: cat.sites,
    replenishment: {
      ...r,
      defaults: cat.replenishment.defaults,
      skus: cat.replenishment.skus,
      sites: cat.replenishment.sites,
      lanes: cat.replenishment.lanes,
      webhooks: { ...r.webhooks, suppliers: cat.replenishment.webhooks.suppliers },
    },
  };
  return deepFreeze(parseWith(CentralConfig, merged, 'central config with the catalogue'));
}
