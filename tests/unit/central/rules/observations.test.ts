/**
 * Observations through the rules on a real SQLite file, fed as ingest feeds them: which kinds open
 * an alert, which clear it, and that an alert stays while another observation of its kind is still
 * open on the lane. Each alert change is emitted once.
 */
import type { ReadingInput } from '@shelfsense/central/store';
import type { ObservationPayload } from '@shelfsense/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, harness, L1, L2, T0 } from './harness.js';

describe('rules: observation alerts', () => {
  let h: Harness;
  beforeEach(() => {
    h = harness({});
  });
  afterEach(() => h.close());

  const obs = (
    kind: ObservationPayload['kind'],
    observation: string,
    state: 'open' | 'cleared',
    over: Partial<ObservationPayload> = {},
    lane = L1,
  ): ReadingInput => {
    const seq = h.seq();
    return {
      site: lane.site,
      shelf: lane.shelf,
      lane: lane.lane,
      kind: 'observation',
      payload: {
        agent: 'pi-1',
        serial: 'SN0001',
        sku: 'cola-330',
        observation,
        kind,
        state,
        grams: 212,
        items: null,
        otherLane: null,
        cause: null,
        proposal: null,
        detail: '',
        ts: T0 + seq,
        seq,
        frameSeq: seq,
        ...over,
      },
    };
  };
  const live = (kind: string, lane = L1) =>
    h.store.alerts.list({ state: 'live' }).filter((a) => a.kind === kind && a.lane === lane.lane);

  it('a hand and a lean open nothing; a foreign object, another lane’s item and tamper do', () => {
    h.feed(obs('hand', 'h1', 'open'), obs('lean', 'l1', 'open', { items: 1.4 }));
    expect(h.alertEvents).toEqual([]);
    h.feed(
      obs('foreign-object', 'f1', 'open', { items: 0.6 }),
      obs('misplaced-item', 'm1', 'open', { otherLane: 'l2' }),
      obs('tamper', 't1', 'open', { cause: 'cell', grams: 430 }),
    );
    expect(h.alertEvents.map((a) => [a.kind, a.state])).toEqual([
      ['foreign-object', 'open'],
      ['misplaced-item', 'open'],
      ['tamper', 'open'],
    ]);
    expect(live('foreign-object')[0]?.message).toBe(
      "something that is not this lane's item was left on it: 212 g (about 0.6 items)",
    );
    expect(live('misplaced-item')[0]?.message).toBe('an item of lane l2 was put on this lane: 212 g');
  });

  it('the alert stays while another observation of its kind is open, and clears with the last', () => {
    h.feed(obs('foreign-object', 'f1', 'open'), obs('foreign-object', 'f2', 'open'));
    expect(live('foreign-object')).toHaveLength(1);
    h.feed(obs('foreign-object', 'f1', 'cleared'));
    expect(live('foreign-object')).toHaveLength(1);
    // Another lane's observation of the same kind does not hold this lane's alert.
    h.feed(obs('foreign-object', 'f9', 'open', {}, L2));
    h.feed(obs('foreign-object', 'f2', 'cleared'));
    expect(live('foreign-object')).toEqual([]);
    expect(live('foreign-object', L2)).toHaveLength(1);
    expect(h.alertEvents.map((a) => `${a.lane}:${a.state}`)).toEqual(['l1:open', 'l2:open', 'l1:cleared']);
  });

  it('a unit-weight proposal alerts only when the configured weight is wrong; its clearing ends it', () => {
    const agrees = { unitWeightG: 350.4, confidence: 0.9, steps: 9, wrong: false };
    h.feed(obs('unit-weight', 'u1', 'open', { proposal: agrees }));
    expect(live('unit-weight')).toEqual([]);
    const wrong = { unitWeightG: 362.5, confidence: 0.93, steps: 12, wrong: true };
    h.feed(obs('unit-weight', 'u2', 'open', { proposal: wrong }));
    expect(live('unit-weight')[0]?.message).toBe(
      'the unit weight looks wrong: picks and restocks step by 362.5 g (93 % sure, 12 steps)',
    );
    // The agreeing proposal's clearing leaves the wrong one's alert.
    h.feed(obs('unit-weight', 'u1', 'cleared', { proposal: agrees }));
    expect(live('unit-weight')).toHaveLength(1);
    h.feed(obs('unit-weight', 'u2', 'cleared', { proposal: wrong }));
    expect(live('unit-weight')).toEqual([]);
  });

  it('ignores observations of lanes the rules do not know', () => {
    h.feed(obs('tamper', 't1', 'open', {}, { ...L1, lane: 'nowhere' }));
    expect(h.alertEvents).toEqual([]);
    expect(h.engine.counters.unknownLane).toBe(1);
  });
});
