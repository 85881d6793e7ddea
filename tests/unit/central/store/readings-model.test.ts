/**
 * The stored mark against a model: whatever order, duplication and batching records arrive in,
 * the mark is the highest seq up to which every seq is committed, each record is accepted once,
 * and a reopened store agrees with the one that wrote it. (Holes never outlive the gap timeout
 * here, so the mark never steps over one.)
 */
import { Store } from '@shelfsense/central/store';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LANE, levelReading, tempDir } from './fixtures.js';

const T0 = 1_700_000_000_000;

describe('store: the stored mark against a model', () => {
  it('[nothing lost] any arrival order, duplicates and batching: mark = highest contiguous seq, each accepted once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 15 }), { maxLength: 12 }),
        fc.array(fc.constantFrom('pi-1', 'pi-2'), { minLength: 1, maxLength: 1 }),
        (batches, [agent]) => {
          const tmp = tempDir();
          const file = tmp.file();
          let store = Store.open({ file, gapTimeoutMs: 1e12 });
          try {
            const seen = new Set<number>();
            let accepted = 0;
            batches.forEach((seqs, b) => {
              const r = store.readings.commit(
                seqs.map((s) => levelReading(s, 5, T0 + s, { agent })),
                T0 + b,
              );
              accepted += r.accepted.length;
              for (const s of seqs) seen.add(s);
              let mark = 0;
              while (seen.has(mark + 1)) mark++;
              expect(store.readings.mark(LANE.site, agent as string)).toBe(mark);
              if (r.marks.length) expect(r.marks.find((m) => m.agent === agent)?.mark).toBe(mark);
              // Halfway, a restart: the reopened store goes on from what is on disk.
              if (b === Math.floor(batches.length / 2)) {
                store.close();
                store = Store.open({ file, gapTimeoutMs: 1e12 });
              }
            });
            expect(accepted).toBe(seen.size);
          } finally {
            store.close();
            tmp.remove();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
