/**
 * The writer's bounded buffer: first in, first out; past its bound the oldest go (and are counted);
 * a failed batch goes back to the head. A property test checks it against a plain array model.
 */
import { BoundedQueue } from '@shelfsense/central/history';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('BoundedQueue', () => {
  it('[HIST-BOUND] pushing past the bound drops the oldest and says how many', () => {
    const q = new BoundedQueue<number>(3);
    expect(q.push([1, 2])).toBe(0);
    expect(q.push([3, 4, 5])).toBe(2);
    expect(q.take(10)).toEqual([3, 4, 5]);
    expect(q.size).toBe(0);
  });

  it('[HIST-BOUND] a batch put back is the oldest again, and the bound then drops from it', () => {
    const q = new BoundedQueue<number>(4);
    q.push([1, 2, 3]);
    const batch = q.take(2);
    q.push([4, 5, 6]);
    expect(q.unshift(batch)).toBe(2);
    expect(q.drain()).toEqual([3, 4, 5, 6]);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new BoundedQueue(0)).toThrow(RangeError);
    expect(() => new BoundedQueue(1.5)).toThrow(RangeError);
  });

  it('[HIST-BOUND] property: any sequence of push / take / put-back matches an array that drops its oldest', () => {
    const op = fc.oneof(
      fc.record({ push: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ take: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ putBack: fc.constant(true) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.array(op, { maxLength: 200 }), (limit, ops) => {
        const q = new BoundedQueue<number>(limit);
        let model: number[] = [];
        let next = 0;
        let taken: number[] = [];
        let droppedQ = 0;
        let droppedM = 0;
        const trim = () => {
          const over = Math.max(0, model.length - limit);
          model = model.slice(over);
          droppedM += over;
        };
        for (const o of ops) {
          if ('push' in o) {
            const vals = Array.from({ length: o.push }, () => next++);
            droppedQ += q.push(vals);
            model.push(...vals);
            trim();
          } else if ('take' in o) {
            taken = q.take(o.take);
            expect(taken).toEqual(model.slice(0, o.take));
            model = model.slice(o.take);
          } else {
            droppedQ += q.unshift(taken);
            model = [...taken, ...model];
            taken = [];
            trim();
          }
          expect(q.size).toBe(model.length);
          expect(droppedQ).toBe(droppedM);
        }
        expect(q.drain()).toEqual(model);
      }),
      { seed: 20240601, numRuns: 300 },
    );
  });
});
