/**
 * The replenishment part of the central config: per-SKU and per-lane reorder policies with
 * defaults, goods-receipt matching, alerts, history, and supplier webhooks with their retry policy.
 * Every duration accepts milliseconds (`250`, `250ms`) so tests and demos can run a day in seconds.
 *
 *   replenishment:
 *     defaults: { reorderPoint: 4, orderUpTo: 24, packSize: 6, debounceMs: 5m }
 *     skus:  [{ sku: cola-330, minOrderQty: 12 }]
 *     sites: [{ site: s1, leadTimeMs: 3d }]
 *     lanes: [{ site: s1, shelf: a, lane: l1, reorderPoint: 2 }]
 *     webhooks:
 *       suppliers: [{ supplier: acme, url: https://erp.acme.example/shelfsense, secret: … }]
 *
 * The central config holds it under one key: `replenishment: ReplenishmentConfig.prefault({})`.
 */
import { z } from 'zod';
import { Id } from '../payloads.js';
import { Duration, TimerDuration } from './common.js';

const Items = z.number().int().nonnegative();

/** Every policy field; each level (defaults, SKU, lane) may set any subset. */
const PolicyFields = {
  /** Order when the stable count is at or below this many items. */
  reorderPoint: Items,
  /** Order enough to bring the lane back to this many items. Defaults to the lane's capacity. */
  orderUpTo: z.number().int().positive(),
  /** Quantities are rounded up to a whole number of packs. */
  packSize: z.number().int().positive(),
  /** Minimum order quantity, items. */
  minOrderQty: z.number().int().positive(),
  /** Supplier lead time: used by the dynamic reorder point and the forecast. */
  leadTimeMs: Duration,
  /** A lane must be stable and at or below its reorder point this long (reading timestamps). */
  debounceMs: Duration,
  /** Re-arm only after the count rises above reorderPoint + hysteresis (or the order is received). */
  hysteresis: Items,
  /** Items kept back against forecast error; added to the dynamic reorder point. */
  safetyStock: Items,
  /** Use ceil(rate × lead time + safety stock) as the reorder point once a rate is known. */
  dynamicReorderPoint: z.boolean(),
  /**
   * Target chance of no stock-out per cycle (e.g. 0.95). With it, the dynamic reorder point takes
   * the lead time learned from the supplier's delivered purchase orders and a safety stock from
   * the variability of demand and lead time (at least `safetyStock`).
   */
  serviceLevel: z.number().gt(0.5).max(0.9999),
  /** Stop ordering this lane (it still raises alerts). */
  enabled: z.boolean(),
} as const;

export const PolicyOverride = z.strictObject(PolicyFields).partial();
export type PolicyOverride = z.infer<typeof PolicyOverride>;

export const PolicyDefaults = z.strictObject({
  reorderPoint: Items.optional(),
  orderUpTo: PolicyFields.orderUpTo.optional(),
  packSize: PolicyFields.packSize.default(1),
  minOrderQty: PolicyFields.minOrderQty.default(1),
  leadTimeMs: z._default(Duration, 2 * 86_400_000),
  debounceMs: z._default(Duration, 5 * 60_000),
  hysteresis: Items.default(1),
  safetyStock: Items.default(0),
  dynamicReorderPoint: z.boolean().default(false),
  serviceLevel: PolicyFields.serviceLevel.optional(),
  enabled: z.boolean().default(true),
});
export type PolicyDefaults = z.infer<typeof PolicyDefaults>;

export const SkuPolicy = PolicyOverride.extend({ sku: Id });
export const SitePolicy = PolicyOverride.extend({ site: Id });
export const LanePolicy = PolicyOverride.extend({ site: Id, shelf: Id, lane: Id });

export const RetryPolicy = z.strictObject({
  /** First retry delay; each later one doubles. */
  baseMs: z._default(TimerDuration, 1_000),
  /** Ceiling on the delay between attempts. */
  maxMs: z._default(TimerDuration, 3_600_000),
  /** Fraction of each delay that is randomised (0 = none, 1 = "full jitter"). */
  jitter: z.number().min(0).max(1).default(0.2),
  /** Attempts (including the first) before an event is dead-lettered. */
  maxAttempts: z.number().int().min(1).max(1_000).default(20),
});
export type RetryPolicy = z.infer<typeof RetryPolicy>;

export const SupplierWebhook = z.strictObject({
  supplier: Id,
  url: z
    .string()
    .regex(/^https?:\/\/[^\s]+$/, 'an http:// or https:// URL')
    .refine((u) => URL.canParse(u), 'a valid URL'),
  /**
   * HMAC-SHA256 key shared with the supplier: Standard Webhooks' `whsec_` + base64 form, or any
   * other string of at least 16 characters, used as it is.
   */
  secret: z
    .string()
    .min(16, 'at least 16 characters')
    .refine(
      (s) =>
        !s.startsWith('whsec_') ||
        /^whsec_(?:[A-Za-z0-9+/]{4}){6,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s),
      'a whsec_ secret is whsec_ and base64 of at least 18 bytes (as Standard Webhooks libraries read it); or drop the whsec_ prefix to use the string as it is',
    ),
});
export type SupplierWebhook = z.infer<typeof SupplierWebhook>;

export const WebhooksConfig = z.strictObject({
  suppliers: z.array(SupplierWebhook).default([]),
  retry: RetryPolicy.prefault({}),
  /** A request that has not answered in this time counts as a failed attempt. */
  timeoutMs: z._default(TimerDuration, 10_000),
  /** How often the delivery worker looks for due events when it has not been woken. */
  pollMs: z._default(TimerDuration, 1_000),
  /** Requests in flight at once. */
  concurrency: z.number().int().min(1).max(64).default(4),
  /** Age beyond which a receiver should reject a timestamp (documented to suppliers; used in tests). */
  toleranceMs: z._default(Duration, 5 * 60_000),
});
export type WebhooksConfig = z.infer<typeof WebhooksConfig>;

export const ReceiptConfig = z.strictObject({
  /** A restock within this many items of the shipped quantity confirms the delivery... */
  toleranceItems: Items.default(1),
  /** ...or within this fraction of it, whichever is larger. */
  toleranceFraction: z.number().min(0).max(1).default(0.1),
  /** Restock steps this close together add up to one delivery. */
  windowMs: z._default(Duration, 30 * 60_000),
  /** A gain matching a pick on a neighbouring lane this close in time is an item moved, not a delivery. */
  moveWindowMs: z._default(Duration, 15_000),
  /** Close a received order after this long (0: at once). */
  closeAfterMs: z._default(Duration, 0),
});
export type ReceiptConfig = z.infer<typeof ReceiptConfig>;

export const ReplenishmentConfig = z
  .strictObject({
    defaults: PolicyDefaults.prefault({}),
    skus: z.array(SkuPolicy).default([]),
    /** Per site: between the defaults and the SKU's policy (a SKU's pack size beats a site's). */
    sites: z.array(SitePolicy).default([]),
    lanes: z.array(LanePolicy).default([]),
    receipt: ReceiptConfig.prefault({}),
    rate: z
      .strictObject({
        /** Time constant of the exponentially weighted consumption rate. */
        tauMs: z._default(Duration, 7 * 86_400_000),
        /** The dynamic reorder point needs at least this much pick history. */
        minHistoryMs: z._default(Duration, 86_400_000),
      })
      .prefault({}),
    alerts: z
      .strictObject({
        /** An unstable or anomalous lane raises an anomaly alert after this long. */
        anomalyAfterMs: z._default(Duration, 5 * 60_000),
      })
      .prefault({}),
    /** How often the rules service checks for lanes gone silent. */
    tickMs: z._default(TimerDuration, 5_000),
    webhooks: WebhooksConfig.prefault({}),
  })
  .superRefine((cfg, ctx) => {
    const check = (p: PolicyOverride, path: (string | number)[]) => {
      const rop = p.reorderPoint ?? cfg.defaults.reorderPoint;
      const upTo = p.orderUpTo ?? cfg.defaults.orderUpTo;
      if (rop !== undefined && upTo !== undefined && upTo <= rop) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, p.orderUpTo !== undefined ? 'orderUpTo' : 'reorderPoint'],
          message: `orderUpTo (${upTo}) must be above reorderPoint (${rop})`,
        });
      }
    };
    check(cfg.defaults, ['defaults']);
    for (const [i, s] of cfg.skus.entries()) check(s, ['skus', i]);
    for (const [i, s] of cfg.sites.entries()) check(s, ['sites', i]);
    for (const [i, l] of cfg.lanes.entries()) check(l, ['lanes', i]);
    const dup = (keys: string[], path: string[]) => {
      const seen = new Set<string>();
      keys.forEach((k, i) => {
        if (seen.has(k))
          ctx.addIssue({ code: 'custom', path: [...path, i], message: `duplicate entry "${k}"` });
        seen.add(k);
      });
    };
    dup(
      cfg.skus.map((s) => s.sku),
      ['skus'],
    );
    dup(
      cfg.sites.map((s) => s.site),
      ['sites'],
    );
    dup(
      cfg.lanes.map((l) => `${l.site}/${l.shelf}/${l.lane}`),
      ['lanes'],
    );
    dup(
      cfg.webhooks.suppliers.map((s) => s.supplier),
      ['webhooks', 'suppliers'],
    );
  });
export type ReplenishmentConfig = z.infer<typeof ReplenishmentConfig>;
export type ReplenishmentConfigInput = z.input<typeof ReplenishmentConfig>;
