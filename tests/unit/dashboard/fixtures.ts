/** Lanes and readings for the dashboard's unit tests, built through the same schema the UI uses. */
import type { LevelPayload } from '@shelfsense/protocol';
import { type Lane, Lane as LaneSchema } from '../../../dashboard/web/lib/lane.js';

export const T0 = Date.UTC(2025, 10, 26, 18, 45, 0);

export function lane(over: Partial<Record<keyof Lane, unknown>> = {}): Lane {
  return LaneSchema.parse({
    site: 'store-1',
    shelf: 'shelf-a',
    lane: 'L0',
    sku: 'cola-330',
    skuName: 'Cola 0.33 l',
    supplier: 'acme',
    unitWeightG: 350,
    capacity: 24,
    units: 20,
    grams: 7000,
    fill: 20 / 24,
    state: 'ok',
    stable: true,
    confidence: 0.97,
    status: 'ok',
    reorderPoint: 8,
    orderUpTo: 24,
    ratePerDay: 12,
    daysOfCover: 1.6,
    stockoutAt: null,
    agent: 'pi-1',
    agentOnline: true,
    health: 'ok',
    updatedAt: T0,
    openOrder: null,
    ...over,
  });
}

export function level(over: Partial<LevelPayload> = {}): LevelPayload {
  return {
    agent: 'pi-1',
    serial: 'SHELF0001',
    sku: 'cola-330',
    units: 7,
    grams: 2450.3,
    fill: 7 / 24,
    stable: true,
    confidence: 0.97,
    state: 'ok',
    ts: T0 + 1000,
    seq: 42,
    frameSeq: 1000,
    ...over,
  };
}
