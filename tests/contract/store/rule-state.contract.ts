/**
 * The rule state repository: one serialised document per lane, stored and returned as the same
 * text (the rules own its shape), written in batches.
 */
import type { AsyncRepository, RuleStateRepository } from '@shelfsense/central/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LANE } from '../../unit/central/store/fixtures.js';
import { type Opened, type RepoFactory, T0 } from './types.js';

const L2 = { ...LANE, lane: 'l2' };
const ELSEWHERE = { ...LANE, site: 's2' };

export function ruleStateContract(make: RepoFactory<RuleStateRepository>): void {
  describe('rule state repository', () => {
    let opened: Opened<RuleStateRepository>;
    let repo: AsyncRepository<RuleStateRepository>;

    beforeEach(async () => {
      opened = await make();
      repo = opened.repo;
    });
    afterEach(async () => {
      await opened.close();
    });

    it('returns nothing for a lane never written', async () => {
      expect(await repo.load(LANE)).toBeUndefined();
    });

    it('stores each lane of a batch and returns the same text', async () => {
      const text = JSON.stringify({ debounce: { since: T0 }, rate: 0.25, note: 'ünïcode ✓' });
      await repo.saveAll(
        [
          { ref: LANE, state: text },
          { ref: L2, state: '{}' },
        ],
        T0,
      );
      expect(await repo.load(LANE)).toBe(text);
      expect(await repo.load(L2)).toBe('{}');
      // Lanes are told apart by site too.
      expect(await repo.load(ELSEWHERE)).toBeUndefined();
    });

    it('a later write replaces the lane, leaving the others', async () => {
      await repo.saveAll(
        [
          { ref: LANE, state: '{"v":1}' },
          { ref: L2, state: '{"v":1}' },
        ],
        T0,
      );
      await repo.saveAll([{ ref: LANE, state: '{"v":2}' }], T0 + 1);
      expect(await repo.load(LANE)).toBe('{"v":2}');
      expect(await repo.load(L2)).toBe('{"v":1}');
      await repo.saveAll([], T0 + 2);
      expect(await repo.load(LANE)).toBe('{"v":2}');
    });

    it('takes any iterable, and another connection reads what was written', async () => {
      const rows = new Map([
        ['a', { ref: LANE, state: '{"a":1}' }],
        ['b', { ref: ELSEWHERE, state: '{"b":1}' }],
      ]);
      await repo.saveAll(rows.values(), T0);
      const other = await opened.connect();
      expect(await other.load(LANE)).toBe('{"a":1}');
      expect(await other.load(ELSEWHERE)).toBe('{"b":1}');
    });
  });
}
