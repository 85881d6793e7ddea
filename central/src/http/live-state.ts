/**
 * The newest agent status and shelf health central has heard, for the lane view, and the shelves
 * agents report that the shelf map does not know (for onboarding). The central wiring feeds it
 * every `agents/+/status` and `+/health` message (both retained, so a restarted central learns
 * them again at once). Payloads are validated; a bad one is counted and ignored.
 */
import {
  type AgentStatusPayload,
  AgentStatusPayload as AgentStatusSchema,
  type HealthPayload,
  HealthPayload as HealthSchema,
  parseTopic,
  type ShelfMap,
} from '@shelfsense/protocol';
import type { LiveStatusSource, UnassignedShelf } from './deps.js';

/** Bound on remembered agents and shelves (agents may report shelves the map does not know yet). */
const LIMIT = 100_000;

/**
 * Bound on the shelves `unassigned()` keeps: far more than any site has waiting (each is a shelf
 * plugged in and not yet onboarded), so the API can scope before it shortens the list for people.
 */
export const UNASSIGNED_LIMIT = 10_000;

const key = (a: string, b: string) => `${a}\u0000${b}`;

/** Every (site, agent, serial) the map assigns, per map and reload; rebuilt only after a reload. */
const assignedSets = new WeakMap<ShelfMap, { reloads: number; set: ReadonlySet<string> }>();

function assignedOf(map: ShelfMap): ReadonlySet<string> {
  const hit = assignedSets.get(map);
  if (hit && hit.reloads === map.reloads) return hit.set;
  const set = new Set<string>();
  for (const { site, agent } of map.agents()) {
    for (const s of map.laneSettingsFor(site, agent).shelves) set.add(key(key(site, agent), s.serial));
  }
  assignedSets.set(map, { reloads: map.reloads, set });
  return set;
}

/** Does the map give this serial to this agent? (What the agent needs to get lane settings for it.) */
export function isAssigned(map: ShelfMap, site: string, agent: string, serial: string): boolean {
  return assignedOf(map).has(key(key(site, agent), serial));
}

export class LiveState implements LiveStatusSource {
  private readonly status = new Map<string, AgentStatusPayload>();
  private readonly health = new Map<string, HealthPayload>();
  /** Bumped on every status kept: the unassigned list is recomputed only after one. */
  private statusVersion = 0;
  private unassignedCache: {
    version: number;
    map: ShelfMap | undefined;
    reloads: number;
    list: readonly UnassignedShelf[];
  } | null = null;
  /** Messages refused because the payload failed its schema. */
  rejected = 0;

  /** `map`: the shelf map in force (it reloads in place); without one, see `unassigned()`. */
  constructor(private readonly map?: ShelfMap) {}

  agentStatus(site: string, agent: string): { state: 'online' | 'offline'; ts: number } | undefined {
    const s = this.status.get(key(site, agent));
    return s ? { state: s.state, ts: s.ts } : undefined;
  }

  shelfHealth(site: string, shelf: string): HealthPayload | undefined {
    return this.health.get(key(site, shelf));
  }

  /** Keeps the newer of the stored and the given status (a replayed retained message is older). */
  onStatus(site: string, p: AgentStatusPayload): void {
    if (put(this.status, key(site, p.agent), p)) this.statusVersion++;
  }

  /**
   * The shelves agents report (attached now; an older agent's identified serials, with no channel
   * count) that `map` does not give to that agent, by site, agent and serial, at most
   * UNASSIGNED_LIMIT. Without a map (none given here or to the constructor) every reported shelf
   * is listed, and the caller filters. Recomputed only after a status or map change.
   */
  unassigned(map: ShelfMap | undefined = this.map): UnassignedShelf[] {
    const c = this.unassignedCache;
    const reloads = map?.reloads ?? -1;
    if (c && c.version === this.statusVersion && c.map === map && c.reloads === reloads) return [...c.list];
    const out: UnassignedShelf[] = [];
    for (const s of this.status.values()) {
      const shelves = s.attached ?? s.shelves.map((serial) => ({ serial, channels: null }));
      for (const { serial, channels } of shelves) {
        if (map && isAssigned(map, s.site, s.agent, serial)) continue;
        out.push({
          site: s.site,
          agent: s.agent,
          serial,
          channels,
          agentOnline: s.state === 'online',
          seenAt: s.ts,
        });
      }
    }
    out.sort((a, b) => cmp(a.site, b.site) || cmp(a.agent, b.agent) || cmp(a.serial, b.serial));
    const list = out.slice(0, UNASSIGNED_LIMIT);
    this.unassignedCache = { version: this.statusVersion, map, reloads, list };
    return [...list];
  }

  onHealth(site: string, shelf: string, p: HealthPayload): void {
    put(this.health, key(site, shelf), p);
  }

  /**
   * Takes any MQTT message; returns true when it was a status or health message and was used.
   * The topic names the site, shelf and agent; a body naming another agent is refused.
   */
  onMessage(topic: string, payload: Uint8Array | string): boolean {
    const t = parseTopic(topic);
    if (!t || (t.kind !== 'status' && t.kind !== 'health')) return false;
    let value: unknown;
    try {
      value = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
    } catch {
      this.rejected++;
      return false;
    }
    if (t.kind === 'status') {
      const r = AgentStatusSchema.safeParse(value);
      if (!r.success || r.data.agent !== t.agent) {
        this.rejected++;
        return false;
      }
      this.onStatus(t.site, r.data);
      return true;
    }
    if (t.kind !== 'health') return false;
    const r = HealthSchema.safeParse(value);
    if (!r.success) {
      this.rejected++;
      return false;
    }
    this.onHealth(t.site, t.shelf, r.data);
    return true;
  }

  clear(): void {
    this.status.clear();
    this.health.clear();
    this.statusVersion++;
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Stores `p` unless the stored one is newer; true when stored. */
function put<T extends { ts: number }>(map: Map<string, T>, k: string, p: T): boolean {
  const prev = map.get(k);
  if (prev && prev.ts > p.ts) return false;
  if (!prev && map.size >= LIMIT) map.delete(map.keys().next().value as string);
  map.set(k, p);
  return true;
}
