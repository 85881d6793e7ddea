import type { Outbox } from '@shelfsense/agent';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openOutbox, segmentFiles, TOPIC, tempDir } from './helpers.js';

type Op =
  | { op: 'append'; n: number; size: number }
  | { op: 'trim'; back: number }
  | { op: 'peek'; back: number; limit: number }
  | { op: 'reopen' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('append' as const),
      n: fc.integer({ min: 1, max: 40 }),
      size: fc.integer({ min: 0, max: 600 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('trim' as const), back: fc.integer({ min: -3, max: 60 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('peek' as const),
      back: fc.integer({ min: -2, max: 80 }),
      limit: fc.integer({ min: 1, max: 30 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'reopen' as const }) },
);

describe('outbox against a model', () => {
  it('[outbox-model] any mix of appends, trims, reads, bound drops and reopens matches a plain queue', async () => {
    const BASE = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        const dir = tempDir();
        const options = { segmentBytes: 4096, maxRecords: 150 };
        let outbox: Outbox = await openOutbox(dir, options);
        const model: { seq: number; size: number }[] = [];
        let next = 1;
        let mark = 0;
        for (const o of ops) {
          if (o.op === 'append') {
            for (let i = 0; i < o.n; i++) {
              const seq = outbox.append({ topic: TOPIC, payload: { pad: 'p'.repeat(o.size), i }, ts: BASE });
              expect(seq).toBe(next);
              model.push({ seq: next++, size: o.size });
              if (model.length > options.maxRecords) mark = model.shift()!.seq;
            }
          } else if (o.op === 'trim') {
            const t = Math.max(0, next - 1 - o.back);
            outbox.trimThrough(t);
            while (model.length > 0 && model[0]!.seq <= t) model.shift();
            mark = Math.max(mark, t);
            if (t >= next) next = t + 1;
          } else if (o.op === 'peek') {
            const after = Math.max(0, next - 1 - o.back);
            const got = outbox.peek(after, o.limit);
            const want = model.filter((r) => r.seq > after).slice(0, o.limit);
            expect(got.map((r) => r.seq)).toEqual(want.map((r) => r.seq));
            expect(got.map((r) => (r.payload['pad'] as string).length)).toEqual(want.map((r) => r.size));
          } else {
            await outbox.close();
            outbox = await openOutbox(dir, options);
          }
          const s = outbox.stats();
          expect(s.queued).toBe(model.length);
          expect(s.firstSeq).toBe(model[0]?.seq ?? null);
          expect(s.lastSeq).toBe(next - 1);
          expect(s.trimmedThrough).toBe(mark);
          expect(s.segments).toBe(segmentFiles(dir).length);
        }
        expect(outbox.peek(0, 10_000).map((r) => r.seq)).toEqual(model.map((r) => r.seq));
        await outbox.close();
      }),
      { seed: 7_2024, numRuns: 60 },
    );
  });
});
