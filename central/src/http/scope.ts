/**
 * Who may see and do what over HTTP. Visibility is the MQTT ACL's read rule (mqtt/acl.ts), asked of
 * the topic that carries the thing: a user may see a lane iff it may read the lane's `level` topic,
 * an order iff its lane's `order` topic, an alert iff its lane's `alert` topic, an agent iff its
 * `status` topic. Actions on what a user can see are then allowed per role (docs/http-api.md).
 */

import type { TokenClaims } from '@shelfsense/broker';
import { canRead, type Principal } from '@shelfsense/broker';
import type { LaneInfo, LaneRef, ShelfMap } from '@shelfsense/protocol';
import {
  type ApiUser,
  type Grant,
  ID_PATTERN,
  type LaneTopicKind,
  parseTopic,
  topics,
} from '@shelfsense/protocol';

export type { Principal };

/** Actions beyond reading, and the roles that may take them (on things they can see). */
export const ACTION_ROLES = {
  'order.acknowledge': ['supplier', 'admin'],
  'order.ship': ['supplier', 'admin'],
  'order.cancel': ['operator', 'admin'],
  'po.acknowledge': ['supplier', 'admin'],
  'po.ship': ['supplier', 'admin'],
  'po.propose': ['supplier', 'admin'],
  'po.send': ['operator', 'admin'],
  'po.manual': ['operator', 'admin'],
  'po.decide': ['operator', 'admin'],
  'po.receive': ['operator', 'admin'],
  'po.close': ['operator', 'admin'],
  'po.cancel': ['operator', 'admin'],
  'po.resolve': ['supplier', 'operator', 'admin'],
  'alert.acknowledge': ['operator', 'technician', 'admin'],
  'calibrations.read': ['technician', 'operator', 'service', 'admin'],
  'agent.command': ['technician', 'admin'],
  'unit-weight.accept': ['technician', 'admin'],
  'webhooks.dead': ['admin'],
} as const satisfies Record<string, readonly Grant['role'][]>;

export type Action = keyof typeof ACTION_ROLES;

export function may(p: Principal, action: Action): boolean {
  return (ACTION_ROLES[action] as readonly string[]).includes(p.grant.role);
}

export function principalOf(claims: TokenClaims): Principal {
  return { user: claims.user, grant: claims.grant };
}

/** May `p` read the lane topic of this kind? False for anything that is not a valid topic. */
export function canReadLane(p: Principal, ref: LaneRef, kind: LaneTopicKind, map: ShelfMap): boolean {
  let topic: string;
  try {
    topic = topics.lane(ref.site, ref.shelf, ref.lane, kind);
  } catch {
    return false;
  }
  return canRead(p, topic, parseTopic(topic), map);
}

/** The lane, when it is in the shelf map and `p` may see it. */
export function visibleLane(p: Principal, ref: LaneRef, map: ShelfMap): LaneInfo | undefined {
  if (!ID_PATTERN.test(ref.site) || !ID_PATTERN.test(ref.shelf) || !ID_PATTERN.test(ref.lane))
    return undefined;
  const lane = map.lane(ref.site, ref.shelf, ref.lane);
  return lane && canReadLane(p, lane, 'level', map) ? lane : undefined;
}

/** May `p` see the agent (read its status topic), and does the shelf map name it? */
export function canSeeAgent(p: Principal, site: string, agent: string, map: ShelfMap): boolean {
  if (!ID_PATTERN.test(site) || !ID_PATTERN.test(agent)) return false;
  if (!map.agents().some((a) => a.site === site && a.agent === agent)) return false;
  const topic = topics.status(site, agent);
  return canRead(p, topic, parseTopic(topic), map);
}

/** Each map's sorted lane list, built again after the map reloads (a new catalogue version). */
const laneLists = new WeakMap<ShelfMap, { reloads: number; list: readonly LaneInfo[] }>();

/** Every lane of the map, sorted by site, shelf and lane. */
export function allLanes(map: ShelfMap): readonly LaneInfo[] {
  const cached = laneLists.get(map);
  if (cached && cached.reloads === map.reloads) return cached.list;
  const out: LaneInfo[] = [];
  for (const { site, agent } of map.agents()) {
    for (const shelf of map.laneSettingsFor(site, agent).shelves) {
      for (const l of shelf.lanes) {
        const info = map.lane(site, shelf.shelf, l.lane);
        if (info) out.push(info);
      }
    }
  }
  out.sort((a, b) => cmp(a.site, b.site) || cmp(a.shelf, b.shelf) || cmp(a.lane, b.lane));
  const list = Object.freeze(out);
  laneLists.set(map, { reloads: map.reloads, list });
  return list;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The lanes `p` may see. */
export function visibleLanes(p: Principal, map: ShelfMap): LaneInfo[] {
  return allLanes(map).filter((l) => canReadLane(p, l, 'level', map));
}

/** The user as the API describes it: name, role and scope. */
export function describeUser(p: Principal): ApiUser {
  const g = p.grant;
  return {
    name: p.user,
    role: g.role,
    supplier: g.role === 'supplier' ? g.supplier : null,
    sites: 'sites' in g ? [...g.sites] : g.role === 'agent' ? [g.site] : [],
  };
}
