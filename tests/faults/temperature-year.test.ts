/**
 * A year of seasons at ±15 °C (see tests/helpers/temperature-year.ts): the shelf's stable counts,
 * with temperature compensation (coefficients from the technician's calibrations in winter and in
 * summer) and without it (the same frames, temperature taken off), scored against the simulator's
 * truth.
 *
 * Reduced (npm test): half a day on after installation, then a day a month (drawn cells) and a day
 * a season (cells at the datasheet's bound), the shelf off in between. Full (npm run test:faults --
 * --full): two days after installation, a day a week on three seeds, a day a season on two; and
 * coefficients learned at rest alone, over a month on after installation.
 * At 10 SPS: a year of shelf-days fits in seconds.
 */
import { describe, expect, it } from 'vitest';
import { FULL, MODE, scale } from '../helpers/faults-figures.js';
import { pct, runYear, type YearScore } from '../helpers/temperature-year.js';

function line(name: string, s: YearScore): string {
  return (
    `${name}: stable readings exact ${pct(s.exact, s.stable)} (${s.exact}/${s.stable}; under ${s.under}, over ${s.over}); ` +
    `first count after power-on exact ${pct(s.firstExact, s.firstCounts)} (${s.firstExact}/${s.firstCounts}); ` +
    `quiet lane-seconds counted ${pct(s.counted, s.quiet)}; grams error mean ${s.gramsErrMean.toFixed(2)} g, ` +
    `worst ${s.gramsErrMax.toFixed(1)} g; largest zero correction ${s.maxZeroG.toFixed(1)} g, count reference ${s.maxBaselineG.toFixed(1)} g`
  );
}

interface Case {
  name: string;
  seed: number;
  worstCells: boolean;
  sessions: number;
  sessionHours: number;
  /** Only what the learner finds at rest: no second visit, this long on after installation. */
  learnOnlyHours?: number;
}

/**
 * Drawn cells, the shelf on one day a month (a week in the full run); and cells at the
 * datasheet's bound in a shop open one day a season, where the jumps across the time off are largest.
 */
const CASES: Case[] = [
  ...scale([3], [3, 4, 5]).map((seed) => ({
    name: `drawn cells, ${FULL ? 'weekly' : 'monthly'}`,
    seed,
    worstCells: false,
    sessions: scale(12, 52),
    sessionHours: scale(1, 2),
  })),
  ...scale([3], [3, 4]).map((seed) => ({
    name: 'cells at the bound, quarterly',
    seed,
    worstCells: true,
    sessions: 4,
    sessionHours: scale(1, 4),
  })),
  // Full run only: a month on after installation and no summer visit — learned coefficients alone.
  ...scale<Case[]>(
    [],
    [
      {
        name: 'cells at the bound, learned only, 8 days',
        seed: 3,
        worstCells: true,
        sessions: 8,
        sessionHours: 1,
        learnOnlyHours: 720,
      },
    ],
  ),
];

describe(`[temperature-year] a year of seasons at ±15 °C, with and without compensation (${MODE})`, () => {
  it.each(CASES)(
    '$name (seed $seed): with compensation ≥ 99.9 % of stable counts exact, no under-count; both printed',
    (c) => {
      const r = runYear({
        seed: c.seed,
        installHours: c.learnOnlyHours ?? scale(12, 48),
        learnOnly: c.learnOnlyHours !== undefined,
        sessions: c.sessions,
        sessionHours: c.sessionHours,
        restartEvery: 2,
        worstCells: c.worstCells,
      });
      const comp = r.compensated;
      console.log(
        [
          `temperature-year ${c.name}, seed ${c.seed} (${MODE}): ${r.frames} frames, ${r.boots} boots, ` +
            `${r.agentRestarts} agent restarts, temperature ${r.temperature.minC.toFixed(1)}..${r.temperature.maxC.toFixed(1)} °C`,
          line('  with compensation   ', comp),
          line('  without compensation', r.uncompensated),
          ...r.coefficients.map(
            (k) =>
              `  channel ${k.channel}: true zero ${k.trueZeroGPerC.toFixed(3)} g/°C, span ${k.trueSpanPpmPerC.toFixed(1)} ppm/°C; ` +
              `in force ${k.learned ? `${k.learned.zeroGPerC.toFixed(3)} g/°C, ${k.learned.spanPpmPerC.toFixed(1)} ppm/°C (${k.learned.source})` : 'none'}`,
          ),
        ].join('\n'),
      );
      expect(comp.stable).toBeGreaterThan(10_000);
      expect(comp.exact / comp.stable, comp.wrong.join('; ')).toBeGreaterThanOrEqual(0.999);
      expect(comp.under, comp.wrong.join('; ')).toBe(0);
      expect(comp.firstExact, comp.wrong.join('; ')).toBe(comp.firstCounts);
      // The two visits (or the learner) gave every cell its coefficients, kept through the restarts.
      const source = c.learnOnlyHours === undefined ? 'calibration' : 'learned';
      for (const k of r.coefficients) expect(k.learned?.source).toBe(source);
    },
    scale(60_000, 1_800_000),
  );
});
