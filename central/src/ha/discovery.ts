/**
 * Home Assistant MQTT discovery messages for the shelf map: one HA device per shelf, and per lane
 * a "count" sensor (items) and, when the lane's capacity is known, a "fill" sensor (%). Each sensor
 * reads the lane's retained level topic directly — no second copy of the data — and is available
 * while the shelf's agent says `online` on its retained status topic (its last will says offline).
 *
 * Topic: `<prefix>/sensor/<nodeId>/<objectId>/config` (retained). Keys as Home Assistant documents
 * them for MQTT sensors: https://www.home-assistant.io/integrations/sensor.mqtt/
 */
import { createHash } from 'node:crypto';
import { type CentralConfig, type HomeAssistantConfig, topics } from '@shelfsense/protocol';

export type SensorKind = 'count' | 'fill';

export interface DiscoveryMessage {
  topic: string;
  /** The JSON body Home Assistant reads. */
  config: SensorDiscovery;
  /** Which lane and sensor this is. */
  site: string;
  shelf: string;
  lane: string;
  kind: SensorKind;
}

export interface SensorDiscovery {
  name: string;
  unique_id: string;
  state_topic: string;
  value_template: string;
  unit_of_measurement: string;
  state_class: 'measurement';
  icon: string;
  suggested_display_precision?: number;
  json_attributes_topic: string;
  json_attributes_template: string;
  availability: {
    topic: string;
    value_template: string;
    payload_available: string;
    payload_not_available: string;
  }[];
  device: {
    identifiers: string[];
    name: string;
    manufacturer: string;
    model: string;
    serial_number: string;
  };
  origin: { name: string };
}

type MapInput = Pick<CentralConfig, 'sites' | 'skus'>;

/** Template fields, so a reader (and the tests) can follow exactly what HA will read. */
export const TEMPLATES = {
  count: '{{ value_json.units }}',
  // `fill` is units / capacity (null until the agent knows the capacity); HA reads "None" as unknown.
  fill: "{{ (value_json.fill * 100) | round(1) if value_json.fill is not none else 'None' }}",
  availability: '{{ value_json.state }}',
  attributes:
    '{{ {"sku": value_json.sku, "grams": value_json.grams, "stable": value_json.stable, ' +
    '"state": value_json.state, "confidence": value_json.confidence} | tojson }}',
} as const;

const shortHash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);

/** Every discovery message for the map, in config order. */
export function discoveryMessages(
  map: MapInput,
  ha: Pick<HomeAssistantConfig, 'prefix' | 'nodeId'>,
): DiscoveryMessage[] {
  const skus = new Map(map.skus.map((s) => [s.id, s]));
  const out: DiscoveryMessage[] = [];
  for (const site of map.sites) {
    for (const shelf of site.shelves) {
      const device = {
        identifiers: [`shelfsense:${site.id}/${shelf.id}`],
        name: `Shelf ${shelf.id} (${site.name ?? site.id})`,
        manufacturer: 'Shelfsense',
        model: 'Weight-sensing shelf',
        serial_number: shelf.serial,
      };
      const availability = [
        {
          topic: topics.status(site.id, shelf.agent),
          value_template: TEMPLATES.availability,
          payload_available: 'online',
          payload_not_available: 'offline',
        },
      ];
      for (const lane of shelf.lanes) {
        const sku = skus.get(lane.sku);
        const label = `${lane.id} ${sku?.name ?? lane.sku}`;
        const stateTopic = topics.level(site.id, shelf.id, lane.id);
        const common = {
          state_topic: stateTopic,
          state_class: 'measurement' as const,
          json_attributes_topic: stateTopic,
          json_attributes_template: TEMPLATES.attributes,
          availability,
          device,
          origin: { name: 'Shelfsense' },
        };
        const ref = { site: site.id, shelf: shelf.id, lane: lane.id };
        const id = `${site.id}/${shelf.id}/${lane.id}`;
        out.push({
          ...ref,
          kind: 'count',
          topic: '',
          config: {
            name: `${label} count`,
            unique_id: `shelfsense:${id}:count`,
            value_template: TEMPLATES.count,
            unit_of_measurement: 'items',
            icon: 'mdi:package-variant-closed',
            ...common,
          },
        });
        if (lane.capacity !== undefined) {
          out.push({
            ...ref,
            kind: 'fill',
            topic: '',
            config: {
              name: `${label} fill`,
              unique_id: `shelfsense:${id}:fill`,
              value_template: TEMPLATES.fill,
              unit_of_measurement: '%',
              suggested_display_precision: 1,
              icon: 'mdi:gauge',
              ...common,
            },
          });
        }
      }
    }
  }
  return assignTopics(out, ha);
}

/**
 * Object ids are `<site>_<shelf>_<lane>_<kind>`. Ids may themselves hold `_`, so two lanes could
 * meet on one object id (`a_b/c` and `a/b_c`); those get a hash of their exact path appended.
 */
function assignTopics(msgs: DiscoveryMessage[], ha: Pick<HomeAssistantConfig, 'prefix' | 'nodeId'>) {
  const plain = (m: DiscoveryMessage) => `${m.site}_${m.shelf}_${m.lane}_${m.kind}`;
  const seen = new Map<string, number>();
  for (const m of msgs) seen.set(plain(m), (seen.get(plain(m)) ?? 0) + 1);
  for (const m of msgs) {
    const p = plain(m);
    const objectId = (seen.get(p) ?? 0) > 1 ? `${p}_${shortHash(`${m.site}/${m.shelf}/${m.lane}`)}` : p;
    // One node id per site: the broker lets a Home Assistant user read only its own sites' configs.
    m.topic = `${ha.prefix}/sensor/${ha.nodeId}-${m.site}/${objectId}/config`;
  }
  return msgs;
}
