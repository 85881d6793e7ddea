/**
 * Lane status mapping: every status has its own text label (colour is never the only signal),
 * a live reading maps to the same status the central side would give, and order actions follow
 * the order state machine.
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
  statusLabel,
} from '../../../dashboard/web/lib/status.js';
import { lane } from './fixtures.js';

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
  const base = { units: 20, state: 'ok', agentOnline: true, health: 'ok', reorderPoint: 8, openOrder: null };

  it('ok above the reorder point', () => {
    expect(deriveStatus(base)).toBe('ok');
  });

  it('[reorder point] at or below the reorder point is below-reorder', () => {
    expect(deriveStatus({ ...base, units: 9 })).toBe('ok');
    expect(deriveStatus({ ...base, units: 8 })).toBe('below-reorder');
    expect(deriveStatus({ ...base, units: 1 })).toBe('below-reorder');
  });

  it('an order in flight shows ordered; a received or closed one does not', () => {
    for (const state of ['open', 'acknowledged', 'shipped']) {
      expect(deriveStatus({ ...base, units: 3, openOrder: { state } })).toBe('ordered');
    }
    expect(deriveStatus({ ...base, units: 3, openOrder: { state: 'received' } })).toBe('below-reorder');
    expect(deriveStatus({ ...base, units: 3, openOrder: { state: 'cancelled' } })).toBe('below-reorder');
  });

  it('an empty lane is a stock-out, even with an order on its way', () => {
    expect(deriveStatus({ ...base, units: 0 })).toBe('stock-out');
    expect(deriveStatus({ ...base, units: 0, openOrder: { state: 'shipped' } })).toBe('stock-out');
  });

  it('[no false orders] a faulty cell shows sensor-fault, not stock-out', () => {
    expect(deriveStatus({ ...base, units: 0, state: 'fault' })).toBe('sensor-fault');
    expect(deriveStatus({ ...base, health: 'saturated' })).toBe('sensor-fault');
    expect(deriveStatus({ ...base, health: 'no_data' })).toBe('sensor-fault');
    expect(deriveStatus({ ...base, health: 'disconnected' })).toBe('sensor-fault');
    expect(deriveStatus({ ...base, health: 'noisy' })).toBe('ok');
  });

  it('an offline agent hides every other status', () => {
    expect(deriveStatus({ ...base, agentOnline: false, units: 0, state: 'fault' })).toBe('offline');
    expect(deriveStatus({ ...base, state: 'offline' })).toBe('offline');
  });

  it('unknown counts or reorder points never claim below-reorder', () => {
    expect(deriveStatus({ ...base, units: null })).toBe('ok');
    expect(deriveStatus({ ...base, units: 2, reorderPoint: null })).toBe('ok');
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
