/**
 * Home Assistant MQTT discovery documents for the shelf map: one HA device per shelf, and per lane
 *
 * - sensors: `count` (items), `fill` (%, when the lane's capacity is known), and as diagnostics
 *   `weight` (g) and `confidence` (%);
 * - binary sensors: `low_stock` (at or under the reorder point, or empty), `open_order`
 *   (replenishment in flight) and `sensor_fault` (a load cell that cannot be trusted).
 *
 * Each entity reads its own plain state topic next to its config, which central publishes only
 * when the value changes: a level heartbeat that changes nothing writes no recorder row. Entities
 * are available while Shelfsense is (`<prefix>/<nodeId>/availability`) and the shelf's agent is
 * online (`availability_mode: all`).
 *
 * Topics: `<prefix>/<component>/<nodeId>-<site>/<objectId>/{config,state}` (retained). Keys as Home
 * Assistant documents them: https://www.home-assistant.io/integrations/sensor.mqtt/ and
 * https://www.home-assistant.io/integrations/binary_sensor.mqtt/
 */
import { createHash } from 'node:crypto';
import type { CentralConfig, HomeAssistantConfig } from '@shelfsense/protocol';

export const SENSOR_KINDS = ['count', 'fill', 'weight', 'confidence'] as const;
export const BINARY_KINDS = ['low_stock', 'open_order', 'sensor_fault'] as const;
export type SensorKind = (typeof SENSOR_KINDS)[number];
export type BinaryKind = (typeof BINARY_KINDS)[number];
export type EntityKind = SensorKind | BinaryKind;
export type Component = 'sensor' | 'binary_sensor';

export interface Availability {
  topic: string;
  value_template?: string;
  payload_available: string;
  payload_not_available: string;
}

export interface DeviceBlock {
  identifiers: string[];
  name: string;
  manufacturer: string;
  model: string;
  serial_number: string;
  sw_version: string;
  configuration_url?: string;
}

export interface EntityDiscovery {
  name: string;
  unique_id: string;
  state_topic: string;
  availability: Availability[];
  availability_mode: 'all';
  device: DeviceBlock;
  origin: { name: string; sw_version: string };
  icon?: string;
  entity_category?: 'diagnostic';
  device_class?: string;
  unit_of_measurement?: string;
  state_class?: 'measurement';
  suggested_display_precision?: number;
  payload_on?: 'ON';
  payload_off?: 'OFF';
}

/** Kept for readers of the earlier name. */
export type SensorDiscovery = EntityDiscovery;

export interface DiscoveryMessage {
  component: Component;
  /** Where the config document goes. */
  topic: string;
  /** The JSON body Home Assistant reads. */
  config: EntityDiscovery;
  site: string;
  shelf: string;
  lane: string;
  /** The agent serving the shelf (its availability). */
  agent: string;
  kind: EntityKind;
}

export type MapInput = Pick<CentralConfig, 'sites' | 'skus'>;

export interface DiscoveryOptions extends Pick<HomeAssistantConfig, 'prefix' | 'nodeId'> {
  /** Only these sites (absent: every site of the map). */
  sites?: readonly string[];
  /** Shelfsense's version, shown as the device's software version. */
  swVersion: string;
  /** The dashboard, linked from the device page. */
  configurationUrl?: string;
}

/** Payloads of Shelfsense's own availability: central (or its bridge client) online or not. */
export const ONLINE = 'online';
export const OFFLINE = 'offline';

/**
 * Shelfsense's availability; a Mosquitto bridge's notification topic may carry `1`/`0` on the same
 * topic (see docs/home-assistant.md), which the template reads the same way.
 */
export const SHELFSENSE_AVAILABILITY_TEMPLATE = "{{ 'online' if value in ('online', '1') else 'offline' }}";

export const availabilityTopic = (o: Pick<HomeAssistantConfig, 'prefix' | 'nodeId'>) =>
  `${o.prefix}/${o.nodeId}/availability`;

export const agentAvailabilityTopic = (
  o: Pick<HomeAssistantConfig, 'prefix' | 'nodeId'>,
  site: string,
  agent: string,
) => `${o.prefix}/sensor/${o.nodeId}-${site}/agent_${agent}/availability`;

interface KindSpec {
  component: Component;
  label: string;
  extra: Partial<EntityDiscovery>;
}

const SPECS: Record<EntityKind, KindSpec> = {
  count: {
    component: 'sensor',
    label: 'count',
    extra: { unit_of_measurement: 'items', state_class: 'measurement', icon: 'mdi:package-variant-closed' },
  },
  fill: {
    component: 'sensor',
    label: 'fill',
    extra: {
      unit_of_measurement: '%',
      state_class: 'measurement',
      suggested_display_precision: 1,
      icon: 'mdi:gauge',
    },
  },
  weight: {
    component: 'sensor',
    label: 'weight',
    extra: {
      device_class: 'weight',
      unit_of_measurement: 'g',
      state_class: 'measurement',
      entity_category: 'diagnostic',
    },
  },
  confidence: {
    component: 'sensor',
    label: 'confidence',
    extra: {
      unit_of_measurement: '%',
      state_class: 'measurement',
      entity_category: 'diagnostic',
      icon: 'mdi:check-decagram',
    },
  },
  low_stock: {
    component: 'binary_sensor',
    label: 'low stock',
    extra: { payload_on: 'ON', payload_off: 'OFF', icon: 'mdi:package-down' },
  },
  open_order: {
    component: 'binary_sensor',
    label: 'open order',
    extra: { payload_on: 'ON', payload_off: 'OFF', icon: 'mdi:truck-delivery' },
  },
  sensor_fault: {
    component: 'binary_sensor',
    label: 'sensor fault',
    extra: { payload_on: 'ON', payload_off: 'OFF', device_class: 'problem', entity_category: 'diagnostic' },
  },
};

const shortHash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);

/** Every discovery message for the map (the granted sites only), in config order. */
export function discoveryMessages(map: MapInput, o: DiscoveryOptions): DiscoveryMessage[] {
  const skus = new Map(map.skus.map((s) => [s.id, s]));
  const granted = o.sites ? new Set(o.sites) : null;
  const origin = { name: 'Shelfsense', sw_version: o.swVersion };
  const out: DiscoveryMessage[] = [];
  for (const site of map.sites) {
    if (granted && !granted.has(site.id)) continue;
    for (const shelf of site.shelves) {
      const device: DeviceBlock = {
        identifiers: [`shelfsense:${site.id}/${shelf.id}`],
        name: `Shelf ${shelf.id} (${site.name ?? site.id})`,
        manufacturer: 'Shelfsense',
        model: 'Weight-sensing shelf',
        serial_number: shelf.serial,
        sw_version: o.swVersion,
        ...(o.configurationUrl ? { configuration_url: o.configurationUrl } : {}),
      };
      const availability: Availability[] = [
        {
          topic: availabilityTopic(o),
          value_template: SHELFSENSE_AVAILABILITY_TEMPLATE,
          payload_available: ONLINE,
          payload_not_available: OFFLINE,
        },
        {
          topic: agentAvailabilityTopic(o, site.id, shelf.agent),
          payload_available: ONLINE,
          payload_not_available: OFFLINE,
        },
      ];
      for (const lane of shelf.lanes) {
        const sku = skus.get(lane.sku);
        const label = `${lane.id} ${sku?.name ?? lane.sku}`;
        const id = `${site.id}/${shelf.id}/${lane.id}`;
        for (const kind of [...SENSOR_KINDS, ...BINARY_KINDS]) {
          if (kind === 'fill' && lane.capacity === undefined) continue;
          const spec = SPECS[kind];
          out.push({
            component: spec.component,
            site: site.id,
            shelf: shelf.id,
            lane: lane.id,
            agent: shelf.agent,
            kind,
            topic: '',
            config: {
              name: `${label} ${spec.label}`,
              unique_id: `shelfsense:${id}:${kind}`,
              state_topic: '',
              ...spec.extra,
              availability,
              availability_mode: 'all',
              device,
              origin,
            },
          });
        }
      }
    }
  }
  return assignTopics(out, o);
}

/**
 * Object ids are `<site>_<shelf>_<lane>_<kind>`. Ids may themselves hold `_`, so two lanes could
 * meet on one object id (`a_b/c` and `a/b_c`); those get a hash of their exact path appended.
 */
function assignTopics(msgs: DiscoveryMessage[], o: Pick<HomeAssistantConfig, 'prefix' | 'nodeId'>) {
  const plain = (m: DiscoveryMessage) => `${m.site}_${m.shelf}_${m.lane}_${m.kind}`;
  const seen = new Map<string, number>();
  for (const m of msgs) seen.set(plain(m), (seen.get(plain(m)) ?? 0) + 1);
  for (const m of msgs) {
    const p = plain(m);
    const objectId = (seen.get(p) ?? 0) > 1 ? `${p}_${shortHash(`${m.site}/${m.shelf}/${m.lane}`)}` : p;
    // One node id per site: the broker lets a Home Assistant user read only its own sites' topics.
    const base = `${o.prefix}/${m.component}/${o.nodeId}-${m.site}/${objectId}`;
    m.topic = `${base}/config`;
    m.config.state_topic = `${base}/state`;
  }
  return msgs;
}
