/** Builders and temp files shared by the replenishment-core tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadingInput } from '@shelfsense/central/store';
import type { EventPayload, LevelPayload } from '@shelfsense/protocol';

export const LANE = { site: 's1', shelf: 'a', lane: 'l1' } as const;

export interface TempDir {
  dir: string;
  file(name?: string): string;
  remove(): void;
}

export function tempDir(prefix = 'shelfsense-store-'): TempDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file: (name = 'central.db') => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function level(
  seq: number,
  units: number,
  ts: number,
  over: Partial<LevelPayload> = {},
): LevelPayload {
  return {
    agent: 'pi-1',
    serial: 'SN0001',
    sku: 'cola-330',
    units,
    grams: units * 350,
    fill: units / 24,
    stable: true,
    confidence: 0.95,
    state: 'ok',
    ts,
    seq,
    frameSeq: seq,
    ...over,
  };
}

export function event(
  seq: number,
  kind: EventPayload['kind'],
  delta: number,
  units: number,
  ts: number,
  over: Partial<EventPayload> = {},
): EventPayload {
  return {
    agent: 'pi-1',
    serial: 'SN0001',
    sku: 'cola-330',
    kind,
    delta,
    units,
    ts,
    seq,
    frameSeq: seq,
    ...over,
  };
}

export function levelReading(
  seq: number,
  units: number,
  ts: number,
  over: Partial<LevelPayload> = {},
  ref: { site: string; shelf: string; lane: string } = LANE,
): ReadingInput {
  return { ...ref, kind: 'level', payload: level(seq, units, ts, over) };
}

export function eventReading(
  seq: number,
  kind: EventPayload['kind'],
  delta: number,
  units: number,
  ts: number,
  ref: { site: string; shelf: string; lane: string } = LANE,
  over: Partial<EventPayload> = {},
): ReadingInput {
  return { ...ref, kind: 'event', payload: event(seq, kind, delta, units, ts, over) };
}
