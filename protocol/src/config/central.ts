/**
 * The central side's YAML config: the shelf map (the one source of truth for which SKU sits where
 * and which supplier owns it), then the parts that run.
 */
import { z } from 'zod';
import { Id, Serial } from '../payloads.js';
import { Duration, LogLevel } from './common.js';

export const CentralLane = z.strictObject({
  id: Id,
  channels: z.array(z.number().int().min(0).max(7)).min(1),
  sku: Id,
  capacity: z.number().int().positive().optional(),
});

export const CentralShelf = z.strictObject({
  id: Id.refine((s) => s !== 'agents', 'the shelf id "agents" is reserved'),
  serial: Serial,
  agent: Id,
  lanes: z.array(CentralLane).min(1),
});

export const CentralSite = z.strictObject({
  id: Id,
  name: z.string().optional(),
  shelves: z.array(CentralShelf).default([]),
});

export const Sku = z.strictObject({
  id: Id,
  name: z.string().optional(),
  unitWeightG: z.number().positive(),
  supplier: Id,
});

export const Supplier = z.strictObject({
  id: Id,
  name: z.string().optional(),
});

export const CentralConfig = z
  .strictObject({
    sites: z.array(CentralSite).default([]),
    skus: z.array(Sku).default([]),
    suppliers: z.array(Supplier).default([]),
    dataDir: z.string().min(1).default('./shelfsense-central'),
    log: z.strictObject({ level: LogLevel.default('warn') }).prefault({}),
    timing: z.strictObject({ offlineAfterMs: Duration.default(120_000) }).prefault({}),
  })
  .superRefine((cfg, ctx) => {
    const skus = new Set(cfg.skus.map((s) => s.id));
    const suppliers = new Set(cfg.suppliers.map((s) => s.id));
    cfg.skus.forEach((s, i) => {
      if (!suppliers.has(s.supplier)) {
        ctx.addIssue({
          code: 'custom',
          path: ['skus', i, 'supplier'],
          message: `unknown supplier "${s.supplier}"`,
        });
      }
    });
    cfg.sites.forEach((site, si) => {
      site.shelves.forEach((shelf, hi) => {
        shelf.lanes.forEach((lane, li) => {
          if (!skus.has(lane.sku)) {
            ctx.addIssue({
              code: 'custom',
              path: ['sites', si, 'shelves', hi, 'lanes', li, 'sku'],
              message: `unknown SKU "${lane.sku}"`,
            });
          }
        });
      });
    });
  });
export type CentralConfig = z.infer<typeof CentralConfig>;
