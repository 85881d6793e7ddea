/**
 * The live observations of a lane (docs/http-api.md "Observations"): each not cleared yet, once, as
 * its latest open record — an agent says a unit-weight proposal again, same observation, whenever
 * it rests on more steps, and the newest proposal is the one to show and accept.
 */
import { liveOf } from '@shelfsense/central/http';
import type { ObservationPayload } from '@shelfsense/protocol';
import { describe, expect, it } from 'vitest';

type Row = Parameters<typeof liveOf>[0][number];

const row = (seq: number, observation: string, state: 'open' | 'cleared', steps: number | null): Row => ({
  site: 's1',
  shelf: 'a',
  lane: 'L1',
  agent: 'pi-1',
  seq,
  observation,
  kind: 'unit-weight',
  state,
  ts: 1_000 * seq,
  payload: {
    proposal: steps === null ? null : { unitWeightG: 57, confidence: 0.6, steps, wrong: true },
  } as unknown as ObservationPayload,
  acceptedAt: null,
  acceptedBy: null,
});

describe('live observations', () => {
  it('a proposal said again as it rests on more steps is live once, as its latest record', () => {
    const live = liveOf([row(1, 'u1', 'open', 3), row(2, 'u1', 'open', 4), row(3, 'u1', 'open', 8)]);
    expect(live.map((r) => r.seq)).toEqual([3]);
  });

  it('keeps the order they opened in and drops the cleared ones', () => {
    const live = liveOf([
      row(1, 'a', 'open', 3),
      row(2, 'b', 'open', 3),
      row(3, 'c', 'open', 3),
      row(4, 'a', 'open', 5),
      row(5, 'b', 'cleared', null),
    ]);
    expect(live.map((r) => [r.observation, r.seq])).toEqual([
      ['a', 4],
      ['c', 3],
    ]);
  });

  it('the same observation id on another lane is another observation', () => {
    const other = { ...row(2, 'u1', 'open', 3), lane: 'L2' };
    const live = liveOf([row(1, 'u1', 'open', 3), other, row(3, 'u1', 'cleared', null)]);
    expect(live.map((r) => [r.lane, r.seq])).toEqual([['L2', 2]]);
  });
});
