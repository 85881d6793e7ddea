/**
 * The agent's levels checked against the simulator's truth: wait until every lane of every
 * simulated shelf has published a stable level, then expect each stable level's count to be the
 * simulator's item count for the frame it was computed from.
 */
import type { Simulator } from '@shelfsense/firmware-sim';
import { expect } from 'vitest';
import type { Collected } from './agent.js';
import { waitFor } from './wait.js';

export interface StableLevelsOptions {
  /** Says what was awaited, for the timeout error. */
  what: string;
  /** Added to the timeout error (e.g. what the agent logged). */
  onTimeout?: () => string;
  timeoutMs?: number;
}

export async function expectStableLevelsMatchSim(
  sim: Simulator,
  messages: readonly Collected[],
  opts: StableLevelsOptions,
): Promise<void> {
  const lanes = sim.shelves.flatMap((s) => s.lanes.map((l) => `${s.serial}/L${l.lane}`));
  const stable = () => messages.filter((m) => m.topic.endsWith('/level') && m.payload.stable === true);
  await waitFor(
    () => {
      const seen = new Set(stable().map((m) => m.topic.split('/').slice(-3, -1).join('/')));
      return lanes.every((l) => seen.has(l));
    },
    opts.timeoutMs ?? 20_000,
    { what: opts.what },
  ).catch((err: Error) => {
    if (!opts.onTimeout) throw err;
    throw new Error(`${err.message}; ${opts.onTimeout()}`);
  });
  for (const m of stable()) {
    const p = m.payload as { serial: string; units: number; frameSeq: number };
    const lane = Number(m.topic.split('/').at(-2)?.slice(1));
    expect(p.units).toBe(sim.truth(p.serial, p.frameSeq).lanes[lane]?.items);
  }
}

/** A shelf the agent must count exactly: 10 g items at σ 1 g are the hardest case. */
export const ACCURACY_LANES = [
  { unitWeightG: 10, items: 45, capacity: 60, noiseG: 1 },
  { unitWeightG: 55, items: 40, capacity: 50 },
  { unitWeightG: 350, items: 35, capacity: 40 },
  { unitWeightG: 120, items: 40, capacity: 50 },
];

/** A pick of one or two items every 2 s or so, from any lane. */
export const PICKS = { at: '3s', every: '2s', jitter: 0.4, action: 'remove', lane: 'any', count: [1, 2] };

export interface ExactCounts {
  stable: number;
  exact: number;
  /** The first ten stable levels that were not exact, with the truth they were scored against. */
  wrong: unknown[];
}

/**
 * Scores every stable level against the simulator's truth for the frame it was computed from: exact
 * when the count is the lane's items and nothing else (a hand, a foreign object) is on it.
 */
export function scoreStableCounts(sim: Simulator, levels: readonly Collected[]): ExactCounts {
  const out: ExactCounts = { stable: 0, exact: 0, wrong: [] };
  for (const m of levels) {
    const p = m.payload as { serial: string; units: number; stable: boolean; frameSeq: number };
    if (!p.stable) continue;
    out.stable++;
    const lane = Number(m.topic.split('/')[4]?.slice(1));
    const truth = sim.truth(p.serial, p.frameSeq).lanes[lane];
    if (truth && truth.items === p.units && truth.leanG === 0 && truth.extraG === 0) out.exact++;
    else if (out.wrong.length < 10)
      out.wrong.push({ topic: m.topic, units: p.units, frameSeq: p.frameSeq, truth });
  }
  return out;
}
