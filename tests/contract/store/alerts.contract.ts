/**
 * The alerts repository: open → acknowledged → cleared (or open → cleared), at most one live alert
 * of a kind per lane — whoever opens it, on whichever connection.
 */

import type { AsyncRepository } from '@shelfsense/central/store';
import {
  type AlertsRepository,
  isReplenishmentError,
  ReplenishmentErrorCodes,
} from '@shelfsense/central/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LANE } from '../../unit/central/store/fixtures.js';
import { type Opened, type RepoFactory, T0 } from './types.js';

const operator = { user: 'op-1', role: 'operator' } as const;
const L2 = { ...LANE, lane: 'l2' };

async function code(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    return isReplenishmentError(err) ? err.code : `not a ReplenishmentError: ${String(err)}`;
  }
  return undefined;
}

export function alertsContract(make: RepoFactory<AlertsRepository>): void {
  describe('alerts repository', () => {
    let opened: Opened<AlertsRepository>;
    let repo: AsyncRepository<AlertsRepository>;

    beforeEach(async () => {
      opened = await make();
      repo = opened.repo;
    });
    afterEach(async () => {
      await opened.close();
    });

    it('opens an alert with its lane, kind, message and times', async () => {
      const { alert, created } = await repo.open(LANE, 'stock-out', 'lane l1 is empty', T0);
      expect(created).toBe(true);
      expect(alert).toEqual({
        ...LANE,
        id: expect.any(String),
        kind: 'stock-out',
        state: 'open',
        message: 'lane l1 is empty',
        openedAt: T0,
        updatedAt: T0,
        acknowledgedAt: null,
        acknowledgedBy: null,
        clearedAt: null,
      });
      expect(await repo.get(alert.id)).toEqual(alert);
      expect(await repo.live(LANE, 'stock-out')).toEqual(alert);
      expect(await repo.get('alr_none')).toBeUndefined();
      expect(await repo.live(LANE, 'offline')).toBeUndefined();
    });

    it('takes every alert kind, the observations’ too, one live of each per lane', async () => {
      const kinds = ['foreign-object', 'misplaced-item', 'tamper', 'unit-weight'] as const;
      for (const kind of kinds) expect((await repo.open(LANE, kind, `${kind} on l1`, T0)).created).toBe(true);
      expect((await repo.open(LANE, 'tamper', 'again', T0 + 1)).created).toBe(false);
      expect((await repo.clearKind(LANE, 'tamper', T0 + 2))?.state).toBe('cleared');
      expect(await repo.liveCount()).toBe(3);
    });

    it('keeps at most one live alert of a kind per lane, on every connection', async () => {
      const a = await repo.open(LANE, 'sensor-fault', 'channel 0 saturated', T0);
      const b = await repo.open(LANE, 'sensor-fault', 'channel 0 saturated again', T0 + 1);
      expect(b.created).toBe(false);
      expect(b.alert).toEqual(a.alert);
      expect((await repo.open(LANE, 'stock-out', 'empty', T0)).created).toBe(true);
      expect((await repo.open(L2, 'sensor-fault', 'next lane', T0)).created).toBe(true);
      const other = await opened.connect();
      const c = await other.open(LANE, 'sensor-fault', 'from a second process', T0 + 2);
      expect(c).toEqual({ alert: a.alert, created: false });
      expect(await repo.liveCount()).toBe(3);
    });

    it('acknowledges with the actor, stays live, clears, and opens anew when the condition returns', async () => {
      const { alert } = await repo.open(LANE, 'offline', 'shelf a offline', T0);
      const acked = await repo.acknowledge(alert.id, operator, T0 + 10);
      expect(acked).toMatchObject({
        id: alert.id,
        state: 'acknowledged',
        acknowledgedBy: 'op-1',
        acknowledgedAt: T0 + 10,
        updatedAt: T0 + 10,
      });
      // Acknowledging again is harmless and keeps the first acknowledgement.
      expect(await repo.acknowledge(alert.id, { user: 'op-2', role: 'operator' }, T0 + 11)).toEqual(acked);
      expect(await repo.liveCount()).toBe(1);
      expect(await repo.live(LANE, 'offline')).toEqual(acked);

      const cleared = await repo.clearKind(LANE, 'offline', T0 + 20);
      expect(cleared).toMatchObject({
        id: alert.id,
        state: 'cleared',
        clearedAt: T0 + 20,
        updatedAt: T0 + 20,
      });
      expect(await repo.liveCount()).toBe(0);
      expect(await repo.live(LANE, 'offline')).toBeUndefined();
      expect(await repo.clearKind(LANE, 'offline', T0 + 21)).toBeNull();
      expect(await repo.clear(alert.id, T0 + 22)).toEqual({ alert: cleared, changed: false });

      const again = await repo.open(LANE, 'offline', 'offline again', T0 + 40);
      expect(again.created).toBe(true);
      expect(again.alert.id).not.toBe(alert.id);
    });

    it('clears an open alert directly, by id', async () => {
      const { alert } = await repo.open(LANE, 'anomaly', 'weight rose with no restock', T0);
      const r = await repo.clear(alert.id, T0 + 5);
      expect(r.changed).toBe(true);
      expect(r.alert).toMatchObject({ state: 'cleared', clearedAt: T0 + 5, acknowledgedAt: null });
    });

    it('refuses illegal moves and unknown ids with codes', async () => {
      const { alert } = await repo.open(LANE, 'offline', 'x', T0);
      await repo.clear(alert.id, T0 + 1);
      expect(await code(() => repo.acknowledge(alert.id, operator, T0 + 2))).toBe(
        ReplenishmentErrorCodes.TRANSITION,
      );
      expect(await code(() => repo.acknowledge('alr_none', operator, T0))).toBe(
        ReplenishmentErrorCodes.NOT_FOUND,
      );
      expect(await code(() => repo.clear('alr_none', T0))).toBe(ReplenishmentErrorCodes.NOT_FOUND);
    });

    it('lists by lane, kind, state and opening time, oldest first, within a limit', async () => {
      const first = (await repo.open(LANE, 'offline', 'a', T0)).alert;
      await repo.clear(first.id, T0 + 1);
      const second = (await repo.open(LANE, 'offline', 'b', T0 + 2)).alert;
      const third = (await repo.open(L2, 'stock-out', 'c', T0 + 3)).alert;
      await repo.acknowledge(third.id, operator, T0 + 4);
      const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

      expect(ids(await repo.list())).toEqual([first.id, second.id, third.id]);
      expect(ids(await repo.list({ ...LANE, kind: 'offline' }))).toEqual([first.id, second.id]);
      expect(ids(await repo.list({ state: 'live' }))).toEqual([second.id, third.id]);
      expect(ids(await repo.list({ state: 'acknowledged' }))).toEqual([third.id]);
      expect(ids(await repo.list({ state: 'cleared' }))).toEqual([first.id]);
      expect(ids(await repo.list({ kind: 'stock-out' }))).toEqual([third.id]);
      expect(ids(await repo.list({ from: T0 + 1, to: T0 + 3 }))).toEqual([second.id]);
      expect(ids(await repo.list({ limit: 2 }))).toEqual([first.id, second.id]);
      expect(await repo.list({ site: 's9' })).toEqual([]);
    });
  });
}
