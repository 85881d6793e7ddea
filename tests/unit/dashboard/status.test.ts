/**
 * Lane status mapping: every status has its own text label (colour is never the only signal),
 * a live reading maps, through the shared status function, to the same status the central side
 * would give (the offline timeout included), and order actions follow the order state machine.
 */
import { describe, expect, it } from 'vitest';
import {
  countByStatus,
  deliveryLabel,
  deriveStatus,
  isLaneStatus,
  LANE_STATUSES,
  orderActions,
  STATUS_INFO,
  sortByStatus,
  statusClass,
  statusInput,
  statusLabel,
} from '../../../dashboard/web/lib/status.js';
import { lane, T0 } from './fixtures.js';

describe('status labels', () => {
  it('[status in text] every status has a distinct, non-empty label and description', () => {
    const labels = LANE_STATUSES.map(statusLabel);
    expect(new Set(labels).size).toBe(LANE_STATUSES.length);
    for (const s of LANE_STATUSES) {
      expect(STATUS_INFO[s].label.trim()).not.toBe('');
      expect(STATUS_INFO[s].description.trim()).not.toBe('');
      expect(statusClass(s)).toBe(`status-${s}`);
    }
    expect(statusLabel('below-reorder')).toBe('Below reorder point');
  });

  it('recognises only the six documented statuses', () => {
    for (const s of LANE_STATUSES) expect(isLaneStatus(s)).toBe(true);
    expect(isLaneStatus('fine')).toBe(false);
    expect(isLaneStatus(undefined)).toBe(false);
  });
});

describe('deriveStatus', () => {
  // The rules themselves are the contract's (tests/unit/protocol/lane-status.test.ts); here: the
  // lane view is read into them as central reads its own facts.
  const NOW = T0 + 60_000;
  const base = {
    units: 20,
    state: 'ok',
    agentOnline: true,
    health: 'ok',
    reorderPoint: 8,
    openOrder: null,
    updatedAt: T0,
    offlineAfterMs: 120_000,
  };

  it('reads the lane view into the shared status function', () => {
    expect(deriveStatus(base, NOW)).toBe('ok');
    expect(deriveStatus({ ...base, units: 8 }, NOW)).toBe('below-reorder');
    expect(deriveStatus({ ...base, units: 3, openOrder: { state: 'shipped' } }, NOW)).toBe('ordered');
    expect(deriveStatus({ ...base, units: 3, openOrder: { state: 'received' } }, NOW)).toBe('below-reorder');
    expect(deriveStatus({ ...base, units: 0 }, NOW)).toBe('stock-out');
    expect(deriveStatus({ ...base, health: 'saturated' }, NOW)).toBe('sensor-fault');
    expect(deriveStatus({ ...base, units: 0, state: 'fault' }, NOW)).toBe('sensor-fault');
    expect(deriveStatus({ ...base, agentOnline: false, units: 0 }, NOW)).toBe('offline');
    expect(deriveStatus({ ...base, state: 'offline' }, NOW)).toBe('offline');
  });

  it('[offline timeout] a lane silent for the offline timeout is offline, as central says', () => {
    expect(deriveStatus(base, T0 + 119_999)).toBe('ok');
    expect(deriveStatus(base, T0 + 120_000)).toBe('offline');
    expect(deriveStatus({ ...base, updatedAt: null }, NOW)).toBe('offline');
    // A central that does not send its timeout: no timeout here.
    expect(deriveStatus({ ...base, offlineAfterMs: null }, T0 + 86_400_000)).toBe('ok');
  });

  it('values this dashboard does not know read as unknown', () => {
    expect(
      statusInput({ ...base, state: 'new-state', health: 'odd', openOrder: { state: 'x' } }, NOW),
    ).toEqual(expect.objectContaining({ state: null, health: null, orderState: null, condition: null }));
    expect(deriveStatus({ ...base, state: 'new-state', health: 'odd' }, NOW)).toBe('ok');
  });
});

describe('lists', () => {
  it('sorts worst first, then by site, shelf and lane, without mutating', () => {
    const input = [
      lane({ lane: 'L2', status: 'ok' }),
      lane({ lane: 'L1', status: 'stock-out' }),
      lane({ lane: 'L0', status: 'ok' }),
      lane({ lane: 'L3', status: 'offline' }),
    ];
    const copy = [...input];
    expect(sortByStatus(input).map((l) => l.lane)).toEqual(['L3', 'L1', 'L0', 'L2']);
    expect(input).toEqual(copy);
  });

  it('counts every status, zero when absent', () => {
    const c = countByStatus([lane({ status: 'ok' }), lane({ status: 'ok' }), lane({ status: 'ordered' })]);
    expect(c).toEqual({
      ok: 2,
      ordered: 1,
      'below-reorder': 0,
      'stock-out': 0,
      'sensor-fault': 0,
      offline: 0,
    });
  });
});

describe('orders', () => {
  it('[order lifecycle] suppliers acknowledge open orders and ship acknowledged ones', () => {
    expect(orderActions('supplier', 'open')).toEqual(['acknowledge']);
    expect(orderActions('supplier', 'acknowledged')).toEqual(['ship']);
    expect(orderActions('supplier', 'shipped')).toEqual([]);
    expect(orderActions('supplier', 'received')).toEqual([]);
  });

  it('operators may cancel until shipped; technicians take no order action', () => {
    expect(orderActions('operator', 'open')).toEqual(['cancel']);
    expect(orderActions('operator', 'acknowledged')).toEqual(['cancel']);
    expect(orderActions('operator', 'shipped')).toEqual([]);
    expect(orderActions('technician', 'open')).toEqual([]);
    expect(orderActions('admin', 'open')).toEqual(['acknowledge', 'cancel']);
  });

  it('describes the webhook delivery in words', () => {
    expect(deliveryLabel(null)).toBe('Not sent');
    expect(deliveryLabel({ state: 'delivered', attempts: 1 })).toBe('Delivered (1 attempt)');
    expect(deliveryLabel({ state: 'pending', attempts: 0 })).toBe('Sending');
    expect(deliveryLabel({ state: 'pending', attempts: 3 })).toBe('Retrying (3 attempts)');
    expect(deliveryLabel({ state: 'dead', attempts: 12 })).toBe('Failed (12 attempts)');
  });
});
