/**
 * The MQTT topic tree, built and parsed in one place. Never publish to a topic containing `+` or
 * `#`: every builder checks its segments.
 *
 *   shelfsense/v1/{site}/{shelf}/{lane}/level        retained, QoS 1
 *   shelfsense/v1/{site}/{shelf}/{lane}/event        QoS 1
 *   shelfsense/v1/{site}/{shelf}/{lane}/observation  QoS 1 (what the weight says beyond the count)
 *   shelfsense/v1/{site}/{shelf}/{lane}/calibration  QoS 1
 *   shelfsense/v1/{site}/{shelf}/{lane}/order        QoS 1 (order events, for the lane's supplier)
 *   shelfsense/v1/{site}/{shelf}/{lane}/alert        QoS 1
 *   shelfsense/v1/{site}/{shelf}/health              retained, QoS 1
 *   shelfsense/v1/{site}/agents/{agent}/status       retained, last will
 *   shelfsense/v1/{site}/agents/{agent}/lanes        retained: lane settings from central
 *   shelfsense/v1/{site}/agents/{agent}/stored       retained: central's stored high-water mark
 *   shelfsense/v1/{site}/agents/{agent}/request/{command}
 *   shelfsense/v1/{site}/agents/{agent}/response/{command}
 *   shelfsense/v1/{site}/agents/{agent}/stream       raw/filtered readings while a technician asks
 *   shelfsense/v1/catalogue                          retained: the catalogue version in force
 */
import { ErrorCodes, ShelfError } from './errors.js';

export const TOPIC_ROOT = 'shelfsense/v1';
/** The shelf segment `agents` is reserved for the agent subtree. */
export const AGENTS_SEGMENT = 'agents';
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/**
 * Central's announcement of the catalogue version in force (`CatalogueAnnouncement`), retained:
 * every user may read it, so an open dashboard reloads what it shows when the catalogue changes.
 * Three levels, so no site's topics (five levels or more) can be mistaken for it.
 */
export const CATALOGUE_TOPIC = `${TOPIC_ROOT}/catalogue`;

export const LANE_KINDS = ['level', 'event', 'observation', 'calibration', 'order', 'alert'] as const;
export type LaneTopicKind = (typeof LANE_KINDS)[number];
export const AGENT_KINDS = ['status', 'lanes', 'stored', 'stream'] as const;
export type AgentTopicKind = (typeof AGENT_KINDS)[number];
export const COMMANDS = ['identify', 'tare', 'calibrate', 'learn-unit', 'remove-point', 'stream'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Every kind of topic in the tree; `TopicPayloads` (payloads.ts) says what each one carries. */
export type TopicKind = LaneTopicKind | AgentTopicKind | 'health' | 'request' | 'response';

declare const topicKind: unique symbol;
/** A concrete topic of one kind, as the builders below return it: publish takes its payload type from it. */
export type Topic<K extends TopicKind> = string & { readonly [topicKind]: K };
declare const filterKind: unique symbol;
/** A subscription filter matching topics of one kind (or of several: `Filter<TopicKind>`). */
export type Filter<K extends TopicKind> = string & { readonly [filterKind]: K };

/** What a topic of kind K names, as parseTopic returns it. */
export type TopicRef<K extends TopicKind> = K extends LaneTopicKind
  ? { kind: K; site: string; shelf: string; lane: string }
  : K extends 'health'
    ? { kind: K; site: string; shelf: string }
    : K extends AgentTopicKind
      ? { kind: K; site: string; agent: string }
      : { kind: K; site: string; agent: string; command: CommandName };

export type ParsedTopic =
  | { kind: LaneTopicKind; site: string; shelf: string; lane: string }
  | { kind: 'health'; site: string; shelf: string }
  | { kind: AgentTopicKind; site: string; agent: string }
  | { kind: 'request' | 'response'; site: string; agent: string; command: CommandName };

function seg(value: string, what: string): string {
  if (!ID_PATTERN.test(value)) {
    throw new ShelfError(
      ErrorCodes.TOPIC,
      `${what} "${value}" is not a valid topic segment (letters, digits, _ and -, 1–64 characters)`,
      [{ path: what, message: 'invalid identifier' }],
    );
  }
  return value;
}

function shelfSeg(value: string): string {
  seg(value, 'shelf');
  if (value === AGENTS_SEGMENT) {
    throw new ShelfError(ErrorCodes.TOPIC, `shelf id "${AGENTS_SEGMENT}" is reserved`, [
      { path: 'shelf', message: 'reserved' },
    ]);
  }
  return value;
}

const topic = <K extends TopicKind>(t: string) => t as Topic<K>;

export const topics = {
  lane<K extends LaneTopicKind>(site: string, shelf: string, lane: string, kind: K): Topic<K> {
    return topic(`${TOPIC_ROOT}/${seg(site, 'site')}/${shelfSeg(shelf)}/${seg(lane, 'lane')}/${kind}`);
  },
  level: (site: string, shelf: string, lane: string) => topics.lane(site, shelf, lane, 'level'),
  event: (site: string, shelf: string, lane: string) => topics.lane(site, shelf, lane, 'event'),
  observation: (site: string, shelf: string, lane: string) => topics.lane(site, shelf, lane, 'observation'),
  calibration: (site: string, shelf: string, lane: string) => topics.lane(site, shelf, lane, 'calibration'),
  order: (site: string, shelf: string, lane: string) => topics.lane(site, shelf, lane, 'order'),
  alert: (site: string, shelf: string, lane: string) => topics.lane(site, shelf, lane, 'alert'),
  health(site: string, shelf: string): Topic<'health'> {
    return topic(`${TOPIC_ROOT}/${seg(site, 'site')}/${shelfSeg(shelf)}/health`);
  },
  agent<K extends AgentTopicKind>(site: string, agent: string, kind: K): Topic<K> {
    return topic(`${TOPIC_ROOT}/${seg(site, 'site')}/${AGENTS_SEGMENT}/${seg(agent, 'agent')}/${kind}`);
  },
  status: (site: string, agent: string) => topics.agent(site, agent, 'status'),
  laneSettings: (site: string, agent: string) => topics.agent(site, agent, 'lanes'),
  stored: (site: string, agent: string) => topics.agent(site, agent, 'stored'),
  stream: (site: string, agent: string) => topics.agent(site, agent, 'stream'),
  request(site: string, agent: string, command: CommandName): Topic<'request'> {
    return topic(
      `${TOPIC_ROOT}/${seg(site, 'site')}/${AGENTS_SEGMENT}/${seg(agent, 'agent')}/request/${command}`,
    );
  },
  response(site: string, agent: string, command: CommandName): Topic<'response'> {
    return topic(
      `${TOPIC_ROOT}/${seg(site, 'site')}/${AGENTS_SEGMENT}/${seg(agent, 'agent')}/response/${command}`,
    );
  },
} as const;

/**
 * MQTT client ids the central broker reserves. An agent's id is derived from its identity, and only
 * that agent may use it; ids under the central prefix belong to the `service` role.
 */
export const clientIds = {
  agentPrefix: 'shelfsense-agent-',
  centralPrefix: 'shelfsense-central-',
  agent: (site: string, agent: string) => `shelfsense-agent-${seg(site, 'site')}-${seg(agent, 'agent')}`,
} as const;

const filter = <K extends TopicKind>(f: string) => f as Filter<K>;

/**
 * Subscription filters, all built here (they may hold wildcards and are never published to). A
 * segment left out is `+`: every site, shelf, lane or agent.
 */
export const filters = {
  all: filter<TopicKind>(`${TOPIC_ROOT}/#`),
  site: (site: string) => filter<TopicKind>(`${TOPIC_ROOT}/${seg(site, 'site')}/#`),
  laneKind: <K extends LaneTopicKind>(kind: K, site = '+') => filter<K>(`${TOPIC_ROOT}/${site}/+/+/${kind}`),
  health: (site = '+') => filter<'health'>(`${TOPIC_ROOT}/${site}/+/health`),
  agentKind: <K extends AgentTopicKind>(kind: K, site = '+', agent = '+') =>
    filter<K>(`${TOPIC_ROOT}/${site}/${AGENTS_SEGMENT}/${agent}/${kind}`),
  requests: (site: string, agent: string) =>
    filter<'request'>(
      `${TOPIC_ROOT}/${seg(site, 'site')}/${AGENTS_SEGMENT}/${seg(agent, 'agent')}/request/+`,
    ),
  responses: (site = '+', agent = '+') =>
    filter<'response'>(`${TOPIC_ROOT}/${site}/${AGENTS_SEGMENT}/${agent}/response/+`),
} as const;

/** Parses a concrete topic; returns null for anything outside the tree (never throws). */
export function parseTopic(topic: string): ParsedTopic | null {
  const p = topic.split('/');
  if (p.length < 5 || p[0] !== 'shelfsense' || p[1] !== 'v1') return null;
  for (let i = 2; i < p.length - 1; i++) if (!ID_PATTERN.test(p[i] as string)) return null;
  const site = p[2] as string;
  if (p[3] === AGENTS_SEGMENT) {
    const agent = p[4] as string;
    if (!ID_PATTERN.test(agent)) return null;
    if (p.length === 6 && (AGENT_KINDS as readonly string[]).includes(p[5] as string)) {
      return { kind: p[5] as AgentTopicKind, site, agent };
    }
    if (
      p.length === 7 &&
      (p[5] === 'request' || p[5] === 'response') &&
      (COMMANDS as readonly string[]).includes(p[6] as string)
    ) {
      return { kind: p[5], site, agent, command: p[6] as CommandName };
    }
    return null;
  }
  const shelf = p[3] as string;
  if (p.length === 5 && p[4] === 'health') return { kind: 'health', site, shelf };
  if (p.length === 6 && (LANE_KINDS as readonly string[]).includes(p[5] as string)) {
    return { kind: p[5] as LaneTopicKind, site, shelf, lane: p[4] as string };
  }
  return null;
}

/** True when a topic is safe to publish to: no wildcard, no empty level. */
export function isPublishable(topic: string): boolean {
  return topic.length > 0 && !topic.includes('+') && !topic.includes('#') && !topic.split('/').includes('');
}
