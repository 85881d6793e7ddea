/**
 * The shelf map: the central config's sites, shelves, lanes, SKUs and suppliers, indexed so that
 * the questions asked on every message (who owns this lane? which agent serves this shelf?) are
 * one Map lookup each. It is the one source of truth for ACL decisions on lane topics.
 */
import type { CentralConfig } from './config/central.js';
import type { LaneSetting, LaneSettingsPayload } from './payloads.js';

export interface LaneRef {
  site: string;
  shelf: string;
  lane: string;
}

export interface LaneInfo extends LaneRef {
  sku: string;
  supplier: string;
  unitWeightG: number;
  capacity: number | null;
  channels: readonly number[];
  agent: string;
  serial: string;
}

export interface AgentRef {
  site: string;
  agent: string;
}

type MapInput = Pick<CentralConfig, 'sites' | 'skus' | 'suppliers'> & {
  integrations?: { homeAssistant?: { nodeId?: string } };
};

const key3 = (site: string, shelf: string, lane: string) => `${site}\u0000${shelf}\u0000${lane}`;
const key2 = (a: string, b: string) => `${a}\u0000${b}`;

/** The indexes one map input builds; a reload swaps them whole, so a reader never sees half of one. */
interface Index {
  lanes: Map<string, LaneInfo>;
  bySupplier: Map<string, LaneInfo[]>;
  shelfAgent: Map<string, string>;
  agentShelves: Map<string, { shelf: string; serial: string; lanes: LaneInfo[] }[]>;
  siteIds: ReadonlySet<string>;
  supplierIds: ReadonlySet<string>;
}

function buildIndex(config: MapInput): Index {
  const skus = new Map(config.skus.map((s) => [s.id, s]));
  const ix: Index = {
    lanes: new Map(),
    bySupplier: new Map(),
    shelfAgent: new Map(),
    agentShelves: new Map(),
    siteIds: new Set(config.sites.map((s) => s.id)),
    supplierIds: new Set(config.suppliers.map((s) => s.id)),
  };
  for (const s of ix.supplierIds) ix.bySupplier.set(s, []);
  for (const site of config.sites) {
    for (const shelf of site.shelves) {
      ix.shelfAgent.set(key2(site.id, shelf.id), shelf.agent);
      const agentKey = key2(site.id, shelf.agent);
      const entry = { shelf: shelf.id, serial: shelf.serial, lanes: [] as LaneInfo[] };
      const list = ix.agentShelves.get(agentKey) ?? [];
      list.push(entry);
      ix.agentShelves.set(agentKey, list);
      for (const lane of shelf.lanes) {
        const sku = skus.get(lane.sku);
        // The config schema refuses unknown SKUs; a hand-built map input is checked here too.
        if (!sku) throw new Error(`lane ${site.id}/${shelf.id}/${lane.id}: unknown SKU "${lane.sku}"`);
        const info: LaneInfo = Object.freeze({
          site: site.id,
          shelf: shelf.id,
          lane: lane.id,
          sku: sku.id,
          supplier: sku.supplier,
          unitWeightG: sku.unitWeightG,
          capacity: lane.capacity ?? null,
          channels: Object.freeze([...lane.channels]),
          agent: shelf.agent,
          serial: shelf.serial,
        });
        ix.lanes.set(key3(site.id, shelf.id, lane.id), info);
        entry.lanes.push(info);
        const owned = ix.bySupplier.get(sku.supplier) ?? [];
        owned.push(info);
        ix.bySupplier.set(sku.supplier, owned);
      }
    }
  }
  return ix;
}

export class ShelfMap {
  private ix: Index;
  private revision = 0;
  /**
   * Home Assistant discovery publishes each site's configs under the node id `<nodeId>-<site>`,
   * so that a Home Assistant user reads only its own sites' lanes (see the ACL).
   */
  readonly haNodeId: string;

  constructor(config: MapInput) {
    this.haNodeId = config.integrations?.homeAssistant?.nodeId ?? 'shelfsense';
    this.ix = buildIndex(config);
  }

  /**
   * Replaces what the map holds with a new catalogue, at once: every question asked after this
   * returns (an ACL decision on the next message, say) is answered from the new one. Throws,
   * changing nothing, when the input is inconsistent.
   */
  reload(config: Pick<MapInput, 'sites' | 'skus' | 'suppliers'>): void {
    this.ix = buildIndex(config);
    this.revision++;
  }

  /** How many times the map was reloaded (0: as constructed). */
  get reloads(): number {
    return this.revision;
  }

  /** Everything known about one lane, or undefined when the map does not have it. */
  lane(site: string, shelf: string, lane: string): LaneInfo | undefined {
    return this.ix.lanes.get(key3(site, shelf, lane));
  }

  /** The supplier that owns the SKU on this lane. */
  supplierOf(site: string, shelf: string, lane: string): string | undefined {
    return this.ix.lanes.get(key3(site, shelf, lane))?.supplier;
  }

  /** Every lane holding one of this supplier's SKUs, at any site. */
  lanesOf(supplier: string): readonly LaneInfo[] {
    return this.ix.bySupplier.get(supplier) ?? [];
  }

  /** The agent that serves a shelf. */
  agentOf(site: string, shelf: string): string | undefined {
    return this.ix.shelfAgent.get(key2(site, shelf));
  }

  hasSite(site: string): boolean {
    return this.ix.siteIds.has(site);
  }

  hasSupplier(supplier: string): boolean {
    return this.ix.supplierIds.has(supplier);
  }

  get sites(): readonly string[] {
    return [...this.ix.siteIds];
  }

  /** Every (site, agent) pair the map names, in config order. */
  agents(): AgentRef[] {
    return [...this.ix.agentShelves.keys()].map((k) => {
      const [site, agent] = k.split('\u0000') as [string, string];
      return { site, agent };
    });
  }

  get laneCount(): number {
    return this.ix.lanes.size;
  }

  /** The lane settings one agent needs (revision 0: the publisher assigns the real one). */
  laneSettingsFor(site: string, agent: string, revision = 0): LaneSettingsPayload {
    const shelves = this.ix.agentShelves.get(key2(site, agent)) ?? [];
    return {
      agent,
      revision,
      shelves: shelves.map((s) => ({
        shelf: s.shelf,
        serial: s.serial,
        lanes: s.lanes.map(
          (l): LaneSetting => ({
            lane: l.lane,
            channels: [...l.channels],
            sku: l.sku,
            unitWeightG: l.unitWeightG,
            capacity: l.capacity,
          }),
        ),
      })),
    };
  }
}
