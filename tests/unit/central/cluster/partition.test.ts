/**
 * The workers' partitions must be nats-server's: a lane's readings arrive on the partition its
 * `partition()` mapping computes, and a worker's rules know only the lanes `partitionOf` gives it.
 * The vectors were read off nats-server 2.9.10 (an account import with
 * `{{partition(4,1,2,3)}}` of `shelfsense.v1.s1.a.lN.level`).
 */
import {
  parsePartitioned,
  partitionFilter,
  partitionMappings,
  partitionOf,
} from '@shelfsense/central/cluster';
import { describe, expect, it } from 'vitest';

describe('partitions of the readings', () => {
  it('hashes site, shelf and lane as nats-server does', () => {
    const got = ['l1', 'l2', 'l3', 'l4', 'l5', 'l6'].map((lane) =>
      partitionOf({ site: 's1', shelf: 'a', lane }, 4),
    );
    expect(got).toEqual([3, 2, 1, 0, 3, 2]);
  });

  it('spreads lanes over every partition, each lane always to the same one', () => {
    const seen = new Map<number, number>();
    for (let i = 0; i < 2_000; i++) {
      const p = partitionOf({ site: `store-${i % 50}`, shelf: `s${i % 7}`, lane: `L${i}` }, 16);
      expect(p).toBe(partitionOf({ site: `store-${i % 50}`, shelf: `s${i % 7}`, lane: `L${i}` }, 16));
      seen.set(p, (seen.get(p) ?? 0) + 1);
    }
    expect(seen.size).toBe(16);
    // No partition gets more than twice its share.
    for (const n of seen.values()) expect(n).toBeLessThan((2_000 / 16) * 2);
  });

  it('reads a partitioned subject back, and nothing else', () => {
    expect(parsePartitioned('shelfsense-in.3.store-1.shelf-1.L0.level')).toEqual({
      partition: 3,
      site: 'store-1',
      shelf: 'shelf-1',
      lane: 'L0',
      kind: 'level',
      topic: 'shelfsense/v1/store-1/shelf-1/L0/level',
    });
    for (const bad of [
      'shelfsense.v1.store-1.shelf-1.L0.level',
      'shelfsense-in.x.store-1.shelf-1.L0.level',
      'shelfsense-in.3.store-1.shelf-1.L0.order',
      'shelfsense-in.3.store-1.shelf-1.level',
    ])
      expect(parsePartitioned(bad), bad).toBeNull();
    expect(partitionFilter(5)).toBe('shelfsense-in.5.>');
  });

  it('maps each reading kind into the workers’ account with the partition count', () => {
    const m = partitionMappings(16);
    expect(m.exports).toHaveLength(4);
    expect(m.imports.some((i) => i.includes('.observation"'))).toBe(true);
    expect(m.imports.join('\n')).toContain('{{partition(16,1,2,3)}}');
    expect(m.imports.some((i) => i.includes('.calibration"'))).toBe(true);
  });
});
