/**
 * Live updates: turns one MQTT message into an action (checked against the shared payload
 * schemas), and applies level and agent-status actions to the lane list without mutating it.
 * Order and alert messages only ask for a refresh: the API holds the truth about those. A lane
 * that stops reporting goes offline after central's offline timeout (`expireLanes`, on a timer).
 * `now` is the browser clock, compared with the readings' timestamps as central compares its own.
 */

import type { AnySchema } from '@shelfsense/protocol';
import {
  AgentStatusPayload,
  CATALOGUE_TOPIC,
  CatalogueAnnouncement,
  HealthPayload,
  isOffline,
  LaneSettingsPayload,
  LevelPayload,
  type LevelPayload as LevelPayloadT,
  parseTopic,
  parseWith,
  StreamPayload,
} from '@shelfsense/protocol';
import type { z } from 'zod';
import { type LaneRef, laneKey } from './format.js';
import type { Lane } from './lane.js';
import { deriveStatus, statusInput } from './status.js';

export type LiveAction =
  | { type: 'level'; ref: LaneRef; level: LevelPayloadT }
  | { type: 'agent-status'; site: string; agent: string; online: boolean; ts: number }
  | { type: 'health'; site: string; shelf: string; health: HealthPayload }
  | { type: 'stream'; site: string; agent: string; stream: StreamPayload }
  | { type: 'lane-settings'; site: string; agent: string; settings: LaneSettingsPayload }
  | { type: 'refresh'; reason: 'order' | 'alert' | 'observation' | 'calibration' | 'catalogue' }
  | { type: 'invalid'; topic: string; error: string }
  | { type: 'ignore'; topic: string };

const decoder = new TextDecoder();

function decode<S extends AnySchema>(schema: S, payload: Uint8Array | string, what: string): z.output<S> {
  const text = typeof payload === 'string' ? payload : decoder.decode(payload);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`invalid ${what}: (root): not JSON`);
  }
  return parseWith(schema, value, what);
}

/** Never throws: a message that does not parse becomes an `invalid` action naming the field. */
export function classifyMessage(topic: string, payload: Uint8Array | string): LiveAction {
  // Empty retained payloads clear a topic; nothing to show.
  if (payload.length === 0) return { type: 'ignore', topic };
  if (topic === CATALOGUE_TOPIC) {
    try {
      decode(CatalogueAnnouncement, payload, 'catalogue announcement');
      return { type: 'refresh', reason: 'catalogue' };
    } catch (err) {
      return { type: 'invalid', topic, error: (err as Error).message };
    }
  }
  const t = parseTopic(topic);
  if (!t) return { type: 'ignore', topic };
  try {
    switch (t.kind) {
      case 'level':
        return {
          type: 'level',
          ref: { site: t.site, shelf: t.shelf, lane: t.lane },
          level: decode(LevelPayload, payload, 'level payload'),
        };
      case 'status': {
        const s = decode(AgentStatusPayload, payload, 'agent status');
        return { type: 'agent-status', site: t.site, agent: t.agent, online: s.state === 'online', ts: s.ts };
      }
      case 'health':
        return {
          type: 'health',
          site: t.site,
          shelf: t.shelf,
          health: decode(HealthPayload, payload, 'health payload'),
        };
      case 'stream':
        return {
          type: 'stream',
          site: t.site,
          agent: t.agent,
          stream: decode(StreamPayload, payload, 'stream payload'),
        };
      case 'lanes':
        return {
          type: 'lane-settings',
          site: t.site,
          agent: t.agent,
          settings: decode(LaneSettingsPayload, payload, 'lane settings'),
        };
      case 'order':
      case 'alert':
      case 'observation':
      case 'calibration':
        return { type: 'refresh', reason: t.kind };
      default:
        return { type: 'ignore', topic };
    }
  } catch (err) {
    return { type: 'invalid', topic, error: (err as Error).message };
  }
}

/**
 * Applies a level reading to its lane. A reading older than what the lane already shows (a
 * retained message arriving after a fresher API answer) is ignored. Returns the same array when
 * nothing changed, so the UI can skip a render.
 */
export function applyLevel(
  lanes: readonly Lane[],
  ref: LaneRef,
  level: LevelPayloadT,
  now: number = Date.now(),
): readonly Lane[] {
  const key = laneKey(ref);
  const i = lanes.findIndex((l) => laneKey(l) === key);
  const old = i < 0 ? undefined : lanes[i];
  if (!old) return lanes;
  if (old.updatedAt !== null && level.ts < old.updatedAt) return lanes;
  const next = {
    ...old,
    units: level.units,
    grams: level.grams,
    fill: level.fill ?? (old.capacity ? level.units / old.capacity : old.fill),
    state: level.state,
    stable: level.stable,
    confidence: level.confidence,
    updatedAt: level.ts,
    sku: level.sku ?? old.sku,
  };
  // A live reading proves the agent is online, whatever the last status message said.
  next.agentOnline = level.state === 'offline' ? old.agentOnline : true;
  next.status = deriveStatus(next, now);
  const out = lanes.slice();
  out[i] = next;
  return out;
}

/** Marks every lane served by an agent online or offline and recomputes their status. */
export function applyAgentStatus(
  lanes: readonly Lane[],
  site: string,
  agent: string,
  online: boolean,
  now: number = Date.now(),
): readonly Lane[] {
  let changed = false;
  const out = lanes.map((l) => {
    if (l.site !== site || l.agent !== agent || l.agentOnline === online) return l;
    changed = true;
    const next = { ...l, agentOnline: online };
    next.status = deriveStatus(next, now);
    return next;
  });
  return changed ? out : lanes;
}

/** Applies one action to the lane list; actions that do not touch lanes return it unchanged. */
export function reduceLanes(
  lanes: readonly Lane[],
  action: LiveAction,
  now: number = Date.now(),
): readonly Lane[] {
  switch (action.type) {
    case 'level':
      return applyLevel(lanes, action.ref, action.level, now);
    case 'agent-status':
      return applyAgentStatus(lanes, action.site, action.agent, action.online, now);
    default:
      return lanes;
  }
}

/**
 * A fresh lane list from the API, keeping any lane reading that live messages made newer than
 * the API's answer (a level can arrive while the request is in flight).
 */
export function mergeLanes(
  fresh: readonly Lane[],
  prev: readonly Lane[] | null,
  now: number = Date.now(),
): readonly Lane[] {
  if (!prev || prev.length === 0) return fresh;
  const byKey = new Map(prev.map((l) => [laneKey(l), l]));
  return fresh.map((l) => {
    const p = byKey.get(laneKey(l));
    if (!p || p.updatedAt === null || (l.updatedAt !== null && l.updatedAt >= p.updatedAt)) return l;
    const next = {
      ...l,
      units: p.units,
      grams: p.grams,
      fill: p.fill,
      state: p.state,
      stable: p.stable,
      confidence: p.confidence,
      updatedAt: p.updatedAt,
    };
    next.status = deriveStatus(next, now);
    return next;
  });
}

/**
 * Turns offline every lane that has been silent for central's offline timeout by `now` (or is
 * offline by any other rule of the shared status). Only ever moves a lane to offline: a status
 * the API gave from what only central knows (the rules' view) is not recomputed. Returns the same
 * array when nothing changed.
 */
export function expireLanes(lanes: readonly Lane[], now: number = Date.now()): readonly Lane[] {
  let changed = false;
  const out = lanes.map((l) => {
    if (l.status === 'offline' || !isOffline(statusInput(l, now))) return l;
    changed = true;
    return { ...l, status: 'offline' as const };
  });
  return changed ? out : lanes;
}
