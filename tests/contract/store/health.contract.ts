/**
 * The health repository: shelf health reports kept whole, one per (site, shelf, report time),
 * queried by site, shelf and [from, to) range within a row limit, pruned by age.
 */
import type { AsyncRepository, HealthRecord, HealthRepository } from '@shelfsense/central/store';
import type { HealthPayload } from '@shelfsense/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Opened, type RepoFactory, T0 } from './types.js';

function report(site: string, shelf: string, ts: number, over: Partial<HealthPayload> = {}): HealthRecord {
  return {
    site,
    shelf,
    payload: {
      agent: `pi-${site}`,
      serial: `SN-${shelf}`,
      status: 'noisy',
      channels: [
        { channel: 0, status: 'ok', noiseG: 0.25, driftG: 0.5 },
        { channel: 1, status: 'noisy', noiseG: 4.5, driftG: -1.25 },
      ],
      rejects: { checksum: 3, seq_lost: 1 },
      ts,
      ...over,
    },
  };
}

export function healthContract(make: RepoFactory<HealthRepository>): void {
  describe('health repository', () => {
    let opened: Opened<HealthRepository>;
    let repo: AsyncRepository<HealthRepository>;

    beforeEach(async () => {
      opened = await make();
      repo = opened.repo;
    });
    afterEach(async () => {
      await opened.close();
    });

    it('puts reports and returns them whole, ordered by time, site, shelf', async () => {
      const a = report('s1', 'b', T0 + 1_000);
      const b = report('s1', 'a', T0 + 1_000, { status: 'ok', rejects: {} });
      const c = report('s0', 'a', T0);
      expect(await repo.put([a, b, c])).toBe(3);
      expect(await repo.query()).toEqual([c, b, a]);
      expect(await repo.put([])).toBe(0);
    });

    it('keeps one report per (site, shelf, time): the same report again replaces it', async () => {
      await repo.put([report('s1', 'a', T0)]);
      const again = report('s1', 'a', T0, { status: 'drifting' });
      expect(await repo.put([again])).toBe(1);
      expect(await repo.query()).toEqual([again]);
      // The same time on another shelf or site is another report.
      await repo.put([report('s1', 'b', T0), report('s2', 'a', T0)]);
      expect(await repo.query()).toHaveLength(3);
    });

    it('queries by site, shelf and [from, to), within a limit', async () => {
      await repo.put([
        report('s1', 'a', T0),
        report('s1', 'a', T0 + 1_000),
        report('s1', 'b', T0 + 2_000),
        report('s2', 'a', T0 + 3_000),
      ]);
      const at = (rows: HealthRecord[]) => rows.map((r) => [r.site, r.shelf, r.payload.ts - T0]);
      expect(at(await repo.query({ site: 's1' }))).toEqual([
        ['s1', 'a', 0],
        ['s1', 'a', 1_000],
        ['s1', 'b', 2_000],
      ]);
      expect(at(await repo.query({ site: 's1', shelf: 'b' }))).toEqual([['s1', 'b', 2_000]]);
      expect(at(await repo.query({ shelf: 'a' }))).toEqual([
        ['s1', 'a', 0],
        ['s1', 'a', 1_000],
        ['s2', 'a', 3_000],
      ]);
      expect(at(await repo.query({ from: T0 + 1_000, to: T0 + 3_000 }))).toEqual([
        ['s1', 'a', 1_000],
        ['s1', 'b', 2_000],
      ]);
      expect(at(await repo.query({ limit: 2 }))).toEqual([
        ['s1', 'a', 0],
        ['s1', 'a', 1_000],
      ]);
      expect(await repo.query({ site: 's9' })).toEqual([]);
    });

    it('prunes reports older than a horizon', async () => {
      await repo.put([report('s1', 'a', T0), report('s1', 'a', T0 + 1), report('s1', 'b', T0 + 2)]);
      expect(await repo.prune(T0)).toBe(0);
      expect(await repo.prune(T0 + 2)).toBe(2);
      expect((await repo.query()).map((r) => r.payload.ts)).toEqual([T0 + 2]);
    });

    it('another connection sees the reports', async () => {
      const r = report('s1', 'a', T0);
      await repo.put([r]);
      const other = await opened.connect();
      expect(await other.query({ site: 's1' })).toEqual([r]);
    });
  });
}
