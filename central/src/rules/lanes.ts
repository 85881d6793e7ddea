/**
 * The lane directory the rules work from: which SKU sits on which site/shelf/lane, its supplier,
 * the agent that reports it and the load-cell channels it sums. Built from the central config's
 * shelf map, the one source of truth.
 */
import type { CentralConfig } from '@shelfsense/protocol';
import type { LaneRef } from '../store/readings.js';

/** Structurally a subset of the shelf map's LaneInfo (protocol/src/shelf-map.ts), so either will do. */
export interface LaneInfo extends LaneRef {
  sku: string;
  supplier: string;
  agent: string;
  channels: readonly number[];
  capacity?: number | null | undefined;
}

export function laneKey(r: LaneRef): string {
  return `${r.site}/${r.shelf}/${r.lane}`;
}

export function shelfKey(r: { site: string; shelf: string }): string {
  return `${r.site}/${r.shelf}`;
}

/** Flattens the central config's shelf map into lanes (SKU → supplier resolved). */
export function lanesFromCentral(cfg: Pick<CentralConfig, 'sites' | 'skus'>): LaneInfo[] {
  const supplierOf = new Map(cfg.skus.map((s) => [s.id, s.supplier]));
  const out: LaneInfo[] = [];
  for (const site of cfg.sites) {
    for (const shelf of site.shelves) {
      for (const lane of shelf.lanes) {
        const supplier = supplierOf.get(lane.sku);
        if (supplier === undefined) continue; // the config schema refuses this; be safe anyway
        out.push({
          site: site.id,
          shelf: shelf.id,
          lane: lane.id,
          sku: lane.sku,
          supplier,
          agent: shelf.agent,
          channels: lane.channels,
          capacity: lane.capacity ?? null,
        });
      }
    }
  }
  return out;
}
