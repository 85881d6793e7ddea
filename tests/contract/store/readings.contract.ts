/**
 * The readings repository: every record committed once per (site, agent, seq), the stored
 * high-water mark per (site, agent), and the holes the mark stepped over.
 */
import type { AsyncRepository, CommitResult, ReadingsRepository } from '@shelfsense/central/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventReading, LANE, levelReading } from '../../unit/central/store/fixtures.js';
import { type Opened, type RepoFactory, T0 } from './types.js';

const GAP_MS = 1_000;

const markOf = (r: CommitResult, agent: string, site = LANE.site) =>
  r.marks.find((m) => m.agent === agent && m.site === site)?.mark;

export function readingsContract(make: RepoFactory<ReadingsRepository>): void {
  describe('readings repository', () => {
    let opened: Opened<ReadingsRepository>;
    let repo: AsyncRepository<ReadingsRepository>;

    beforeEach(async () => {
      opened = await make({ gapTimeoutMs: GAP_MS });
      repo = opened.repo;
    });
    afterEach(async () => {
      await opened.close();
    });

    it('[nothing lost] drops duplicates by (site, agent, seq), within a batch and across batches', async () => {
      const first = await repo.commit(
        [levelReading(1, 10, T0), levelReading(2, 9, T0 + 1), levelReading(2, 9, T0 + 1)],
        T0,
      );
      expect(first.accepted.map((r) => r.payload.seq)).toEqual([1, 2]);
      expect(first.duplicates).toBe(1);
      expect(first.late).toBe(0);

      const again = await repo.commit([levelReading(1, 10, T0), levelReading(2, 9, T0 + 1)], T0 + 5);
      expect(again.accepted).toEqual([]);
      expect(again.duplicates).toBe(2);

      // Another agent's seq 1 is another record, and so is seq 1 of a same-named agent at another site.
      const other = await repo.commit([levelReading(1, 3, T0, { agent: 'pi-2' })], T0);
      expect(other.accepted).toHaveLength(1);
      const elsewhere = await repo.commit([levelReading(1, 3, T0, {}, { ...LANE, site: 's2' })], T0);
      expect(elsewhere.accepted).toHaveLength(1);
      expect(elsewhere.marks).toEqual([expect.objectContaining({ site: 's2', agent: 'pi-1', mark: 1 })]);
      expect(await repo.mark('s1', 'pi-1')).toBe(2);
      expect(await repo.mark('s2', 'pi-1')).toBe(1);
    });

    it('returns the accepted records in input order, whatever their kind', async () => {
      const batch = [
        levelReading(2, 9, T0 + 1),
        eventReading(1, 'pick', -1, 9, T0),
        levelReading(3, 8, T0 + 2),
      ];
      const r = await repo.commit(batch, T0);
      expect(r.accepted).toEqual(batch);
      expect(markOf(r, 'pi-1')).toBe(3);
    });

    it('[nothing lost] the mark is the highest contiguous committed seq', async () => {
      const r = await repo.commit(
        [
          levelReading(1, 10, T0),
          levelReading(2, 9, T0 + 1),
          levelReading(3, 8, T0 + 2),
          levelReading(5, 6, T0 + 4),
        ],
        T0,
      );
      expect(markOf(r, 'pi-1')).toBe(3);
      expect(await repo.mark('s1', 'pi-1')).toBe(3);
      const r2 = await repo.commit(
        [eventReading(4, 'pick', -1, 7, T0 + 3), levelReading(6, 6, T0 + 5)],
        T0 + 10,
      );
      expect(markOf(r2, 'pi-1')).toBe(6);
      expect(await repo.marks()).toEqual([
        expect.objectContaining({ site: 's1', agent: 'pi-1', mark: 6, highest: 6, gapSince: null }),
      ]);
      expect(await repo.mark('s1', 'unknown-agent')).toBe(0);
    });

    it('lists every mark by site, then agent', async () => {
      await repo.commit([levelReading(1, 1, T0, { agent: 'pi-2' })], T0);
      await repo.commit([levelReading(1, 1, T0, {}, { ...LANE, site: 's0' })], T0);
      await repo.commit([levelReading(1, 1, T0), levelReading(2, 1, T0 + 1)], T0);
      expect((await repo.marks()).map((m) => [m.site, m.agent, m.mark])).toEqual([
        ['s0', 'pi-1', 1],
        ['s1', 'pi-1', 2],
        ['s1', 'pi-2', 1],
      ]);
    });

    it('[nothing lost] a resent record at or below the mark stays a duplicate after raw readings are pruned', async () => {
      await repo.commit([levelReading(1, 10, T0), levelReading(2, 9, T0 + 1)], T0);
      expect(await repo.prune(T0)).toBe(0);
      expect(await repo.prune(T0 + 1)).toBe(2);
      const r = await repo.commit([levelReading(2, 9, T0 + 1), levelReading(3, 8, T0 + 2)], T0 + 2);
      expect(r.accepted.map((x) => x.payload.seq)).toEqual([3]);
      expect(r.duplicates).toBe(1);
      expect(markOf(r, 'pi-1')).toBe(3);
    });

    it('[nothing lost] a hole is stepped over after the gap timeout while the agent keeps sending, recorded, and a late arrival is accepted once', async () => {
      await repo.commit([levelReading(1, 10, T0), levelReading(3, 8, T0 + 2)], T0);
      expect(await repo.mark('s1', 'pi-1')).toBe(1);
      await repo.commit([levelReading(4, 8, T0 + 3)], T0 + GAP_MS / 2);
      expect(await repo.mark('s1', 'pi-1')).toBe(1);
      const r = await repo.commit([levelReading(5, 8, T0 + 4)], T0 + GAP_MS);
      expect(markOf(r, 'pi-1')).toBe(5);
      expect(await repo.gaps('s1', 'pi-1')).toEqual([
        { site: 's1', agent: 'pi-1', first: 2, last: 2, skippedAt: T0 + GAP_MS, late: 0 },
      ]);
      expect(await repo.gaps('s2', 'pi-1')).toEqual([]);

      const late = await repo.commit([levelReading(2, 9, T0 + 1)], T0 + 2 * GAP_MS);
      expect(late.accepted).toHaveLength(1);
      expect(late.late).toBe(1);
      expect((await repo.gaps('s1', 'pi-1'))[0]?.late).toBe(1);
      expect((await repo.commit([levelReading(2, 9, T0 + 1)], T0 + 2 * GAP_MS + 1)).duplicates).toBe(1);
    });

    it('[nothing lost] a hole is not given up while the agent is silent: its clock restarts when it comes back', async () => {
      await repo.commit([levelReading(1, 10, T0), levelReading(3, 8, T0 + 2)], T0);
      await repo.commit([levelReading(4, 8, T0 + 3)], T0 + 60 * GAP_MS);
      expect(await repo.mark('s1', 'pi-1')).toBe(1);
      await repo.commit([levelReading(2, 9, T0 + 1)], T0 + 60 * GAP_MS + 10);
      expect(await repo.mark('s1', 'pi-1')).toBe(4);
      expect(await repo.gaps('s1', 'pi-1')).toEqual([]);
    });

    it('[nothing lost] another connection sees the committed marks and drops the same records', async () => {
      await repo.commit(
        [levelReading(1, 10, T0), levelReading(2, 9, T0 + 1), levelReading(4, 7, T0 + 3)],
        T0,
      );
      const other = await opened.connect();
      expect(await other.mark('s1', 'pi-1')).toBe(2);
      expect((await other.commit([levelReading(2, 9, T0 + 1)], T0 + 1)).duplicates).toBe(1);
      expect(markOf(await other.commit([levelReading(3, 8, T0 + 2)], T0 + 1), 'pi-1')).toBe(4);
    });
  });
}
