/**
 * The roles of docs/security.md as nats-server 2.9 permissions, from the same grant and shelf map
 * the embedded broker's ACL (broker/src/mqtt/acl.ts) decides with.
 *
 * NATS checks a subscription once, when it is made: a filter is granted only if one allowed
 * subject covers it, and nothing is checked per delivered message (retained messages included).
 * So every reader gets an allow list of exactly what it may read, never a wide allow with denies,
 * and a wildcard wider than its grant is refused with SUBACK 0x80 instead of being filtered.
 * Publishes are checked per message, so an agent's "its own shelves, or shelves the map does not
 * know yet" is its site's lane topics less the shelves the map gives to other agents.
 */
import {
  AGENTS_SEGMENT,
  CATALOGUE_TOPIC,
  COMMANDS,
  type Grant,
  type ShelfMap,
  TOPIC_ROOT,
} from '@shelfsense/protocol';
import {
  MQTT_DELIVERY_SUBJECT,
  mqttToNats,
  NATS_INTERNAL_SUBJECTS,
  NATS_RESERVED_PUBLISH,
  natsSubjectsOf,
} from './subjects.js';

export interface SubjectRules {
  allow?: string[];
  deny?: string[];
}

/** One user's `permissions` block: NATS subjects. */
export interface NatsPermissions {
  publish: SubjectRules;
  subscribe: SubjectRules;
}

/** Lane kinds an agent publishes (its records) and the ones a supplier and an operator read. */
const AGENT_LANE_KINDS = ['level', 'event', 'observation', 'calibration'] as const;
/** No observations: they tell of the store's shelves (tamper, other lanes' items), not the supplier's. */
const SUPPLIER_KINDS = ['level', 'event', 'order'] as const;
const OPERATOR_LANE_KINDS = ['level', 'event', 'observation', 'order', 'alert'] as const;

const nats = (filters: readonly string[]): string[] => [...new Set(filters.flatMap(natsSubjectsOf))];
/** Readers: what they may read, the catalogue version, and the QoS 1 delivery subject. */
const reads = (filters: readonly string[]): SubjectRules => ({
  allow: [...nats(filters), mqttToNats(CATALOGUE_TOPIC), MQTT_DELIVERY_SUBJECT],
});
/** Home Assistant's own default discovery prefix, as the broker's ACL assumes when a grant names none. */
const HA_DEFAULT_PREFIX = 'homeassistant';
const PUBLISH_NOTHING: SubjectRules = { deny: ['>'] };

export function natsPermissions(grant: Grant, map: ShelfMap): NatsPermissions {
  const r = TOPIC_ROOT;
  switch (grant.role) {
    case 'admin':
      // Everything but NATS's own subjects (on NATS, `$SYS` lives in the system account).
      return {
        publish: { allow: ['>'], deny: [...NATS_RESERVED_PUBLISH] },
        subscribe: { allow: ['>'], deny: [...NATS_INTERNAL_SUBJECTS] },
      };
    case 'service':
      return {
        publish: {
          allow: nats([
            `${r}/+/${AGENTS_SEGMENT}/+/lanes`,
            `${r}/+/${AGENTS_SEGMENT}/+/stored`,
            `${r}/+/+/+/order`,
            `${r}/+/+/+/alert`,
            ...COMMANDS.map((c) => `${r}/+/${AGENTS_SEGMENT}/+/request/${c}`),
            CATALOGUE_TOPIC,
          ]),
        },
        subscribe: { allow: ['>'], deny: [...NATS_INTERNAL_SUBJECTS] },
      };
    case 'agent':
      return agentPermissions(grant.site, grant.agent, map);
    case 'supplier':
      return {
        publish: PUBLISH_NOTHING,
        subscribe: reads(
          map
            .lanesOf(grant.supplier)
            .flatMap((l) => SUPPLIER_KINDS.map((k) => `${r}/${l.site}/${l.shelf}/${l.lane}/${k}`)),
        ),
      };
    case 'operator':
      return {
        publish: PUBLISH_NOTHING,
        subscribe: reads(
          grant.sites.flatMap((s) => [
            ...OPERATOR_LANE_KINDS.map((k) => `${r}/${s}/+/+/${k}`),
            `${r}/${s}/+/health`,
            `${r}/${s}/${AGENTS_SEGMENT}/+/status`,
          ]),
        ),
      };
    case 'technician':
      // Reads its sites whole. Its commands go through central's API, which stamps the actor:
      // NATS cannot rewrite a request body, so a request published here would carry any name.
      return { publish: PUBLISH_NOTHING, subscribe: reads(grant.sites.map((s) => `${r}/${s}/#`)) };
    case 'homeassistant': {
      const prefix = grant.prefix ?? HA_DEFAULT_PREFIX;
      return {
        publish: { allow: nats([`${prefix}/status`]) },
        subscribe: reads([
          `${prefix}/status`,
          `${prefix}/${map.haNodeId}/availability`,
          ...grant.sites.flatMap((s) => [
            `${prefix}/sensor/${map.haNodeId}-${s}/#`,
            `${prefix}/binary_sensor/${map.haNodeId}-${s}/#`,
            `${r}/${s}/+/+/level`,
            `${r}/${s}/${AGENTS_SEGMENT}/+/status`,
          ]),
        ]),
      };
    }
  }
}

function agentPermissions(site: string, agent: string, map: ShelfMap): NatsPermissions {
  const base = `${TOPIC_ROOT}/${site}`;
  const own = `${base}/${AGENTS_SEGMENT}/${agent}`;
  // Shelves of this site the map gives to another agent; any other shelf id may report (one
  // being commissioned is not in the map yet), as on the embedded broker.
  const others = new Set<string>();
  for (const a of map.agents()) {
    if (a.site !== site || a.agent === agent) continue;
    for (const s of map.laneSettingsFor(a.site, a.agent).shelves) others.add(s.shelf);
  }
  return {
    publish: {
      allow: nats([
        ...AGENT_LANE_KINDS.map((k) => `${base}/+/+/${k}`),
        `${base}/+/health`,
        `${own}/status`,
        `${own}/stream`,
        ...COMMANDS.map((c) => `${own}/response/${c}`),
      ]),
      deny: nats([
        ...[...others].map((shelf) => `${base}/${shelf}/#`),
        // `agents` is no shelf: the wildcards above must not reach into the agent subtree.
        ...AGENT_LANE_KINDS.map((k) => `${base}/${AGENTS_SEGMENT}/+/${k}`),
        `${base}/${AGENTS_SEGMENT}/health`,
      ]),
    },
    subscribe: {
      allow: [
        ...nats([`${own}/status`, `${own}/lanes`, `${own}/stored`, `${own}/request/+`, CATALOGUE_TOPIC]),
        MQTT_DELIVERY_SUBJECT,
      ],
    },
  };
}
