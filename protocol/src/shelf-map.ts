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

export class ShelfMap {
  private readonly lanes = new Map<string, LaneInfo>();
  private readonly bySupplier = new Map<string, LaneInfo[]>();
  private readonly shelfAgent = new Map<string, string>();
  private readonly agentShelves = new Map<string, { shelf: string; serial: string; lanes: LaneInfo[] }[]>();
  private readonly siteIds: ReadonlySet<string>;
  private readonly supplierIds: ReadonlySet<string>;
  /**
   * Home Assistant discovery publishes each site's configs under the node id `<nodeId>-<site>`,
   * so that a Home Assistant user reads only its own sites' lanes (see the ACL).
   */
  readonly haNodeId: string;

  constructor(config: MapInput) {
    this.haNodeId = config.integrations?.homeAssistant?.nodeId ?? 'shelfsense';
    const skus = new Map(config.skus.map((s) => [s.id, s]));
    this.siteIds = new Set(config.sites.map((s) => s.id));
    this.supplierIds = new Set(config.suppliers.map((s) => s.id));
    for (const s of this.supplierIds) this.bySupplier.set(s, []);
    for (const site of config.sites) {
      for (const shelf of site.shelves) {
        this.shelfAgent.set(key2(site.id, shelf.id), shelf.agent);
        const agentKey = key2(site.id, shelf.agent);
        const entry = { shelf: shelf.id, serial: shelf.serial, lanes: [] as LaneInfo[] };
        const list = this.agentShelves.get(agentKey) ?? [];
        list.push(entry);
        this.agentShelves.set(agentKey, list);
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
          this.lanes.set(key3(site.id, shelf.id, lane.id), info);
          entry.lanes.push(info);
          const owned = this.bySupplier.get(sku.supplier) ?? [];
          owned.push(info);
          this.bySupplier.set(sku.supplier, owned);
        }
      }
    }
  }

  /** Everything known about one lane, or undefined when the map does not have it. */
  lane(site: string, shelf: string, lane: string): LaneInfo | undefined {
    return this.lanes.get(key3(site, shelf, lane));
  }

  /** The supplier that owns the SKU on this lane. */
  supplierOf(site: string, shelf: string, lane: string): string | undefined {
    return this.lanes.get(key3(site, shelf, lane))?.supplier;
  }

  /** Every lane holding one of this supplier's SKUs, at any site. */
  lanesOf(supplier: string): readonly LaneInfo[] {
    return this.bySupplier.get(supplier) ?? [];
  }

  /** The agent that serves a shelf. */
  agentOf(site: string, shelf: string): string | undefined {
    return this.shelfAgent.get(key2(site, shelf));
  }

  hasSite(site: string): boolean {
    return this.siteIds.has(site);
  }

  hasSupplier(supplier: string): boolean {
    return this.supplierIds.has(supplier);
  }

  get sites(): readonly string[] {
    return [...this.siteIds];
  }

  /** Every (site, agent) pair the map names, in config order. */
  agents(): AgentRef[] {
    return [...this.agentShelves.keys()].map((k) => {
      const [site, agent] = k.split('\u0000') as [string, string];
      return { site, agent };
    });
  }

  get laneCount(): number {
    return this.lanes.size;
  }

  /** The lane settings one agent needs (revision 0: the publisher assigns the real one). */
  laneSettingsFor(site: string, agent: string, revision = 0): LaneSettingsPayload {
    const shelves = this.agentShelves.get(key2(site, agent)) ?? [];
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
