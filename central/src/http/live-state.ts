/**
 * The newest agent status and shelf health central has heard, for the lane view. The central
 * wiring feeds it every `agents/+/status` and `+/health` message (both retained, so a restarted
 * central learns them again at once). Payloads are validated; a bad one is counted and ignored.
 */
import {
  type AgentStatusPayload,
  AgentStatusPayload as AgentStatusSchema,
  type HealthPayload,
  HealthPayload as HealthSchema,
  parseTopic,
} from '@shelfsense/protocol';
import type { LiveStatusSource } from './deps.js';

/** Bound on remembered agents and shelves (agents may report shelves the map does not know yet). */
const LIMIT = 100_000;

const key = (a: string, b: string) => `${a}\u0000${b}`;

export class LiveState implements LiveStatusSource {
  private readonly status = new Map<string, AgentStatusPayload>();
  private readonly health = new Map<string, HealthPayload>();
  /** Messages refused because the payload failed its schema. */
  rejected = 0;

  agentStatus(site: string, agent: string): { state: 'online' | 'offline'; ts: number } | undefined {
    const s = this.status.get(key(site, agent));
    return s ? { state: s.state, ts: s.ts } : undefined;
  }

  shelfHealth(site: string, shelf: string): HealthPayload | undefined {
    return this.health.get(key(site, shelf));
  }

  /** Keeps the newer of the stored and the given status (a replayed retained message is older). */
  onStatus(site: string, p: AgentStatusPayload): void {
    put(this.status, key(site, p.agent), p);
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
  }
}

function put<T extends { ts: number }>(map: Map<string, T>, k: string, p: T): void {
  const prev = map.get(k);
  if (prev && prev.ts > p.ts) return;
  if (!prev && map.size >= LIMIT) map.delete(map.keys().next().value as string);
  map.set(k, p);
}
