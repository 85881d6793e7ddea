/**
 * Who may publish and read which topic. Decisions use only the topic path (parsed with the
 * contract's `parseTopic`) and the shelf map — never a message body — so they hold for wildcard
 * subscriptions and retained messages alike. See docs/security.md for the table.
 */

import type { ShelfMap } from '@shelfsense/protocol';
import { CATALOGUE_TOPIC, type Grant, type ParsedTopic, parseTopic, TOPIC_ROOT } from '@shelfsense/protocol';
import { filtersIntersect, isValidFilter } from './topic-filter.js';

export interface Principal {
  user: string;
  grant: Grant;
}

export type Decision = { ok: true } | { ok: false; why: string };

const ALLOW: Decision = { ok: true };
const deny = (why: string): Decision => ({ ok: false, why });

const SUPPLIER_KINDS: ReadonlySet<string> = new Set(['level', 'event', 'order']);
/** Suppliers never read observations: they tell of the store's shelves (tamper, other lanes' items). */
const OPERATOR_KINDS: ReadonlySet<string> = new Set([
  'level',
  'event',
  'observation',
  'order',
  'alert',
  'health',
  'status',
]);
const AGENT_PUBLISHES: ReadonlySet<string> = new Set([
  'level',
  'event',
  'observation',
  'calibration',
  'health',
  'status',
  'stream',
  'response',
]);
const AGENT_READS: ReadonlySet<string> = new Set(['status', 'lanes', 'stored', 'request']);
const SERVICE_PUBLISHES: ReadonlySet<string> = new Set(['lanes', 'stored', 'order', 'alert', 'request']);

/** Home Assistant's own discovery prefix when its grant names none (HA's default). */
export const HA_DEFAULT_PREFIX = 'homeassistant';

type HaGrant = Extract<Grant, { role: 'homeassistant' }>;
/** The Home Assistant components central publishes (configs and states under each). */
const HA_COMPONENTS = ['sensor', 'binary_sensor'] as const;
const haPrefix = (g: HaGrant): string => g.prefix ?? HA_DEFAULT_PREFIX;

/**
 * Home Assistant reads, under its discovery prefix, its own status, Shelfsense's availability and
 * the discovery configs and entity states of its sites (published under the node id
 * `<nodeId>-<site>`, one per site, for sensors and binary sensors), and at its sites lane levels
 * and agent status — what the discovered sensors and their availability read; no other site's lane
 * names, no events, orders, alerts or health.
 */
function haReads(g: HaGrant, topic: string, t: ParsedTopic | null, map: ShelfMap): boolean {
  const prefix = haPrefix(g);
  if (topic === `${prefix}/status` || topic === `${prefix}/${map.haNodeId}/availability`) return true;
  for (const component of HA_COMPONENTS) {
    const own = `${prefix}/${component}/${map.haNodeId}-`;
    if (!topic.startsWith(own)) continue;
    // Site ids hold no '/': the node id's site ends at the next level.
    const end = topic.indexOf('/', own.length);
    return end > own.length && g.sites.includes(topic.slice(own.length, end));
  }
  return t !== null && (t.kind === 'level' || t.kind === 'status') && g.sites.includes(t.site);
}

/** Parsed topics, memoised: the same few thousand topics are checked on every message. */
export class TopicCache {
  private readonly map = new Map<string, ParsedTopic | null>();
  constructor(private readonly limit = 50_000) {}

  parse(topic: string): ParsedTopic | null {
    let parsed = this.map.get(topic);
    if (parsed === undefined) {
      parsed = parseTopic(topic);
      if (this.map.size >= this.limit) this.map.clear();
      this.map.set(topic, parsed);
    }
    return parsed;
  }
}

const shelfOf = (t: ParsedTopic): string | undefined => ('shelf' in t ? t.shelf : undefined);
const agentOf = (t: ParsedTopic): string | undefined => ('agent' in t ? t.agent : undefined);

export function canPublish(p: Principal, topic: string, t: ParsedTopic | null, map: ShelfMap): Decision {
  const g = p.grant;
  if (topic.startsWith('$')) return deny('topics starting with $ are reserved to the broker');
  if (g.role === 'admin') return ALLOW;
  if (g.role === 'homeassistant') {
    // Its birth message and its last will; it never speaks for a shelf.
    const status = `${haPrefix(g)}/status`;
    return topic === status ? ALLOW : deny(`Home Assistant may publish only ${status}`);
  }
  if (topic === CATALOGUE_TOPIC) {
    return g.role === 'service' ? ALLOW : deny('only central announces the catalogue');
  }
  if (!t) return deny('topic is outside the Shelfsense tree');
  switch (g.role) {
    case 'agent': {
      if (t.site !== g.site) return deny(`agent is bound to site ${g.site}`);
      if (!AGENT_PUBLISHES.has(t.kind)) return deny(`an agent may not publish ${t.kind}`);
      const agent = agentOf(t);
      if (agent !== undefined && agent !== g.agent) return deny(`agent is ${g.agent}, not ${agent}`);
      const shelf = shelfOf(t);
      if (shelf !== undefined) {
        // A shelf the map does not know yet may report (it is being commissioned); a shelf the map
        // gives to another agent may not be spoken for.
        const owner = map.agentOf(t.site, shelf);
        if (owner !== undefined && owner !== g.agent)
          return deny(`shelf ${shelf} is served by agent ${owner}`);
      }
      return ALLOW;
    }
    case 'technician':
      if (t.kind !== 'request') return deny('a technician may publish only command requests');
      return g.sites.includes(t.site) ? ALLOW : deny(`technician is not bound to site ${t.site}`);
    case 'service':
      return SERVICE_PUBLISHES.has(t.kind) ? ALLOW : deny(`the service role may not publish ${t.kind}`);
    default:
      return deny(`the ${g.role} role may not publish`);
  }
}

/** May this principal receive a message on this concrete topic? The hot path: one call per delivery. */
export function canRead(p: Principal, topic: string, t: ParsedTopic | null, map: ShelfMap): boolean {
  const g = p.grant;
  if (g.role === 'admin') return true;
  if (topic.charCodeAt(0) === 36 /* $ */) return false;
  if (g.role === 'service') return true;
  // A version number, for every user: what changed is read through the API, by scope.
  if (topic === CATALOGUE_TOPIC) return true;
  if (g.role === 'homeassistant') return haReads(g, topic, t, map);
  if (!t) return false;
  switch (g.role) {
    case 'supplier':
      return (
        SUPPLIER_KINDS.has(t.kind) && 'lane' in t && map.supplierOf(t.site, t.shelf, t.lane) === g.supplier
      );
    case 'operator':
      return OPERATOR_KINDS.has(t.kind) && g.sites.includes(t.site);
    case 'technician':
      return g.sites.includes(t.site);
    case 'agent':
      return t.site === g.site && AGENT_READS.has(t.kind) && agentOf(t) === g.agent;
  }
}

/** Filters that together cover everything a principal may read (for subscribe decisions). */
export function readablePatterns(p: Principal, map: ShelfMap): string[] {
  const g = p.grant;
  if (g.role === 'admin' || g.role === 'service') return ownPatterns(p, map);
  return [CATALOGUE_TOPIC, ...ownPatterns(p, map)];
}

function ownPatterns(p: Principal, map: ShelfMap): string[] {
  const g = p.grant;
  const r = TOPIC_ROOT;
  switch (g.role) {
    case 'admin':
      return ['#', '$SYS/#'];
    case 'service':
      return ['#'];
    case 'technician':
      return g.sites.map((s) => `${r}/${s}/#`);
    case 'operator':
      return g.sites.flatMap((s) => [
        ...['level', 'event', 'observation', 'order', 'alert'].map((k) => `${r}/${s}/+/+/${k}`),
        `${r}/${s}/+/health`,
        `${r}/${s}/agents/+/status`,
      ]);
    case 'agent': {
      const base = `${r}/${g.site}/agents/${g.agent}`;
      return [`${base}/status`, `${base}/lanes`, `${base}/stored`, `${base}/request/+`];
    }
    case 'homeassistant':
      return [
        `${haPrefix(g)}/status`,
        `${haPrefix(g)}/${map.haNodeId}/availability`,
        ...g.sites.flatMap((s) => [
          ...HA_COMPONENTS.map((c) => `${haPrefix(g)}/${c}/${map.haNodeId}-${s}/#`),
          `${r}/${s}/+/+/level`,
          `${r}/${s}/agents/+/status`,
        ]),
      ];
    case 'supplier':
      return map
        .lanesOf(g.supplier)
        .flatMap((l) => [...SUPPLIER_KINDS].map((k) => `${r}/${l.site}/${l.shelf}/${l.lane}/${k}`));
  }
}

/**
 * Grant a subscription only if the filter can match at least one topic the principal may read;
 * otherwise it is refused with SUBACK 0x80. Delivery is still checked per message.
 */
export function canSubscribe(p: Principal, filter: string, map: ShelfMap): Decision {
  if (!isValidFilter(filter)) return deny('malformed topic filter');
  if (filter.startsWith('$share/')) return deny('shared subscriptions are not supported');
  for (const pattern of readablePatterns(p, map)) {
    if (filtersIntersect(filter, pattern)) return ALLOW;
  }
  return deny(`the filter matches nothing the ${p.grant.role} role may read`);
}
