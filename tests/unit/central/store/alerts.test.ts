import { alertEvent, isReplenishmentError, ReplenishmentErrorCodes, Store } from '@shelfsense/central/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LANE, type TempDir, tempDir } from './fixtures.js';

const T0 = 1_700_000_000_000;
const tech = { user: 'op-1', role: 'operator' };

describe('store: alerts open → acknowledged → cleared', () => {
  let tmp: TempDir;
  let store: Store;

  beforeEach(() => {
    tmp = tempDir();
    store = Store.open(tmp.file());
  });
  afterEach(() => {
    store.close();
    tmp.remove();
  });

  it('keeps one live alert of a kind per lane, enforced by the database', () => {
    const a = store.alerts.open(LANE, 'sensor-fault', 'channel 0 saturated', T0);
    expect(a.created).toBe(true);
    const b = store.alerts.open(LANE, 'sensor-fault', 'channel 0 saturated again', T0 + 1);
    expect(b.created).toBe(false);
    expect(b.alert.id).toBe(a.alert.id);
    // A different kind on the same lane is its own alert.
    expect(store.alerts.open(LANE, 'stock-out', 'empty', T0).created).toBe(true);
    // A second connection on the same file cannot open a duplicate either.
    const other = Store.open(tmp.file());
    try {
      expect(other.alerts.open(LANE, 'sensor-fault', 'x', T0 + 2).created).toBe(false);
      expect(() =>
        other.db
          .prepare(
            `INSERT INTO alerts (id, kind, site, shelf, lane, state, message, opened_at, updated_at)
             VALUES ('dup', 'sensor-fault', 's1', 'a', 'l1', 'open', 'm', 0, 0)`,
          )
          .run(),
      ).toThrow(/UNIQUE/);
    } finally {
      other.close();
    }
  });

  it('acknowledges with the actor, clears, and opens a new alert when the condition returns', () => {
    const { alert } = store.alerts.open(LANE, 'offline', 'shelf a offline', T0);
    expect(store.alerts.liveCount()).toBe(1);
    const acked = store.alerts.acknowledge(alert.id, tech, T0 + 10);
    expect(acked).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'op-1', acknowledgedAt: T0 + 10 });
    // Acknowledged is still live.
    expect(store.alerts.liveCount()).toBe(1);
    expect(alertEvent(acked)).toMatchObject({
      alertId: alert.id,
      state: 'acknowledged',
      kind: 'offline',
      ts: T0 + 10,
    });
    const cleared = store.alerts.clearKind(LANE, 'offline', T0 + 20);
    expect(cleared).toMatchObject({ state: 'cleared', clearedAt: T0 + 20 });
    expect(store.alerts.liveCount()).toBe(0);
    expect(store.alerts.clearKind(LANE, 'offline', T0 + 21)).toBeNull();
    expect(store.alerts.clear(alert.id, T0 + 22).changed).toBe(false);
    // Acknowledging a cleared alert is an illegal transition, with a code.
    try {
      store.alerts.acknowledge(alert.id, tech, T0 + 30);
      expect.unreachable();
    } catch (err) {
      expect(isReplenishmentError(err, ReplenishmentErrorCodes.TRANSITION)).toBe(true);
    }
    expect(store.alerts.open(LANE, 'offline', 'offline again', T0 + 40).created).toBe(true);
    expect(store.alerts.list({ ...LANE, kind: 'offline' }).map((a) => a.state)).toEqual(['cleared', 'open']);
    expect(store.alerts.list({ state: 'live' })).toHaveLength(1);
    expect(store.alerts.list({ from: T0 + 1 })).toHaveLength(1);
    expect(() => store.alerts.acknowledge('nope', tech, T0)).toThrow(/no alert/);
  });
});
