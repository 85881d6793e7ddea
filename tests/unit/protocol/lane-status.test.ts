/**
 * The lane status mapping (docs/http-api.md "Lanes"), the one function central's API and the
 * dashboard share: offline, sensor-fault, stock-out, ordered, below-reorder, ok — worst first.
 */
import {
  HealthStatuses,
  isLaneStatusName,
  isOffline,
  LANE_STATUSES,
  LaneStates,
  type LaneStatusInput,
  laneStatus,
  OrderStates,
} from '@shelfsense/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const NOW = 1_760_000_000_000;
const base: LaneStatusInput = {
  now: NOW,
  offlineAfterMs: 120_000,
  agentOnline: true,
  levelTs: NOW - 1_000,
  state: 'ok',
  condition: 'ok',
  health: 'ok',
  units: 10,
  orderState: null,
  reorderPoint: 4,
};
const st = (over: Partial<LaneStatusInput>) => laneStatus({ ...base, ...over });

describe('lane status', () => {
  it('ok above the reorder point; below-reorder at or below it', () => {
    expect(st({})).toBe('ok');
    expect(st({ units: 5 })).toBe('ok');
    expect(st({ units: 4 })).toBe('below-reorder');
    expect(st({ units: 1 })).toBe('below-reorder');
    // No policy: never below the reorder point.
    expect(st({ units: 1, reorderPoint: null })).toBe('ok');
    expect(st({ units: 2, reorderPoint: null })).toBe('ok');
  });

  it('ordered while an order is open, acknowledged or shipped; not once it is received or final', () => {
    for (const s of ['open', 'acknowledged', 'shipped'] as const)
      expect(st({ units: 3, orderState: s })).toBe('ordered');
    expect(st({ units: 3, orderState: 'received' })).toBe('below-reorder');
    expect(st({ units: 10, orderState: 'received' })).toBe('ok');
    expect(st({ units: 3, orderState: 'cancelled' })).toBe('below-reorder');
  });

  it('stock-out at zero units, even with an order on its way', () => {
    expect(st({ units: 0 })).toBe('stock-out');
    expect(st({ units: 0, orderState: 'shipped' })).toBe('stock-out');
  });

  it('sensor-fault from the lane state, the rules’ condition, or a saturated, disconnected or silent cell', () => {
    expect(st({ state: 'fault' })).toBe('sensor-fault');
    expect(st({ condition: 'fault' })).toBe('sensor-fault');
    for (const h of ['saturated', 'disconnected', 'no_data'] as const)
      expect(st({ health: h, units: 0 })).toBe('sensor-fault');
    for (const h of ['noisy', 'drifting'] as const) expect(st({ health: h })).toBe('ok');
  });

  it('offline: the agent’s last will, no level ever, no level for the offline timeout, or reported offline', () => {
    expect(st({ agentOnline: false })).toBe('offline');
    expect(st({ levelTs: null, units: null })).toBe('offline');
    expect(st({ levelTs: NOW - 120_000 })).toBe('offline');
    expect(st({ levelTs: NOW - 119_999 })).toBe('ok');
    expect(st({ state: 'offline' })).toBe('offline');
    expect(st({ condition: 'offline' })).toBe('offline');
    // Unknown agent status alone is not offline.
    expect(st({ agentOnline: null })).toBe('ok');
  });

  it('an offline lane hides every other status; isOffline says the same', () => {
    expect(st({ agentOnline: false, units: 0, state: 'fault' })).toBe('offline');
    expect(st({ levelTs: NOW - 200_000, units: 0, orderState: 'shipped' })).toBe('offline');
    expect(isOffline({ ...base, levelTs: NOW - 120_000 })).toBe(true);
    expect(isOffline(base)).toBe(false);
  });

  it('no timeout: an infinite offline timeout never expires a reading', () => {
    expect(st({ offlineAfterMs: Number.POSITIVE_INFINITY, levelTs: 0 })).toBe('ok');
  });

  it('recognises only the six documented statuses', () => {
    for (const s of LANE_STATUSES) expect(isLaneStatusName(s)).toBe(true);
    expect(isLaneStatusName('fine')).toBe(false);
    expect(isLaneStatusName(undefined)).toBe(false);
  });

  it('unknowns read as unknown, not as a colour: no units means neither stock-out nor below-reorder', () => {
    expect(st({ units: null })).toBe('ok');
    expect(st({ health: null, condition: null, state: null })).toBe('ok');
  });

  it('precedence holds for every combination: offline > sensor-fault > stock-out > ordered > below-reorder > ok', () => {
    const input = fc.record({
      now: fc.constant(NOW),
      offlineAfterMs: fc.constant(120_000),
      agentOnline: fc.constantFrom(true, false, null),
      levelTs: fc.option(fc.integer({ min: NOW - 300_000, max: NOW }), { nil: null }),
      state: fc.option(fc.constantFrom(...LaneStates), { nil: null }),
      condition: fc.option(fc.constantFrom(...LaneStates), { nil: null }),
      health: fc.option(fc.constantFrom(...HealthStatuses), { nil: null }),
      units: fc.option(fc.integer({ min: 0, max: 30 }), { nil: null }),
      orderState: fc.option(fc.constantFrom(...OrderStates), { nil: null }),
      reorderPoint: fc.option(fc.integer({ min: 0, max: 10 }), { nil: null }),
    });
    fc.assert(
      fc.property(input, (i) => {
        const s = laneStatus(i);
        expect(LANE_STATUSES).toContain(s);
        const offline =
          i.agentOnline === false ||
          i.levelTs === null ||
          i.now - i.levelTs >= i.offlineAfterMs ||
          i.state === 'offline' ||
          i.condition === 'offline';
        if (offline) return s === 'offline';
        const fault =
          i.state === 'fault' ||
          i.condition === 'fault' ||
          i.health === 'saturated' ||
          i.health === 'disconnected' ||
          i.health === 'no_data';
        if (fault) return s === 'sensor-fault';
        if (i.units === 0) return s === 'stock-out';
        if (i.orderState === 'open' || i.orderState === 'acknowledged' || i.orderState === 'shipped')
          return s === 'ordered';
        if (i.units !== null && i.reorderPoint !== null && i.units <= i.reorderPoint)
          return s === 'below-reorder';
        return s === 'ok';
      }),
      { seed: 4242, numRuns: 2_000 },
    );
  });
});
